package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"meshc.dev/meshc/internal/cli"
	"meshc.dev/meshc/internal/fleet"
)

// TestReviewFleetVersionBump reviews an Istio patch upgrade of a 1,000
// cluster fleet the way CI does (diff --base, Markdown) and checks the
// review fits one pull-request comment, starting with the marker a bot
// updates its comment by, and accounts for every cluster.
func TestReviewFleetVersionBump(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a 1,000-cluster fleet twice")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git for diff --base")
	}
	repo := t.TempDir()
	file := filepath.Join(repo, "fleet.yaml")
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	size := fleet.Fleet
	if err := os.WriteFile(file, fleet.YAML(size), 0o644); err != nil {
		t.Fatal(err)
	}
	git("init", "-q")
	git("add", "fleet.yaml")
	git("commit", "-q", "-m", "fleet")
	size.Version = "1.31.0"
	if err := os.WriteFile(file, fleet.YAML(size), 0o644); err != nil {
		t.Fatal(err)
	}

	code, md, stderr := run(t, "diff", file, "--base", "HEAD", "--format", "markdown")
	if code != cli.ExitUserError {
		t.Fatalf("diff exited %d, want 1 (changes): %s", code, stderr)
	}
	if n := len([]rune(md)); n > 65536 {
		t.Fatalf("the review is %d characters: more than a pull-request comment holds", n)
	}
	if !strings.HasPrefix(md, cli.MarkdownMarker("fleet")+"\n### meshc: fleet (sail) against HEAD\n") {
		t.Errorf("the review does not start with its marker line:\n%.300s", md)
	}
	if !strings.Contains(md, "**1000 clusters changed**") {
		t.Errorf("the summary does not count 1,000 clusters:\n%.2000s", md)
	}
	for _, want := range []string{"spec.version: v1.30.3", "spec.version: v1.31.0"} {
		if !strings.Contains(md, want) {
			t.Errorf("the review lacks %q:\n%.3000s", want, md)
		}
	}
	t.Logf("review: %d characters, %d sections", len([]rune(md)), strings.Count(md, "<details>"))
	if dump := os.Getenv("MESHC_REVIEW_DUMP"); dump != "" {
		_ = os.WriteFile(dump, []byte(md), 0o644)
	}
}
