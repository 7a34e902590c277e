package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"meshc.dev/meshc/compiler/emit"
)

// The suite runs when MESHC_E2E=1 (`make e2e` sets it, after building the
// binaries with build-binaries.sh); `go test ./...` alone skips it, as it
// needs programs that take minutes to build the first time.
var (
	suiteOnce sync.Once
	suite     *Suite
	suiteErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if suite != nil {
		suite.Stop()
		_ = os.RemoveAll(suite.Dir)
	}
	os.Exit(code)
}

func binaries() (Binaries, error) {
	cache := os.Getenv("MESHC_E2E_CACHE")
	if cache == "" {
		home, err := os.UserCacheDir()
		if err != nil {
			return Binaries{}, err
		}
		cache = filepath.Join(home, "meshc-e2e")
	}
	find := func(prefix string) (string, error) {
		matches, _ := filepath.Glob(filepath.Join(cache, "bin", prefix+"-*"))
		var bins []string
		for _, m := range matches {
			if !strings.HasSuffix(m, ".tmp") {
				bins = append(bins, m)
			}
		}
		if len(bins) == 0 {
			return "", fmt.Errorf("no %s in %s/bin: run e2e/build-binaries.sh (or make e2e)", prefix, cache)
		}
		sort.Strings(bins)
		return bins[len(bins)-1], nil
	}
	var b Binaries
	var err error
	if b.Etcd, err = find("etcd"); err != nil {
		return b, err
	}
	if b.APIServer, err = find("kube-apiserver"); err != nil {
		return b, err
	}
	if b.Helm, err = find("helm"); err != nil {
		return b, err
	}
	if b.Pilot, err = find("pilot-discovery"); err != nil {
		return b, err
	}
	return b, nil
}

// needSuite starts the suite once, or skips the test.
func needSuite(t *testing.T) *Suite {
	t.Helper()
	if os.Getenv("MESHC_E2E") == "" {
		t.Skip("real API server suite: run `make e2e` (sets MESHC_E2E=1 and builds etcd, kube-apiserver, helm and pilot-discovery once)")
	}
	suiteOnce.Do(func() {
		bin, err := binaries()
		if err != nil {
			suiteErr = err
			return
		}
		dir, err := os.MkdirTemp("", "meshc-e2e-")
		if err != nil {
			suiteErr = err
			return
		}
		start := time.Now()
		suite, suiteErr = StartSuite(context.Background(), dir, bin, "testdata", filepath.Join("..", "schema", "crds"), maxClusters())
		if suiteErr == nil {
			fmt.Printf("e2e: etcd and %d kube-apiservers (%s) ready in %s\n", len(suite.Servers), KubeVersion, time.Since(start).Round(time.Millisecond))
		}
	})
	if suiteErr != nil {
		t.Fatal(suiteErr)
	}
	return suite
}

// examples are the repository's example topologies.
func examples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "topologies", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example topologies: %v", err)
	}
	sort.Strings(files)
	return files
}

// maxClusters is the largest number of clusters of an example: one API
// server each.
func maxClusters() int { return 4 }

