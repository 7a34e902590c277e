package emit

import (
	"fmt"
	"maps"
	"reflect"

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

// renderedControlPlanes renders, with Istio's own charts, what the other
// targets leave to an installer: the base chart once per cluster (CRDs,
// the reader ServiceAccount), the istiod chart per control plane or remote
// install (istiod, its webhooks, revision tags), and the istio-cni chart
// where the cluster runs the CNI agent. Every object lands in the
// control-plane layer with meshc's labels and the path it comes from.
func renderedControlPlanes(c *plan.Cluster, set *charts.Set) ([]Resource, error) {
	if len(c.ControlPlanes) == 0 {
		return nil, nil
	}
	seen := map[string]Object{}
	var out []Resource
	add := func(objs []map[string]any, source model.Path) error {
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
			ann[AnnotationSyncWave] = fmt.Sprint(LayerControlPlane.Wave)
			ann[plan.AnnotationSource] = source.String()
			out = append(out, Resource{Layer: LayerControlPlane, Object: o})
		}
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
	objs, err := set.Render(charts.Base, "istio-base", first.Namespace, withImage(base, first.Version.String()))
	if err != nil {
		return nil, err
	}
	if err := add(objs, first.Path()); err != nil {
		return nil, err
	}

	for _, cp := range c.ControlPlanes {
		values := plan.IstiodChartValues(cp.Values)
		release := "istiod"
		if !cp.IsDefaultRevision() {
			values["revision"] = cp.Revision
			release += "-" + cp.Revision
		}
		if cp.Remote {
			values["profile"] = plan.ProfileRemote
		} else if cp.Profile != "" && cp.Profile != "minimal" && cp.Profile != "default" {
			values["profile"] = cp.Profile
		}
		if len(cp.Tags) > 0 {
			tags := make([]any, len(cp.Tags))
			for i, t := range cp.Tags {
				tags[i] = t
			}
			values["revisionTags"] = tags
		}
		if c.Platform == model.PlatformOpenShift {
			global := maps.Clone(values["global"].(map[string]any))
			global["platform"] = "openshift"
			values["global"] = global
		}
		objs, err := set.Render(charts.Istiod, release, cp.Namespace, withImage(values, cp.Version.String()))
		if err != nil {
			return nil, fmt.Errorf("control plane %s: %w", cp.Name, err)
		}
		if err := add(objs, cp.Path()); err != nil {
			return nil, err
		}
	}

	if c.CNI != nil {
		global := map[string]any{}
		if c.Platform == model.PlatformOpenShift {
			global["platform"] = "openshift"
		}
		objs, err := set.Render(charts.CNI, "istio-cni", c.CNI.Namespace, withImage(map[string]any{"global": global}, c.CNI.Version.String()))
		if err != nil {
			return nil, err
		}
		if err := add(objs, c.CNI.Source); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// objectID identifies an object within a cluster.
func objectID(o map[string]any) string {
	md, _ := o["metadata"].(map[string]any)
	return fmt.Sprintf("%v/%v/%v/%v", o["apiVersion"], o["kind"], md["namespace"], md["name"])
}
