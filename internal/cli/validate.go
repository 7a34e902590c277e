package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler"
)

func newValidateCommand(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "validate TOPOLOGY",
		Short: "Check a topology without writing anything",
		Long: `Check a topology against the schema and meshc's semantic rules, printing
every problem at once with its code, topology path, position and a hint.`,
		Example: `  meshc validate topologies/multiple-control-planes.yaml
  meshc validate topology.cue --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, warnings, err := compiler.Check(args[0], strict)
			if err != nil {
				return printDiagnostics(g, stdout, stderr, err)
			}
			cps := t.ControlPlanes()
			if g.format == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"valid": true, "diagnostics": warnings.WithSeverity()})
			}
			printWarnings(stderr, warnings)
			fmt.Fprintf(stdout, "%s: valid (%s, %s, %s, %s)\n", args[0],
				plural(len(t.Clusters), "cluster"), plural(len(t.Meshes), "mesh"),
				plural(len(cps), "control plane"), plural(len(t.Tenants), "tenant"))
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
