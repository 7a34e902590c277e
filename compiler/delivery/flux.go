package delivery

import (
	"path"

	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/render"
)

// flux emits, per cluster, one Kustomization per layer of its bundle. Each
// depends on the one before and waits for its objects to be ready, which
// is how Flux orders what Argo CD orders with sync waves.
func flux(t *model.Topology, out *emit.Output) []emit.Document {
	d, cfg := t.Delivery, t.Delivery.Flux
	var objs []emit.Document
	for _, c := range out.Clusters {
		dir := path.Join(Dir, Flux, c.Name)
		var files []string
		prev := ""
		layers := layersOf(c)
		for i, l := range layers {
			name := t.Metadata.Name + "-" + l.Dir
			spec := map[string]any{
				"interval": cfg.Interval,
				"path":     "./" + path.Join(d.Path, render.LayerDir(c.Name, l)),
				"prune":    true,
				"wait":     true,
				"sourceRef": map[string]any{
					"kind": "GitRepository", "name": cfg.GitRepository, "namespace": cfg.Namespace,
				},
			}
			if prev != "" {
				spec["dependsOn"] = []any{map[string]any{"name": prev}}
			}
			if checks := gatesAfter(c, l, layers[i+1:]); len(checks) > 0 {
				// The next layer needs objects this one's readiness does
				// not prove: Flux checks them instead (it ignores
				// healthChecks when it waits for every object).
				spec["wait"] = false
				spec["healthChecks"] = checks
			}
			file := "kustomization-" + name + ".yaml"
			objs = append(objs, emit.Document{Path: path.Join(dir, file), Object: map[string]any{
				"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
				"kind":       "Kustomization",
				"metadata":   map[string]any{"name": name, "namespace": cfg.Namespace, "labels": labels(t)},
				"spec":       spec,
			}})
			files = append(files, file)
			prev = name
		}
		objs = append(objs, kustomization(dir, files))
	}
	return objs
}

// gatesAfter lists, as Flux healthChecks, the gates of layers after l that
// no layer between them holds: l is the last layer applied before them.
func gatesAfter(c *emit.Cluster, l emit.Layer, rest []emit.Layer) []any {
	var out []any
	for _, g := range c.Gates {
		if g.Before.Wave <= l.Wave {
			continue
		}
		last := true
		for _, n := range rest {
			if n.Wave < g.Before.Wave {
				last = false
			}
		}
		if !last {
			continue
		}
		out = append(out, map[string]any{"apiVersion": g.APIVersion, "kind": g.Kind, "name": g.Name, "namespace": g.Namespace})
	}
	return out
}
