package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/output"
)

type buildFlags struct {
	output   string
	target   string
	check    bool
	verify   bool
	delivery []string
	charts   string
	strict   bool
}

func newBuildCommand(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	f := &buildFlags{}
	cmd := &cobra.Command{
		Use:   "build TOPOLOGY",
		Short: "Compile a topology into one Kustomize bundle per cluster",
		Long: `Compile a topology (.cue, .yaml, .yml or .json) into OUTPUT/clusters/<cluster>/,
one Kustomize bundle per cluster. Nothing is written unless the whole topology
is valid (and, with --verify, every bundle builds and every object passes its
API schema). meshc removes files it wrote earlier and no longer generates,
never touches files it did not write, and swaps the new tree in at once.`,
		Example: `  meshc build topologies/multiple-control-planes.yaml -o out/
  meshc build topology.cue --target istioctl -o deploy/mesh
  meshc build topology.yaml --target rendered --charts istio-1.28.2/manifests -o deploy/mesh
  meshc build topology.yaml -o deploy/mesh --check   # in CI: fail when deploy/mesh is stale`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(g, f, args[0], stdout, stderr)
		},
	}
	cmd.Flags().StringVarP(&f.output, "output", "o", "out", "folder to write the bundles to")
	cmd.Flags().StringVar(&f.target, "target", "", "installer target: sail, istioctl, helm or rendered (default: the topology's defaults.installer, else sail)")
	cmd.Flags().StringVar(&f.charts, "charts", "", "rendered target: the manifests/ folder of the Istio release to render (default: the charts built into meshc)")
	cmd.Flags().StringSliceVar(&f.delivery, "delivery", nil, "also emit delivery objects for argocd, flux or both (default: what the topology's delivery configures)")
	cmd.Flags().BoolVar(&f.verify, "verify", false, "also build every bundle with kustomize and check every object against its API schema before writing")
	cmd.Flags().BoolVar(&f.strict, "strict", false, "treat warnings as errors: write nothing while any exists")
	cmd.Flags().BoolVar(&f.check, "check", false, "write nothing; exit 1 and list the differences when OUTPUT is not what the topology compiles to")
	return cmd
}

// buildReport is what build prints with --format json.
type buildReport struct {
	Topology string   `json:"topology"`
	Target   string   `json:"target"`
	Output   string   `json:"output"`
	Clusters []string `json:"clusters"`
	Written  []string `json:"written"`
	Removed  []string `json:"removed"`
	UpToDate bool     `json:"upToDate"`
	// Warnings are the topology's risks that are not errors.
	Warnings diag.List `json:"warnings"`
}

func runBuild(g *globalFlags, f *buildFlags, path string, stdout, stderr io.Writer) error {
	var target emit.Target
	if f.target != "" {
		t, err := emit.ParseTarget(f.target)
		if err != nil {
			return userError(err)
		}
		target = t
	}
	res, err := compiler.Compile(path, compiler.Options{Target: target, Verify: f.verify, Delivery: f.delivery, ChartsDir: f.charts, Strict: f.strict})
	if err != nil {
		return printDiagnostics(g, stdout, stderr, err)
	}
	var summary output.Summary
	if f.check {
		summary, err = output.Plan(f.output, res.Tree)
	} else {
		summary, err = output.Write(f.output, res.Tree)
	}
	var conflict *output.ConflictError
	var folder *output.FolderError
	if errors.As(err, &conflict) || errors.As(err, &folder) {
		return err
	} else if err != nil {
		return fmt.Errorf("writing %s: %w", f.output, err)
	}
	report := buildReport{
		Topology: res.Topology.Metadata.Name,
		Target:   string(res.Target),
		Output:   f.output,
		Written:  nonNil(summary.Written),
		Removed:  nonNil(summary.Removed),
		UpToDate: len(summary.Written) == 0 && len(summary.Removed) == 0,
		Warnings: res.Warnings.WithSeverity(),
	}
	for _, c := range res.Plan.Clusters {
		report.Clusters = append(report.Clusters, c.Name)
	}
	if g.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		printWarnings(stderr, res.Warnings)
		printBuildText(stdout, f, report)
	}
	if f.check && !report.UpToDate {
		return &exitError{code: ExitUserError, err: fmt.Errorf("%s is stale: run meshc build %s -o %s", f.output, path, f.output)}
	}
	return nil
}

func printBuildText(w io.Writer, f *buildFlags, r buildReport) {
	verb, removed := "wrote", "removed"
	if f.check {
		verb, removed = "would write", "would remove"
	}
	for _, p := range r.Written {
		fmt.Fprintf(w, "%s %s\n", verb, p)
	}
	for _, p := range r.Removed {
		fmt.Fprintf(w, "%s %s\n", removed, p)
	}
	state := fmt.Sprintf("%d written, %d removed", len(r.Written), len(r.Removed))
	if f.check {
		state = fmt.Sprintf("%d to write, %d to remove", len(r.Written), len(r.Removed))
	}
	if r.UpToDate {
		state = "up to date"
	}
	fmt.Fprintf(w, "%s (%s): %s in %s, %s\n", r.Topology, r.Target, plural(len(r.Clusters), "cluster"), f.output, state)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
