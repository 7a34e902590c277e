package plan

import (
	"maps"
	"strings"

	"meshc.dev/meshc/compiler/model"
)

// helmValues computes a control plane's Helm values: the tree shared by the
// Sail Istio CR's spec.values, IstioOperator spec.values and the istiod
// chart. The revision is not part of it: each target spells the revision in
// its own place (the Istio CR's name, IstioOperator spec.revision).
func helmValues(cl *model.Cluster, mesh *model.Mesh, cp *ControlPlane) map[string]any {
	global := map[string]any{
		"istioNamespace": cp.Namespace,
		"meshID":         mesh.MeshID,
		"multiCluster":   map[string]any{"clusterName": cl.Name},
	}
	if cl.Network != "" {
		global["network"] = cl.Network
	}
	values := map[string]any{"global": global}

	meshConfig := map[string]any{}
	if len(mesh.DiscoveryLabel) > 0 {
		meshConfig["discoverySelectors"] = []any{
			map[string]any{"matchLabels": stringMap(mesh.DiscoveryLabel)},
		}
	}
	if mesh.TrustDomain != model.DefaultTrustDomain {
		meshConfig["trustDomain"] = mesh.TrustDomain
	}
	if len(meshConfig) > 0 {
		values["meshConfig"] = meshConfig
	}

	pilot := map[string]any{}
	if len(mesh.DiscoveryLabel) > 0 && cp.Version.NeedsEnhancedScopingFlag() {
		// Before 1.25, discovery selectors scope only endpoints unless this
		// flag extends them to configuration (Gateways, VirtualServices...),
		// which is what keeps meshes in one cluster apart.
		pilot["env"] = map[string]any{EnhancedScopingEnv: "true"}
	}
	if cl.NeedsCNI() {
		// Sidecars skip the privileged istio-init container when the CNI
		// agent sets up traffic redirection.
		pilot["cni"] = map[string]any{"enabled": true}
	}
	if len(pilot) > 0 {
		values["pilot"] = pilot
	}

	if len(cp.ControlPlane.Values) > 0 {
		merge(values, cp.ControlPlane.Values)
	}
	return values
}

// merge deep-merges src into dst: maps merge key by key, anything else in
// src replaces dst's value (Helm's own rule for values files).
func merge(dst, src map[string]any) {
	for k, sv := range src {
		if sm, ok := sv.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
			dst[k] = maps.Clone(sm)
			continue
		}
		dst[k] = sv
	}
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// remoteHelmValues computes the values of a control plane's remote-profile
// install in one of its remote clusters: the cluster's own identity, and
// where istiod is. From Istio 1.24 the istiod chart takes these with
// profile remote (the istiod-remote chart is gone); the keys are the same.
func remoteHelmValues(cl *model.Cluster, mesh *model.Mesh, cp *ControlPlane) map[string]any {
	global := map[string]any{
		"istioNamespace":     cp.Namespace,
		"meshID":             mesh.MeshID,
		"multiCluster":       map[string]any{"clusterName": cl.Name},
		"remotePilotAddress": cp.Expose.Address,
	}
	if cl.Network != "" {
		global["network"] = cl.Network
	}
	return map[string]any{
		"global": global,
		"istiodRemote": map[string]any{
			"injectionPath": InjectionPath(cl),
		},
	}
}

// InjectionPath is the path of istiod's injection webhook for workloads of
// cluster cl: /inject/cluster/<cluster>/net/<network>, a "/" in a name
// written --slash--.
func InjectionPath(cl *model.Cluster) string {
	esc := func(s string) string { return strings.ReplaceAll(s, "/", "--slash--") }
	p := "/inject/cluster/" + esc(cl.Name)
	if cl.Network != "" {
		p += "/net/" + esc(cl.Network)
	}
	return p
}
