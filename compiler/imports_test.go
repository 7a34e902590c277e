package compiler_test

import (
	"go/build"
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
	"compiler/check":     {"compiler/crdschema", "compiler/diag", "compiler/model", "compiler/release", "compiler/secret"},
	"compiler/plan":      {"compiler/release", "compiler/model"},
	"compiler/charts":    {},
	"compiler/emit":      {"compiler/charts", "compiler/model", "compiler/plan"},
	"compiler/render":    {"compiler/emit"},
	"compiler/verify":    {"compiler/crdschema", "compiler/render"},
	"compiler/output":    {"compiler/render"},
	"compiler/delivery":  {"compiler/emit", "compiler/model"},
	"compiler/diff":      {"compiler/render"},
	"compiler/explain":   {"compiler/diag", "compiler/emit", "compiler/model", "compiler/plan", "compiler/render"},
	"compiler/graph":     {"compiler/model", "compiler/plan"},
	"compiler": {"compiler/charts", "compiler/check", "compiler/delivery", "compiler/diag", "compiler/emit", "compiler/load",
		"compiler/model", "compiler/plan", "compiler/release", "compiler/render", "compiler/secret", "compiler/verify"},
}

// heavyImports may only be imported by the packages listed.
var heavyImports = map[string][]string{
	"cuelang.org/":                     {"compiler/load"},
	"sigs.k8s.io/kustomize/api/krusty": {"compiler/verify"},
	"k8s.io/apiextensions-apiserver/":  {"compiler/crdschema"},
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
