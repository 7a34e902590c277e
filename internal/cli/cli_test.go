package cli_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"meshc.dev/meshc/internal/cli"
)

// TestMain lets the test binary double as the meshc command: testscript puts
// a copy of it named meshc on $PATH, so scripts run it with `exec meshc`,
// as a separate process with its own exit code, exactly as users do.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"meshc": func() { os.Exit(cli.Main()) },
	})
}

// TestScript runs testdata/script/*.txtar: one case per diagnostic code
// (diag_*.txtar), pinning every diagnostic's full text, and the CLI's
// behaviour (cli_*.txtar).
//
// To re-pin expected outputs on purpose (after changing a message, say), run
//
//	MESHC_UPDATE_SCRIPTS=1 go test ./internal/cli/
//
// which rewrites the second argument of every failing `cmp` inside its
// archive; then review the diff.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       os.Getenv("MESHC_UPDATE_SCRIPTS") == "1",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			// Deterministic output whatever the developer's environment.
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("NO_COLOR", "1")
			env.Setenv("TERM", "dumb")
			env.Setenv("LANG", "C")
			env.Setenv("LC_ALL", "C")
			// The example topologies, for scripts to copy in.
			examples, err := filepath.Abs("../../topologies")
			if err != nil {
				return err
			}
			env.Setenv("TOPOLOGIES", examples)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitCode,
			"treestat": cmdTreeStat,
			"withkey":  cmdWithKey,
		},
	})
}

// cmdExitCode runs a program and checks its exact exit code, which `exec`
// (zero or not) cannot: meshc promises 1 for the user's errors and 2 for its
// own failures. stdout and stderr are kept for the commands that follow, as
// after exec.
//
//	exitcode 1 meshc validate t.yaml
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: invalid code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = exitErr.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with code %d, want %d", args[1], got, want)
	}
	ts.Logf("exit code %d", got)
}

// cmdTreeStat prints one line per file and folder under each PATH, PATH
// included: its path, mode, size and modification time in nanoseconds. Two
// listings compare equal only if nothing was created, removed, replaced or
// rewritten in between (meshc replaces a folder it rewrites, so even an
// unchanged file in it would show a new time).
//
//	treestat out
//	cp stdout before.txt
//	...
//	treestat out
//	cmp stdout before.txt
func cmdTreeStat(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! treestat")
	}
	if len(args) == 0 {
		ts.Fatalf("usage: treestat PATH...")
	}
	w := ts.Stdout()
	for _, root := range args {
		err := filepath.WalkDir(ts.MkAbs(root), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(ts.MkAbs("."), p)
			if err != nil {
				return err
			}
			size := fi.Size()
			if fi.IsDir() {
				size = 0 // meaningless for folders, and filesystem-dependent
			}
			_, err = fmt.Fprintf(w, "%s %v %d %d\n", filepath.ToSlash(rel), fi.Mode(), size, fi.ModTime().UnixNano())
			return err
		})
		ts.Check(err)
	}
}

// cmdWithKey copies TEMPLATE to OUT with a private key made on the spot in
// place of its placeholders, so that no key, not even a test's, is ever
// committed to the repository:
//
//	@KEY_PEM@      the PEM, quoted as a YAML, JSON or CUE string
//	@KEY_B64@      the PEM, base64-encoded
//	@KEY_PIECES@   the PEM cut in pieces of 8 bytes, as a list of strings
//
//	withkey t.yaml.in t.yaml
func cmdWithKey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: withkey TEMPLATE OUT")
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	ts.Check(err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	ts.Check(err)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	b64 := base64.StdEncoding.EncodeToString(keyPEM)
	var pieces []string
	for rest := string(keyPEM); rest != ""; rest = rest[min(8, len(rest)):] {
		pieces = append(pieces, strconv.Quote(rest[:min(8, len(rest))]))
	}
	text := strings.NewReplacer(
		"@KEY_PEM@", strconv.Quote(string(keyPEM)),
		"@KEY_B64@", b64,
		"@KEY_PIECES@", "["+strings.Join(pieces, ", ")+"]",
	).Replace(ts.ReadFile(args[0]))
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(text), 0o644))
}

// TestEveryCodeHasScript keeps the promise of compiler/diag/codes.go: every
// diagnostic code has a testscript case, testdata/script/diag_<code>_*.txtar.
func TestEveryCodeHasScript(t *testing.T) {
	src, err := os.ReadFile("../../compiler/diag/codes.go")
	if err != nil {
		t.Fatal(err)
	}
	codes := regexp.MustCompile(`Code = "([EW]\d+)"`).FindAllSubmatch(src, -1)
	if len(codes) == 0 {
		t.Fatal("no codes found in codes.go")
	}
	for _, m := range codes {
		code := string(m[1])
		matches, err := filepath.Glob(filepath.Join("testdata", "script", "diag_"+code+"_*.txtar"))
		if err != nil {
			t.Fatal(err)
		}
		if len(matches) == 0 {
			t.Errorf("diagnostic code %s has no testdata/script/diag_%s_*.txtar", code, code)
		}
	}
}
