package check_test

import (
	"strings"
	"testing"

	"meshc.dev/meshc/compiler/check"
	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/release"
)

// TestForTarget pins the checks that depend on the installer target: which
// releases the Sail operator the topology runs against installs, where the
// helm target's charts are published, whether the rendered target has the
// charts of every release.
func TestForTarget(t *testing.T) {
	has := map[string]bool{"1.30.3": true}
	rendered := check.Target{
		Name:        "rendered",
		HasCharts:   func(v string) bool { return has[v] },
		FetchCharts: func(vs []string) string { return "run `meshc charts pull " + strings.Join(vs, " ") + "`" },
	}
	sail := check.Target{Name: "sail"}
	helm := check.Target{Name: "helm"}
	tests := []struct {
		name   string
		target check.Target
		mutate func(*model.Topology)
		want   []want
	}{
		{name: "sail installs a supported release", target: sail},
		{
			name:   "sail refuses an end-of-life release, naming the nearest it installs",
			target: sail,
			mutate: func(t *model.Topology) { t.Meshes["m1"].Version = "1.24.6" },
			want: []want{w(diag.SailWillNotInstall, "meshes.m1.version",
				"the Sail operator 1.31 (meshc's default) will not install Istio 1.24.6: it installs 1.29.0 to 1.31.0").
				withHint("use 1.29.0, the nearest release it installs", "installs 1.24.6 (1.26, 1.27) and set defaults.sail.operator")},
		},
		{
			name:   "a Sail operator that installs the release",
			target: sail,
			mutate: func(t *model.Topology) {
				t.Defaults.Sail.Operator = "1.27.9"
				t.Defaults.Istio.Version = "1.24.6"
			},
		},
		{
			name:   "sail refuses a release newer than the operator's line",
			target: sail,
			mutate: func(t *model.Topology) {
				t.Defaults.Sail.Operator = "1.29"
				t.Meshes["m2"].Version = "1.29.6"
			},
			want: []want{
				w(diag.SailWillNotInstall, "defaults.istio.version", "the Sail operator 1.29 will not install Istio 1.30.3: it installs 1.27.0 to 1.29.6").withHint("use 1.29.6", "(1.30, 1.31)"),
			},
		},
		{
			name:   "a patch the operator's list does not have yet is a warning",
			target: sail,
			mutate: func(t *model.Topology) { t.Defaults.Istio.Version = "1.31.4" },
			want: []want{w(diag.SailUnlisted, "defaults.istio.version", "installs Istio 1.29.0 to 1.31.0 as far as meshc knows (release 1.31.0); it cannot confirm 1.31.4").
				withHint("lists v1.31.4")},
		},
		{
			name:   "a Sail operator newer than meshc knows is assumed, with a warning",
			target: sail,
			mutate: func(t *model.Topology) {
				t.Defaults.Sail.Operator = "1.32.0"
				t.Defaults.Istio.Version = "1.32.0"
			},
			want: []want{w(diag.SailUnlisted, "defaults.sail.operator", "meshc does not know Sail operator 1.32.0; it assumes it installs Istio 1.30.0 to 1.32.0")},
		},
		{
			name:   "a Sail operator older than meshc knows",
			target: sail,
			mutate: func(t *model.Topology) { t.Defaults.Sail.Operator = "1.25" },
			want:   []want{w(diag.SailWillNotInstall, "defaults.sail.operator", "meshc knows Sail operator releases 1.26 to 1.31").withHint("1.26, 1.27, 1.28, 1.29, 1.30, 1.31")},
		},
		{name: "the istioctl target installs any release meshc knows", target: check.Target{Name: "istioctl"},
			mutate: func(t *model.Topology) { t.Meshes["m1"].Version = "1.24.6" }},
		{name: "helm from the default repository", target: helm},
		{
			name:   "helm from the old host: no charts from 1.31 on",
			target: helm,
			mutate: func(t *model.Topology) {
				t.Defaults.Helm.Repository = release.LegacyChartRepository
				t.Meshes["m2"].Version = "1.31.4"
			},
			want: []want{w(diag.ChartsNotPublished, "meshes.m2.version", "publishes no charts of Istio 1.31.4").
				withHint("set defaults.helm.repository to https://blob.istio.io/istio-release/charts")},
		},
		{
			name:   "helm from the old host while it lasts",
			target: helm,
			mutate: func(t *model.Topology) { t.Defaults.Helm.Repository = release.LegacyChartRepository + "/" },
			want:   []want{w(diag.LegacyChartHost, "defaults.helm.repository", "goes away in December 2026")},
		},
		{
			name:   "rendered without the charts of a release names the command that fetches them",
			target: rendered,
			mutate: func(t *model.Topology) {
				t.Meshes["m1"].Version = "1.31.4"
				t.Meshes["m2"].Version = "1.32.0"
			},
			want: []want{
				w(diag.MissingCharts, "meshes.m1.version", "the rendered target has no charts of Istio 1.31.4").withHint("meshc charts pull 1.31.4 1.32.0"),
				w(diag.MissingCharts, "meshes.m2.version", "no charts of Istio 1.32.0"),
			},
		},
		{name: "rendered with the charts", target: rendered},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			topo := base()
			if tc.mutate != nil {
				tc.mutate(topo)
			}
			topo.ResolveDefaults()
			got := check.ForTarget(topo, tc.target)
			assertDiags(t, got, tc.want)
			for _, d := range got {
				if strings.HasPrefix(string(d.Code), "W") != d.IsWarning() {
					t.Errorf("%s has severity %q", d.Code, d.Severity)
				}
			}
		})
	}
}
