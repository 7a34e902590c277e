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

// TestSameFileSharedBytes: objects alike in every field but the shared ones,
// which are the same values, are one file's bytes in every cluster (a CRD
// in every cluster of a fleet); an object that differs in a field of its
// own, or holds another value, gets bytes of its own, each as MarshalYAML
// writes it.
func TestSameFileSharedBytes(t *testing.T) {
	spec := map[string]any{"group": "example.com", "names": map[string]any{"kind": "Thing"}}
	other := map[string]any{"group": "example.com", "names": map[string]any{"kind": "Thing"}} // equal, not the same value
	object := func(spec map[string]any, annotation string) emit.Object {
		return emit.Object{
			"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": "things.example.com", "annotations": map[string]any{"a": annotation}},
			"spec":     spec,
		}
	}
	objects := map[string]emit.Object{
		"c1": object(spec, "x"), "c2": object(spec, "x"), "c3": object(spec, "x"),
		"c4": object(spec, "y"), // metadata of its own
		"c5": object(other, "x"),
		"c6": object(other, "x"),
	}
	out := &emit.Output{Topology: "t"}
	for _, c := range []string{"c1", "c2", "c3", "c4", "c5", "c6"} {
		out.Clusters = append(out.Clusters, &emit.Cluster{Name: c, Resources: []emit.Resource{
			{Layer: emit.LayerControlPlane, Object: objects[c]},
		}})
	}
	tree, err := Render(out)
	if err != nil {
		t.Fatal(err)
	}
	file := func(c string) []byte {
		return tree["clusters/"+c+"/"+emit.LayerControlPlane.Dir+"/customresourcedefinition-things.example.com.yaml"]
	}
	for c, obj := range objects {
		want, err := MarshalYAML(Labelled(obj, "t"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(file(c), want) {
			t.Errorf("%s:\n%s\nwant:\n%s", c, file(c), want)
		}
	}
	same := func(a, b string) bool { return &file(a)[0] == &file(b)[0] }
	if !same("c1", "c2") || !same("c1", "c3") || !same("c5", "c6") {
		t.Error("alike objects of the same shared values do not share their file's bytes")
	}
	if same("c1", "c4") || same("c1", "c5") {
		t.Error("objects that differ share a file's bytes")
	}
}
