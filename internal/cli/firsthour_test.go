package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/internal/cli"
)

var models = []string{"multi-cp", "sail", "primary-remote", "multi-primary", "external"}

// run runs meshc in-process and returns its exit code and outputs.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestInitCompiles compiles the starting topology of every model as init
// writes it, for every target, and builds and checks every bundle of the
// default target with --verify.
func TestInitCompiles(t *testing.T) {
	for _, model := range models {
		t.Run(model, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "topology.yaml")
			code, _, stderr := run(t, "init", "--model", model, "--name", "shop", "-o", file)
			if code != 0 {
				t.Fatalf("init exited %d: %s", code, stderr)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, []byte("# yaml-language-server: $schema="+cli.DefaultSchemaRef+"\n")) {
				t.Errorf("no modeline on the first line:\n%s", data[:min(len(data), 200)])
			}
			if n := bytes.Count(data, []byte("#")); n < 5 {
				t.Errorf("only %d comments: a starting topology explains itself", n)
			}
			res, err := compiler.Compile(file, compiler.Options{Verify: true})
			if err != nil {
				t.Fatalf("compile with --verify: %v", err)
			}
			if res.Topology.Metadata.Name != "shop" {
				t.Errorf("name %q, want shop", res.Topology.Metadata.Name)
			}
			for _, target := range emit.Targets {
				if _, err := compiler.Compile(file, compiler.Options{Target: target}); err != nil {
					t.Errorf("target %s: %v", target, err)
				}
			}
		})
	}
}

