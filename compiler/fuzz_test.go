package compiler_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/load"
)

// FuzzCompile runs the whole compile — load, check, plan, emit, delivery,
// render and the output's secret scan — on arbitrary input, for every
// installer target but rendered (rendering Istio's charts costs a second
// an input; the rendered target's own tests cover it). Whatever the input:
// no panic, no hang beyond the evaluation time limit; every failure is a
// diagnostic with a code, a message and a position in the input (or, for
// a key found in the output, in the output file); every success is a tree
// of valid relative paths, the same bytes twice over.
//
// Seeds: every example topology and every topology in the CLI's
// testscripts. `make fuzz` runs it; what it finds is kept in
// testdata/fuzz/FuzzCompile and replayed by `go test`.
func FuzzCompile(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed.name, seed.data)
	}
	defer func(old time.Duration) { load.Timeout = old }(load.Timeout)
	load.Timeout = 5 * time.Second
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		ext := filepath.Ext(name)
		if ext == "" || !slices.Contains(load.Extensions, ext) {
			ext = ".yaml"
		}
		name = "t" + ext
		topo, err := compiler.ValidateBytes(name, data)
		if err != nil {
			userError(t, name, err)
			return
		}
		for _, target := range []emit.Target{emit.Sail, emit.Istioctl, emit.Helm} {
			res, err := compiler.CompileTopology(topo, compiler.Options{Target: target})
			if err != nil {
				userError(t, name, err)
				continue
			}
			for p := range res.Tree {
				if !fs.ValidPath(p) || strings.HasPrefix(p, ".meshc") {
					t.Fatalf("%s: invalid output path %q", target, p)
				}
			}
			if target != emit.Sail {
				continue
			}
			again, err := compiler.CompileTopology(topo, compiler.Options{Target: target})
			if err != nil {
				t.Fatalf("second compile failed: %v", err)
			}
			for p, b := range res.Tree {
				if !bytes.Equal(again.Tree[p], b) {
					t.Fatalf("%s differs between two compiles", p)
				}
			}
		}
	})
}

// userError fails the test unless err is a list of complete diagnostics.
func userError(t *testing.T, name string, err error) {
	t.Helper()
	var diags diag.List
	if !errors.As(err, &diags) {
		t.Fatalf("not a diagnostic: %v", err)
	}
	if len(diags) == 0 {
		t.Fatal("an empty diagnostic list")
	}
	for _, d := range diags {
		if d.Code == "" || d.Message == "" {
			t.Fatalf("incomplete diagnostic: %+v", d)
		}
		outputFile := d.Code == diag.Secret && d.Pos.File != name
		if d.Pos.File != name && !outputFile || d.Pos.Line == 0 {
			t.Fatalf("diagnostic without a position in %s: %+v", name, d)
		}
	}
}

type seed struct {
	name string
	data []byte
}

// fuzzSeeds reads the example topologies and the topologies inside the
// CLI's testscripts.
func fuzzSeeds(f *testing.F) []seed {
	var out []seed
	examples, err := filepath.Glob("../topologies/*")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range examples {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, seed{filepath.Base(p), data})
	}
	scripts, err := filepath.Glob("../internal/cli/testdata/script/*.txtar")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range scripts {
		if strings.HasPrefix(filepath.Base(p), "diag_E008") {
			// Built to evaluate for ever: its goroutine would outlive the
			// time limit and spin until the test binary exits.
			continue
		}
		a, err := txtar.ParseFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range a.Files {
			if slices.Contains(load.Extensions, filepath.Ext(file.Name)) {
				out = append(out, seed{filepath.Base(file.Name), file.Data})
			}
		}
	}
	if len(out) < 20 {
		f.Fatalf("only %d seeds found", len(out))
	}
	return out
}
