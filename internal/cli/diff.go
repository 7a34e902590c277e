package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/diag"
)

type diffFlags struct {
	against string
	base    string
	target  string
	graph   bool
}

func newDiffCommand(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	f := &diffFlags{}
	cmd := &cobra.Command{
		Use:   "diff TOPOLOGY",
		Short: "Show what a topology change does to each cluster, without a cluster",
		Long: `Compare what the topology compiles to with committed output (--against DIR,
default out) or with what the same topology file compiled to at another Git
revision (--base REV). Reports per cluster which objects are added, removed
or changed, then the changed fields; objects are compared as data, so file
names, ordering and formatting never show up, and Secret data is masked.

--format text (colour on a terminal unless NO_COLOR is set), markdown (for a
pull-request comment), or json. Exit codes: 0 no changes, 1 changes, 2 error.`,
		Example: `  meshc diff topology.yaml --against deploy/mesh
  meshc diff topology.yaml --base main --format markdown > comment.md`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeTopology,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(g, f, args[0], stdout, stderr)
		},
	}
	cmd.Flags().StringVar(&f.against, "against", "", "folder of committed output to compare with (default: the topology's delivery.path, else out)")
	cmd.Flags().StringVar(&f.base, "base", "", "Git revision whose version of the topology file to compare with")
	cmd.Flags().BoolVar(&f.graph, "graph", false, "markdown: include the topology's Mermaid graph")
	cmd.Flags().StringVar(&f.target, "target", "", "installer target (default: the topology's defaults.installer, else sail)")
	_ = cmd.RegisterFlagCompletionFunc("target", completeTargets)
	_ = cmd.RegisterFlagCompletionFunc("against", completeDirs)
	return cmd
}

func runDiff(g *globalFlags, f *diffFlags, path string, stdout, stderr io.Writer) error {
	if g.format != "text" && g.format != "json" && g.format != "markdown" {
		return &exitError{code: ExitFailure, err: fmt.Errorf("--format must be text, markdown or json")}
	}
	if f.against != "" && f.base != "" {
		return &exitError{code: ExitFailure, err: errors.New("give --against or --base, not both")}
	}
	var target compiler.Target
	if f.target != "" {
		t, err := compiler.ParseTarget(f.target)
		if err != nil {
			return &exitError{code: ExitFailure, err: err}
		}
		target = t
	}
	// Problems with the input are errors here (exit 2): 1 means changes.
	failed := func(err error) error {
		_ = printDiagnostics(&globalFlags{format: "text"}, stdout, stderr, err)
		return &exitError{code: ExitFailure, err: errors.New("")}
	}
	res, err := compiler.Compile(path, compiler.Options{Target: target})
	if err != nil {
		return failed(err)
	}
	var old compiler.Tree
	var title, rerun string
	if f.base != "" {
		baseRes, err := compiler.CompileRevision(path, f.base, compiler.Options{Target: res.Target})
		var invalid *compiler.RevisionError
		var diags diag.List
		switch {
		case errors.As(err, &invalid):
			fmt.Fprintf(stderr, "the topology at %s is not valid:\n", f.base)
			return failed(invalid.Err)
		case errors.As(err, &diags):
			return failed(err)
		case err != nil:
			return &exitError{code: ExitFailure, err: err}
		}
		old, title = baseRes.Tree, fmt.Sprintf("meshc: %s (%s) against %s", res.Topology.Metadata.Name, res.Target, f.base)
		rerun = fmt.Sprintf("meshc diff %s --base %s --target %s", shellQuote(path), shellQuote(f.base), res.Target)
	} else {
		dir := outputDir(f.against, res.Topology)
		if old, err = compiler.ReadOutput(dir); err != nil {
			return &exitError{code: ExitFailure, err: err}
		}
		title = fmt.Sprintf("meshc: %s (%s) against %s", res.Topology.Metadata.Name, res.Target, dir)
		rerun = fmt.Sprintf("meshc diff %s --against %s --target %s", shellQuote(path), shellQuote(dir), res.Target)
	}
	d, err := compiler.Compare(old, res.Tree)
	if err != nil {
		return &exitError{code: ExitFailure, err: err}
	}
	switch g.format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(d)
	case "markdown":
		var drawing []byte
		if f.graph {
			drawing = res.Draw().Mermaid()
		}
		err = d.Markdown(stdout, compiler.MarkdownOptions{
			Title: title, Marker: MarkdownMarker(res.Topology.Metadata.Name), Graph: drawing, Rerun: rerun,
		})
	default:
		err = d.Text(stdout, useColor(stdout))
	}
	if err != nil {
		return err
	}
	if !d.Empty() {
		return &exitError{code: ExitUserError, err: errors.New("")}
	}
	return nil
}

// MarkdownMarker is the first line of diff's Markdown for a topology: a
// CI bot finds the comment it posted earlier by it, and updates it.
func MarkdownMarker(topology string) string {
	return "<!-- meshc-diff: " + topology + " -->"
}

// useColor reports whether w is a terminal and NO_COLOR is unset.
func useColor(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	return isTerminal(w)
}
