// Package compiler is meshc's façade: it runs the pipeline from a topology
// file to the files of every cluster's bundle.
//
//	load (CUE schema) → resolve (facts, with origins) → check (semantic
//	  rules) → plan → emit (target) → delivery (Argo CD, Flux) → render
//	  [→ verify]
//
// The topology is resolved once: check judges the facts that plan then
// turns into per-cluster state (see ARCHITECTURE.md).
//
// Problems with the user's input come back as a diag.List; any other error
// is meshc's own failure. Nothing here writes to disk: package output does,
// once compilation has fully succeeded.
//
// Import direction: compiler imports every stage; no stage imports compiler.
// cli imports compiler. TestImportDirection keeps it so.
package compiler

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"meshc.dev/meshc/compiler/charts"
	"meshc.dev/meshc/compiler/check"
	"meshc.dev/meshc/compiler/delivery"
	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/load"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
	"meshc.dev/meshc/compiler/render"
	"meshc.dev/meshc/compiler/resolve"
	"meshc.dev/meshc/compiler/secret"
	"meshc.dev/meshc/compiler/verify"
)

// Options select how a topology is compiled.
type Options struct {
	// Target is the installer target; empty means the topology's
	// defaults.installer, else sail.
	Target emit.Target
	// Verify builds every bundle with krusty and checks every object it
	// yields against its typed API or CRD schema before returning. meshc's
	// tests do this for every example; at fleet scale it costs several
	// times the compilation itself, so build runs it on request (--verify).
	Verify bool
	// ChartsDir is a folder of Istio's released charts by release,
	// <version>/<chart>, for the rendered target; empty means the charts
	// embedded in meshc and the chart cache `meshc charts pull` fills.
	ChartsDir string
	// Delivery lists the GitOps systems (argocd, flux) to emit objects
	// for; empty means those the topology's delivery configures.
	Delivery []string
	// Strict makes warnings errors (--strict).
	Strict bool
}

// Result is a compiled topology.
type Result struct {
	Topology *model.Topology
	Target   emit.Target
	Plan     *plan.Plan
	Output   *emit.Output
	Tree     render.Tree
	// Warnings are the risks the checks found that are not certain
	// failures: printed, and no obstacle to writing.
	Warnings diag.List
}

// Validate loads and checks the topology at path; warnings are left out
// (see Check).
func Validate(path string) (*model.Topology, error) {
	t, _, err := Check(path, false)
	return t, err
}

// Check loads and checks the topology at path, returning its warnings
// beside it. Errors come back as a diag.List error; with strict, warnings
// are errors too.
func Check(path string, strict bool) (*model.Topology, diag.List, error) {
	r, warnings, err := checkFile(path, strict)
	if err != nil {
		return nil, nil, err
	}
	return r.Model, warnings, nil
}

// checkFile loads, resolves and checks the topology at path.
func checkFile(path string, strict bool) (*resolve.Topology, diag.List, error) {
	t, err := load.File(path)
	if err != nil {
		return nil, nil, err
	}
	return checkLoaded(t, strict)
}

// checkLoaded resolves a loaded topology once and checks the facts: the
// resolved topology is what compile then plans from.
func checkLoaded(t *model.Topology, strict bool) (*resolve.Topology, diag.List, error) {
	r := resolve.Resolve(t)
	warnings, err := checked(r, strict)
	if err != nil {
		return nil, nil, err
	}
	return r, warnings, nil
}

