package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/diag"
)

func newValidateCommand(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "validate TOPOLOGY...",
		Short: "Check topologies without writing anything",
		Long: `Check one or more topologies against the schema and meshc's semantic rules,
printing every problem at once with its code, topology path, position and a
hint. Several files are checked one by one (as a pre-commit hook passes
them); the exit code is 1 if any is invalid.`,
		Example: `  meshc validate topologies/multiple-control-planes.yaml
  meshc validate topology.cue --format json`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeTopologies,
		RunE: func(cmd *cobra.Command, args []string) error {
			var all, allWarnings diag.List
			for _, path := range args {
				t, warnings, err := compiler.Check(path, strict)
				var diags diag.List
				switch {
				case errors.As(err, &diags):
					all = append(all, diags...)
					if g.format != "json" {
						_ = diags.WriteText(stderr)
					}
					continue
				case err != nil:
					return err
				}
				allWarnings = append(allWarnings, warnings...)
				if g.format != "json" {
					printWarnings(stderr, warnings)
					cps := t.ControlPlanes()
					fmt.Fprintf(stdout, "%s: valid (%s, %s, %s, %s)\n", path,
						plural(len(t.Clusters), "cluster"), plural(len(t.Meshes), "mesh"),
						plural(len(cps), "control plane"), plural(len(t.Tenants), "tenant"))
				}
			}
			if len(all) > 0 {
				if g.format == "json" {
					_ = all.WriteJSON(stdout)
				} else {
					fmt.Fprintf(stderr, "%s\n", countErrors(len(all), false))
				}
				return all
			}
			if g.format == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"valid": true, "diagnostics": allWarnings.WithSeverity()})
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "treat warnings as errors")
	return cmd
}

// plural counts things: 1 cluster, 2 clusters, 2 meshes.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "sh") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
