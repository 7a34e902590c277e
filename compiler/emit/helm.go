package emit

import (
	"maps"
	"slices"
	"strings"

	"meshc.dev/meshc/compiler/charts"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
)

// The helm target installs with Istio's charts: for Argo CD, as kustomize
// helmCharts in a layer of the bundle (the control plane's own layer, or
// one beside the gateways' layer that holds nothing else); for Flux, as
// HelmReleases in a detached twin of that layer, which the cluster's
// kustomization does not list (Argo CD installs the same charts from the
// helmCharts) and Flux chains in the same place. A layer of helmCharts
// alone is left out of Flux's chain.
var (
	LayerHelmReleases          = Layer{Dir: "helm-releases", Wave: LayerControlPlane.Wave, Detached: true}
	LayerExternalHelmReleases  = Layer{Dir: "external-helm-releases", Wave: LayerExternalControlPlane.Wave, Detached: true}
	LayerGatewayCharts         = Layer{Dir: "gateway-charts", Wave: LayerGateways.Wave}
	LayerGatewayReleases       = Layer{Dir: "gateway-releases", Wave: LayerGateways.Wave, Detached: true}
	LayerRemoteGatewayCharts   = Layer{Dir: "remote-gateway-charts", Wave: LayerRemoteGateways.Wave}
	LayerRemoteGatewayReleases = Layer{Dir: "remote-gateway-releases", Wave: LayerRemoteGateways.Wave, Detached: true}
)

// chartLayers are, by the role of a release, the layer of its helmCharts
// (Argo CD) and of its HelmRelease (Flux).
func chartLayers(r Role) (charts, releases Layer) {
	switch r {
	case RoleExternalControlPlane:
		return LayerExternalControlPlane, LayerExternalHelmReleases
	case RoleLocalGateway:
		return LayerGatewayCharts, LayerGatewayReleases
	case RoleRemoteGateway:
		return LayerRemoteGatewayCharts, LayerRemoteGatewayReleases
	}
	return LayerControlPlane, LayerHelmReleases
}

// helmInstall adds a cluster's releases to c: helmCharts by layer, and the
// HelmReleases (after the HelmRepository, when withRepository).
func helmInstall(c *Cluster, rs []release, opts Options, withRepository bool) {
	if len(rs) == 0 {
		return
	}
	if withRepository {
		// The repository serves every release; it comes with the first.
		c.Resources = append(c.Resources, helmRepository(opts.HelmRepository, fluxNamespace(opts), fluxInterval(opts), rs[0].source).realising(rs[0].realises))
	}
	for _, r := range rs {
		layer, _ := chartLayers(r.role)
		c.HelmCharts[layer.Dir] = append(c.HelmCharts[layer.Dir], helmCharts([]release{r}, opts.HelmRepository)...)
	}
	c.Resources = append(c.Resources, helmReleases(rs, fluxNamespace(opts), fluxInterval(opts))...)
}

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

// helmRepository is the Flux HelmRepository every HelmRelease pulls from:
// a Helm repository over HTTPS, or, for an oci:// URL, one of type oci,
// from which HelmReleases pull each chart as <url>/<chart>:<version>.
// (Kustomize's helmCharts take either URL as it is.)
func helmRepository(repo, fluxNamespace, interval string, source model.Path) Resource {
	spec := map[string]any{"interval": interval, "url": repo}
	if strings.HasPrefix(repo, "oci://") {
		spec["type"] = "oci"
	}
	return Resource{Layer: LayerHelmReleases, Role: RoleControlPlane, Object: Object{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "HelmRepository",
		"metadata":   meta(HelmRepository, fluxNamespace, LayerHelmReleases.Wave, source, nil),
		"spec":       spec,
	}}
}

// helmReleases is the Flux form of releases: HelmReleases from the
// HelmRepository, each after the release it depends on (base first, so
// CRDs come first; gateways after the istiod that injects them).
func helmReleases(rs []release, fluxNamespace, interval string) []Resource {
	var out []Resource
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
		_, layer := chartLayers(r.role)
		out = append(out, Resource{Layer: layer, Role: r.role, For: r.realises, Object: Object{
			"apiVersion": "helm.toolkit.fluxcd.io/v2",
			"kind":       "HelmRelease",
			"metadata":   meta(name, fluxNamespace, layer.Wave, r.source, nil),
			"spec":       spec,
		}})
	}
	return out
}

// gatewayReleases turns the cluster's gateways into releases of Istio's
// gateway chart: the same names, labels, environment and ports as the
// objects the other targets write, injected by the same revision, each after
// that revision's istiod release.
func gatewayReleases(c *plan.Cluster, gateways []injectedGateway) []release {
	var out []release
	for _, g := range gateways {
		var cp *plan.ControlPlane
		for _, x := range c.ControlPlanes {
			if x.Revision == g.revision && x.Namespace == g.namespace {
				cp = x
				break
			}
		}
		if cp == nil {
			continue // planned gateways always follow a control plane here
		}
		istiod := "istiod"
		if !cp.IsDefaultRevision() {
			istiod += "-" + cp.Revision
		}
		env := map[string]any{}
		for _, e := range g.env {
			e := e.(map[string]any)
			env[e["name"].(string)] = e["value"]
		}
		var ports []any
		for _, p := range g.ports {
			ports = append(ports, map[string]any{"name": p.name, "port": p.number, "targetPort": p.targetPort(), "protocol": "TCP"})
		}
		service := map[string]any{"type": "LoadBalancer", "ports": ports}
		if x := g.service; x != nil {
			if len(x.Annotations) > 0 {
				service["annotations"] = anyMap(x.Annotations)
			}
			setLoadBalancerFields(service, x)
		}
		values := map[string]any{
			"name":    g.name,
			"labels":  anyMap(g.labels),
			"service": service,
		}
		if !cp.IsDefaultRevision() {
			values["revision"] = cp.Revision
		}
		if len(env) > 0 {
			values["env"] = env
		}
		out = append(out, release{
			chart: charts.Gateway, name: g.name, namespace: g.namespace, values: values,
			version: cp.Version.String(), source: g.source, after: istiod, role: g.role, realises: g.realises,
		})
	}
	return out
}
