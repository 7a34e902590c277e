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

func sailControlPlanes(c *plan.Cluster) []Resource {
	var out []Resource
	if c.CNI != nil {
		// Sail requires the one IstioCNI of a cluster to be named default;
		// on OpenShift it applies the openshift profile by itself.
		out = append(out, Resource{Layer: LayerControlPlane, Object: Object{
			"apiVersion": sailAPIVersion,
			"kind":       "IstioCNI",
			"metadata":   meta("default", "", LayerControlPlane.Wave, c.CNI.Source, nil),
			"spec": map[string]any{
				"version":   c.CNI.Version.SailVersion(),
				"namespace": c.CNI.Namespace,
			},
		}})
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
		out = append(out, Resource{Layer: LayerControlPlane, Object: Object{
			"apiVersion": sailAPIVersion,
			"kind":       "Istio",
			"metadata":   meta(name, "", LayerControlPlane.Wave, cp.Path(), nil),
			"spec":       spec,
		}})
		for i, tag := range cp.Tags {
			// Tags follow their Istio: the operator rejects a tag whose
			// target does not exist yet.
			out = append(out, Resource{Layer: LayerControlPlane, Object: Object{
				"apiVersion": sailAPIVersion,
				"kind":       "IstioRevisionTag",
				"metadata":   meta(tag, "", LayerControlPlane.Wave+1, cp.Path().Child("tags", i), nil),
				"spec": map[string]any{
					"targetRef": map[string]any{"kind": "Istio", "name": name},
				},
			}})
		}
	}
	return out
}
