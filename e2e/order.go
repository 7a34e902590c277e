package e2e

import (
	"fmt"
	"slices"
	"strconv"
)

// Argo CD's order of a sync (gitops-engine's syncTasks.Sort): phase, then
// sync wave, then kind in Helm's install order (kinds it does not know go
// last), then name; afterwards every Namespace and CRD is moved up to just
// before the first object that needs it, taking that object's wave.
var argoKindOrder = func() map[string]int {
	kinds := []string{
		"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
		"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
		"StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition",
		"ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList",
		"Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
		"ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
		"StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
	}
	m := map[string]int{}
	for i, k := range kinds {
		m[k] = i - len(kinds) // unknown kinds read 0: after all of these
	}
	return m
}()

const (
	annotationSyncWave = "argocd.argoproj.io/sync-wave"
	annotationHook     = "argocd.argoproj.io/hook"
)

// Wave is one Argo CD sync wave: the objects Argo CD applies together
// before it waits for them to be healthy.
type Wave struct {
	Number  int
	Objects []Object
}

// ArgoWaves orders a bundle's objects the way Argo CD syncs them, and
// reports separately every object whose Namespace or CRD the bundle
// declares later than the object itself: Argo CD repairs that order by
// itself, but it is a defect of the bundle all the same (Flux and a plain
// `kubectl apply -k` in wave order would not).
func ArgoWaves(objects []Object) ([]Wave, []Finding, error) {
	type task struct {
		Object
		wave int
	}
	tasks := make([]task, 0, len(objects))
	for _, o := range objects {
		if h := o.GetAnnotations()[annotationHook]; h != "" {
			return nil, nil, fmt.Errorf("%s is an Argo CD %s hook: meshc emits none", o.ID(), h)
		}
		w := 0
		if s, ok := o.GetAnnotations()[annotationSyncWave]; ok {
			n, err := strconv.Atoi(s)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: sync wave %q is not a number", o.ID(), s)
			}
			w = n
		}
		tasks = append(tasks, task{o, w})
	}
	slices.SortStableFunc(tasks, func(a, b task) int {
		if a.wave != b.wave {
			return a.wave - b.wave
		}
		if d := argoKindOrder[a.GetKind()] - argoKindOrder[b.GetKind()]; d != 0 {
			return d
		}
		if a.GetName() < b.GetName() {
			return -1
		} else if a.GetName() > b.GetName() {
			return 1
		}
		return 0
	})

	// The declared order: does anything come before its namespace or CRD?
	var findings []Finding
	firstUse := map[string]int{}
	for i, t := range tasks {
		for _, key := range needs(t.Object) {
			if _, seen := firstUse[key]; !seen {
				firstUse[key] = i
			}
		}
	}
	for i, t := range tasks {
		key, ok := provides(t.Object)
		if !ok {
			continue
		}
		if use, used := firstUse[key]; used && use < i {
			findings = append(findings, Finding{
				Object: tasks[use].ID(), Source: tasks[use].Source,
				Message: fmt.Sprintf("declared in sync wave %d, before the %s it needs (wave %d); Argo CD reorders this, Flux and kubectl do not",
					tasks[use].wave, t.ID(), t.wave),
			})
		}
	}

	// gitops-engine's adjustDeps, once for namespaces and once for CRDs.
	adjust := func(isDep func(Object) (string, bool), refs func(Object) (string, bool)) {
		first := map[string]int{}
		for i := 0; i < len(tasks); i++ {
			t := tasks[i]
			if key, ok := isDep(t.Object); ok {
				if at, ok := first[key]; ok {
					t.wave = tasks[at].wave
					copy(tasks[at+1:i+1], tasks[at:i])
					tasks[at] = t
					for k, v := range first {
						if v >= at {
							first[k] = v + 1
						}
					}
				}
			} else if key, ok := refs(t.Object); ok {
				if _, seen := first[key]; !seen {
					first[key] = i
				}
			}
		}
	}
	adjust(func(o Object) (string, bool) {
		return o.GetName(), o.GetKind() == "Namespace" && o.GroupVersionKind().Group == ""
	}, func(o Object) (string, bool) {
		return o.GetNamespace(), o.GetNamespace() != ""
	})
	adjust(crdKey, func(o Object) (string, bool) {
		gvk := o.GroupVersionKind()
		return gvk.Group + "/" + gvk.Kind, true
	})

	var waves []Wave
	for _, t := range tasks {
		if len(waves) == 0 || waves[len(waves)-1].Number != t.wave {
			waves = append(waves, Wave{Number: t.wave})
		}
		w := &waves[len(waves)-1]
		w.Objects = append(w.Objects, t.Object)
	}
	return waves, findings, nil
}

// needs lists what an object needs to exist before it: its namespace and
// its kind's CRD, as keys provides gives.
func needs(o Object) []string {
	var out []string
	if ns := o.GetNamespace(); ns != "" {
		out = append(out, "Namespace/"+ns)
	}
	gvk := o.GroupVersionKind()
	out = append(out, "CRD/"+gvk.Group+"/"+gvk.Kind)
	return out
}

// provides says what an object is a prerequisite of, if anything.
func provides(o Object) (string, bool) {
	if o.GetKind() == "Namespace" && o.GroupVersionKind().Group == "" {
		return "Namespace/" + o.GetName(), true
	}
	if key, ok := crdKey(o); ok {
		return "CRD/" + key, true
	}
	return "", false
}

func crdKey(o Object) (string, bool) {
	if o.GetKind() != "CustomResourceDefinition" || o.GroupVersionKind().Group != "apiextensions.k8s.io" {
		return "", false
	}
	group, _, _ := unstructuredString(o, "spec", "group")
	kind, _, _ := unstructuredString(o, "spec", "names", "kind")
	if group == "" || kind == "" {
		return "", false
	}
	return group + "/" + kind, true
}

// FluxStages splits one Flux Kustomization's objects the way
// kustomize-controller applies them (fluxcd/pkg/ssa ApplyAllStaged): first
// CRDs and Namespaces (it waits for the CRDs to be established), then
// class definitions (kinds named *Class), then everything else.
func FluxStages(objects []Object) [][]Object {
	var defs, classes, rest []Object
	for _, o := range objects {
		kind := o.GetKind()
		switch {
		case kind == "CustomResourceDefinition" || kind == "Namespace":
			defs = append(defs, o)
		case len(kind) > 5 && kind[len(kind)-5:] == "Class":
			classes = append(classes, o)
		default:
			rest = append(rest, o)
		}
	}
	var out [][]Object
	for _, s := range [][]Object{defs, classes, rest} {
		if len(s) > 0 {
			out = append(out, s)
		}
	}
	return out
}
