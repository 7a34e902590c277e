package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/istio"
)

// Version is meshc's version, set at link time with
// -ldflags "-X meshc.dev/meshc/internal/cli.Version=v0.1.0"; otherwise the
// module version from the build info.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

func newVersionCommand(g *globalFlags, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print meshc's version, the Istio releases and targets it supports",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			targets := make([]string, len(emit.Targets))
			for i, t := range emit.Targets {
				targets[i] = string(t)
			}
			if g.format == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{
					"version": version(), "topologyAPIVersion": "meshc.dev/v1alpha1",
					"istio": istio.Supported(), "targets": targets,
				})
			}
			fmt.Fprintf(stdout, "meshc %s\ntopology API: meshc.dev/v1alpha1\nIstio: %s\ntargets: %s\n",
				version(), istio.SupportedRange(), strings.Join(targets, ", "))
			return nil
		},
	}
}
