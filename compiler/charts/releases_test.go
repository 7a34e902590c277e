package charts

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
)

// TestReleasedMatchesShared: the embedded released charts are copies of the
// team's shared folder, unchanged. A fresh clone has no shared folder; the
// test then has nothing to compare and says so.
func TestReleasedMatchesShared(t *testing.T) {
	// The shared folder sits beside the repository, as for e2e's test.
	shared := filepath.Join("..", "..", "..", "shared", "istio-charts")
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("no %s beside the repository to compare with", shared)
	}
	want, got := tree(t, os.DirFS(shared), "."), tree(t, released, releasedRoot)
	for name, data := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("released/%s is missing", name)
		} else if !bytes.Equal(g, data) {
			t.Errorf("released/%s differs from the shared copy", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("released/%s is not in the shared folder", name)
		}
	}
}

func tree(t *testing.T, fsys fs.FS, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		out[strings.TrimPrefix(strings.TrimPrefix(p, root), "/")] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEmbeddedReleasesRender renders istiod from each embedded release and
// checks that its images are that release's: each release's own charts.
func TestEmbeddedReleasesRender(t *testing.T) {
	t.Setenv("MESHC_CHARTS_CACHE", t.TempDir())
	lib := NewLibrary("")
	releases := EmbeddedReleases()
	if len(releases) == 0 {
		t.Fatal("no embedded releases")
	}
	for _, v := range releases {
		set, err := lib.Release(v)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		vals := values()
		delete(vals["global"].(map[string]any), "tag")
		objs, err := set.Render(Istiod, "istiod", "istio-system", vals)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		found := false
		for _, o := range objs {
			if o["kind"] == "Deployment" {
				found = strings.Contains(toString(o), "docker.io/istio/pilot:"+v)
			}
		}
		if !found {
			t.Errorf("%s: istiod's Deployment does not run pilot:%s", v, v)
		}
	}
}

// TestMissingRelease: a release found nowhere is an error naming the
// command that fetches it, never another release's charts.
func TestMissingRelease(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("MESHC_CHARTS_CACHE", cache)
	_, err := NewLibrary("").Release("1.31.4")
	var missing *MissingError
	if !errors.As(err, &missing) {
		t.Fatalf("err = %v, want a MissingError", err)
	}
	if msg := err.Error() + " " + missing.Fix("1.31.4"); !strings.Contains(msg, "meshc charts pull 1.31.4") || !strings.Contains(msg, cache) {
		t.Errorf("message = %q", msg)
	}
	dir := t.TempDir()
	_, err = NewLibrary(dir).Release("1.24.6") // embedded, but --charts says where to look
	if !errors.As(err, &missing) || !strings.Contains(missing.Fix("1.24.6"), "--dest "+dir) {
		t.Errorf("with --charts: err = %v", err)
	}
}

// TestPullFromRepository pulls releases with Helm's client from a chart
// repository served on 127.0.0.1, made of the embedded released charts
// packaged as Istio publishes them, then loads them from the cache and
// from a --charts folder.
func TestPullFromRepository(t *testing.T) {
	served := t.TempDir()
	versions := []string{"1.29.6", "1.30.3"}
	published := map[string]string{"base": "base", "istiod": "istiod", "istio-cni": "cni", "gateway": "gateway", "ztunnel": "ztunnel"}
	for _, v := range versions {
		for dir, name := range published {
			files, err := bufferedFiles(released, path.Join(releasedRoot, v, dir))
			if err != nil {
				t.Fatal(err)
			}
			c, err := loader.LoadFiles(files)
			if err != nil {
				t.Fatal(err)
			}
			if c.Metadata.Name != name || c.Metadata.Version != v {
				t.Fatalf("%s/%s is chart %s %s", v, dir, c.Metadata.Name, c.Metadata.Version)
			}
			if _, err := chartutil.Save(c, served); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(served)))
	defer srv.Close()
	index, err := repo.IndexDirectory(served, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := index.WriteFile(filepath.Join(served, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}

	cache := t.TempDir()
	t.Setenv("MESHC_CHARTS_CACHE", cache)
	for _, v := range versions {
		pulled, err := Pull(srv.URL, v, cache)
		if err != nil || !pulled {
			t.Fatalf("Pull(%s) = %v, %v", v, pulled, err)
		}
		if again, err := Pull(srv.URL, v, cache); err != nil || again {
			t.Errorf("second Pull(%s) = %v, %v; want it left alone", v, again, err)
		}
		if _, err := os.Stat(filepath.Join(cache, v, "cni", "Chart.yaml")); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	if _, err := Pull(srv.URL, "1.31.4", cache); err == nil || !strings.Contains(err.Error(), "1.31.4") {
		t.Errorf("Pull of a release the repository lacks: %v", err)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != len(versions) {
		t.Errorf("cache holds %d entries, want only the %d releases (no half-pulled folder)", len(entries), len(versions))
	}
	// The pulled charts are the released ones. (The embedded charts come
	// before the cache, so read the cache as a --charts folder.)
	for _, lib := range []*Library{NewLibrary(cache)} {
		for _, v := range versions {
			set, err := lib.Release(v)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(set.Source, cache) {
				t.Errorf("%s came from %s, not the cache", v, set.Source)
			}
			for _, name := range []string{Base, Istiod, CNI, Gateway} {
				if got := set.charts[name].Metadata.Version; got != v {
					t.Errorf("%s: chart %s is version %s", v, name, got)
				}
			}
			if _, err := set.Render(Istiod, "istiod", "istio-system", values()); err != nil {
				t.Errorf("%s: %v", v, err)
			}
		}
	}
}

func bufferedFiles(fsys fs.FS, dir string) ([]*loader.BufferedFile, error) {
	var out []*loader.BufferedFile
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		out = append(out, &loader.BufferedFile{Name: strings.TrimPrefix(p, dir+"/"), Data: data})
		return err
	})
	return out, err
}
