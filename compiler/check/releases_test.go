package check_test

import (
	"strings"
	"testing"

	"meshc.dev/meshc/compiler/check"
	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/release"
	"meshc.dev/meshc/compiler/resolve"
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
			got := check.ForTarget(resolve.Resolve(topo), tc.target)
			assertDiags(t, got, tc.want)
			for _, d := range got {
				if strings.HasPrefix(string(d.Code), "W") != d.IsWarning() {
					t.Errorf("%s has severity %q", d.Code, d.Severity)
				}
			}
		})
	}
}

// TestValuesForRelease: values that exist only from some release on are
// refused on an older one.
func TestValuesForRelease(t *testing.T) {
	for _, tc := range []struct {
		version string
		values  map[string]any
		want    []want
	}{
		{"1.30.3", map[string]any{"global": map[string]any{"resourceScope": "namespace"}}, nil},
		{"1.27.9", map[string]any{"global": map[string]any{"resourceScope": "namespace"}}, []want{
			w(diag.EndOfLife, "defaults.istio.version"),
			w(diag.InvalidValues, "meshes.m1.controlPlanes.cp1.values.global.resourceScope",
				`values.global.resourceScope exists from Istio 1.28; control plane "cp1" runs 1.27.9`).withHint("run Istio 1.28 or later"),
		}},
		{"1.29.6", map[string]any{"pilot": map[string]any{"env": map[string]any{"PILOT_MULTICLUSTER_KUBECONFIG_PATH": "/etc/kubeconfigs"}}}, []want{
			w(diag.EndOfLife, "defaults.istio.version"),
			w(diag.InvalidValues, "meshes.m1.controlPlanes.cp1.values.pilot.env.PILOT_MULTICLUSTER_KUBECONFIG_PATH", "exists from Istio 1.30"),
		}},
	} {
		topo := base()
		topo.Defaults.Istio.Version = tc.version
		cp(topo, "m1", "cp1").Values = tc.values
		topo.ResolveDefaults()
		assertDiags(t, check.Topology(topo), tc.want)
	}
}

// TestTLSServerNameRelease: a cluster's tlsServerName goes into the remote
// secrets istiods elsewhere read; those before 1.26 do not know the field.
func TestTLSServerNameRelease(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    []want
	}{
		{"1.30.3", nil},
		{"1.25.5", []want{
			w(diag.InvalidValue, "clusters.c2.tlsServerName", `istiod of control plane "cp1" (Istio 1.25.5) reads cluster "c2"'s remote secret`).withHint("1.26 or later"),
			w(diag.EndOfLife, "defaults.istio.version"),
		}},
	} {
		topo := base()
		topo.Defaults.Istio.Version = tc.version
		addCluster(topo, "c2")
		topo.Clusters["c2"].TLSServerName = "api.c2.example.com"
		cp(topo, "m1", "cp1").Remotes = []string{"c2"}
		topo.ResolveDefaults()
		var got diag.List
		for _, d := range check.Topology(topo) {
			if d.Code == diag.InvalidValue || d.Code == diag.EndOfLife {
				got = append(got, d)
			}
		}
		assertDiags(t, got, tc.want)
	}
}
