package cli

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler"
)

// Shell completion of flag values and arguments. `meshc completion bash`
// (zsh, fish, powershell) prints the script that asks meshc for them.

// topologyExtensions are the files a TOPOLOGY argument completes to.
var topologyExtensions = []string{"yaml", "yml", "cue", "json"}

// completeTopology completes the first argument to a topology file.
func completeTopology(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return topologyExtensions, cobra.ShellCompDirectiveFilterFileExt
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

func completeTargets(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	out := make([]string, len(compiler.Targets))
	for i, t := range compiler.Targets {
		out[i] = string(t)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeDelivery completes --delivery's comma-separated list: the systems
// not yet named, after those that are.
func completeDelivery(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	prefix := ""
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		prefix = toComplete[:i+1]
	}
	named := strings.Split(prefix, ",")
	var out []string
	for _, s := range compiler.DeliverySystems {
		if !slices.Contains(named, s) {
			out = append(out, prefix+s)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeFormat completes the global --format: diff also prints markdown.
func completeFormat(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	out := []string{"text", "json"}
	if cmd.Name() == "diff" {
		out = append(out, "markdown")
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func completeDirs(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// completeExplain completes explain's arguments: the topology file, then
// every cluster, namespace and object the compiled topology has. A
// topology that does not compile completes to nothing.
func completeExplain(target *string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return topologyExtensions, cobra.ShellCompDirectiveFilterFileExt
		}
		if len(args) > 1 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var t compiler.Target
		if *target != "" {
			parsed, err := compiler.ParseTarget(*target)
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			t = parsed
		}
		res, err := compiler.Compile(args[0], compiler.Options{Target: t})
		if err != nil {
			return nil, cobra.ShellCompDirectiveError | cobra.ShellCompDirectiveNoFileComp
		}
		return completePath(res.ExplainNames(), toComplete)
	}
}

// completePath completes toComplete among slash-separated names one
// segment at a time, as shells complete file paths: a fleet has tens of
// thousands of objects, and "c-0042/" is what to offer before them.
// Names that go on after the segment end in "/" and take no space after.
func completePath(names []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var out []string
	seen := map[string]bool{}
	partial := false
	for _, name := range names {
		rest, ok := strings.CutPrefix(name, toComplete)
		if !ok {
			continue
		}
		if i := strings.Index(rest, "/"); i >= 0 {
			name = toComplete + rest[:i+1]
			partial = true
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	directive := cobra.ShellCompDirectiveNoFileComp
	if partial {
		directive |= cobra.ShellCompDirectiveNoSpace
	}
	return out, directive
}

// completeTopologies completes every argument to a topology file.
func completeTopologies(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return topologyExtensions, cobra.ShellCompDirectiveFilterFileExt
}
