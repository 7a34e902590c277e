package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler"
)

func newExplainCommand(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	var target string
	cmd := &cobra.Command{
		Use:   "explain TOPOLOGY WHAT",
		Short: "Say why a cluster, namespace or object is in the bundles, and which topology lines put it there",
		Long: `Compile a topology and explain one thing in its output: which mesh, control
plane and rule put it there, and which topology lines (file:line:col, with the
line quoted) caused it. WHAT is one of

  cluster/<cluster>                       its network, platform, control planes, meshes,
                                          bundle by layer, CNI, discovery and gateways
  namespace/<cluster>/<namespace>         why it exists, each label and annotation, its policies
  <cluster>/<kind>/<name>                 an object (kind in any case), e.g. main0/istio/default
  <cluster>/<kind>/<namespace>/<name>     a namespaced object
  clusters/<cluster>/<layer>/...yaml      a rendered file

Nothing is written.`,
		Example: `  meshc explain topologies/primary-remote-two-networks.yaml cluster/remote0
  meshc explain topologies/multiple-control-planes.yaml namespace/cluster1/app-ns-1
  meshc explain topologies/primary-remote-two-networks.yaml main0/istio/default
  meshc explain topology.yaml clusters/main0/mesh-config/istio-system/peerauthentication-mesh1-peerauth.yaml --format json`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeExplain(&target),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplain(g, target, args[0], args[1], stdout, stderr)
		},
	}
	cmd.Flags().StringVar(&target, "target", "", "installer target: sail, istioctl, helm or rendered (default: the topology's defaults.installer, else sail)")
	_ = cmd.RegisterFlagCompletionFunc("target", completeTargets)
	return cmd
}

func runExplain(g *globalFlags, targetName, path, what string, stdout, stderr io.Writer) error {
	var target compiler.Target
	if targetName != "" {
		t, err := compiler.ParseTarget(targetName)
		if err != nil {
			return userError(err)
		}
		target = t
	}
	res, err := compiler.Compile(path, compiler.Options{Target: target})
	if err != nil {
		return printDiagnostics(g, stdout, stderr, err)
	}
	// The file compiled a moment ago; without it answers lose only the
	// quoted lines, not the positions.
	src, _ := os.ReadFile(path)
	answer, err := res.Explain(src, what)
	var notFound *compiler.NotFoundError
	if errors.As(err, &notFound) {
		if g.format == "json" {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(map[string]any{
				"error":       fmt.Sprintf("cannot explain %q: %s", notFound.What, notFound.Reason),
				"suggestions": nonNil(notFound.Suggestions),
			})
			return &exitError{code: ExitUserError, err: errors.New("")}
		}
		return userError(notFound)
	} else if err != nil {
		return err
	}
	if g.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(answer)
	}
	return answer.WriteText(stdout)
}
