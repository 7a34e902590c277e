package compiler_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "meshc.dev/meshc/"

// allowedImports is the import direction of meshc's stages, written down:
// each package may import only the meshc packages listed here. Only load
// touches CUE; emitters never see it; the model imports nothing heavy.
var allowedImports = map[string][]string{
	"compiler/diag":      {},
	"compiler/release":   {},
	"compiler/model":     {"compiler/diag", "compiler/release"},
	"compiler/crdschema": {"schema"},
	"compiler/load":      {"compiler/diag", "compiler/model", "compiler/secret", "schema"},
	"compiler/secret":    {},
	"compiler/resolve":   {"compiler/release", "compiler/model"},
	"compiler/check":     {"compiler/crdschema", "compiler/diag", "compiler/model", "compiler/release", "compiler/resolve", "compiler/secret"},
	"compiler/plan":      {"compiler/release", "compiler/model", "compiler/resolve"},
	"compiler/charts":    {},
	"compiler/emit":      {"compiler/charts", "compiler/model", "compiler/plan"},
	"compiler/render":    {"compiler/emit"},
	"compiler/verify":    {"compiler/crdschema", "compiler/render"},
	"compiler/output":    {"compiler/render"},
	"compiler/delivery":  {"compiler/diag", "compiler/emit", "compiler/model", "compiler/render"},
	"compiler/diff":      {"compiler/render"},
	"compiler/explain":   {"compiler/diag", "compiler/emit", "compiler/model", "compiler/plan", "compiler/render", "compiler/resolve"},
	"compiler/graph":     {"compiler/model", "compiler/plan"},
	"compiler": {"compiler/charts", "compiler/check", "compiler/delivery", "compiler/diag", "compiler/diff", "compiler/emit",
		"compiler/explain", "compiler/graph", "compiler/load", "compiler/model", "compiler/output", "compiler/plan",
		"compiler/release", "compiler/render", "compiler/resolve", "compiler/secret", "compiler/verify"},
	// The command line calls the façade alone: no stage, only the shared
	// vocabulary (diagnostics, the topology's types, Istio's releases).
	"internal/cli":       {"compiler", "compiler/diag", "compiler/model", "compiler/release"},
	"internal/fleet":     {},
	"internal/fleet/gen": {"internal/fleet"},
	// A tool of scripts/fleet-bench.sh: it reads YAML files, no stage.
	"internal/fleet/helmvalues": {},
	"cmd/meshc":                 {"internal/cli"},
}

// heavyImports may only be imported by the packages listed.
var heavyImports = map[string][]string{
	"cuelang.org/":                     {"compiler/load"},
	"sigs.k8s.io/kustomize/api/krusty": {"compiler/verify"},
	"k8s.io/apiextensions-apiserver/":  {"compiler/crdschema"},
}

// TestEveryPackageHasADirection fails for a package the table above does
// not list, so that a new package cannot escape TestImportDirection.
func TestEveryPackageHasADirection(t *testing.T) {
	for _, root := range []string{"compiler", "internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join("..", root), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if _, err := build.Default.ImportDir(p, 0); err != nil {
				return nil // no Go files, or only tests
			}
			rel, _ := filepath.Rel("..", p)
			if _, ok := allowedImports[filepath.ToSlash(rel)]; !ok {
				t.Errorf("package %s has no entry in allowedImports: say which meshc packages it may import", filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestImportDirection(t *testing.T) {
	for pkg, allowed := range allowedImports {
		// Tests run in compiler/; every package listed lives below it.
		p, err := build.Default.ImportDir(filepath.Join("..", pkg), 0)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		for _, imp := range p.Imports {
			if rel, ok := strings.CutPrefix(imp, module); ok && !slices.Contains(allowed, rel) {
				t.Errorf("%s imports %s: not allowed by the pipeline's direction", pkg, rel)
			}
			for prefix, owners := range heavyImports {
				if strings.HasPrefix(imp, prefix) && !slices.Contains(owners, pkg) {
					t.Errorf("%s imports %s: only %v may", pkg, imp, owners)
				}
			}
		}
	}
}