// checked runs the semantic checks: the errors as an error (with strict,
// warnings among them), else the warnings.
func checked(r *resolve.Topology, strict bool) (diag.List, error) {
	errs, warnings := check.Resolved(r).Split()
	if strict {
		errs = append(errs, warnings.Strict()...)
		errs.Sort()
		warnings = nil
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return warnings, nil
}

// ValidateBytes loads and checks a topology held in memory; filename picks
// the format by extension and names the file in diagnostics.
func ValidateBytes(filename string, data []byte) (*model.Topology, error) {
	t, err := load.Bytes(filename, data)
	if err != nil {
		return nil, err
	}
	if _, _, err := checkLoaded(t, false); err != nil {
		return nil, err
	}
	return t, nil
}

// Compile loads, checks and compiles the topology at path.
func Compile(path string, opts Options) (*Result, error) {
	resolved, warnings, err := checkFile(path, opts.Strict)
	if err != nil {
		return nil, err
	}
	r, err := compile(resolved, opts)
	if err != nil {
		return nil, err
	}
	r.Warnings = append(warnings, r.Warnings...)
	r.Warnings.Sort()
	return r, nil
}

// Plan plans a checked topology without emitting anything: enough to draw
// or explain it.
func Plan(t *model.Topology) *plan.Plan { return plan.Build(t) }

// CompileTopology compiles a checked topology.
func CompileTopology(t *model.Topology, opts Options) (*Result, error) {
	return compile(resolve.Resolve(t), opts)
}

// compile compiles a checked, resolved topology.
func compile(resolved *resolve.Topology, opts Options) (*Result, error) {
	t := resolved.Model
	target, err := ResolveTarget(t, opts.Target)
	if err != nil {
		return nil, err
	}
	// What the delivery systems asked for need, before any work: a
	// --delivery the topology cannot serve is the user's error.
	systems := delivery.Resolve(t, opts.Delivery)
	if diags := delivery.Configured(t, systems); len(diags) > 0 {
		return nil, diags
	}
	r := &Result{Topology: t, Target: target}
	emitOpts := emit.Options{HelmRepository: t.Defaults.Helm.Repository, SailOperator: resolved.SailOperator.Text}
	if d := t.Delivery; d != nil && d.Flux != nil {
		emitOpts.FluxNamespace, emitOpts.FluxInterval = d.Flux.Namespace, d.Flux.Interval
	}
	checkTarget := check.Target{Name: target}
	if target == emit.Rendered {
		if emitOpts.Charts, err = chartLibrary(opts.ChartsDir); err != nil {
			return nil, err
		}
		checkTarget.HasCharts = emitOpts.Charts.Has
		checkTarget.FetchCharts = func(versions []string) string {
			return (&charts.MissingError{Dir: opts.ChartsDir}).Fix(versions...)
		}
	}
	// What the target's installer will install, and from where, depends
	// on the target: checked here, where the target is known.
	errs, warnings := check.ForTarget(resolved, checkTarget).Split()
	if opts.Strict {
		errs = append(errs, warnings.Strict()...)
		errs.Sort()
		warnings = nil
	}
	if len(errs) > 0 {
		return nil, errs
	}
	r.Warnings = warnings
	r.Plan = plan.Resolved(resolved)
	if r.Output, err = emit.Emit(r.Plan, target, emitOpts); err != nil {
		return nil, err
	}
	if len(systems) > 0 {
		if r.Output.Documents, err = delivery.Documents(t, r.Output, systems); err != nil {
			return nil, err
		}
	}
	if r.Tree, err = render.Render(r.Output); err != nil {
		return nil, err
	}
	if diags := noSecrets(r.Tree); len(diags) > 0 {
		return nil, diags
	}
	if opts.Verify {
		if err := verify.Tree(r.Tree); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// noSecrets scans every byte of the tree for private key material before
// anything can be written: the last line of defence behind the loader and
// the checks, which refuse keys in what the user wrote. A key can still be
// computed (a CUE expression joining strings), or come from meshc itself.
// The position is where in the output the key would have landed.
//
// Files are scanned several at a time, and bytes that several files share
// (render gives a fleet's alike CRDs one copy) once. Only the files with a
// finding are sorted, for the diagnostics' order: sorting every path of a
// fleet costs more than scanning most of its files.
func noSecrets(tree render.Tree) diag.List {
	type bytesID struct {
		first *byte
		n     int
	}
	paths := make([]string, 0, len(tree))
	scanned := make(map[bytesID]int, len(tree)) // → the index in scan of the path scanned
	var scan []string                           // paths scanned, each for its bytes
	for p, data := range tree {
		if len(data) == 0 {
			continue
		}
		paths = append(paths, p)
		id := bytesID{&data[0], len(data)}
		if _, seen := scanned[id]; seen {
			continue
		}
		scanned[id] = len(scan)
		scan = append(scan, p)
	}
	found := make([]*secret.Finding, len(scan)) // each scan writes its own
	// One goroutine per share of the files, not per file: a fleet has
	// tens of thousands, most of them small.
	var g errgroup.Group
	shares := runtime.GOMAXPROCS(0)
	for w := range shares {
		g.Go(func() error {
			for i := w * len(scan) / shares; i < (w+1)*len(scan)/shares; i++ {
				if f, ok := secret.Find(tree[scan[i]]); ok {
					found[i] = &f
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	var out diag.List
	for _, p := range paths {
		data := tree[p]
		f := found[scanned[bytesID{&data[0], len(data)}]]
		if f == nil {
			continue
		}
		line := 1 + bytes.Count(data[:f.Offset], []byte("\n"))
		col := f.Offset - bytes.LastIndexByte(data[:f.Offset], '\n')
		out = append(out, diag.Diagnostic{
			Code:    diag.Secret,
			Pos:     diag.Pos{File: p, Line: line, Column: col},
			Message: fmt.Sprintf("the output file %s would hold %s; the output is committed to Git, so nothing was written", p, f.What),
			Hint:    "find the value that computes the key (a CUE expression, Helm values) and remove it; keep keys in a secret store",
		})
	}
	slices.SortFunc(out, func(a, b diag.Diagnostic) int { return strings.Compare(a.Pos.File, b.Pos.File) })
	return out
}

// chartLibrary finds the charts the rendered target renders: those of
// each release in dir, else those embedded in meshc and in the chart cache.
func chartLibrary(dir string) (*charts.Library, error) {
	if dir == "" {
		return charts.NewLibrary(""), nil
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		msg := fmt.Sprintf("cannot read charts: %v", err)
		if err == nil {
			msg = "cannot read charts: " + dir + " is not a folder"
		}
		return nil, diag.List{{Code: diag.UnsupportedFile, Pos: diag.Pos{File: dir}, Message: msg,
			Hint: "pass --charts a folder of Istio's released charts by release, <version>/<chart> (what `meshc charts pull --dest DIR VERSION` writes)"}}
	}
	return charts.NewLibrary(dir), nil
}

// ResolveTarget picks the installer target: the one asked for, else the
// topology's defaults.installer, else sail.
func ResolveTarget(t *model.Topology, asked emit.Target) (emit.Target, error) {
	name := string(asked)
	if name == "" {
		name = string(t.Defaults.Installer)
	}
	if name == "" {
		name = string(emit.Sail)
	}
	target, err := emit.ParseTarget(name)
	if err != nil {
		return "", diag.List{{
			Code:    diag.InvalidValue,
			Path:    "defaults.installer",
			Pos:     t.Pos(model.Path{"defaults", "installer"}),
			Message: err.Error(),
		}}
	}
	return target, nil
}