// TestBundlesOnAPIServer applies every example × target × delivery to real
// API servers in the order Argo CD or Flux would, with strict field
// validation, and fails on every rejection, on every warning of meshc's
// making, and on every object declared before its namespace or CRD.
func TestBundlesOnAPIServer(t *testing.T) {
	s := needSuite(t)
	ctx := context.Background()
	helm := &Kustomizer{Helm: s.Bin.Helm, Charts: filepath.Join("..", "compiler", "charts", "released")}
	var total struct {
		bundles, clusters, objects int
		upstream                   []string
	}
	start := time.Now()
	// Grouped by whether Istio's installer made the CRDs (sail, istioctl)
	// or the bundle carries them (helm, rendered).
	for _, target := range []emit.Target{emit.Sail, emit.Istioctl, emit.Helm, emit.Rendered} {
		if err := s.WithIstioCRDs(ctx, target == emit.Sail || target == emit.Istioctl); err != nil {
			t.Fatal(err)
		}
		for _, example := range examples(t) {
			name := strings.TrimSuffix(filepath.Base(example), filepath.Ext(example))
			b, err := Compile(example, target, t.TempDir())
			if err != nil {
				t.Errorf("%s/%s: compile: %v", name, target, err)
				continue
			}
			if len(b.Clusters) > len(s.Servers) {
				t.Fatalf("%s has %d clusters: raise maxClusters", name, len(b.Clusters))
			}
			for _, d := range Deliveries {
				t.Run(fmt.Sprintf("%s/%s/%s", name, target, d.Name), func(t *testing.T) {
					res, err := s.Run(ctx, helm, b, d)
					if err != nil {
						t.Fatal(err)
					}
					own, upstream := classify(res.Findings)
					for _, f := range own {
						t.Error(f)
					}
					for _, f := range upstream {
						t.Logf("upstream %s", f)
						total.upstream = append(total.upstream, fmt.Sprintf("%s/%s/%s: %s", name, target, d.Name, f))
					}
					if err := s.CheckClean(ctx); err != nil {
						t.Fatal(err)
					}
					total.bundles++
					total.clusters += len(b.Clusters)
					total.objects += res.Objects
				})
			}
		}
	}
	fmt.Printf("e2e: %d deliveries of %d cluster bundles, %d objects applied, %d upstream warnings, in %s\n",
		total.bundles, total.clusters, total.objects, len(total.upstream), time.Since(start).Round(time.Second))
}

// classify splits findings into meshc's own and those of an upstream
// chart. A rejection or an order defect is always meshc's: it stops a
// sync. A warning is upstream only when it is about an object one of
// Istio's charts renders and is listed in upstreamWarnings with the reason
// it is not of meshc's making; any other warning fails the suite, so a new
// one is looked at before it is allowed.
func classify(findings []Finding) (own, upstream []Finding) {
	for _, f := range findings {
		if f.Warning && f.Chart != "" && isUpstreamWarning(f) {
			upstream = append(upstream, f)
			continue
		}
		own = append(own, f)
	}
	return own, upstream
}

// upstreamWarnings are the API server's warnings about objects exactly as
// Istio's charts render them, whatever values meshc passes.
var upstreamWarnings = []struct{ kind, message, why string }{
	{"CustomResourceDefinition", `unrecognized format "binary"`,
		"Istio's own CRDs (base chart, crd-all.gen.yaml) declare format: binary for bytes fields; meshc does not touch CRDs"},
	{"DaemonSet", "container.apparmor.security.beta.kubernetes.io",
		"the istio-cni chart's DaemonSet template sets the AppArmor annotation on the install-cni container; no value turns it into the field"},
	{"Endpoints", "v1 Endpoints is deprecated",
		"the istiod chart's remote profile writes an Endpoints object for remotePilotAddress; the chart has no EndpointSlice form"},
}

func isUpstreamWarning(f Finding) bool {
	for _, w := range upstreamWarnings {
		if strings.HasPrefix(f.Object, w.kind+" ") && strings.Contains(f.Message, w.message) {
			return true
		}
	}
	return false
}

// TestHelmIsMajorVersion3 pins the reason the suite builds its own Helm:
// kustomize's helmCharts refuses any other major version.
func TestHelmIsMajorVersion3(t *testing.T) {
	s := needSuite(t)
	out, err := exec.Command(s.Bin.Helm, "version", "-c", "--short").CombinedOutput()
	if err != nil {
		t.Fatalf("helm version: %v\n%s", err, out)
	}
	if !strings.HasPrefix(strings.TrimSpace(string(out)), "v3.") {
		t.Fatalf("helm version %q: kustomize --enable-helm needs Helm 3", out)
	}
}