func TestInitRefuses(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "t.yaml")
	if err := os.WriteFile(existing, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"init"}, "--model is required"},
		{[]string{"init", "--model", "star"}, `--model "star" is not a model`},
		{[]string{"init", "--model", "../sail"}, "is not a model"},
		{[]string{"init", "--model", "sail", "--name", "Shop"}, "not a DNS-1123 label"},
		{[]string{"init", "--model", "sail", "-o", existing}, "already exists"},
	} {
		code, stdout, stderr := run(t, tt.args...)
		if code != cli.ExitUserError || !strings.Contains(stderr, tt.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
	if data, _ := os.ReadFile(existing); string(data) != "mine\n" {
		t.Errorf("init overwrote %s", existing)
	}
	if code, _, stderr := run(t, "init", "--model", "sail", "-o", existing, "--force"); code != 0 {
		t.Errorf("--force: exit %d: %s", code, stderr)
	}
}

// TestSchemaCommitted keeps schema/topology.schema.json, which the example
// topologies' modelines point at, what `meshc schema` prints.
func TestSchemaCommitted(t *testing.T) {
	code, got, stderr := run(t, "schema")
	if code != 0 {
		t.Fatalf("schema exited %d: %s", code, stderr)
	}
	want, err := os.ReadFile("../../schema/topology.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("schema/topology.schema.json is not what meshc schema prints: run make schema")
	}
}

// topologySchema compiles what `meshc schema` prints.
func topologySchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	code, out, stderr := run(t, "schema")
	if code != 0 {
		t.Fatalf("schema exited %d: %s", code, stderr)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("topology.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("topology.schema.json")
	if err != nil {
		t.Fatalf("the exported schema does not compile: %v", err)
	}
	return sch
}

// yamlDoc decodes YAML as the JSON an editor's language server checks.
func yamlDoc(t *testing.T, data []byte) any {
	t.Helper()
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestExamplesMatchSchema validates every example topology and every init
// model against the exported JSON Schema, checks that each names it in a
// modeline, and that the schema refuses what the CUE schema refuses.
func TestExamplesMatchSchema(t *testing.T) {
	sch := topologySchema(t)
	files, err := filepath.Glob("../../topologies/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example topologies: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte("# yaml-language-server: $schema=../schema/topology.schema.json\n")) {
			t.Errorf("%s: the first line is not the modeline naming ../schema/topology.schema.json", f)
		}
		if err := sch.Validate(yamlDoc(t, data)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, model := range models {
		code, out, stderr := run(t, "init", "--model", model)
		if code != 0 {
			t.Fatalf("init --model %s exited %d: %s", model, code, stderr)
		}
		if err := sch.Validate(yamlDoc(t, []byte(out))); err != nil {
			t.Errorf("init --model %s: %v", model, err)
		}
	}
	for _, bad := range []string{
		"apiVersion: meshc.dev/v1alpha1\nkind: Topology\nmetadata: {name: t}\nclusters: {c1: {platfrom: openshift}}\nmeshes: {}\n",
		"apiVersion: meshc.dev/v1alpha1\nkind: Topology\nmetadata: {name: T}\nclusters: {}\nmeshes: {}\n",
		"apiVersion: meshc.dev/v1alpha1\nkind: Topology\nmetadata: {name: t}\nmeshes: {}\n",
		"apiVersion: meshc.dev/v1alpha1\nkind: Topology\nmetadata: {name: t}\nclusters: {c1: {platform: k8s}}\nmeshes: {}\n",
	} {
		if err := sch.Validate(yamlDoc(t, []byte(bad))); err == nil {
			t.Errorf("the schema accepts\n%s", bad)
		}
	}
}

// complete asks meshc for completions as the shell scripts do and returns
// the candidates, without cobra's trailing directive line.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	code, out, stderr := run(t, append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %v exited %d: %s", args, code, stderr)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, ":") {
			break
		}
		name, _, _ := strings.Cut(line, "\t")
		got = append(got, name)
	}
	return got
}

func TestCompletion(t *testing.T) {
	example := "../../topologies/primary-remote-two-networks.yaml"
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"build", "t.yaml", "--target", ""}, []string{"sail", "istioctl", "helm", "rendered"}},
		{[]string{"explain", "t.yaml", "--target", ""}, []string{"sail", "istioctl", "helm", "rendered"}},
		{[]string{"diff", "t.yaml", "--target", ""}, []string{"sail", "istioctl", "helm", "rendered"}},
		{[]string{"build", "t.yaml", "--delivery", ""}, []string{"argocd", "flux"}},
		{[]string{"build", "t.yaml", "--delivery", "flux,"}, []string{"flux,argocd"}},
		{[]string{"validate", "t.yaml", "--format", ""}, []string{"text", "json"}},
		{[]string{"diff", "t.yaml", "--format", ""}, []string{"text", "json", "markdown"}},
		{[]string{"graph", "t.yaml", "--format", ""}, []string{"mermaid", "dot", "svg"}},
		{[]string{"init", "--model", ""}, models},
		{[]string{"explain", example, "cluster/"}, []string{"cluster/main0", "cluster/remote0"}},
	} {
		got := complete(t, tt.args...)
		if !slices.Equal(got, tt.want) {
			t.Errorf("complete %v = %q, want %q", tt.args, got, tt.want)
		}
	}
	// One segment at a time, as paths: first the forms and clusters, then
	// a cluster's kinds, then their objects.
	if got, want := complete(t, "explain", example, ""), []string{"cluster/", "namespace/", "main0/", "remote0/"}; !slices.Equal(got, want) {
		t.Errorf("complete explain '' = %q, want %q", got, want)
	}
	kinds := complete(t, "explain", example, "remote0/")
	if len(kinds) < 5 || !slices.Contains(kinds, "remote0/istio/") {
		t.Errorf("complete explain remote0/ = %q, want remote0's kinds (remote0/istio/ among them)", kinds)
	}
	for _, k := range kinds {
		if !strings.HasPrefix(k, "remote0/") || !strings.HasSuffix(k, "/") {
			t.Errorf("complete explain remote0/ offers %q", k)
		}
	}
	if got := complete(t, "explain", example, "remote0/istio/"); !slices.Equal(got, []string{"remote0/istio/default"}) {
		t.Errorf("complete explain remote0/istio/ = %q, want remote0/istio/default", got)
	}
	if got := complete(t, "explain", example, "namespace/main0/"); !slices.Contains(got, "namespace/main0/sample") {
		t.Errorf("complete explain namespace/main0/ = %q, want namespace/main0/sample among them", got)
	}
	// A topology that does not compile completes to nothing.
	if got := complete(t, "explain", "missing.yaml", ""); len(got) != 0 {
		t.Errorf("complete explain missing.yaml = %q, want nothing", got)
	}
}

func TestVersionFlag(t *testing.T) {
	code, out, _ := run(t, "--version")
	_, version, _ := run(t, "version")
	first, _, _ := strings.Cut(version, "\n")
	if code != 0 || out != first+"\n" || !strings.HasPrefix(out, "meshc ") {
		t.Errorf("--version = %q (exit %d), want %q, the first line of meshc version", out, code, first)
	}
}
