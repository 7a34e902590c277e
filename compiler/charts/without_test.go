package charts

import (
	"slices"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
)

// TestRenderWithoutCRDs: for every embedded release, the base chart with
// its CRD templates off, rendered without CRDs, is its full render less
// its CRDs, byte for byte, and the CRD file it prints verbatim is left
// unread.
func TestRenderWithoutCRDs(t *testing.T) {
	const crd = "CustomResourceDefinition"
	lib := NewLibrary("")
	for _, version := range EmbeddedReleases() {
		set, err := lib.Release(version)
		if err != nil {
			t.Fatal(err)
		}
		values := map[string]any{"global": map[string]any{"istioNamespace": "istio-mesh-1"}, "defaultRevision": "", "base": map[string]any{"enableCRDTemplates": false}}
		full, err := set.render(Base, "istio-base", "istio-mesh-1", values)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(full, func(o map[string]any) bool { return o["kind"] == crd }) {
			t.Fatalf("%s: the base chart with CRD templates off prints no CRDs: nothing to leave out", version)
		}
		want := slices.DeleteFunc(full, func(o map[string]any) bool { return o["kind"] == crd })
		for range 3 { // the first of the shape, the shape, a copy
			got, err := set.RenderWithout(crd, Base, "istio-base", "istio-mesh-1", values)
			if err != nil {
				t.Fatal(err)
			}
			if !sameObjects(got, want) {
				t.Errorf("%s: rendered without CRDs, the base chart differs from its full render less its CRDs", version)
			}
		}
		files := set.charts[Base].Files
		i := slices.IndexFunc(files, func(f *chart.File) bool { return f.Name == "files/crd-all.gen.yaml" })
		if i < 0 {
			t.Fatalf("%s: the base chart has no files/crd-all.gen.yaml", version)
		}
		objs, err := parseDocs("\n"+string(files[i].Data), crd)
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != 0 {
			t.Errorf("%s: %d documents of the CRD file were read", version, len(objs))
		}
	}
	if _, err := newSet("test").RenderWithout("", Base, "r", "ns", nil); err == nil {
		t.Error("rendering without objects of no kind was not refused")
	}
}

// TestOfKind: a document is left unread only when its first lines say
// beyond doubt that it is of the kind.
func TestOfKind(t *testing.T) {
	const kind = "CustomResourceDefinition"
	for _, tc := range []struct {
		doc  string
		want bool
	}{
		{"\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x\n", true},
		{"\n# comment\n\napiVersion: v1\nkind: CustomResourceDefinition\nspec: {}\n", true},
		{" # after the separator\nkind: CustomResourceDefinition\napiVersion: v1\nmetadata: {}\n", true},
		// Another kind, or the kind written otherwise: parsed.
		{"\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", false},
		{"\napiVersion: v1\nkind: CustomResourceDefinition # a comment\nmetadata: {}\n", false},
		{"\napiVersion: v1\nkind: \"CustomResourceDefinition\"\nmetadata: {}\n", false},
		{"\napiVersion: v1\nkind: !!str CustomResourceDefinition\nmetadata: {}\n", false},
		// The plain scalar goes on: its value is longer.
		{"\napiVersion: v1\nkind: CustomResourceDefinition\n  Extra\nmetadata: {}\n", false},
		{"\napiVersion: v1\nkind: CustomResourceDefinition\n\n  Extra\n", false},
		// A second kind, quoted or as an explicit key.
		{"\napiVersion: v1\nkind: CustomResourceDefinition\nmetadata: {}\nkind: ConfigMap\n", false},
		{"\napiVersion: v1\nkind: CustomResourceDefinition\nmetadata: {}\n\"kind\": ConfigMap\n", false},
		{"\napiVersion: v1\nkind: CustomResourceDefinition\nmetadata: {}\n? kind\n: ConfigMap\n", false},
		// Not a block mapping at the top, or text on the separator's line.
		{"\n  apiVersion: v1\n  kind: CustomResourceDefinition\n  metadata: {}\n", false},
		{" !tag\napiVersion: v1\nkind: CustomResourceDefinition\nmetadata: {}\n", false},
		{"\napiVersion: [v1]\nkind: CustomResourceDefinition\nmetadata: {}\n", false},
		{"\napiVersion: v1\nkind: CustomResourceDefinition\n", false},
		{"\nkind: CustomResourceDefinition\n", false},
		{"", false},
	} {
		if got := ofKind(tc.doc, kind); got != tc.want {
			t.Errorf("ofKind(%q) = %v, want %v", tc.doc, got, tc.want)
		}
	}
}
