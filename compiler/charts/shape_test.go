package charts

import (
	"fmt"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
)

// testRelease is one release a fleet may render: what emit passes to Render.
type testRelease struct {
	chart, name, namespace string
	values                 map[string]any
}

// fleetReleases returns releases of the embedded charts shaped like a
// fleet's: primaries and remote installs of several meshes, clusters and
// networks, default and named revisions, OpenShift and not.
func fleetReleases() []testRelease {
	var out []testRelease
	for c := range 6 {
		cluster := fmt.Sprintf("c-%04d", c)
		network := fmt.Sprintf("net-%d", c%3)
		for m := range 3 {
			mesh := fmt.Sprintf("mesh-%03d", m)
			ns := "istio-" + mesh
			revision := mesh
			if m == 2 {
				ns, revision = "istio-system", "default"
			}
			global := map[string]any{
				"istioNamespace": ns, "meshID": mesh, "network": network,
				"multiCluster": map[string]any{"clusterName": cluster},
				"hub":          "docker.io/istio", "tag": "1.28.2",
			}
			if c%4 == 0 {
				global["platform"] = "openshift"
			}
			values := map[string]any{
				"global":     global,
				"meshConfig": map[string]any{"discoverySelectors": []any{map[string]any{"matchLabels": map[string]any{"istio-discovery": mesh}}}},
			}
			name := "istiod"
			if revision != "default" {
				values["revision"] = revision
				name += "-" + revision
			}
			if c%3 != 0 {
				values["profile"] = "remote"
				global["remotePilotAddress"] = fmt.Sprintf("istiod.%s.c-%04d.example.com", mesh, c-c%3)
				values["istiodRemote"] = map[string]any{"injectionPath": fmt.Sprintf("/inject/cluster/%s/net/%s", cluster, network)}
			}
			out = append(out, testRelease{Istiod, name, ns, values})
			// As emit renders it: the CRDs apart, once.
			base := map[string]any{"global": map[string]any{"istioNamespace": ns}, "defaultRevision": "", "base": map[string]any{"enableCRDTemplates": false}}
			if c%3 != 0 {
				base["profile"] = "remote"
			}
			out = append(out, testRelease{Base, "istio-base", ns, base})
		}
		out = append(out, testRelease{CNI, "istio-cni", "istio-cni", map[string]any{"global": map[string]any{}}})
	}
	return out
}

// TestShapedRenderIsFullRender renders a fleet's releases through their
// shapes and each one in full, and compares the bytes: Istio's charts
// treat the names of things as text, so no shape needs a full render, and
// releases do share shapes.
func TestShapedRenderIsFullRender(t *testing.T) {
	emb, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	set := newSet("test")
	set.charts = emb.charts
	releases := fleetReleases()
	for _, r := range releases {
		got, err := set.Render(r.chart, r.name, r.namespace, r.values)
		if err != nil {
			t.Fatalf("%s %s: %v", r.chart, r.name, err)
		}
		want, err := set.render(r.chart, r.name, r.namespace, r.values)
		if err != nil {
			t.Fatal(err)
		}
		if !sameObjects(got, want) {
			t.Errorf("%s %s in %s (%v): rendered from its shape, it differs from a full render", r.chart, r.name, r.namespace, r.values)
		}
	}
	if set.fullShapes != 0 {
		t.Errorf("%d shapes render in full: the guard found the charts treating a name as more than text", set.fullShapes)
	}
	if len(set.shapes) > len(releases)/3 {
		t.Errorf("%d shapes for %d releases: releases that differ only in names should share one", len(set.shapes), len(releases))
	}
	t.Logf("%d releases, %d shapes", len(releases), len(set.shapes))
}

// testChart is a chart of one ConfigMap template.
func testChart(template string) *chart.Chart {
	return &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: "v2", Name: "t", Version: "0.1.0"},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte(template)}},
	}
}

