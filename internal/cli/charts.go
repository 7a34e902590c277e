package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/release"
)

func newChartsCommand(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "charts",
		Short: "Fetch the Istio charts the rendered target renders",
		Long: `The rendered target renders each control plane with the charts of its own
Istio release. meshc embeds the charts of ` + joinComma(compiler.EmbeddedChartReleases()) + `;
meshc charts pull fetches any other release's into the chart cache
($MESHC_CHARTS_CACHE, else meshc/charts in your cache folder), where build
finds them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newChartsPullCommand(stdout))
	return cmd
}

func newChartsPullCommand(stdout io.Writer) *cobra.Command {
	var repository, dest string
	cmd := &cobra.Command{
		Use:   "pull VERSION...",
		Short: "Fetch Istio releases' charts (base, istiod, cni, gateway) into the chart cache",
		Long: `Fetch the charts of each Istio release named (base, istiod, cni, gateway) with
Helm's client from Istio's chart repository, over HTTP or OCI, into
DEST/<version>/<chart>. A release already there is left as it is; a release
appears whole or not at all.`,
		Example: `  meshc charts pull 1.31.4 1.32.0
  meshc charts pull --repository ` + release.ChartRepositoryOCI + ` 1.32.0
  meshc charts pull --dest charts 1.30.3 && meshc build t.yaml --target rendered --charts charts`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dest == "" {
				d, err := compiler.ChartCacheDir()
				if err != nil {
					return userError(fmt.Errorf("no chart cache: %w; pass --dest", err))
				}
				dest = d
			}
			var versions []release.Version
			for _, a := range args {
				r, err := release.Resolve(a)
				if err != nil {
					return userError(err)
				}
				versions = append(versions, r.Version)
			}
			for _, v := range versions {
				pulled, err := compiler.PullCharts(repository, v.String(), dest)
				if err != nil {
					return fmt.Errorf("Istio %s: %w", v, err)
				}
				if pulled {
					fmt.Fprintf(stdout, "pulled Istio %s charts into %s\n", v, dest)
				} else {
					fmt.Fprintf(stdout, "Istio %s charts already in %s\n", v, dest)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&repository, "repository", release.ChartRepository, "Istio's chart repository: https://… or oci://…")
	cmd.Flags().StringVar(&dest, "dest", "", "folder to pull into (default: the chart cache)")
	_ = cmd.RegisterFlagCompletionFunc("dest", completeDirs)
	return cmd
}

func joinComma(s []string) string {
	switch len(s) {
	case 0:
		return "no release"
	case 1:
		return s[0]
	}
	out := ""
	for i, x := range s {
		switch {
		case i == 0:
		case i == len(s)-1:
			out += " and "
		default:
			out += ", "
		}
		out += x
	}
	return out
}
