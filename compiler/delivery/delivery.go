// Package delivery emits what points Argo CD and Flux at the bundles meshc
// writes: an Argo CD ApplicationSet (or an Application per cluster) mapping
// each cluster's bundle to that cluster, and per cluster one Flux
// Kustomization per layer, chained with dependsOn and wait so that Flux
// applies the layers in the order Argo CD's sync waves give.
//
// It lays itself out from render's layout (render.LayerDir: where each
// cluster's layers are written) and labels as render does.
//
// Import direction: delivery imports model, emit and render.
package delivery

import (
	"fmt"
	"path"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/render"
)

// Delivery systems.
const (
	ArgoCD = "argocd"
	Flux   = "flux"
)

// Systems lists the systems meshc can emit for.
var Systems = []string{ArgoCD, Flux}

// Dir is the output folder delivery files go to.
const Dir = "delivery"

// Resolve picks the systems to emit for: those asked for, else those the
// topology configures.
func Resolve(t *model.Topology, asked []string) []string {
	if len(asked) > 0 {
		return asked
	}
	var out []string
	if d := t.Delivery; d != nil {
		if d.ArgoCD != nil {
			out = append(out, ArgoCD)
		}
		if d.Flux != nil {
			out = append(out, Flux)
		}
	}
	return out
}

// Configured checks that the topology says enough for the delivery systems
// asked for (none asked for: nothing to check). A system asked for on the
// command line that the topology does not mention takes its defaults
// (Argo CD's are all defaults; Flux needs its GitRepository).
func Configured(t *model.Topology, systems []string) diag.List {
	if len(systems) == 0 {
		return nil
	}
	d := t.Delivery
	if d == nil {
		return diag.List{{
			Code: diag.MissingField, Path: "delivery", Pos: t.Pos(model.Path{}),
			Message: "delivery objects need to know where the output is committed",
			Hint:    "add delivery: {repoURL: <the Git repository>, path: <the output folder in it>}",
		}}
	}
	var out diag.List
	for _, s := range systems {
		switch s {
		case ArgoCD:
		case Flux:
			if d.Flux == nil || d.Flux.GitRepository == "" {
				out = append(out, diag.Diagnostic{
					Code: diag.MissingField, Path: "delivery.flux.gitRepository", Pos: t.Pos(model.Path{"delivery"}),
					Message: "Flux Kustomizations need the GitRepository that syncs " + d.RepoURL,
					Hint:    "add delivery.flux: {gitRepository: <its name>, namespace: flux-system}",
				})
			}
		default:
			out = append(out, diag.Diagnostic{
				Code: diag.InvalidValue, Path: "delivery", Message: fmt.Sprintf("unknown delivery system %q", s),
				Hint: "use argocd or flux",
			})
		}
	}
	return out
}

// Documents emits the delivery objects for systems, at paths relative to
// the output folder. t.Delivery must be set when systems is not empty (the
// checks tell the user so).
func Documents(t *model.Topology, out *emit.Output, systems []string) ([]emit.Document, error) {
	var docs []emit.Document
	for _, s := range systems {
		switch s {
		case ArgoCD:
			docs = append(docs, argoCD(t, out)...)
		case Flux:
			docs = append(docs, flux(t, out)...)
		default:
			return nil, fmt.Errorf("unknown delivery system %q", s)
		}
	}
	return docs, nil
}

// layersOf returns the layers of a cluster's bundle that Flux can build, in
// apply order: those with objects. A layer of helmCharts alone (the helm
// target's Argo CD form) is not one: Flux has the helm-releases layer.
func layersOf(c *emit.Cluster) []emit.Layer {
	present := map[string]bool{}
	for _, r := range c.Resources {
		present[r.Layer.Dir] = true
	}
	var out []emit.Layer
	for _, l := range emit.Layers {
		if present[l.Dir] {
			out = append(out, l)
		}
	}
	return out
}

// labels are render's labels, on every object meshc writes.
func labels(t *model.Topology) map[string]any { return render.Labels(t.Metadata.Name) }

// kustomization lists a folder's files for kubectl apply -k and Flux.
func kustomization(dir string, files []string) emit.Document {
	return emit.Document{Path: path.Join(dir, "kustomization.yaml"), Object: render.Kustomization(files)}
}
