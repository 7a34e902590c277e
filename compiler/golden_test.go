package compiler_test

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/render"
	"meshc.dev/meshc/compiler/verify"
)

// update rewrites the golden trees: go test ./compiler -update (make golden).
var update = flag.Bool("update", false, "rewrite golden/ from the example topologies")

const (
	topologiesDir = "../topologies"
	goldenDir     = "../golden"
)

// examples lists the example topologies with the name of their golden folder.
func examples(t testing.TB) map[string]string {
	entries, err := os.ReadDir(topologiesDir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || !slices.Contains([]string{".yaml", ".yml", ".json", ".cue"}, ext) {
			continue
		}
		out[strings.TrimSuffix(e.Name(), ext)] = filepath.Join(topologiesDir, e.Name())
	}
	if len(out) < 3 {
		t.Fatalf("expected at least 3 example topologies, found %d", len(out))
	}
	return out
}

// TestGolden compiles every example for every target and compares the tree
// byte for byte with golden/<example>/<target>/.
func TestGolden(t *testing.T) {
	for name, path := range examples(t) {
		for _, target := range emit.Targets {
			t.Run(name+"/"+string(target), func(t *testing.T) {
				res, err := compiler.Compile(path, compiler.Options{Target: target})
				if err != nil {
					t.Fatal(err)
				}
				dir := filepath.Join(goldenDir, name, string(target))
				if *update {
					writeGolden(t, dir, res.Tree)
				}
				compareGolden(t, dir, res.Tree)
			})
		}
	}
}

func writeGolden(t *testing.T, dir string, tree render.Tree) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range tree.Paths() {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, tree[p], 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func compareGolden(t *testing.T, dir string, tree render.Tree) {
	t.Helper()
	onDisk := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		onDisk[filepath.ToSlash(rel)] = true
		return nil
	})
	if err != nil {
		t.Fatalf("reading golden tree (run go test ./compiler -update to create it): %v", err)
	}
	for _, p := range tree.Paths() {
		want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			t.Errorf("%s: not in golden tree (run go test ./compiler -update)", p)
			continue
		}
		if !bytes.Equal(want, tree[p]) {
			t.Errorf("%s differs from golden:\n--- golden\n%s\n--- got\n%s", p, want, tree[p])
		}
	}
	for p := range onDisk {
		if _, ok := tree[p]; !ok {
			t.Errorf("%s: in golden tree but no longer generated", p)
		}
	}
}

// TestExamplesVerify builds every example's bundles with krusty and checks
// every object: built-in kinds strictly decoded into k8s.io/api types, Istio
// and Sail kinds against their CRD schemas (CEL rules included),
// IstioOperator files against the Helm values schema; and every
// kustomization.yaml decodes strictly into kustomize's types.Kustomization.
func TestExamplesVerify(t *testing.T) {
	for name, path := range examples(t) {
		for _, target := range emit.Targets {
			t.Run(name+"/"+string(target), func(t *testing.T) {
				res, err := compiler.Compile(path, compiler.Options{Target: target, Verify: true})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range res.Tree.Paths() {
					if filepath.Base(p) != "kustomization.yaml" {
						continue
					}
					var k types.Kustomization
					if err := yaml.UnmarshalStrict(res.Tree[p], &k); err != nil {
						t.Errorf("%s: %v", p, err)
					}
					if len(k.Resources) == 0 && len(k.HelmCharts) == 0 || k.Kind != types.KustomizationKind {
						t.Errorf("%s: empty or mis-typed kustomization", p)
					}
				}
				for _, c := range res.Plan.Clusters {
					built, err := verify.Build(res.Tree, render.ClusterDir(c.Name))
					if err != nil {
						t.Fatal(err)
					}
					if built.Size() == 0 {
						t.Errorf("cluster %s: bundle builds to nothing", c.Name)
					}
				}
			})
		}
	}
}

// TestDeterministic compiles each example twice and expects the same bytes.
func TestDeterministic(t *testing.T) {
	for name, path := range examples(t) {
		a, err := compiler.Compile(path, compiler.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := compiler.Compile(path, compiler.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Tree.Paths(), b.Tree.Paths()) {
			t.Fatalf("%s: file lists differ between runs", name)
		}
		for _, p := range a.Tree.Paths() {
			if !bytes.Equal(a.Tree[p], b.Tree[p]) {
				t.Errorf("%s: %s differs between runs", name, p)
			}
		}
	}
}
