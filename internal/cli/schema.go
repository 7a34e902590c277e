package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler"
)

func newSchemaCommand(stdout io.Writer) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the topology language as a JSON Schema, for editors",
		Long: `Print the topology language as a JSON Schema (draft 2020-12), generated
from the CUE schema meshc validates against, with every field's comment as
its description. Editors that speak the YAML language server (VS Code's YAML
extension, Neovim, Helix, IntelliJ) complete and check a topology as you type
when its first line names the schema:

  # yaml-language-server: $schema=topology.schema.json

meshc init writes that line. The schema checks shapes and enumerations;
'meshc validate' also checks references, overlaps and supported releases.`,
		Example: `  meshc schema -o topology.schema.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := compiler.JSONSchema()
			if err != nil {
				return err
			}
			if output == "" || output == "-" {
				_, err := stdout.Write(data)
				return err
			}
			if err := writeFileAtomic(output, data); err != nil {
				return userError(fmt.Errorf("writing %s: %w", output, err))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "file to write the schema to, replaced atomically (default: standard output)")
	return cmd
}