// TestShapeGuard: a chart that does more with a name than print it
// (hashes it, measures it, compares it with a string it holds) still
// renders every release as a full render would.
func TestShapeGuard(t *testing.T) {
	for _, tc := range []struct {
		name, template string
		full           bool // the first release's check finds the shape wrong
	}{
		{"hash", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  sum: {{ .Values.revision | sha256sum | quote }}\n", true},
		{"length", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  short: {{ if lt (len .Values.revision) 10 }}\"yes\"{{ else }}\"no\"{{ end }}\n", true},
		// "canary" is written in the chart: a revision of that name is no
		// atom, and renders with a shape of its own.
		{"compare", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  canary: {{ if eq .Values.revision \"canary\" }}\"yes\"{{ else }}\"no\"{{ end }}\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := newSet("test")
			set.charts["t"] = testChart(tc.template)
			for _, rev := range []string{"stable", "canary", "blue", "green", "canary"} {
				values := map[string]any{"revision": rev}
				got, err := set.Render("t", "r-"+rev, "ns", values)
				if err != nil {
					t.Fatal(err)
				}
				want, err := set.render("t", "r-"+rev, "ns", values)
				if err != nil {
					t.Fatal(err)
				}
				if !sameObjects(got, want) {
					t.Errorf("revision %s: got %v, want %v", rev, got, want)
				}
			}
			if full := set.fullShapes > 0; full != tc.full {
				t.Errorf("a shape rendering in full: %v, want %v", full, tc.full)
			}
		})
	}
}

// TestShapeGuardLater: when a later sample finds a shape wrong that the
// first release's check passed, the compilation fails rather than keep
// what earlier releases got from the shape.
func TestShapeGuardLater(t *testing.T) {
	defer func(n int) { guardEvery = n }(guardEvery)
	guardEvery = 1
	set := newSet("test")
	set.charts["t"] = testChart("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  c: {{ if hasPrefix \"c-\" .Values.cluster }}\"yes\"{{ else }}\"no\"{{ end }}\n")
	if _, err := set.Render("t", "r", "ns", map[string]any{"global": map[string]any{"multiCluster": map[string]any{"clusterName": "a-1"}}, "cluster": "a-1"}); err != nil {
		t.Fatal(err)
	}
	_, err := set.Render("t", "r", "ns", map[string]any{"global": map[string]any{"multiCluster": map[string]any{"clusterName": "c-2"}}, "cluster": "c-2"})
	if err == nil {
		t.Fatal("a release rendering differently from its shape was not reported")
	}
	t.Log(err)
}

// TestShapeShares: objects of releases of one shape share what holds no
// name, and each gets metadata of its own.
func TestShapeShares(t *testing.T) {
	set := newSet("test")
	set.charts["t"] = testChart("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  fixed: text\n")
	// The first release of a shape gets its full render (see renderShaped).
	if _, err := set.Render("t", "zero", "ns", nil); err != nil {
		t.Fatal(err)
	}
	a, err := set.Render("t", "one", "ns", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := set.Render("t", "two", "ns", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.shapes) != 1 {
		t.Errorf("%d shapes, want 1", len(set.shapes))
	}
	a[0]["metadata"].(map[string]any)["labels"] = map[string]any{"x": "y"}
	if b[0]["metadata"].(map[string]any)["labels"] != nil || b[0]["metadata"].(map[string]any)["name"] != "two" {
		t.Errorf("metadata shared or wrong: %v", b[0]["metadata"])
	}
	da, db := a[0]["data"].(map[string]any), b[0]["data"].(map[string]any)
	if fmt.Sprintf("%p", da) != fmt.Sprintf("%p", db) {
		t.Error("data without names is copied for each release, not shared")
	}
}

// TestShapeWithoutAtoms: releases alike in everything, whose names are all
// strings the chart writes, still render once.
func TestShapeWithoutAtoms(t *testing.T) {
	set := newSet("test")
	set.charts["t"] = testChart("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  ns: {{ if eq .Release.Namespace \"kube-system\" }}\"system\"{{ end }}\n  r: {{ if eq .Release.Name \"fixed\" }}\"fixed\"{{ end }}\n")
	for range 3 {
		got, err := set.Render("t", "fixed", "kube-system", nil)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := set.render("t", "fixed", "kube-system", nil)
		if !sameObjects(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	if len(set.shapes) != 1 {
		t.Errorf("%d shapes, want 1", len(set.shapes))
	}
}

// TestShapeSameAtoms: releases with the first release's atoms (the base
// chart's CRDs, rendered alike for every cluster) get copies of its full
// render, with metadata of their own, and the shape is never rendered with
// placeholders.
func TestShapeSameAtoms(t *testing.T) {
	set := newSet("test")
	set.charts["t"] = testChart("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  ns: {{ .Release.Namespace }}\n")
	var got [][]map[string]any
	for range 3 {
		objs, err := set.Render("t", "same", "ns", nil)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := set.render("t", "same", "ns", nil)
		if !sameObjects(objs, want) {
			t.Errorf("got %v, want %v", objs, want)
		}
		got = append(got, objs)
	}
	for _, sh := range set.shapes {
		if sh.built {
			t.Error("the shape was rendered with placeholders for releases with the same atoms")
		}
	}
	got[0][0]["metadata"].(map[string]any)["labels"] = map[string]any{"x": "y"}
	for _, objs := range got[1:] {
		if objs[0]["metadata"].(map[string]any)["labels"] != nil {
			t.Errorf("metadata shared: %v", objs[0]["metadata"])
		}
	}
	// A release with other atoms still builds the shape, checked against
	// the first release's render as it was before its caller changed it.
	objs, err := set.Render("t", "other", "ns", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := set.render("t", "other", "ns", nil); !sameObjects(objs, want) {
		t.Errorf("got %v, want %v", objs, want)
	}
	if set.fullShapes != 0 {
		t.Errorf("%d shapes render in full", set.fullShapes)
	}
}

// TestShapeSharesBelow: below a field that holds a name, what holds none
// is shared too, and what does is each release's own.
func TestShapeSharesBelow(t *testing.T) {
	set := newSet("test")
	set.charts["t"] = testChart("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\nspec:\n  name: {{ .Release.Name }}\n  list: [a, {{ .Release.Name }}]\n  fixed:\n    a: [b, c]\n")
	var specs []map[string]any
	for _, r := range []string{"zero", "one", "two"} {
		objs, err := set.Render("t", r, "ns", nil)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := set.render("t", r, "ns", nil)
		if !sameObjects(objs, want) {
			t.Errorf("got %v, want %v", objs, want)
		}
		specs = append(specs, objs[0]["spec"].(map[string]any))
	}
	a, b := specs[1], specs[2]
	if fmt.Sprintf("%p", a["fixed"]) != fmt.Sprintf("%p", b["fixed"]) {
		t.Error("a map without names below one with a name is copied for each release, not shared")
	}
	if fmt.Sprintf("%p", a) == fmt.Sprintf("%p", b) || fmt.Sprintf("%p", a["list"]) == fmt.Sprintf("%p", b["list"]) {
		t.Error("a map or list holding a name is shared between releases")
	}
	if a["name"] != "one" || b["list"].([]any)[1] != "two" {
		t.Errorf("names not replaced: %v, %v", a, b)
	}
}
