package cli

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
)

// The starting topologies of `meshc init`, one per deployment model.
//
//go:embed templates/*.yaml
var templates embed.FS

// initModels are the models init offers, in the order help lists them.
var initModels = []string{"multi-cp", "sail", "primary-remote", "multi-primary", "external"}

// initVersion is the Istio release a starting topology names: one every
// target installs with nothing fetched (supported, installed by meshc's
// default Sail operator, its charts embedded for the rendered target);
// TestInitVersion keeps it so.
const initVersion = "1.30.3"

// DefaultSchemaRef is where init's modeline points editors: the file
// `meshc schema -o topology.schema.json` writes beside the topology.
const DefaultSchemaRef = "topology.schema.json"

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

type initFlags struct {
	model  string
	name   string
	output string
	schema string
	force  bool
}

func newInitCommand(stdout, stderr io.Writer) *cobra.Command {
	f := &initFlags{}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented starting topology for a deployment model",
		Long: `Write a starting topology, commented line by line, that compiles as it is:

  multi-cp        several meshes and control planes in one cluster (istioctl)
  sail            several meshes in one OpenShift cluster on the Sail operator
  primary-remote  a shared control plane managing a remote on another network
  multi-primary   a control plane in each of two clusters on two networks
  external        an external control plane for a config cluster and a remote

Its first line is the YAML language server's modeline: with
'meshc schema -o topology.schema.json' beside it, editors complete and check
fields as you type.`,
		Example: `  meshc init --model primary-remote --name payments -o topology.yaml
  meshc schema -o topology.schema.json
  meshc build topology.yaml -o out/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInit(f, stdout, stderr)
		},
	}
	cmd.Flags().StringVar(&f.model, "model", "", "deployment model: "+strings.Join(initModels, ", ")+" (required)")
	cmd.Flags().StringVar(&f.name, "name", "", "the topology's name, a DNS-1123 label (default: the model's name)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "file to write (default: standard output); never overwrites an existing file unless --force")
	cmd.Flags().StringVar(&f.schema, "schema", DefaultSchemaRef, "the JSON Schema the modeline points editors at (a path relative to the file, or a URL)")
	cmd.Flags().BoolVar(&f.force, "force", false, "overwrite the --output file if it exists")
	_ = cmd.RegisterFlagCompletionFunc("model", cobra.FixedCompletions(initModels, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runInit(f *initFlags, stdout, stderr io.Writer) error {
	if f.model == "" {
		return userError(fmt.Errorf("--model is required: one of %s", strings.Join(initModels, ", ")))
	}
	if !slices.Contains(initModels, f.model) {
		return userError(fmt.Errorf("--model %q is not a model meshc knows: use one of %s", f.model, strings.Join(initModels, ", ")))
	}
	name := f.name
	if name == "" {
		name = f.model
	}
	if !dnsLabel.MatchString(name) || len(name) > 63 {
		return userError(fmt.Errorf("--name %q is not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters", name))
	}
	data, err := initTopology(f.model, name, f.schema, f.output)
	if err != nil {
		return userError(err)
	}
	if f.output == "" || f.output == "-" {
		_, err := stdout.Write(data)
		return err
	}
	if !f.force {
		if _, err := os.Lstat(f.output); err == nil {
			return userError(fmt.Errorf("%s already exists: choose another --output, or add --force to replace it", f.output))
		}
	}
	if err := writeFileAtomic(f.output, data); err != nil {
		return userError(fmt.Errorf("writing %s: %w", f.output, err))
	}
	fmt.Fprintf(stderr, "wrote %s (%s); next: meshc build %s -o out/\n", f.output, f.model, f.output)
	return nil
}

// initTopology returns the starting topology of model, named name, whose
// modeline points at schemaRef; file is where it will be written ("" for
// standard output), quoted in its comments.
func initTopology(model, name, schemaRef, file string) ([]byte, error) {
	if !slices.Contains(initModels, model) {
		return nil, fmt.Errorf("--model %q is not a model meshc knows: use one of %s", model, strings.Join(initModels, ", "))
	}
	src, err := templates.ReadFile("templates/" + model + ".yaml")
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New(model).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, err
	}
	if file == "" || file == "-" {
		file = "topology.yaml"
	}
	var out bytes.Buffer
	err = tmpl.Execute(&out, map[string]string{
		"Name": name, "Version": initVersion, "Schema": schemaRef, "File": filepath.ToSlash(file),
	})
	return out.Bytes(), err
}
