package compiler

import (
	"slices"
	"time"

	"meshc.dev/meshc/compiler/charts"
	"meshc.dev/meshc/compiler/delivery"
	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/diff"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/explain"
	"meshc.dev/meshc/compiler/graph"
	"meshc.dev/meshc/compiler/load"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/output"
	"meshc.dev/meshc/compiler/plan"
	"meshc.dev/meshc/compiler/render"
	"meshc.dev/meshc/compiler/resolve"
)

// What the command line needs of the stages, through the façade: it
// imports compiler (and the shared vocabulary: diag, model, release) and no
// stage, so that a stage can change shape without the command line
// noticing. TestImportDirection keeps it so.

// Types of the stages the command line names.
type (
	// Target is an installer target (sail, istioctl, helm, rendered).
	Target = emit.Target
	// Tree is a rendered output: file contents by slash path.
	Tree = render.Tree
	// WriteSummary says what writing a tree changed, or would change.
	WriteSummary = output.Summary
	// ConflictError and FolderError are output's refusals to write.
	ConflictError = output.ConflictError
	FolderError   = output.FolderError
	// Answer is explain's answer, and NotFoundError its "no such thing".
	Answer        = explain.Answer
	NotFoundError = explain.NotFoundError
	// Drawing is a topology drawn as a graph (Mermaid, DOT).
	Drawing = graph.Graph
	// Changes is a comparison of two trees, object by object, and
	// MarkdownOptions shape its Markdown report.
	Changes         = diff.Result
	MarkdownOptions = diff.MarkdownOptions
)

// Targets lists the installer targets, in the order help text shows them.
var Targets = emit.Targets

// DeliverySystems lists the GitOps systems meshc emits objects for.
var DeliverySystems = delivery.Systems

// ExplainForms is the help text listing what Explain accepts.
const ExplainForms = explain.Forms

// DefaultEvalTimeout is how long loading a topology may take by default.
const DefaultEvalTimeout = load.DefaultTimeout

// ParseTarget validates a target name.
func ParseTarget(s string) (Target, error) { return emit.ParseTarget(s) }

// SetEvalTimeout bounds how long loading one topology may take (zero: no
// bound).
func SetEvalTimeout(d time.Duration) { load.Timeout = d }

// JSONSchema is the topology's JSON Schema, generated from the CUE schema.
func JSONSchema() ([]byte, error) { return load.JSONSchema() }

// Checked is a topology that loaded and passed the checks, resolved once
// for compiling it.
type Checked struct {
	Topology *model.Topology
	// Warnings are the risks the checks found that are not certain
	// failures.
	Warnings diag.List
	resolved *resolve.Topology
}

// CheckFile loads, resolves and checks the topology at path; errors come
// back as a diag.List error (with strict, warnings among them).
func CheckFile(path string, strict bool) (*Checked, error) {
	t, err := load.File(path)
	if err != nil {
		return nil, err
	}
	return CheckTopology(t, strict)
}

// CheckBytes loads, resolves and checks a topology held in memory, as
// CheckFile does one on disk; filename picks the format by extension and
// names the file in diagnostics.
func CheckBytes(filename string, data []byte, strict bool) (*Checked, error) {
	t, err := load.Bytes(filename, data)
	if err != nil {
		return nil, err
	}
	return CheckTopology(t, strict)
}

// CheckTopology resolves and checks a loaded topology (load.Bytes,
// load.File), for callers that load it themselves.
func CheckTopology(t *model.Topology, strict bool) (*Checked, error) {
	r, warnings, err := checkLoaded(t, strict)
	if err != nil {
		return nil, err
	}
	return &Checked{Topology: r.Model, Warnings: warnings, resolved: r}, nil
}

// Compile compiles the checked topology. The result's warnings are all of
// them: the topology's, and those of the target's installer.
func (c *Checked) Compile(opts Options) (*Result, error) {
	r, err := compile(c.resolved, opts)
	if err != nil {
		return nil, err
	}
	r.Warnings = append(slices.Clone(c.Warnings), r.Warnings...)
	r.Warnings.Sort()
	return r, nil
}

// Draw draws the checked topology from its plan (no bundle is emitted).
func (c *Checked) Draw() *Drawing { return graph.Build(c.Topology, plan.Resolved(c.resolved)) }

// Draw draws a compiled topology.
func (r *Result) Draw() *Drawing { return graph.Build(r.Topology, r.Plan) }

// Explain answers what about a compiled topology; source is the topology
// file's content, quoted in answers (nil: positions without text). An
// unknown what is a *NotFoundError.
func (r *Result) Explain(source []byte, what string) (*Answer, error) {
	return explain.Explain(r.explainInput(source), what)
}

// ExplainNames lists every WHAT Explain answers, for completion.
func (r *Result) ExplainNames() []string { return explain.Names(r.explainInput(nil)) }

func (r *Result) explainInput(source []byte) explain.Input {
	return explain.Input{Topology: r.Topology, Plan: r.Plan, Output: r.Output, Tree: r.Tree, Source: source}
}

// Write writes the tree into dir, atomically, removing what meshc wrote
// there before and no longer generates.
func Write(dir string, tree Tree) (WriteSummary, error) { return output.Write(dir, tree) }

// PlanWrite says what Write would change in dir, writing nothing.
func PlanWrite(dir string, tree Tree) (WriteSummary, error) { return output.Plan(dir, tree) }

// ReadOutput reads a folder of committed output (see output.Read).
func ReadOutput(dir string) (Tree, error) { return output.Read(dir) }

// Compare compares two trees object by object.
func Compare(old, new Tree) (*Changes, error) { return diff.Trees(old, new) }

// CompileRevision compiles the topology at path as it is at revision rev
// of the Git work tree it is in, with the target of base (the same
// comparison either side). Its diagnostics name the file rev:path.
func CompileRevision(path, rev string, opts Options) (*Result, error) {
	data, name, err := load.GitRevision(path, rev)
	if err != nil {
		return nil, err
	}
	t, err := load.Bytes(name, data)
	if err != nil {
		return nil, &RevisionError{Rev: rev, Err: err}
	}
	r := resolve.Resolve(t)
	if _, err := checked(r, false); err != nil {
		return nil, &RevisionError{Rev: rev, Err: err}
	}
	return compile(r, opts)
}

// RevisionError is a topology at a Git revision that is not valid.
type RevisionError struct {
	Rev string
	Err error
}

func (e *RevisionError) Error() string {
	return "the topology at " + e.Rev + " is not valid: " + e.Err.Error()
}

func (e *RevisionError) Unwrap() error { return e.Err }

// EmbeddedChartReleases are the Istio releases whose charts meshc embeds
// for the rendered target.
func EmbeddedChartReleases() []string { return charts.EmbeddedReleases() }

// ChartCacheDir is the chart cache the rendered target reads releases'
// charts from when meshc does not embed them.
func ChartCacheDir() (string, error) { return charts.CacheDir() }

// PullCharts fetches an Istio release's charts from repository (HTTP or
// oci://) into dest/<version>; it reports false when they were there.
func PullCharts(repository, version, dest string) (bool, error) {
	return charts.Pull(repository, version, dest)
}
