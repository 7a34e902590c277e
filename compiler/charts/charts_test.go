package charts

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"istio.io/istio/manifests"
	"testing"
)

func values() map[string]any {
	return map[string]any{
		"global": map[string]any{
			"istioNamespace": "istio-system", "meshID": "m", "network": "n1",
			"multiCluster": map[string]any{"clusterName": "c1"},
			"hub":          "docker.io/istio", "tag": "1.28.2",
		},
		"revision":   "canary",
		"meshConfig": map[string]any{"discoverySelectors": []any{map[string]any{"matchLabels": map[string]any{"istio-discovery": "m"}}}},
	}
}

// TestRenderEmbedded renders each embedded chart and checks that namespaced
// objects carry their namespace and that the output is stable.
func TestRenderEmbedded(t *testing.T) {
	set, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{Base, Istiod, CNI} {
		a, err := set.Render(name, "r", "istio-system", values())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := set.Render(name, "r", "istio-system", values())
		if err != nil {
			t.Fatal(err)
		}
		if len(a) == 0 || len(a) != len(b) {
			t.Fatalf("%s: %d then %d objects", name, len(a), len(b))
		}
		for i, o := range a {
			md := o["metadata"].(map[string]any)
			if namespaced(o) && md["namespace"] == nil {
				t.Errorf("%s: %v %v has no namespace", name, o["kind"], md["name"])
			}
			if md["name"] != b[i]["metadata"].(map[string]any)["name"] {
				t.Errorf("%s: order differs at %d", name, i)
			}
		}
	}
	objs, _ := set.Render(Istiod, "istiod-canary", "istio-system", values())
	found := false
	for _, o := range objs {
		if o["kind"] == "Deployment" {
			found = strings.Contains(toString(o), "docker.io/istio") && o["metadata"].(map[string]any)["name"] == "istiod-canary"
		}
	}
	if !found {
		t.Error("istiod chart did not render Deployment istiod-canary with the hub asked for")
	}
}

func toString(v any) string {
	switch v := v.(type) {
	case map[string]any:
		var b strings.Builder
		for k, x := range v {
			b.WriteString(k + "=" + toString(x) + ";")
		}
		return b.String()
	case []any:
		var b strings.Builder
		for _, x := range v {
			b.WriteString(toString(x) + ",")
		}
		return b.String()
	case string:
		return v
	}
	return ""
}

func BenchmarkRenderIstiod(b *testing.B) {
	set, err := Embedded()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := set.Render(Istiod, "istiod", "istio-system", values()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderBase(b *testing.B) {
	set, err := Embedded()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := set.Render(Base, "istio-base", "istio-system", values()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRenderConcurrently renders from one Set in parallel, as the rendered
// target does across clusters (run with -race).
func TestRenderConcurrently(t *testing.T) {
	set, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			v := values()
			v["revision"] = fmt.Sprintf("r%d", i%3)
			_, err := set.Render(Istiod, "istiod", "istio-system", v)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestLoadFromFolder loads charts laid out as an Istio release's
// manifests/ folder, as --charts DIR does, and as its manifests/charts/.
func TestLoadFromFolder(t *testing.T) {
	dir := t.TempDir()
	err := fs.WalkDir(manifests.FS, "charts", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, "manifests", filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := fs.ReadFile(manifests.FS, p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{"manifests", "manifests/charts"} {
		set, err := Load(os.DirFS(filepath.Join(dir, root)), root)
		if err != nil {
			t.Fatalf("%s: %v", root, err)
		}
		objs, err := set.Render(Istiod, "istiod", "istio-system", values())
		if err != nil || len(objs) == 0 {
			t.Fatalf("%s: %d objects, %v", root, len(objs), err)
		}
	}
	if _, err := Load(os.DirFS(dir), "empty"); err == nil {
		t.Error("a folder without charts loaded")
	}
}

// TestMissingChartSaysHow: a set without the ztunnel chart (fetched before
// meshc rendered it) names itself, the chart and how to get it.
func TestMissingChartSaysHow(t *testing.T) {
	_, err := newSet("/charts/1.30.3").Render(Ztunnel, "ztunnel", "ztunnel", nil)
	if err == nil || !strings.Contains(err.Error(), "/charts/1.30.3 has no chart ztunnel") || !strings.Contains(err.Error(), "meshc charts pull") {
		t.Errorf("err = %v", err)
	}
}
