package delivery

import (
	"path"

	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/render"
)

// ignoreDifferences are the fields Istio itself writes into webhook
// configurations (istiod patches its CA bundle and flips failurePolicy once
// ready): without them, Argo CD would show the applications OutOfSync and
// fight istiod over them.
func ignoreDifferences() []any {
	var out []any
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		out = append(out, map[string]any{
			"group":             "admissionregistration.k8s.io",
			"kind":              kind,
			"jqPathExpressions": []any{".webhooks[]?.clientConfig.caBundle", ".webhooks[]?.failurePolicy"},
		})
	}
	return out
}

// syncPolicy prunes what the topology no longer has and repairs drift;
// sync waves in the objects order the apply. A wave may wait on another
// cluster's earlier waves (a remote secret on the token the remote pushes,
// a remote's gateways on its primary's istiod), which Argo CD does not
// order: a sync that fails meanwhile is retried, without limit, or
// automated sync would never try the same revision again.
func syncPolicy() map[string]any {
	return map[string]any{
		"automated":   map[string]any{"prune": true, "selfHeal": true},
		"syncOptions": []any{"RespectIgnoreDifferences=true", "ServerSideApply=true"},
		"retry": map[string]any{
			"limit":   -1,
			"backoff": map[string]any{"duration": "30s", "factor": 2, "maxDuration": "5m"},
		},
	}
}

func applicationSpec(d *model.Delivery, project, source string, destination map[string]any) map[string]any {
	return map[string]any{
		"project": project,
		"source": map[string]any{
			"repoURL":        d.RepoURL,
			"targetRevision": d.Revision,
			"path":           source,
		},
		"destination":       destination,
		"syncPolicy":        syncPolicy(),
		"ignoreDifferences": ignoreDifferences(),
	}
}

func destination(cfg *model.ArgoCDConfig, cl *model.Cluster, name string) map[string]any {
	if cfg.Destination == "server" {
		return map[string]any{"server": cl.APIServer}
	}
	return map[string]any{"name": name}
}

func argoCD(t *model.Topology, out *emit.Output) []emit.Document {
	d, cfg := t.Delivery, t.Delivery.ArgoCD
	if cfg == nil {
		// Asked for on the command line only: every setting its default.
		cfg = model.DefaultArgoCD()
	}
	dir := path.Join(Dir, ArgoCD)
	var objs []emit.Document
	if cfg.Mode == "applications" {
		for _, c := range out.Clusters {
			objs = append(objs, emit.Document{
				Path: path.Join(dir, "application-"+c.Name+".yaml"),
				Object: map[string]any{
					"apiVersion": "argoproj.io/v1alpha1",
					"kind":       "Application",
					"metadata": map[string]any{
						"name": "meshc-" + c.Name, "namespace": cfg.Namespace, "labels": labels(t),
					},
					"spec": applicationSpec(d, cfg.Project, path.Join(d.Path, render.ClusterDir(c.Name)), destination(cfg, t.Clusters[c.Name], c.Name)),
				},
			})
		}
	} else {
		// One ApplicationSet: a list generator with one element per
		// cluster, rendered through a Go template.
		var elements []any
		for _, c := range out.Clusters {
			e := map[string]any{"cluster": c.Name}
			if cfg.Destination == "server" {
				e["server"] = t.Clusters[c.Name].APIServer
			}
			elements = append(elements, e)
		}
		dest := map[string]any{"name": "{{.cluster}}"}
		if cfg.Destination == "server" {
			dest = map[string]any{"server": "{{.server}}"}
		}
		objs = append(objs, emit.Document{
			Path: path.Join(dir, "applicationset-"+t.Metadata.Name+".yaml"),
			Object: map[string]any{
				"apiVersion": "argoproj.io/v1alpha1",
				"kind":       "ApplicationSet",
				"metadata": map[string]any{
					"name": "meshc-" + t.Metadata.Name, "namespace": cfg.Namespace, "labels": labels(t),
				},
				"spec": map[string]any{
					"goTemplate":        true,
					"goTemplateOptions": []any{"missingkey=error"},
					"generators":        []any{map[string]any{"list": map[string]any{"elements": elements}}},
					"template": map[string]any{
						"metadata": map[string]any{"name": "meshc-{{.cluster}}", "labels": labels(t)},
						"spec":     applicationSpec(d, cfg.Project, path.Join(d.Path, render.ClusterDir("{{.cluster}}")), dest),
					},
				},
			},
		})
	}
	var files []string
	for _, o := range objs {
		files = append(files, path.Base(o.Path))
	}
	return append(objs, kustomization(dir, files))
}
