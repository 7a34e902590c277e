package render

import (
	"bytes"
	"testing"

	"meshc.dev/meshc/compiler/emit"
)

// TestSharedFieldsWrittenOnce: a field value several objects share (as
// charts rendered by shape give) is written as each object alone would
// be, whatever cluster is written first.
func TestSharedFieldsWrittenOnce(t *testing.T) {
	spec := map[string]any{
		"group":    "example.com",
		"versions": []any{map[string]any{"name": "v1", "schema": map[string]any{"type": "object", "description": "a: b\nmulti-line"}}},
	}
	list := []any{"a", map[string]any{"b": "c"}}
	object := func(name string) emit.Object {
		return emit.Object{
			"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": name},
			"spec":     spec, "rules": list,
		}
	}
	out := &emit.Output{Topology: "t"}
	for _, c := range []string{"c1", "c2", "c3"} {
		out.Clusters = append(out.Clusters, &emit.Cluster{Name: c, Resources: []emit.Resource{
			{Layer: emit.LayerControlPlane, Object: object("crd-" + c)},
		}})
	}
	if f := findShared(out); len(f.shared) != 2 {
		t.Errorf("%d shared values, want the spec and the list", len(f.shared))
	}
	tree, err := Render(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"c1", "c2", "c3"} {
		want, err := MarshalYAML(Labelled(object("crd-"+c), "t"))
		if err != nil {
			t.Fatal(err)
		}
		p := "clusters/" + c + "/" + emit.LayerControlPlane.Dir + "/customresourcedefinition-crd-" + c + ".yaml"
		if got := tree[p]; !bytes.Equal(got, want) {
			t.Errorf("%s:\n%s\nwant:\n%s", p, got, want)
		}
	}
}
