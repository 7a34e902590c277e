package emit

import (
	"maps"
	"slices"
)

// LayerHelmReleases holds, for the helm target, the Flux form of the
// cluster's releases (a HelmRepository and HelmReleases). It is detached:
// the cluster's kustomization does not list it, since Argo CD installs the
// same charts through the control-plane layer's helmCharts; Flux points its
// control-plane Kustomization here instead.
var LayerHelmReleases = Layer{Dir: "helm-releases", Wave: 1, Detached: true}

// HelmRepository is the name of the Flux HelmRepository of Istio's charts.
const HelmRepository = "istio"

// helmCharts are the control-plane layer's kustomize helmCharts entries
// (Argo CD builds them with --enable-helm): Istio's published charts at
// the control plane's release, with the values the plan computed.
func helmCharts(rs []release, repo string) []any {
	var out []any
	for _, r := range rs {
		out = append(out, map[string]any{
			"name":         publishedChart[r.chart],
			"repo":         repo,
			"version":      r.version,
			"releaseName":  r.name,
			"namespace":    r.namespace,
			"includeCRDs":  true,
			"valuesInline": maps.Clone(r.values),
		})
	}
	return out
}

// helmReleases is the Flux form of the same releases: HelmReleases from one
// HelmRepository, each after the base release so CRDs come first.
func helmReleases(rs []release, repo, fluxNamespace, interval string) []Resource {
	if len(rs) == 0 {
		return nil
	}
	wave := LayerHelmReleases.Wave
	out := []Resource{{LayerHelmReleases, Object{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "HelmRepository",
		"metadata":   meta(HelmRepository, fluxNamespace, wave, rs[0].source, nil),
		"spec":       map[string]any{"interval": interval, "url": repo},
	}}}
	names := []string{}
	for _, r := range rs {
		spec := map[string]any{
			"interval":        interval,
			"releaseName":     r.name,
			"targetNamespace": r.namespace,
			"chart": map[string]any{"spec": map[string]any{
				"chart":     publishedChart[r.chart],
				"version":   r.version,
				"sourceRef": map[string]any{"kind": "HelmRepository", "name": HelmRepository},
			}},
			"install": map[string]any{"crds": "CreateReplace"},
			"upgrade": map[string]any{"crds": "CreateReplace"},
			"values":  maps.Clone(r.values),
		}
		if r.after != "" {
			spec["dependsOn"] = []any{map[string]any{"name": r.after}}
		}
		// Release names are unique in a cluster; HelmRelease objects all
		// live in Flux's namespace.
		name := r.name
		if slices.Contains(names, name) {
			name += "-" + r.namespace
		}
		names = append(names, name)
		out = append(out, Resource{LayerHelmReleases, Object{
			"apiVersion": "helm.toolkit.fluxcd.io/v2",
			"kind":       "HelmRelease",
			"metadata":   meta(name, fluxNamespace, wave, r.source, nil),
			"spec":       spec,
		}})
	}
	return out
}
