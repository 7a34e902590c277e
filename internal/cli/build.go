package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
)

// defaultOutput is the output folder when neither -o nor the topology's
// delivery.path names one.
const defaultOutput = "out"

type buildFlags struct {
	output   string
	target   string
	check    bool
	verify   bool
	delivery []string
	charts   string
	strict   bool
	verbose  bool
	quiet    bool
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
never touches files it did not write, and swaps the new tree in at once.

OUTPUT is -o, else the topology's delivery.path (relative to the current
folder: run meshc from the repository's root), else out. build prints one
summary line; -v adds the files written and removed per cluster, --quiet
prints nothing but errors. On a terminal it shows which stage a long build
is in.`,
		Example: `  meshc build topologies/multiple-control-planes.yaml -o out/
  meshc build topology.cue --target istioctl -o deploy/mesh
  meshc charts pull 1.31.4 && meshc build topology.yaml --target rendered -o deploy/mesh
  meshc build topology.yaml -o deploy/mesh --check   # in CI: fail when deploy/mesh is stale`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeTopology,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("output") {
				f.output = ""
			}
			if f.verbose && f.quiet {
				return userError(errors.New("give -v or --quiet, not both"))
			}
			return runBuild(g, f, args[0], stdout, stderr)
		},
	}
	cmd.Flags().StringVarP(&f.output, "output", "o", defaultOutput, "folder to write the bundles to (default: the topology's delivery.path, else out)")
	cmd.Flags().StringVar(&f.target, "target", "", "installer target: sail, istioctl, helm or rendered (default: the topology's defaults.installer, else sail)")
	cmd.Flags().StringVar(&f.charts, "charts", "", "rendered target: a folder of Istio's released charts, <version>/<chart> (default: the charts built into meshc, then those meshc charts pull fetched)")
	cmd.Flags().StringSliceVar(&f.delivery, "delivery", nil, "also emit delivery objects for argocd, flux or both (default: what the topology's delivery configures)")
	cmd.Flags().BoolVar(&f.verify, "verify", false, "also build every bundle with kustomize and check every object against its API schema before writing")
	cmd.Flags().BoolVar(&f.strict, "strict", false, "treat warnings as errors: write nothing while any exists")
	cmd.Flags().BoolVar(&f.check, "check", false, "write nothing; exit 1 when OUTPUT is not what the topology compiles to")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "also list the files written and removed, per cluster")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but errors")
	_ = cmd.RegisterFlagCompletionFunc("target", completeTargets)
	_ = cmd.RegisterFlagCompletionFunc("delivery", completeDelivery)
	_ = cmd.RegisterFlagCompletionFunc("charts", completeDirs)
	_ = cmd.RegisterFlagCompletionFunc("output", completeDirs)
	return cmd
}

// buildReport is what build prints with --format json. Under --check the
// lists are what a build would write and remove (wouldWrite, wouldRemove):
// nothing was written.
type buildReport struct {
	Topology    string    `json:"topology"`
	Target      string    `json:"target"`
	Output      string    `json:"output"`
	Clusters    []string  `json:"clusters"`
	Written     *[]string `json:"written,omitempty"`
	Removed     *[]string `json:"removed,omitempty"`
	WouldWrite  *[]string `json:"wouldWrite,omitempty"`
	WouldRemove *[]string `json:"wouldRemove,omitempty"`
	UpToDate    bool      `json:"upToDate"`
	// Warnings are the topology's risks that are not errors.
	Warnings diag.List `json:"warnings"`
}

func runBuild(g *globalFlags, f *buildFlags, path string, stdout, stderr io.Writer) error {
	var target compiler.Target
	if f.target != "" {
		t, err := compiler.ParseTarget(f.target)
		if err != nil {
			return userError(err)
		}
		target = t
	}
	prog := startProgress(stderr, !f.quiet && g.format == "text")
	defer prog.stop()
	prog.stage("checking " + path)
	checked, err := compiler.CheckFile(path, f.strict)
	if err != nil {
		prog.stop()
		return printBuildDiagnostics(g, stdout, stderr, err)
	}
	prog.stage(fmt.Sprintf("compiling %s", plural(len(checked.Topology.Clusters), "cluster")))
	res, err := checked.Compile(compiler.Options{Target: target, Verify: f.verify, Delivery: f.delivery, ChartsDir: f.charts, Strict: f.strict})
	if err != nil {
		prog.stop()
		return printBuildDiagnostics(g, stdout, stderr, err)
	}
	warnings := res.Warnings
	dir := outputDir(f.output, res.Topology)
	var summary compiler.WriteSummary
	if f.check {
		prog.stage("comparing with " + dir)
		summary, err = compiler.PlanWrite(dir, res.Tree)
	} else {
		prog.stage(fmt.Sprintf("writing %d files to %s", len(res.Tree), dir))
		summary, err = compiler.Write(dir, res.Tree)
	}
	prog.stop()
	var conflict *compiler.ConflictError
	var folder *compiler.FolderError
	if errors.As(err, &conflict) || errors.As(err, &folder) {
		return err
	} else if err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	report := buildReport{
		Topology: res.Topology.Metadata.Name,
		Target:   string(res.Target),
		Output:   dir,
		Clusters: []string{},
		UpToDate: len(summary.Written) == 0 && len(summary.Removed) == 0,
		Warnings: warnings.WithSeverity(),
	}
	if f.check {
		report.WouldWrite, report.WouldRemove = ptr(nonNil(summary.Written)), ptr(nonNil(summary.Removed))
	} else {
		report.Written, report.Removed = ptr(nonNil(summary.Written)), ptr(nonNil(summary.Removed))
	}
	for _, c := range res.Plan.Clusters {
		report.Clusters = append(report.Clusters, c.Name)
	}
	switch {
	case g.format == "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	case !f.quiet:
		printWarnings(stderr, warnings)
		printBuildText(stdout, f, report, summary)
	}
	if f.check && !report.UpToDate {
		review := fmt.Sprintf("meshc diff %s --against %s", shellQuote(path), shellQuote(dir))
		if f.target != "" {
			review += " --target " + shellQuote(f.target)
		}
		return &exitError{code: ExitUserError, err: fmt.Errorf("%s is stale: run %s\n    hint: %s shows the changes object by object",
			dir, rebuildCommand(f, path, dir), review)}
	}
	return nil
}

