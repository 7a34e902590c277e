// Package cli is meshc's command line: flag parsing and printing around the
// compiler façade, with as little logic of its own as possible.
//
// Exit codes: 0 success, 1 the user's input is wrong (or, for build --check,
// the committed output is stale), 2 meshc itself failed.
//
// Import direction: cli imports the compiler façade and the shared
// vocabulary (diag, model, istio), never a stage; TestImportDirection
// keeps it so.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/diag"
)

// Exit codes.
const (
	ExitOK        = 0
	ExitUserError = 1
	ExitFailure   = 2
)

// exitError carries the exit code for an error already printed or to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// userError marks err as the user's to fix (exit 1).
func userError(err error) error { return &exitError{code: ExitUserError, err: err} }

// globalFlags apply to every command.
type globalFlags struct {
	format      string        // text or json
	evalTimeout time.Duration // how long loading a topology may take
}

// Main runs meshc with os.Args and returns the exit code.
func Main() int {
	return Run(os.Args[1:], os.Stdout, os.Stderr)
}

// Run runs meshc with args, printing to stdout and stderr.
func Run(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var diags diag.List
	var conflict *compiler.ConflictError
	var folder *compiler.FolderError
	var exit *exitError
	switch {
	case errors.As(err, &diags):
		// printed by the command, in the chosen format
		return ExitUserError
	case errors.As(err, &conflict):
		fmt.Fprintf(stderr, "error: %v\n    hint: move those files away, or choose another --output folder\n", conflict)
		return ExitUserError
	case errors.As(err, &folder):
		fmt.Fprintf(stderr, "error: %v\n", folder)
		return ExitUserError
	case errors.As(err, &exit):
		if exit.err != nil && exit.err.Error() != "" {
			fmt.Fprintf(stderr, "error: %v\n", exit.err)
		}
		return exit.code
	}
	if isUsageError(err) {
		fmt.Fprintf(stderr, "error: %v\nrun 'meshc --help' for usage\n", err)
		return ExitUserError
	}
	fmt.Fprintf(stderr, "meshc failed: %v\n", err)
	return ExitFailure
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "meshc",
		Short: "meshc compiles a mesh topology into one Kustomize bundle per cluster",
		Long: `meshc, the mesh topology compiler.

One topology file describes clusters, networks, Istio meshes, their control
planes and tenants. meshc validates it and compiles it, offline and
deterministically, into one Kustomize bundle per cluster for Git, Argo CD
and Flux.`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			// markdown is diff's alone; it checks its formats itself.
			if g.format != "text" && g.format != "json" && !(g.format == "markdown" && cmd.Name() == "diff") {
				return userError(fmt.Errorf("--format must be text or json, not %q", g.format))
			}
			if g.evalTimeout < 0 {
				return userError(fmt.Errorf("--eval-timeout must not be negative, not %v", g.evalTimeout))
			}
			compiler.SetEvalTimeout(g.evalTimeout)
			return nil
		},
	}
	root.SetVersionTemplate("meshc {{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return userError(fmt.Errorf("%w\nrun '%s --help' for usage", err, cmd.CommandPath()))
	})
	root.PersistentFlags().StringVar(&g.format, "format", "text", "how to print diagnostics and results: text or json (diff: also markdown)")
	root.PersistentFlags().DurationVar(&g.evalTimeout, "eval-timeout", compiler.DefaultEvalTimeout, "stop loading a topology (CUE evaluation) after this long, with error E008; 0 means no limit")
	_ = root.RegisterFlagCompletionFunc("format", completeFormat)
	root.AddCommand(
		newInitCommand(stdout, stderr),
		newSchemaCommand(stdout),
		newBuildCommand(g, stdout, stderr),
		newValidateCommand(g, stdout, stderr),
		newGraphCommand(g, stdout, stderr),
		newDiffCommand(g, stdout, stderr),
		newVersionCommand(g, stdout),
		newExplainCommand(g, stdout, stderr),
		newChartsCommand(stdout),
	)
	return root
}

// printDiagnostics prints a user error's diagnostics once, in the chosen
// format: text on stderr, JSON on stdout (for tools to parse).
func printDiagnostics(g *globalFlags, stdout, stderr io.Writer, err error) error {
	return printDiagnosticsOf(g, stdout, stderr, err, false)
}

// printBuildDiagnostics is printDiagnostics for a command that would have
// written output: its count says that nothing was.
func printBuildDiagnostics(g *globalFlags, stdout, stderr io.Writer, err error) error {
	return printDiagnosticsOf(g, stdout, stderr, err, true)
}

func printDiagnosticsOf(g *globalFlags, stdout, stderr io.Writer, err error, writes bool) error {
	var diags diag.List
	if !errors.As(err, &diags) {
		return err
	}
	if g.format == "json" {
		_ = diags.WriteJSON(stdout)
	} else {
		_ = diags.WriteText(stderr)
		fmt.Fprintf(stderr, "%s\n", countErrors(len(diags), writes))
	}
	return err
}

// printWarnings prints warnings for a terminal, on stderr, with their
// count; they do not stop anything (--strict makes warnings errors).
func printWarnings(stderr io.Writer, warnings diag.List) {
	if len(warnings) == 0 {
		return
	}
	_ = warnings.WriteText(stderr)
	fmt.Fprintf(stderr, "%s (--strict makes warnings errors)\n", plural(len(warnings), "warning"))
}

func countErrors(n int, writes bool) string {
	count := plural(n, "error")
	if writes {
		count += "; nothing written"
	}
	return count
}

// isUsageError recognises cobra's own errors about the command line (wrong
// argument count, unknown command), which reach Run as plain errors.
func isUsageError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"unknown command", "accepts ", "arg(s)", "requires at least", "unknown flag", "unknown shorthand flag"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
