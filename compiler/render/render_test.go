package render_test

import (
	"strings"
	"testing"

	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/render"
)

// TestRenderWritesWithoutChangingObjects pins that render is the one
// writer and a reader only of what emit made: objects are written with
// meshc's labels without emit's maps gaining them, and a file beside the
// bundle given as an object is written after its comment.
func TestRenderWritesWithoutChangingObjects(t *testing.T) {
	ns := emit.Object{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{
		"name": "app", "labels": map[string]any{"team": "a"},
	}}
	op := emit.Object{"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator",
		"metadata": map[string]any{"name": "default", "namespace": "istio-system"}, "spec": map[string]any{"profile": "minimal"}}
	out := &emit.Output{Topology: "t", Clusters: []*emit.Cluster{{
		Name:      "c1",
		Resources: []emit.Resource{{Layer: emit.LayerNamespaces, Role: emit.RoleNamespace, Object: ns}},
		Files:     []emit.File{{Path: "istioctl/default.yaml", Comment: "# install with istioctl\n", Object: op}},
	}}}
	tree, err := render.Render(out)
	if err != nil {
		t.Fatal(err)
	}
	got := string(tree["clusters/c1/namespaces/namespace-app.yaml"])
	for _, want := range []string{"app.kubernetes.io/managed-by: meshc", "meshc.dev/topology: t", "team: a"} {
		if !strings.Contains(got, want) {
			t.Errorf("namespace file lacks %q:\n%s", want, got)
		}
	}
	labels := ns["metadata"].(map[string]any)["labels"].(map[string]any)
	if len(labels) != 1 {
		t.Errorf("render changed emit's object: labels %v", labels)
	}
	if dir := render.LayerDir("c1", emit.LayerNamespaces); dir != "clusters/c1/namespaces" {
		t.Errorf("LayerDir = %s", dir)
	}
	file := string(tree["clusters/c1/istioctl/default.yaml"])
	if !strings.HasPrefix(file, "# install with istioctl\napiVersion: install.istio.io/v1alpha1\n") || !strings.Contains(file, "profile: minimal") {
		t.Errorf("IstioOperator file:\n%s", file)
	}
}
