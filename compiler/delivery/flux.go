package delivery

import (
	"path"

	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
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
		for _, l := range layersOf(c) {
			name := t.Metadata.Name + "-" + l.Dir
			spec := map[string]any{
				"interval": cfg.Interval,
				"path":     "./" + clusterPath(d, c.Name, l.Dir),
				"prune":    true,
				"wait":     true,
				"sourceRef": map[string]any{
					"kind": "GitRepository", "name": cfg.GitRepository, "namespace": cfg.Namespace,
				},
			}
			if prev != "" {
				spec["dependsOn"] = []any{map[string]any{"name": prev}}
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
