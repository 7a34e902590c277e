package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler"
)

// Graph formats.
const (
	graphMermaid = "mermaid"
	graphDOT     = "dot"
	graphSVG     = "svg"
)

type graphFlags struct {
	format string
	output string
}

func newGraphCommand(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	f := &graphFlags{}
	cmd := &cobra.Command{
		Use:   "graph TOPOLOGY",
		Short: "Draw a topology as a Mermaid, Graphviz DOT or SVG diagram",
		Long: `Draw a topology: clusters grouped by network, the control planes running in
each (external ones in their hosting cluster), the remote clusters they
manage, multi-primary peers, east-west gateways and cross-network links, the
paths remotes take to reach istiod, and the tenants each control plane
serves, coloured by mesh with a legend.

--format mermaid (the default) writes a flowchart that GitHub renders in
Markdown; dot writes Graphviz source; svg runs Graphviz's dot command, which
must be installed. Here --format picks the diagram's format: diagnostics are
always printed as text.`,
		Example: `  meshc graph topologies/multi-primary.yaml > mesh.mmd
  meshc graph topology.yaml --format dot -o mesh.dot
  meshc graph topology.yaml --format svg -o mesh.svg`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeTopology,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGraph(cmd, g, f, args[0], stdout, stderr)
		},
	}
	// This --format shadows the global one (text or json) for this command.
	cmd.Flags().StringVar(&f.format, "format", graphMermaid, "diagram format: mermaid, dot or svg")
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "file to write the diagram to, replaced atomically (default: standard output)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{graphMermaid, graphDOT, graphSVG}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runGraph(cmd *cobra.Command, g *globalFlags, f *graphFlags, path string, stdout, stderr io.Writer) error {
	switch f.format {
	case graphMermaid, graphDOT, graphSVG:
	default:
		return userError(fmt.Errorf("--format must be mermaid, dot or svg, not %q", f.format))
	}
	// Look for Graphviz before compiling: no point otherwise.
	var dot string
	if f.format == graphSVG {
		var err error
		if dot, err = exec.LookPath("dot"); err != nil {
			return userError(errors.New("--format svg needs Graphviz, which is not installed (no dot command in PATH): install Graphviz, or use --format dot or --format mermaid"))
		}
	}
	checked, err := compiler.CheckFile(path, false)
	if err != nil {
		return printDiagnostics(g, stdout, stderr, err)
	}
	// The drawing needs the plan only, not the bundles.
	drawing := checked.Draw()
	var out []byte
	switch f.format {
	case graphMermaid:
		out = drawing.Mermaid()
	case graphDOT:
		out = drawing.DOT()
	case graphSVG:
		run := exec.CommandContext(cmd.Context(), dot, "-Tsvg")
		run.Stdin = bytes.NewReader(drawing.DOT())
		var errOut bytes.Buffer
		run.Stderr = &errOut
		if out, err = run.Output(); err != nil {
			return fmt.Errorf("running %s -Tsvg: %v: %s", dot, err, bytes.TrimSpace(errOut.Bytes()))
		}
	}
	if f.output == "" || f.output == "-" {
		_, err := stdout.Write(out)
		return err
	}
	if err := writeFileAtomic(f.output, out); err != nil {
		return userError(fmt.Errorf("writing %s: %w", f.output, err))
	}
	return nil
}

// writeFileAtomic replaces path with data: written to a temporary file in
// the same folder, then renamed over path, so readers see the old file or
// the new one, never half of it.
func writeFileAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
