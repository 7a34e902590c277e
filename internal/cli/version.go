package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/release"
)

// Version is meshc's version, set at link time with
// -ldflags "-X meshc.dev/meshc/internal/cli.Version=v0.1.0" (make release
// does); otherwise the module version from the build info, or for a build
// from a clone the commit Go stamped in it.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v // go install meshc.dev/meshc/cmd/meshc@v0.1.0
	}
	// A build from a clone: the commit, when Go stamped it.
	var rev, dirty string
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return "(devel)"
	}
	return "(devel) " + rev[:min(len(rev), 12)] + dirty
}

func newVersionCommand(g *globalFlags, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print meshc's version, the Istio releases and targets it supports",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			targets := make([]string, len(compiler.Targets))
			for i, t := range compiler.Targets {
				targets[i] = string(t)
			}
			if g.format == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				var lines []any
				for _, r := range release.Lines() {
					lines = append(lines, map[string]any{"line": r.Line.String(), "latest": r.LatestVersion().String(), "endOfLife": r.EndOfLife})
				}
				var sail []any
				for _, op := range release.SailOperators() {
					sail = append(sail, map[string]any{"line": op.Line.String(), "release": op.Release, "installs": op.InstallRange()})
				}
				return enc.Encode(map[string]any{
					"version": version(), "topologyAPIVersion": "meshc.dev/v1alpha1",
					"istio": lines, "sailOperator": sail, "targets": targets,
				})
			}
			fmt.Fprintf(stdout, "meshc %s\ntopology API: meshc.dev/v1alpha1\nIstio: %s (supported, not end of life: %s)\nSail operator: %s to %s (default %s)\ntargets: %s\n",
				version(), release.Range(), release.Supported(),
				release.SailOperators()[0].Line, release.DefaultSailOperator().Line, release.DefaultSailOperator().Line,
				strings.Join(targets, ", "))
			return nil
		},
	}
}
