package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler"
)

func newValidateCommand(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "validate TOPOLOGY",
		Short: "Check a topology without writing anything",
		Long: `Check a topology against the schema and meshc's semantic rules, printing
every problem at once with its code, topology path, position and a hint.`,
		Example: `  meshc validate topologies/multiple-control-planes.yaml
  meshc validate topology.cue --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := compiler.Validate(args[0])
			if err != nil {
				return printDiagnostics(g, stdout, stderr, err)
			}
			cps := t.ControlPlanes()
			if g.format == "json" {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"valid": true, "diagnostics": []any{}})
			}
			fmt.Fprintf(stdout, "%s: valid (%d clusters, %d meshes, %d control planes, %d tenants)\n",
				args[0], len(t.Clusters), len(t.Meshes), len(cps), len(t.Tenants))
			return nil
		},
	}
}
