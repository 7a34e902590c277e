package plan

import (
	"maps"
	"strings"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/resolve"
)

// identity is what every install in a cluster says of itself: its system
// namespace, mesh, cluster and network. It must agree everywhere: the
// cluster name is istiod's cluster ID, which remote secrets and injection
// paths name, and the network is what east-west routing keys on.
func identity(cl *model.Cluster, mesh *model.Mesh, cp *ControlPlane) map[string]any {
	global := map[string]any{
		"istioNamespace": cp.Namespace,
		"meshID":         mesh.MeshID,
		"multiCluster":   map[string]any{"clusterName": cl.Name},
	}
	if cl.Network != "" {
		global["network"] = cl.Network
	}
	return global
}

// helmValues computes a control plane's Helm values: the tree shared by the
// Sail Istio CR's spec.values, IstioOperator spec.values and the istiod
// chart. The revision is not part of it: each target spells the revision in
// its own place (the Istio CR's name, IstioOperator spec.revision).
func helmValues(t *model.Topology, cl *model.Cluster, rmesh *resolve.Mesh, cp *ControlPlane) map[string]any {
	mesh := rmesh.Mesh
	global := identity(cl, mesh, cp)
	if len(cp.Remotes) > 0 {
		// A primary leads its istiod-less remotes: only then does istiod
		// write istio-ca-root-cert into their namespaces and patch their
		// injection webhook's CA bundle (EXTERNAL_ISTIOD in istiod).
		global["externalIstiod"] = true
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
	if len(cp.CNINeededBy) > 0 {
		// Sidecars skip the privileged istio-init container when the CNI
		// agent sets up traffic redirection.
		pilot["cni"] = map[string]any{"enabled": true}
	}
	if rmesh.Ambient {
		// ztunnel runs in its own namespace on every target: istiod
		// signs certificates for the workloads of the ztunnel there only
		// (CA_TRUSTED_NODE_ACCOUNTS).
		pilot["trustedZtunnelNamespace"] = model.ZtunnelNamespace
		if env := cp.Version.AmbientSupport().MultiNetworkEnv; rmesh.MultiNetwork && env != "" {
			// Multi-network ambient, and the istio-east-west class.
			pilotEnv, _ := pilot["env"].(map[string]any)
			if pilotEnv == nil {
				pilotEnv = map[string]any{}
				pilot["env"] = pilotEnv
			}
			pilotEnv[env] = "true"
		}
	}
	if len(pilot) > 0 {
		values["pilot"] = pilot
	}

	if len(cp.ControlPlane.Values) > 0 {
		merge(values, cp.ControlPlane.Values)
	}
	return values
}

// ztunnelValues are the ztunnel chart's values for cluster cl: its
// cluster name and network read from identity, the same place istiod's
// values read them, so the two always agree (ztunnel reports workloads
// under this cluster ID and network); and istiod's namespace and revision,
// which make ztunnel's XDS and CA address istiod[-<rev>].<ns>.svc:15012.
// Releases before 1.27 have no network setting for ztunnel.
func ztunnelValues(cl *model.Cluster, mesh *model.Mesh, cp *ControlPlane) map[string]any {
	id := identity(cl, mesh, cp)
	values := map[string]any{
		"istioNamespace": id["istioNamespace"],
		"multiCluster":   maps.Clone(id["multiCluster"].(map[string]any)),
	}
	if network, ok := id["network"]; ok && cp.Version.AmbientSupport().ZtunnelNetwork {
		values["network"] = network
	}
	if !cp.IsDefaultRevision() {
		values["revision"] = cp.Revision
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
//
// Remotes reach istiod by its address: with TLS terminated for a hostname
// at the gateway, through webhook URLs on that hostname; otherwise through
// remotePilotAddress, for which the chart creates an istiod Service in the
// remote, and webhook paths on it. An external control plane's config
// cluster also holds the mesh's configuration: it gets the CRDs, the mesh
// ConfigMap and validation (configCluster, pilot.configMap).
func remoteHelmValues(cl *model.Cluster, mesh *model.Mesh, cp *ControlPlane) map[string]any {
	global := identity(cl, mesh, cp)
	values := map[string]any{"global": global}
	remote := map[string]any{}
	if url := webhookBaseURL(cp.ControlPlane); url != "" {
		remote["injectionURL"] = url + InjectionPath(cl)
		if cp.External && cp.ConfigCluster == cl.Name {
			values["base"] = map[string]any{"validationURL": url + "/validate"}
		}
	} else {
		global["remotePilotAddress"] = cp.Expose.Address
		remote["injectionPath"] = InjectionPath(cl)
	}
	values["istiodRemote"] = remote
	if cp.External && cp.ConfigCluster == cl.Name {
		global["configCluster"] = true
		values["pilot"] = map[string]any{"configMap": true}
	}
	return values
}

// webhookBaseURL is the https URL remotes call istiod's webhooks at, when
// TLS is terminated for a hostname at the gateway; "" otherwise.
func webhookBaseURL(cp *model.ControlPlane) string {
	if cp.Expose == nil || cp.Expose.TLS == nil {
		return ""
	}
	return "https://" + cp.Expose.Address + ":15017"
}

// externalHelmValues computes an external istiod's values: it runs in the
// hosting cluster but serves the data plane of its remotes, reads its
// configuration from the config cluster (KUBECONFIG from the istio-kubeconfig
// secret, which the chart mounts for externalIstiod), keeps the mesh
// ConfigMap and injector templates mounted from its own namespace, and lets
// the remotes' installs own the webhooks. Its cluster ID is the config
// cluster's name, which remotes name in topology.istio.io/controlPlaneClusters:
// the chart sets CLUSTER_ID from global.multiCluster.clusterName, so pilot.env
// must not set it again (a second CLUSTER_ID entry is refused by server-side
// apply as a duplicate key of the container's env list).
func externalHelmValues(mesh *model.Mesh, cp *ControlPlane) map[string]any {
	addr := cp.Expose.Address
	global := map[string]any{
		"istioNamespace":         cp.Namespace,
		"meshID":                 mesh.MeshID,
		"multiCluster":           map[string]any{"clusterName": cp.ConfigCluster},
		"externalIstiod":         true,
		"caAddress":              addr + ":15012",
		"operatorManageWebhooks": true,
		"configValidation":       false,
	}
	defaultConfig := map[string]any{"discoveryAddress": addr + ":15012"}
	injector, validator := "", ""
	if cp.Expose.TLS != nil {
		// The gateway presents a publicly signed certificate: proxies
		// verify istiod with the system roots.
		defaultConfig["proxyMetadata"] = map[string]any{
			"XDS_ROOT_CA": "/etc/ssl/certs/ca-certificates.crt",
			"CA_ROOT_CA":  "/etc/ssl/certs/ca-certificates.crt",
		}
	} else {
		// Without TLS at the gateway istiod's own certificate is used, and
		// istiod patches the remotes' webhooks with its CA bundle.
		injector, validator = InjectorWebhookName(cp.ControlPlane), ValidatorWebhookName(cp.ControlPlane)
	}
	meshConfig := map[string]any{
		"rootNamespace": cp.Namespace,
		"defaultConfig": defaultConfig,
	}
	if len(mesh.DiscoveryLabel) > 0 {
		meshConfig["discoverySelectors"] = []any{map[string]any{"matchLabels": stringMap(mesh.DiscoveryLabel)}}
	}
	if mesh.TrustDomain != model.DefaultTrustDomain {
		meshConfig["trustDomain"] = mesh.TrustDomain
	}
	env := map[string]any{
		"INJECTION_WEBHOOK_CONFIG_NAME":  injector,
		"VALIDATION_WEBHOOK_CONFIG_NAME": validator,
		"EXTERNAL_ISTIOD":                "true",
		"LOCAL_CLUSTER_SECRET_WATCHER":   "true",
		"SHARED_MESH_CONFIG":             "istio",
	}
	if len(mesh.DiscoveryLabel) > 0 && cp.Version.NeedsEnhancedScopingFlag() {
		env[EnhancedScopingEnv] = "true"
	}
	values := map[string]any{
		"global":     global,
		"meshConfig": meshConfig,
		"pilot": map[string]any{
			"env": env,
			"volumes": []any{
				map[string]any{"name": "config-volume", "configMap": map[string]any{"name": "istio"}},
				map[string]any{"name": "inject-volume", "configMap": map[string]any{"name": "istio-sidecar-injector"}},
			},
			"volumeMounts": []any{
				map[string]any{"name": "config-volume", "mountPath": "/etc/istio/config"},
				map[string]any{"name": "inject-volume", "mountPath": "/var/lib/istio/inject"},
			},
		},
	}
	if len(cp.ControlPlane.Values) > 0 {
		merge(values, cp.ControlPlane.Values)
	}
	return values
}

// InjectorWebhookName is the name of a revision's injection webhook
// configuration: istio-sidecar-injector[-<rev>], with -<namespace> appended
// outside istio-system.
func InjectorWebhookName(cp *model.ControlPlane) string {
	name := "istio-sidecar-injector"
	if !cp.IsDefaultRevision() {
		name += "-" + cp.Revision
	}
	if cp.Namespace != model.DefaultNamespace {
		name += "-" + cp.Namespace
	}
	return name
}

// ValidatorWebhookName is istio-validator[-<rev>]-<istioNamespace>.
func ValidatorWebhookName(cp *model.ControlPlane) string {
	name := "istio-validator"
	if !cp.IsDefaultRevision() {
		name += "-" + cp.Revision
	}
	return name + "-" + cp.Namespace
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

// IstiodChartValues turns a Helm values tree as IstioOperator and the Sail
// operator take it into the values of the upstream istiod chart, whose top
// level is what they call pilot (pilot.env.X is env.X there). The other
// sections (global, meshConfig, istiodRemote, base, ...) are the same.
func IstiodChartValues(values map[string]any) map[string]any {
	out := make(map[string]any, len(values))
	for k, v := range values {
		if k != "pilot" {
			out[k] = v
		}
	}
	if pilot, ok := values["pilot"].(map[string]any); ok {
		for k, v := range pilot {
			out[k] = v
		}
	}
	return out
}
