package cli

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestVersionStamp: what the release build links into Version is what
// --version and version print, and the Makefile and the Dockerfile name
// this very variable.
func TestVersionStamp(t *testing.T) {
	saved := Version
	t.Cleanup(func() { Version = saved })
	Version = "v1.2.3"
	for _, args := range [][]string{{"--version"}, {"version"}} {
		var stdout, stderr bytes.Buffer
		if code := Run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		if first, _, _ := strings.Cut(stdout.String(), "\n"); first != "meshc v1.2.3" {
			t.Errorf("%v printed %q first, want meshc v1.2.3", args, first)
		}
	}
	symbol := "-X " + reflect.TypeFor[exitError]().PkgPath() + ".Version="
	for _, file := range []string{"../../Makefile", "../../Dockerfile"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), symbol) {
			t.Errorf("%s does not stamp the version with %s", file, symbol)
		}
		if !strings.Contains(string(data), "CGO_ENABLED=0") {
			t.Errorf("%s does not build a static binary (CGO_ENABLED=0)", file)
		}
	}
	makefile, _ := os.ReadFile("../../Makefile")
	for _, want := range []string{"PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64", "sha256sum meshc-* > SHA256SUMS"} {
		if !strings.Contains(string(makefile), want) {
			t.Errorf("make release lacks %q", want)
		}
	}
}
