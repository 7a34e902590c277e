package render

import (
	"bytes"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler/emit"
)

// TestMarshalLabelledIsLabelled pins that writing an object's labels as
// if it held them gives the bytes of writing the labelled copy: labels
// added, kept, replaced (meshc's win over the object's own), and a
// metadata or labels value of another shape.
func TestMarshalLabelledIsLabelled(t *testing.T) {
	long := strings.Repeat("k", 1100) // written in the explicit "? key" form
	objects := []emit.Object{
		{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "a"}},
		{"kind": "Namespace", "metadata": map[string]any{"name": "a", "labels": map[string]any{
			"team": "x", LabelTopology: "other", LabelManagedBy: "helm", "zz": "1",
		}}},
		{"kind": "ConfigMap", "metadata": map[string]any{}, "data": map[string]any{long: "v", "list": []any{"a", map[string]any{"b": true}}}},
		{"kind": "ConfigMap", "metadata": map[string]any{"name": "a", "labels": "not a map", "annotations": map[string]any{"x": "y"}}},
		{"kind": "ConfigMap", "metadata": map[string]any{"name": "a", "labels": map[string]any{}, "a": 1, "z": nil}},
		{"kind": "ConfigMap", "metadata": "not a map"},
		{"kind": "ConfigMap"},
		{"kind": "ConfigMap", "metadata": map[string]any{"name": "a"}, long: map[string]any{"spec": []any{}}},
	}
	for i, obj := range objects {
		want, err := MarshalYAML(Labelled(obj, "fleet"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalLabelled(obj, "fleet", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("object %d:\ngot:\n%s\nwant:\n%s", i, got, want)
		}
	}
}
