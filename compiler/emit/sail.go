package emit

import (
	"maps"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
)

// sailAPIVersion is the Sail operator's API (cluster-scoped kinds).
const sailAPIVersion = "sailoperator.io/v1"

// sailProfile maps a topology profile to the Sail operator's enum. Sail
// installs istiod alone, never gateways, so minimal is its default profile
// and has no name of its own there.
func sailProfile(p string) string {
	if p == "minimal" {
		return ""
	}
	return p
}

// SailIstioName is the name of a control plane's Istio CR. With the InPlace
// strategy Sail names the revision after the CR, and "default" is the
// unnamed default revision (istiod without a suffix).
func SailIstioName(cp *model.ControlPlane) string { return cp.Revision }

// sailMeta is meta for a Sail CR: the operator installs its CRDs, which a
// first sync's dry run must not require (Argo CD would refuse the whole
// application when the operator is installed in the same sync).
func sailMeta(name string, role Role, source model.Path) map[string]any {
	m := meta(name, "", role.Layer().Wave, source, nil)
	m["annotations"].(map[string]any)[AnnotationSyncOptions] = skipDryRun
	return m
}

// installRole is the role of a control plane's install in a cluster: an
// external istiod comes after the kubeconfig it reads its config cluster
// through.
func installRole(cp *plan.ControlPlane) Role {
	if cp.External && !cp.Remote {
		return RoleExternalControlPlane
	}
	return RoleControlPlane
}

// sailControlPlanes are the Sail CRs of the cluster's installs; the
// ZTunnel's apiVersion is the operator release's (ztunnelAPIVersion).
func sailControlPlanes(c *plan.Cluster, ztunnelAPIVersion string) []Resource {
	var out []Resource
	if c.CNI != nil {
		// Sail requires the one IstioCNI of a cluster to be named default;
		// on OpenShift it applies the openshift profile by itself.
		spec := map[string]any{
			"version":   c.CNI.Version.SailVersion(),
			"namespace": c.CNI.Namespace,
		}
		if c.CNI.Ambient {
			spec["profile"] = "ambient"
		}
		out = append(out, at(RoleControlPlane, Object{
			"apiVersion": sailAPIVersion,
			"kind":       "IstioCNI",
			"metadata":   sailMeta("default", RoleControlPlane, c.CNI.Source),
			"spec":       spec,
		}).realising(c.CNI))
	}
	if z := c.Ztunnel; z != nil {
		// Like IstioCNI, one per cluster, named default. Its values repeat
		// the cluster name and network istiod's carry (targetRef, which
		// would copy them, needs Sail 1.30); v1alpha1 still takes the
		// profile, v1 always applies ambient.
		spec := map[string]any{
			"version":   z.Version.SailVersion(),
			"namespace": z.Namespace,
			"values":    map[string]any{"ztunnel": maps.Clone(z.Values)},
		}
		if ztunnelAPIVersion != sailAPIVersion {
			spec["profile"] = "ambient"
		}
		out = append(out, at(RoleControlPlane, Object{
			"apiVersion": ztunnelAPIVersion,
			"kind":       "ZTunnel",
			"metadata":   sailMeta("default", RoleControlPlane, z.Source),
			"spec":       spec,
		}).realising(z))
	}
	for _, cp := range c.ControlPlanes {
		spec := map[string]any{
			"version":   cp.Version.SailVersion(),
			"namespace": cp.Namespace,
			"values":    maps.Clone(cp.Values),
		}
		if p := sailProfile(cp.Profile); p != "" {
			spec["profile"] = p
		}
		name := SailIstioName(cp.ControlPlane)
		out = append(out, at(installRole(cp), Object{
			"apiVersion": sailAPIVersion,
			"kind":       "Istio",
			"metadata":   sailMeta(name, installRole(cp), cp.Path()),
			"spec":       spec,
		}).realising(cp))
		for i, tag := range cp.Tags {
			// Tags follow their Istio: the operator rejects a tag whose
			// target does not exist yet.
			out = append(out, at(RoleRevisionTag, Object{
				"apiVersion": sailAPIVersion,
				"kind":       "IstioRevisionTag",
				"metadata":   sailMeta(tag, RoleRevisionTag, cp.Path().Child("tags", i)),
				"spec": map[string]any{
					"targetRef": map[string]any{"kind": "Istio", "name": name},
				},
			}).realising(RevisionTag{cp, i}))
		}
	}
	return out
}
