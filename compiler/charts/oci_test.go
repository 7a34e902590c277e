package charts

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/registry"
)

// ociRegistry is the part of the OCI distribution API a Helm pull uses,
// serving charts as Helm pushes them (a manifest whose config is the
// chart's metadata and whose one layer is the packaged chart), on
// 127.0.0.1.
type ociRegistry struct {
	blobs     map[string][]byte            // digest → content
	manifests map[string]map[string][]byte // repository → tag → manifest
}

func (r *ociRegistry) push(t *testing.T, repo, tag string, config, chartTgz []byte) {
	t.Helper()
	desc := func(mediaType string, data []byte) map[string]any {
		d := fmt.Sprintf("sha256:%x", sha256.Sum256(data))
		r.blobs[d] = data
		return map[string]any{"mediaType": mediaType, "digest": d, "size": len(data)}
	}
	m, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        desc(registry.ConfigMediaType, config),
		"layers":        []any{desc(registry.ChartLayerMediaType, chartTgz)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.manifests[repo] == nil {
		r.manifests[repo] = map[string][]byte{}
	}
	r.manifests[repo][tag] = m
}

func (r *ociRegistry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	p := strings.TrimPrefix(req.URL.Path, "/v2/")
	serve := func(mediaType string, data []byte) {
		w.Header().Set("Content-Type", mediaType)
		w.Header().Set("Docker-Content-Digest", fmt.Sprintf("sha256:%x", sha256.Sum256(data)))
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		if req.Method != http.MethodHead {
			_, _ = w.Write(data)
		}
	}
	switch {
	case p == "" || p == "/":
		w.WriteHeader(http.StatusOK)
	case strings.Contains(p, "/manifests/"):
		repo, ref, _ := strings.Cut(p, "/manifests/")
		if m, ok := r.manifests[repo][ref]; ok {
			serve("application/vnd.oci.image.manifest.v1+json", m)
			return
		}
		for _, m := range r.manifests[repo] {
			if fmt.Sprintf("sha256:%x", sha256.Sum256(m)) == ref {
				serve("application/vnd.oci.image.manifest.v1+json", m)
				return
			}
		}
		http.NotFound(w, req)
	case strings.Contains(p, "/blobs/"):
		_, d, _ := strings.Cut(p, "/blobs/")
		if b, ok := r.blobs[d]; ok {
			serve("application/octet-stream", b)
			return
		}
		http.NotFound(w, req)
	case strings.HasSuffix(p, "/tags/list"):
		repo := strings.TrimSuffix(p, "/tags/list")
		var tags []string
		for tag := range r.manifests[repo] {
			tags = append(tags, tag)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"name": repo, "tags": tags})
	default:
		http.NotFound(w, req)
	}
}

// TestPullFromOCIRegistry pulls a release from an OCI registry on
// 127.0.0.1 holding the embedded released charts as Istio publishes them at
// oci://ghcr.io/istio/release/charts.
func TestPullFromOCIRegistry(t *testing.T) {
	reg := &ociRegistry{blobs: map[string][]byte{}, manifests: map[string]map[string][]byte{}}
	const version = "1.30.3"
	packaged := t.TempDir()
	for dir, name := range map[string]string{"base": "base", "istiod": "istiod", "istio-cni": "cni", "gateway": "gateway", "ztunnel": "ztunnel"} {
		files, err := bufferedFiles(released, path.Join(releasedRoot, version, dir))
		if err != nil {
			t.Fatal(err)
		}
		c, err := loader.LoadFiles(files)
		if err != nil {
			t.Fatal(err)
		}
		tgz, err := chartutil.Save(c, packaged)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(tgz)
		if err != nil {
			t.Fatal(err)
		}
		config, err := json.Marshal(c.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		reg.push(t, "istio/release/charts/"+name, version, config, data)
	}
	srv := httptest.NewServer(reg)
	defer srv.Close()
	registryOptions = []registry.ClientOption{registry.ClientOptPlainHTTP()}
	defer func() { registryOptions = nil }()

	dest := t.TempDir()
	repository := "oci://" + strings.TrimPrefix(srv.URL, "http://") + "/istio/release/charts"
	pulled, err := Pull(repository, version, dest)
	if err != nil || !pulled {
		t.Fatalf("Pull = %v, %v", pulled, err)
	}
	set, err := NewLibrary(dest).Release(version)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{Base, Istiod, CNI, Gateway} {
		if got := set.charts[name].Metadata.Version; got != version {
			t.Errorf("chart %s is version %s", name, got)
		}
	}
	if _, err := set.Render(Istiod, "istiod", "istio-system", values()); err != nil {
		t.Error(err)
	}
	if _, err := Pull(repository, "1.31.4", dest); err == nil {
		t.Error("pulled a release the registry does not hold")
	}
	if _, err := os.Stat(filepath.Join(dest, "1.31.4")); err == nil {
		t.Error("a failed pull left a folder")
	}
}
