package cli

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestCIExamplesUseRealFlags keeps the pre-commit hooks and the example CI
// workflow in step with the command line: every meshc command they run
// exists and takes the flags they give it, and the workflow finds its
// comment by the marker diff writes.
func TestCIExamplesUseRealFlags(t *testing.T) {
	var hooks []struct {
		ID    string `json:"id"`
		Entry string `json:"entry"`
	}
	data, err := os.ReadFile("../../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &hooks); err != nil {
		t.Fatal(err)
	}
	var commands []string
	for _, h := range hooks {
		commands = append(commands, h.Entry)
	}
	if len(commands) != 2 {
		t.Errorf("%d hooks, want meshc-validate and meshc-build-check", len(commands))
	}
	workflow, err := os.ReadFile("../../examples/ci/github-actions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var parsed map[string]any
	if err := yaml.Unmarshal(workflow, &parsed); err != nil {
		t.Fatalf("the workflow is not YAML: %v", err)
	}
	for _, line := range strings.Split(string(workflow), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "run:"))
		if strings.HasPrefix(line, "meshc ") {
			commands = append(commands, line)
		}
	}
	if len(commands) < 5 {
		t.Fatalf("found only %q", commands)
	}
	flag := regexp.MustCompile(`^--?[a-z-]+`)
	for _, c := range commands {
		words := strings.Fields(c)[1:]
		root := newRootCommand(io.Discard, io.Discard)
		root.InitDefaultVersionFlag() // cobra adds --version when it runs
		cmd, rest, err := root.Find(words)
		if err != nil || cmd == root && len(words) > 0 && !strings.HasPrefix(words[0], "-") {
			t.Errorf("%q: no such command: %v", c, err)
			continue
		}
		for _, w := range rest {
			name := flag.FindString(w)
			if name == "" {
				continue
			}
			if (strings.HasPrefix(name, "--") && cmd.Flags().Lookup(name[2:]) == nil && cmd.InheritedFlags().Lookup(name[2:]) == nil) ||
				(!strings.HasPrefix(name, "--") && cmd.Flags().ShorthandLookup(name[1:]) == nil) {
				t.Errorf("%q: meshc %s has no flag %s", c, cmd.Name(), name)
			}
		}
	}
	if !strings.Contains(string(workflow), "--format markdown") || !strings.Contains(string(workflow), "build \"$TOPOLOGY\" -o \"$OUTPUT\" --check") {
		t.Errorf("the workflow does not post the Markdown diff and run build --check")
	}
	if !strings.HasPrefix(MarkdownMarker("t"), "<!-- ") || !strings.Contains(string(workflow), "body.split('\\n', 1)[0]") {
		t.Errorf("the workflow does not find its comment by the first line, the marker")
	}
}