// outputDir is the folder build writes to and diff reads: the one asked
// for, else the topology's delivery.path, else out.
func outputDir(asked string, t *model.Topology) string {
	switch {
	case asked != "":
		return asked
	case t.Delivery != nil && t.Delivery.Path != "":
		return t.Delivery.Path
	}
	return defaultOutput
}

// rebuildCommand is the build that brings dir up to date: the same flags
// that choose what is compiled, so the hint can be pasted as it is.
func rebuildCommand(f *buildFlags, path, dir string) string {
	args := []string{"meshc", "build", path, "-o", dir}
	if f.target != "" {
		args = append(args, "--target", f.target)
	}
	if len(f.delivery) > 0 {
		args = append(args, "--delivery", strings.Join(f.delivery, ","))
	}
	if f.charts != "" {
		args = append(args, "--charts", f.charts)
	}
	if f.verify {
		args = append(args, "--verify")
	}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func printBuildText(w io.Writer, f *buildFlags, r buildReport, s compiler.WriteSummary) {
	written, removed := "wrote", "removed"
	if f.check {
		written, removed = "would write", "would remove"
	}
	if f.verbose {
		for _, c := range byCluster(s) {
			fmt.Fprintf(w, "%s: %s\n", c.title, countFiles(f.check, len(c.written), len(c.removed)))
			for _, p := range c.written {
				fmt.Fprintf(w, "  %s %s\n", written, p)
			}
			for _, p := range c.removed {
				fmt.Fprintf(w, "  %s %s\n", removed, p)
			}
		}
	}
	state := countFiles(f.check, len(s.Written), len(s.Removed))
	if r.UpToDate {
		state = "up to date"
	} else if n := touchedBundles(s); n < len(r.Clusters) {
		state += fmt.Sprintf(" (%d of %d cluster bundles)", n, len(r.Clusters))
	}
	fmt.Fprintf(w, "%s (%s): %s in %s, %s\n", r.Topology, r.Target, plural(len(r.Clusters), "cluster"), r.Output, state)
}

func countFiles(check bool, written, removed int) string {
	if check {
		return fmt.Sprintf("%s to write, %d to remove", plural(written, "file"), removed)
	}
	return fmt.Sprintf("%s written, %d removed", plural(written, "file"), removed)
}

// touchedBundles counts the cluster bundles a summary writes or removes
// files in.
func touchedBundles(s compiler.WriteSummary) int {
	n := 0
	for _, c := range byCluster(s) {
		if strings.HasPrefix(c.title, "cluster ") {
			n++
		}
	}
	return n
}

// clusterFiles are one cluster's files in a summary.
type clusterFiles struct {
	title            string
	written, removed []string
}

// byCluster groups a summary's files by cluster bundle, in the order of
// their paths; files outside every bundle (delivery/) come last.
func byCluster(s compiler.WriteSummary) []clusterFiles {
	var out []clusterFiles
	index := map[string]int{}
	add := func(p string, removed bool) {
		title := "outside the cluster bundles"
		if parts := strings.SplitN(p, "/", 3); len(parts) == 3 && parts[0] == "clusters" {
			title = "cluster " + parts[1]
		}
		i, ok := index[title]
		if !ok {
			i = len(out)
			index[title] = i
			out = append(out, clusterFiles{title: title})
		}
		if removed {
			out[i].removed = append(out[i].removed, p)
		} else {
			out[i].written = append(out[i].written, p)
		}
	}
	for _, p := range s.Written {
		add(p, false)
	}
	for _, p := range s.Removed {
		add(p, true)
	}
	slices.SortStableFunc(out, func(a, b clusterFiles) int {
		ao, bo := !strings.HasPrefix(a.title, "cluster "), !strings.HasPrefix(b.title, "cluster ")
		switch {
		case ao != bo && ao:
			return 1
		case ao != bo:
			return -1
		}
		return strings.Compare(a.title, b.title)
	})
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func ptr[T any](v T) *T { return &v }
