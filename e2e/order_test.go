package e2e

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func object(apiVersion, kind, namespace, name string, wave string) Object {
	md := map[string]any{"name": name}
	if namespace != "" {
		md["namespace"] = namespace
	}
	if wave != "" {
		md["annotations"] = map[string]any{annotationSyncWave: wave}
	}
	return Object{Unstructured: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": kind, "metadata": md,
	}}, Source: "test"}
}

func crd(group, kind, wave string) Object {
	o := object("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", strings.ToLower(kind)+"s."+group, wave)
	o.Object["spec"] = map[string]any{"group": group, "names": map[string]any{"kind": kind}}
	return o
}

func ids(objects []Object) []string {
	var out []string
	for _, o := range objects {
		out = append(out, o.ID())
	}
	return out
}

// TestArgoWavesSortsAsGitopsEngine: wave, then Helm's kind order, then name;
// namespaces and CRDs are moved up to just before the first object that
// needs them (into its wave),
// and the bundle is told that its declared order needed the move.
func TestArgoWavesSortsAsGitopsEngine(t *testing.T) {
	objects := []Object{
		object("apps/v1", "Deployment", "a", "d", "1"),
		object("v1", "Service", "a", "s", "1"),
		object("v1", "ServiceAccount", "a", "sa", "1"),
		object("security.istio.io/v1", "PeerAuthentication", "a", "pa", "1"),
		object("v1", "Namespace", "", "a", "2"), // declared after its objects
		crd("security.istio.io", "PeerAuthentication", "3"),
		object("v1", "Namespace", "", "b", ""),
	}
	waves, findings, err := ArgoWaves(objects)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, w := range waves {
		got = append(got, ids(w.Objects))
	}
	want := [][]string{
		{"Namespace b"},
		{"Namespace a", "ServiceAccount a/sa", "Service a/s", "Deployment a/d",
			"CustomResourceDefinition peerauthentications.security.istio.io", "PeerAuthentication a/pa"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("waves:\n got %q\nwant %q", got, want)
	}
	if len(findings) != 2 {
		t.Fatalf("want 2 order findings (namespace a and the CRD declared late), got %v", findings)
	}
	for _, f := range findings {
		if !strings.Contains(f.Message, "before the") {
			t.Errorf("finding %q does not say what comes too late", f)
		}
	}
}

func TestArgoWavesRefusesHooksAndBadWaves(t *testing.T) {
	hook := object("v1", "ConfigMap", "a", "c", "")
	hook.SetAnnotations(map[string]string{annotationHook: "PreSync"})
	if _, _, err := ArgoWaves([]Object{hook}); err == nil {
		t.Error("a hook passed: meshc emits none, and the suite does not run them")
	}
	if _, _, err := ArgoWaves([]Object{object("v1", "ConfigMap", "a", "c", "one")}); err == nil {
		t.Error("a wave that is not a number passed")
	}
}

// TestFluxStages: CRDs and namespaces first, then classes, then the rest,
// each stage in declared order.
func TestFluxStages(t *testing.T) {
	stages := FluxStages([]Object{
		object("v1", "ConfigMap", "a", "c", ""),
		object("gateway.networking.k8s.io/v1", "GatewayClass", "", "istio", ""),
		object("v1", "Namespace", "", "a", ""),
		crd("networking.istio.io", "Gateway", ""),
	})
	var got [][]string
	for _, s := range stages {
		got = append(got, ids(s))
	}
	want := [][]string{
		{"Namespace a", "CustomResourceDefinition gateways.networking.istio.io"},
		{"GatewayClass istio"},
		{"ConfigMap a/c"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("stages:\n got %q\nwant %q", got, want)
	}
}

// TestFluxLayers: dependsOn decides the order; a cycle or a missing
// dependency is reported, as Flux would wait forever.
func TestFluxLayers(t *testing.T) {
	k := func(name, path string, deps ...string) Object {
		o := object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", name, "")
		var d []any
		for _, n := range deps {
			d = append(d, map[string]any{"name": n})
		}
		o.Object["spec"] = map[string]any{"path": path, "dependsOn": d}
		return o
	}
	layers, err := FluxLayers([]Object{
		k("mesh-config", "./m", "gateways"),
		k("gateways", "./g", "control-plane"),
		k("namespaces", "./n"),
		k("control-plane", "./c", "namespaces"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range layers {
		names = append(names, l.Name)
	}
	if want := []string{"namespaces", "control-plane", "gateways", "mesh-config"}; !slices.Equal(names, want) {
		t.Errorf("order %v, want %v", names, want)
	}
	if _, err := FluxLayers([]Object{k("a", "./a", "b"), k("b", "./b", "a")}); err == nil {
		t.Error("a dependsOn cycle passed")
	}
	if _, err := FluxLayers([]Object{k("a", "./a", "missing")}); err == nil {
		t.Error("a dependency on a Kustomization that does not exist passed")
	}
}
