package emit

import (
	"fmt"
	"maps"
	"reflect"
	"slices"

	"meshc.dev/meshc/compiler/charts"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
)

// Images of the rendered target: Istio's charts default to their build's
// own hub and tag, so meshc pins the release the topology names (a user's
// values may still say otherwise).
const defaultHub = "docker.io/istio"

// withImage sets global.hub and global.tag unless the values set them.
func withImage(values map[string]any, version string) map[string]any {
	out := maps.Clone(values)
	global, _ := out["global"].(map[string]any)
	global = maps.Clone(global)
	if global == nil {
		global = map[string]any{}
	}
	if _, ok := global["hub"]; !ok {
		global["hub"] = defaultHub
	}
	if _, ok := global["tag"]; !ok {
		global["tag"] = version
	}
	out["global"] = global
	return out
}

// renderedControlPlanes renders, with Istio's own charts, the cluster's
// releases (see releases). Every object lands in the control-plane layer
// with meshc's labels and the path it comes from.
func renderedControlPlanes(c *plan.Cluster, lib *charts.Library) ([]Resource, error) {
	seen := map[string]Object{}
	var out []Resource
	// The base chart creates the reader ServiceAccount that the cluster's
	// reader tokens name (readerOwnedByInstall).
	readers := map[string]*plan.ReaderToken{}
	for _, r := range c.ReaderTokens {
		if r.ServiceAccount == plan.ReaderServiceAccount {
			readers[r.Namespace] = r
		}
	}
	add := func(objs []map[string]any, rel release) error {
		for _, o := range objs {
			id := objectID(o)
			if prev, dup := seen[id]; dup {
				if reflect.DeepEqual(prev, o) {
					continue // two charts render the same object
				}
				return fmt.Errorf("cluster %s: two installs render %s differently", c.Name, id)
			}
			seen[id] = o
			md, _ := o["metadata"].(map[string]any)
			ann, _ := md["annotations"].(map[string]any)
			if ann == nil {
				ann = map[string]any{}
				md["annotations"] = ann
			}
			ann[AnnotationSyncWave] = fmt.Sprint(rel.role.Layer().Wave)
			// A CRD serves every control plane of its cluster, not the one
			// whose release happens to bring it: it names none and realises
			// the cluster's Istio API, and so is the same file in every
			// cluster of its release (one set of bytes for a fleet, not a
			// megabyte per cluster).
			r := at(rel.role, o).realising(rel.realises)
			if o["kind"] == "CustomResourceDefinition" {
				r.For = c
			} else {
				ann[plan.AnnotationSource] = rel.source.String()
			}
			if ns, _ := md["namespace"].(string); o["kind"] == "ServiceAccount" && md["name"] == plan.ReaderServiceAccount && readers[ns] != nil {
				r.For = readers[ns]
			}
			out = append(out, r)
		}
		return nil
	}

	for _, rel := range releases(c) {
		// Each release renders with the charts of its own Istio release.
		set, err := lib.Release(rel.version)
		if err != nil {
			return nil, fmt.Errorf("release %s: %w", rel.name, err)
		}
		var objs []map[string]any
		if rel.chart == charts.Base {
			objs, err = renderBase(set, rel)
		} else {
			objs, err = set.Render(rel.chart, rel.name, rel.namespace, withImage(rel.values, rel.version))
		}
		if err != nil {
			return nil, fmt.Errorf("release %s: %w", rel.name, err)
		}
		if err := add(objs, rel); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// renderBase renders the base chart in two parts: its CRDs, which depend
// on nothing of the cluster and so render once for a whole fleet (they are
// a megabyte of YAML that the chart parses, the slowest render there is),
// and the rest, with the cluster's values and the CRD templates off.
func renderBase(set *charts.Set, rel release) ([]map[string]any, error) {
	crds, err := set.Render(charts.Base, "istio-base", "istio-system",
		map[string]any{"base": map[string]any{"enableCRDTemplates": true}})
	if err != nil {
		return nil, err
	}
	crds = slices.DeleteFunc(crds, func(o map[string]any) bool { return o["kind"] != "CustomResourceDefinition" })
	values := withImage(rel.values, rel.version)
	base, _ := values["base"].(map[string]any)
	base = maps.Clone(base)
	if base == nil {
		base = map[string]any{}
	}
	base["enableCRDTemplates"] = false
	values["base"] = base
	// Some CRDs are not behind the switch (the chart prints its CRD file
	// verbatim when the templates are off); the first render has them
	// all, and this one leaves them out unread.
	rest, err := set.RenderWithout("CustomResourceDefinition", charts.Base, rel.name, rel.namespace, values)
	if err != nil {
		return nil, err
	}
	return append(crds, rest...), nil
}

// release is one Helm release of Istio's charts in a cluster: what the
// rendered target renders and the helm target references.
type release struct {
	chart, name, namespace string
	values                 map[string]any
	version                string
	source                 model.Path
	// after names the release this one must follow (base: CRDs first).
	after string
	// role places the release in the apply order.
	role Role
	// realises is what in the plan the release installs (Resource.For of
	// what it renders, or of its HelmRelease): a control plane (the base
	// release, the first of the cluster), the CNI agent, or a gateway.
	realises any
}

// Chart names as Istio publishes them in its Helm repository.
var publishedChart = map[string]string{
	charts.Base: "base", charts.Istiod: "istiod", charts.CNI: "cni", charts.Gateway: "gateway",
	charts.Ztunnel: "ztunnel",
}

// releases lists a cluster's releases in install order: the base chart
// once (CRDs, the reader ServiceAccount), istiod per control plane or
// remote install (istiod, its webhooks, revision tags), and istio-cni
// where the cluster runs the CNI agent.
func releases(c *plan.Cluster) []release {
	if len(c.ControlPlanes) == 0 {
		return nil
	}
	first := c.ControlPlanes[0]
	// The base chart needs only the system namespace of the cluster's
	// identity: rendered with just that, it comes out the same for most
	// clusters of a fleet, and charts caches it.
	global, _ := first.Values["global"].(map[string]any)
	base := map[string]any{"global": map[string]any{"istioNamespace": global["istioNamespace"]}}
	if v, ok := first.Values["base"]; ok {
		base["base"] = v
	}
	if first.Remote {
		base["profile"] = plan.ProfileRemote
	}
	// The default validator (istiod-default-validator) calls the default
	// revision's istiod: the one named default or tagged default; with none,
	// there is none to call, and the chart must not point at "istiod".
	base["defaultRevision"] = ""
	for _, cp := range c.ControlPlanes {
		if cp.IsDefaultRevision() || slices.Contains(cp.Tags, model.DefaultRevision) {
			base["defaultRevision"] = cp.Revision
		}
	}
	// CRDs stay compatible with older control planes, not newer ones: the
	// base release follows the newest control plane of the cluster.
	newest := first.Version
	for _, cp := range c.ControlPlanes {
		if cp.Version.Compare(newest) > 0 {
			newest = cp.Version
		}
	}
	out := []release{{
		chart: charts.Base, name: "istio-base", namespace: first.Namespace,
		values: base, version: newest.String(), source: first.Path(), role: RoleControlPlane, realises: first,
	}}
	for _, cp := range c.ControlPlanes {
		values := plan.IstiodChartValues(cp.Values)
		name := "istiod"
		if !cp.IsDefaultRevision() {
			values["revision"] = cp.Revision
			name += "-" + cp.Revision
		}
		if cp.Remote {
			values["profile"] = plan.ProfileRemote
		} else if cp.Profile == "openshift-ambient" {
			// The charts have no such profile: it is ambient with the
			// openshift platform (installerValues sets it).
			values["profile"] = "ambient"
		} else if cp.Profile != "" && cp.Profile != "minimal" && cp.Profile != "default" {
			values["profile"] = cp.Profile
		}
		installerValues(values, c, cp)
		out = append(out, release{
			chart: charts.Istiod, name: name, namespace: cp.Namespace, values: values,
			version: cp.Version.String(), source: cp.Path(), after: "istio-base", role: installRole(cp), realises: cp,
		})
	}
	if c.CNI != nil {
		g := map[string]any{}
		if c.Platform == model.PlatformOpenShift {
			g["platform"] = "openshift"
		}
		values := map[string]any{"global": g}
		if c.CNI.Ambient {
			values["profile"] = "ambient" // cni.ambient.enabled
		}
		out = append(out, release{
			chart: charts.CNI, name: "istio-cni", namespace: c.CNI.Namespace, values: values,
			version: c.CNI.Version.String(), source: c.CNI.Source, after: "istio-base", role: RoleControlPlane, realises: c.CNI,
		})
	}
	if z := c.Ztunnel; z != nil {
		// The release is named ztunnel, as upstream's guides install it:
		// istiod trusts the ServiceAccount of that name
		// (trustedZtunnelName), which the chart names after resourceName,
		// else the release.
		values := maps.Clone(z.Values)
		if c.Platform == model.PlatformOpenShift {
			values["global"] = map[string]any{"platform": "openshift"}
		}
		istiod := "istiod"
		if !z.ControlPlane.IsDefaultRevision() {
			istiod += "-" + z.ControlPlane.Revision
		}
		out = append(out, release{
			chart: charts.Ztunnel, name: "ztunnel", namespace: z.Namespace, values: values,
			version: z.Version.String(), source: z.Source, after: istiod, role: RoleControlPlane, realises: z,
		})
	}
	return out
}

// objectID identifies an object within a cluster.
func objectID(o map[string]any) string {
	md, _ := o["metadata"].(map[string]any)
	return fmt.Sprintf("%v/%v/%v/%v", o["apiVersion"], o["kind"], md["namespace"], md["name"])
}
