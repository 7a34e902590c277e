package check_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler/check"
	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
)

// base is a valid topology: one cluster on one network, two meshes whose
// default discovery labels (istio-discovery: m1 / m2) are disjoint, one
// control plane each in its own namespace, and a tenant each.
func base() *model.Topology {
	return &model.Topology{
		APIVersion: model.APIVersion,
		Kind:       model.Kind,
		Metadata:   model.Metadata{Name: "fleet"},
		Defaults:   model.Defaults{Istio: model.IstioDefaults{Version: "1.30.3"}},
		Networks:   map[string]model.Network{"n1": {}},
		Clusters:   map[string]*model.Cluster{"c1": {Network: "n1", APIServer: "https://c1.example.com:6443"}},
		Meshes: map[string]*model.Mesh{
			// m1 is ready to span clusters: cases add control planes elsewhere.
			"m1": {Trust: &model.Trust{Mode: model.TrustManual}, ControlPlanes: map[string]*model.ControlPlane{
				"cp1": {Cluster: "c1", Namespace: "istio-m1"},
			}},
			"m2": {ControlPlanes: map[string]*model.ControlPlane{
				"cp2": {Cluster: "c1", Namespace: "istio-m2"},
			}},
		},
		Tenants: map[string]*model.Tenant{
			"t1": {Mesh: "m1", Namespaces: []string{"app1"}},
			"t2": {Mesh: "m2", Namespaces: []string{"app2"}},
		},
	}
}

func cp(t *model.Topology, mesh, name string) *model.ControlPlane {
	return t.Meshes[mesh].ControlPlanes[name]
}

func addCluster(t *model.Topology, name string) {
	t.Clusters[name] = &model.Cluster{Network: "n1", APIServer: "https://" + name + ".example.com:6443"}
}

// addCanary gives mesh m1 a second control plane in c1, sharing its
// system namespace (as a canary revision does).
func addCanary(t *model.Topology) *model.ControlPlane {
	c := &model.ControlPlane{Cluster: "c1", Namespace: "istio-m1"}
	t.Meshes["m1"].ControlPlanes["cp1-canary"] = c
	return c
}

// want is one expected diagnostic: its code and path exactly, and
// fragments its message (and hint) must contain.
type want struct {
	code diag.Code
	path string
	msg  []string
	hint []string
}

func w(code diag.Code, path string, msg ...string) want {
	return want{code: code, path: path, msg: msg}
}

func (x want) withHint(h ...string) want { x.hint = h; return x }

func run(t *testing.T, topo *model.Topology) diag.List {
	t.Helper()
	topo.ResolveDefaults()
	return check.Topology(topo)
}

func assertDiags(t *testing.T, got diag.List, wants []want) {
	t.Helper()
	pairs := func() string {
		var b strings.Builder
		for _, d := range got {
			fmt.Fprintf(&b, "\n\t%s %s: %s (hint: %s)", d.Code, d.Path, d.Message, d.Hint)
		}
		return b.String()
	}
	if len(got) != len(wants) {
		t.Fatalf("got %d diagnostics, want %d:%s", len(got), len(wants), pairs())
	}
	for i, x := range wants {
		d := got[i]
		if d.Code != x.code || d.Path != x.path {
			t.Errorf("diagnostic %d: got (%s, %s), want (%s, %s)%s", i, d.Code, d.Path, x.code, x.path, pairs())
			continue
		}
		for _, f := range x.msg {
			if !strings.Contains(d.Message, f) {
				t.Errorf("diagnostic %d (%s %s): message %q lacks %q", i, d.Code, d.Path, d.Message, f)
			}
		}
		for _, f := range x.hint {
			if !strings.Contains(d.Hint, f) {
				t.Errorf("diagnostic %d (%s %s): hint %q lacks %q", i, d.Code, d.Path, d.Hint, f)
			}
		}
		if d.Message == "" {
			t.Errorf("diagnostic %d (%s %s) has no message", i, d.Code, d.Path)
		}
	}
}

func TestValidBaseHasNoDiagnostics(t *testing.T) {
	got := run(t, base())
	if got != nil {
		t.Fatalf("valid topology: got %v", got)
	}
	// Checking twice (ResolveDefaults is idempotent) gives the same answer.
	topo := base()
	topo.ResolveDefaults()
	if got := run(t, topo); len(got) != 0 {
		t.Fatalf("after a second ResolveDefaults: got %v", got)
	}
}

func TestRules(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	long64 := strings.Repeat("a", 64)
	tests := []struct {
		name   string
		mutate func(*model.Topology)
		want   []want
	}{
		// References.
		{
			name:   "undefined network",
			mutate: func(t *model.Topology) { t.Clusters["c1"].Network = "n9" },
			want: []want{w(diag.UndefinedNetwork, "clusters.c1.network", `network "n9" is not defined`).
				withHint("define networks.n9: {} or use one of: n1")},
		},
		{
			name: "undefined network, no networks at all",
			mutate: func(t *model.Topology) {
				t.Networks = nil
				t.Clusters["c1"].Network = "n1"
			},
			want: []want{w(diag.UndefinedNetwork, "clusters.c1.network", `network "n1" is not defined`).
				withHint("define networks.n1: {}")},
		},
		{
			name:   "cluster without network is fine",
			mutate: func(t *model.Topology) { t.Clusters["c1"].Network = "" },
		},
		{
			name:   "undefined cluster of a control plane",
			mutate: func(t *model.Topology) { cp(t, "m2", "cp2").Cluster = "c9" },
			want: []want{w(diag.UndefinedCluster, "meshes.m2.controlPlanes.cp2.cluster", `cluster "c9" is not defined`).
				withHint("define clusters.c9 or use one of: c1")},
		},
		{
			name:   "undefined cluster of a tenant",
			mutate: func(t *model.Topology) { t.Tenants["t1"].Clusters = []string{"c1", "c9"} },
			want:   []want{w(diag.UndefinedCluster, "tenants.t1.clusters[1]", `cluster "c9" is not defined`)},
		},
		{
			name:   "tenant lists a defined cluster",
			mutate: func(t *model.Topology) { t.Tenants["t1"].Clusters = []string{"c1"} },
		},
		{
			name:   "undefined mesh",
			mutate: func(t *model.Topology) { t.Tenants["t1"].Mesh = "m9" },
			want: []want{w(diag.UndefinedMesh, "tenants.t1.mesh", `mesh "m9" is not defined`).
				withHint("use one of: m1, m2")},
		},
		{
			name: "undefined control plane (one of another mesh)",
			mutate: func(t *model.Topology) {
				t.Tenants["t1"].ControlPlane = "cp2"
			},
			want: []want{w(diag.UndefinedControlPlane, "tenants.t1.controlPlane", `control plane "cp2" is not defined in mesh "m1"`).
				withHint("cp1")},
		},
		{
			name:   "tenant names its control plane",
			mutate: func(t *model.Topology) { t.Tenants["t1"].ControlPlane = "cp1" },
		},

		// Revisions selected by tenants.
		{
			name:   "revision not served by the only control plane",
			mutate: func(t *model.Topology) { t.Tenants["t1"].Revision = "canary" },
			want: []want{w(diag.UndefinedRevision, "tenants.t1.revision",
				`control plane "cp1" serves no revision or tag "canary"`).withHint("cp1")},
		},
		{
			name: "revision served by none of two control planes",
			mutate: func(t *model.Topology) {
				addCanary(t)
				t.Tenants["t1"].Revision = "nope"
			},
			want: []want{w(diag.UndefinedRevision, "tenants.t1.revision",
				`no control plane of mesh "m1" in cluster "c1" serves revision "nope"`).withHint("cp1, cp1-canary")},
		},
		{
			name: "controlPlane with a revision it does not serve",
			mutate: func(t *model.Topology) {
				addCanary(t)
				t.Tenants["t1"].ControlPlane = "cp1"
				t.Tenants["t1"].Revision = "cp1-canary"
			},
			want: []want{w(diag.UndefinedRevision, "tenants.t1.revision", `control plane "cp1" serves no revision or tag "cp1-canary"`)},
		},
		{
			name:   "revision served",
			mutate: func(t *model.Topology) { t.Tenants["t1"].Revision = "cp1" },
		},
		{
			name: "tag served",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Tags = []string{"stable"}
				t.Tenants["t1"].Revision = "stable"
			},
		},

		// Names.
		{
			name:   "network name with upper case and underscore",
			mutate: func(t *model.Topology) { t.Networks["Net_1"] = model.Network{} },
			want:   []want{w(diag.InvalidName, "networks.Net_1", `network name "Net_1" is not a DNS-1123 label`)},
		},
		{
			name:   "cluster name with a dot",
			mutate: func(t *model.Topology) { t.Clusters["c.2"] = &model.Cluster{} },
			want:   []want{w(diag.InvalidName, `clusters["c.2"]`, `cluster name "c.2"`)},
		},
		{
			name:   "mesh name in upper case",
			mutate: func(t *model.Topology) { t.Meshes["M3"] = &model.Mesh{} },
			want:   []want{w(diag.InvalidName, "meshes.M3", `mesh name "M3"`)},
		},
		{
			name: "control plane name with underscore",
			mutate: func(t *model.Topology) {
				addCluster(t, "c2")
				t.Meshes["m1"].ControlPlanes["cp_x"] = &model.ControlPlane{Cluster: "c2", Namespace: "istio-m1"}
			},
			want: []want{w(diag.InvalidName, "meshes.m1.controlPlanes.cp_x", `control plane name "cp_x"`)},
		},
		{
			name:   "tenant name starting with a dash",
			mutate: func(t *model.Topology) { t.Tenants["-t"] = &model.Tenant{Mesh: "m1"} },
			want:   []want{w(diag.InvalidName, "tenants.-t", `tenant name "-t"`)},
		},
		{
			name: "64-character names",
			mutate: func(t *model.Topology) {
				t.Tenants[long64] = &model.Tenant{Mesh: "m1"}
				t.Clusters[long64] = &model.Cluster{}
			},
			want: []want{
				w(diag.InvalidName, "clusters."+long64, "cluster name"),
				w(diag.InvalidName, "tenants."+long64, "tenant name"),
			},
		},
		{
			name: "63-character names are fine",
			mutate: func(t *model.Topology) {
				t.Tenants[long63] = &model.Tenant{Mesh: "m1", Namespaces: []string{long63}}
				t.Clusters[long63] = &model.Cluster{Network: "n1", APIServer: "https://long.example.com"}
				t.Networks[long63] = model.Network{}
				// Its revision (the name by default) would make istiod's
				// Service name too long: see the next case.
				t.Meshes["m1"].ControlPlanes[long63] = &model.ControlPlane{Cluster: long63, Revision: "r63"}
				t.Tenants["t1"].ControlPlane = "cp1"
				t.Tenants[long63].ControlPlane = long63
			},
		},

		{
			name: "a revision too long for istiod's Service name",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Revision = strings.Repeat("r", 57)
			},
			want: []want{w(diag.InvalidName, "meshes.m1.controlPlanes.cp1.revision", "is too long for istiod's Service").withHint("at most 56 characters")},
		},
		{
			name: "ambient profile on a sidecar mesh",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Profile = "ambient"
			},
			want: []want{w(diag.AmbientProfile, "meshes.m1.controlPlanes.cp1.profile", `profile "ambient" asks for the ambient data plane`).withHint("dataplane: ambient")},
		},
		{
			name: "sidecar profile on an ambient mesh",
			mutate: func(t *model.Topology) {
				t.Meshes["m1"].DataPlane = model.DataPlaneAmbient
				cp(t, "m1", "cp1").Profile = "default"
			},
			want: []want{w(diag.AmbientProfile, "meshes.m1.controlPlanes.cp1.profile", `contradicts mesh "m1"'s ambient data plane`).withHint("the ambient profile")},
		},
		{
			name: "ambient mesh with its own profile written",
			mutate: func(t *model.Topology) {
				t.Meshes["m1"].DataPlane = model.DataPlaneAmbient
				cp(t, "m1", "cp1").Profile = "ambient"
			},
		},
		{
			name: "ambient before 1.24",
			mutate: func(t *model.Topology) {
				t.Meshes["m1"].DataPlane = model.DataPlaneAmbient
				t.Meshes["m1"].Version = "1.23.6"
			},
			want: []want{
				w(diag.AmbientRelease, "meshes.m1.version", "Istio 1.23.6 has no ambient data plane").withHint("1.24 or later"),
				w(diag.EndOfLife, "meshes.m1.version", "end of life"),
			},
		},
		{
			name: "two ambient meshes in one cluster",
			mutate: func(t *model.Topology) {
				t.Meshes["m1"].DataPlane = model.DataPlaneAmbient
				t.Meshes["m2"].DataPlane = model.DataPlaneAmbient
			},
			want: []want{w(diag.SharedZtunnel, "meshes.m2.dataplane", `meshes "m1" and "m2" are both ambient in cluster "c1"`)},
		},
		{
			name: "ambient tenant of a sidecar mesh",
			mutate: func(t *model.Topology) {
				t.Tenants["t1"].DataPlane = model.DataPlaneAmbient
			},
			want: []want{w(diag.AmbientTenant, "tenants.t1.dataplane", `mesh "m1"'s data plane is sidecar`)},
		},
		{
			name: "sidecar tenant of an ambient mesh in one cluster",
			mutate: func(t *model.Topology) {
				t.Meshes["m1"].DataPlane = model.DataPlaneAmbient
				t.Tenants["t1"].DataPlane = model.DataPlaneSidecar
			},
		},
		{
			name: "waypoint per service account",
			mutate: func(t *model.Topology) {
				t.Meshes["m1"].DataPlane = model.DataPlaneAmbient
				t.Tenants["t1"].Waypoint = model.WaypointServiceAccount
			},
			want: []want{w(diag.UnsupportedWaypoint, "tenants.t1.waypoint", "not to service accounts").withHint("waypoint: namespace")},
		},
		{
			name: "waypoint for a sidecar tenant",
			mutate: func(t *model.Topology) {
				t.Tenants["t1"].Waypoint = model.WaypointNamespace
			},
			want: []want{w(diag.UnsupportedWaypoint, "tenants.t1.waypoint", "its workloads are on sidecars")},
		},
		{
			name: "ambient tenant claims the ztunnel namespace",
			mutate: func(t *model.Topology) {
				t.Meshes["m1"].DataPlane = model.DataPlaneAmbient
				t.Tenants["t1"].Namespaces = []string{"ztunnel"}
			},
			want: []want{w(diag.ReservedNamespace, "tenants.t1.namespaces[0]", `namespace "ztunnel" runs ztunnel in cluster "c1"`)},
		},

		// Namespaces claimed by tenants.
		{
			name:   "namespace claimed by tenants of two meshes in one cluster",
			mutate: func(t *model.Topology) { t.Tenants["t2"].Namespaces = []string{"app2", "app1"} },
			want: []want{w(diag.NamespaceConflict, "tenants.t2.namespaces[1]",
				`namespace "app1" in cluster "c1" is already claimed by tenant "t1" of mesh "m1"`)},
		},
		{
			name: "namespace claimed by two tenants of one mesh",
			mutate: func(t *model.Topology) {
				t.Tenants["t3"] = &model.Tenant{Mesh: "m1", Namespaces: []string{"app1"}}
			},
			want: []want{w(diag.NamespaceConflict, "tenants.t3.namespaces[0]", `already claimed by tenant "t1" of mesh "m1"`)},
		},
		{
			name:   "namespace listed twice by one tenant",
			mutate: func(t *model.Topology) { t.Tenants["t1"].Namespaces = []string{"app1", "app1"} },
			want:   []want{w(diag.NamespaceConflict, "tenants.t1.namespaces[1]", `namespace "app1" is listed twice in tenant "t1"`).withHint("remove the duplicate")},
		},
		{
			name: "one namespace in two different clusters",
			mutate: func(t *model.Topology) {
				addCluster(t, "c2")
				cp(t, "m2", "cp2").Cluster = "c2"
				t.Tenants["t2"].Namespaces = []string{"app1"}
			},
		},
		{
			name:   "tenant claims another mesh's system namespace",
			mutate: func(t *model.Topology) { t.Tenants["t1"].Namespaces = []string{"istio-m2"} },
			want: []want{w(diag.NamespaceConflict, "tenants.t1.namespaces[0]",
				`namespace "istio-m2" in cluster "c1" is already the system namespace of mesh "m2"`)},
		},
		{
			name:   "tenant claims its own mesh's system namespace",
			mutate: func(t *model.Topology) { t.Tenants["t1"].Namespaces = []string{"istio-m1"} },
			want:   []want{w(diag.NamespaceConflict, "tenants.t1.namespaces[0]", `already the system namespace of mesh "m1"`)},
		},
		{
			name: "tenant claims the default system namespace istio-system",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Namespace = "" // defaults to istio-system
				t.Tenants["t2"].Namespaces = []string{"istio-system"}
			},
			want: []want{w(diag.NamespaceConflict, "tenants.t2.namespaces[0]",
				`namespace "istio-system" in cluster "c1" is already the system namespace of mesh "m1"`)},
		},
		{
			name: "tenant may use a name that is a system namespace only in another cluster",
			mutate: func(t *model.Topology) {
				addCluster(t, "c2")
				cp(t, "m2", "cp2").Cluster = "c2"
				t.Tenants["t2"].Namespaces = []string{"istio-m1"}
			},
		},

		// Discovery selectors.
		{
			name:   "discovery labels with different keys overlap only by hand: a warning",
			mutate: func(t *model.Topology) { t.Meshes["m2"].DiscoveryLabel = map[string]string{"team": "m2"} },
			want: []want{w(diag.HandLabelOverlap, "meshes.m2.discoveryLabel",
				`discovery selector {team=m2} of mesh "m2" and {istio-discovery=m1} of mesh "m1" in cluster "c1" use different keys: a namespace labelled by hand with both would join both meshes`)},
		},
		{
			name: "discovery labels with different keys overlap through a tenant's labels",
			mutate: func(t *model.Topology) {
				t.Meshes["m2"].DiscoveryLabel = map[string]string{"team": "m2"}
				t.Tenants["t1"].Labels = map[string]string{"team": "m2"}
			},
			want: []want{w(diag.DiscoveryOverlap, "meshes.m2.discoveryLabel",
				`discovery selector {team=m2} of mesh "m2" can match the same namespaces as {istio-discovery=m1} of mesh "m1" in cluster "c1"`)},
		},
		{
			name:   "discovery labels with the same key and value overlap",
			mutate: func(t *model.Topology) { t.Meshes["m2"].DiscoveryLabel = map[string]string{"istio-discovery": "m1"} },
			want:   []want{w(diag.DiscoveryOverlap, "meshes.m2.discoveryLabel", "{istio-discovery=m1}")},
		},
		{
			name: "a discovery label that is a subset of the other overlaps",
			mutate: func(t *model.Topology) {
				t.Meshes["m1"].DiscoveryLabel = map[string]string{"a": "1"}
				t.Meshes["m2"].DiscoveryLabel = map[string]string{"a": "1", "b": "2"}
			},
			want: []want{w(diag.DiscoveryOverlap, "meshes.m2.discoveryLabel", "{a=1, b=2}", "{a=1}")},
		},
		{
			name: "one key with different values makes selectors disjoint",
			mutate: func(t *model.Topology) {
				t.Meshes["m1"].DiscoveryLabel = map[string]string{"a": "1", "b": "2"}
				t.Meshes["m2"].DiscoveryLabel = map[string]string{"a": "1", "b": "3"}
			},
		},
		{
			name: "overlapping labels in different clusters are fine",
			mutate: func(t *model.Topology) {
				addCluster(t, "c2")
				cp(t, "m2", "cp2").Cluster = "c2"
				t.Meshes["m2"].DiscoveryLabel = map[string]string{"istio-discovery": "m1"}
			},
		},

		{
			name: "overlap with a mesh running a canary is reported once",
			mutate: func(t *model.Topology) {
				addCanary(t)
				t.Tenants["t1"].ControlPlane = "cp1"
				t.Meshes["m2"].DiscoveryLabel = map[string]string{"istio-discovery": "m1"}
			},
			want: []want{w(diag.DiscoveryOverlap, "meshes.m2.discoveryLabel", `of mesh "m1" in cluster "c1"`)},
		},

		// Unscoped control planes.
		{
			name:   "unscoped control plane beside another mesh's",
			mutate: func(t *model.Topology) { t.Meshes["m2"].DiscoveryLabel = map[string]string{} },
			want: []want{w(diag.UnscopedControlPlane, "meshes.m2.discoveryLabel",
				`control plane "cp2" of mesh "m2" watches every namespace of cluster "c1", which also runs control plane "cp1" of mesh "m1"`).
				withHint("istio-discovery: m2")},
		},
		{
			name:   "unscoped control plane listed first",
			mutate: func(t *model.Topology) { t.Meshes["m1"].DiscoveryLabel = map[string]string{} },
			want:   []want{w(diag.UnscopedControlPlane, "meshes.m1.discoveryLabel", `control plane "cp1" of mesh "m1"`, `control plane "cp2" of mesh "m2"`)},
		},
		{
			name: "unscoped control plane beside a mesh with a canary: once per other control plane",
			mutate: func(t *model.Topology) {
				addCanary(t)
				t.Tenants["t1"].ControlPlane = "cp1"
				t.Meshes["m2"].DiscoveryLabel = map[string]string{}
			},
			want: []want{
				w(diag.UnscopedControlPlane, "meshes.m2.discoveryLabel", `which also runs control plane "cp1" of mesh "m1"`),
				w(diag.UnscopedControlPlane, "meshes.m2.discoveryLabel", `which also runs control plane "cp1-canary" of mesh "m1"`),
			},
		},
		{
			name: "two unscoped meshes: reported on the first",
			mutate: func(t *model.Topology) {
				t.Meshes["m1"].DiscoveryLabel = map[string]string{}
				t.Meshes["m2"].DiscoveryLabel = map[string]string{}
			},
			want: []want{w(diag.UnscopedControlPlane, "meshes.m1.discoveryLabel", `control plane "cp2" of mesh "m2"`)},
		},
		{
			name: "unscoped control plane alone in its cluster",
			mutate: func(t *model.Topology) {
				addCluster(t, "c2")
				cp(t, "m2", "cp2").Cluster = "c2"
				t.Meshes["m2"].DiscoveryLabel = map[string]string{}
			},
		},
		{
			name: "unscoped mesh with a canary of its own",
			mutate: func(t *model.Topology) {
				delete(t.Meshes, "m2")
				delete(t.Tenants, "t2")
				t.Meshes["m1"].DiscoveryLabel = map[string]string{}
				addCanary(t)
				t.Tenants["t1"].ControlPlane = "cp1"
			},
		},

		// Choosing a control plane.
		{
			name:   "ambiguous control plane",
			mutate: func(t *model.Topology) { addCanary(t) },
			want: []want{w(diag.AmbiguousControlPlane, "tenants.t1",
				`mesh "m1" runs 2 control planes in cluster "c1"; tenant "t1" must choose one`).withHint("cp1, cp1-canary")},
		},
		{
			name: "ambiguous in two clusters: once per cluster",
			mutate: func(t *model.Topology) {
				addCanary(t)
				addCluster(t, "c2")
				t.Meshes["m1"].ControlPlanes["east-a"] = &model.ControlPlane{Cluster: "c2", Namespace: "istio-m1"}
				t.Meshes["m1"].ControlPlanes["east-b"] = &model.ControlPlane{Cluster: "c2", Namespace: "istio-m1"}
			},
			want: []want{
				w(diag.AmbiguousControlPlane, "tenants.t1", `in cluster "c1"`),
				w(diag.AmbiguousControlPlane, "tenants.t1", `in cluster "c2"`).withHint("east-a, east-b"),
			},
		},
		{
			name: "an ambiguous tenant's namespaces are not checked further",
			mutate: func(t *model.Topology) {
				addCanary(t)
				t.Tenants["t1"].Namespaces = []string{"kube-system", "app2"}
			},
			want: []want{w(diag.AmbiguousControlPlane, "tenants.t1")},
		},
		{
			name: "ambiguity resolved by controlPlane",
			mutate: func(t *model.Topology) {
				addCanary(t)
				t.Tenants["t1"].ControlPlane = "cp1-canary"
			},
		},
		{
			name: "ambiguity resolved by a revision",
			mutate: func(t *model.Topology) {
				addCanary(t)
				t.Tenants["t1"].Revision = "cp1-canary"
			},
		},
		{
			name: "ambiguity resolved by a tag only one serves",
			mutate: func(t *model.Topology) {
				addCanary(t)
				cp(t, "m1", "cp1").Tags = []string{"stable"}
				t.Tenants["t1"].Revision = "stable"
			},
		},

		// Clusters a tenant's mesh does not serve.
		{
			name: "tenant lists a cluster where its mesh has no control plane",
			mutate: func(t *model.Topology) {
				addCluster(t, "c2")
				t.Tenants["t1"].Clusters = []string{"c1", "c2"}
			},
			want: []want{w(diag.ClusterNotServed, "tenants.t1.clusters[1]", `mesh "m1" has no control plane in cluster "c2"`)},
		},
		{
			name: "tenant's control plane does not run in a listed cluster",
			mutate: func(t *model.Topology) {
				addCluster(t, "c2")
				t.Meshes["m1"].ControlPlanes["cp1-east"] = &model.ControlPlane{Cluster: "c2", Namespace: "istio-m1"}
				t.Tenants["t1"].ControlPlane = "cp1"
				t.Tenants["t1"].Clusters = []string{"c2"}
			},
			want: []want{w(diag.ClusterNotServed, "tenants.t1.clusters[0]", `control plane "cp1" of mesh "m1" does not run in cluster "c2"`)},
		},
		{
			name: "mesh without control planes",
			mutate: func(t *model.Topology) {
				t.Meshes["m3"] = &model.Mesh{}
				t.Tenants["t3"] = &model.Tenant{Mesh: "m3", Namespaces: []string{"app3"}}
			},
			want: []want{w(diag.ClusterNotServed, "tenants.t3.mesh", `mesh "m3" has no control plane for tenant "t3"`)},
		},
		{
			name: "tenant spans two clusters each served",
			mutate: func(t *model.Topology) {
				addCluster(t, "c2")
				t.Meshes["m1"].ControlPlanes["cp1-east"] = &model.ControlPlane{Cluster: "c2", Namespace: "istio-m1"}
			},
		},

		// Reserved namespaces.
		{
			name: "Kubernetes namespaces",
			mutate: func(t *model.Topology) {
				t.Tenants["t1"].Namespaces = []string{"app1", "kube-system", "default", "kube-public", "kube-node-lease"}
			},
			want: []want{
				w(diag.ReservedNamespace, "tenants.t1.namespaces[1]", `namespace "kube-system" belongs to Kubernetes`),
				w(diag.ReservedNamespace, "tenants.t1.namespaces[2]", `namespace "default" belongs to Kubernetes`),
				w(diag.ReservedNamespace, "tenants.t1.namespaces[3]", `"kube-public"`),
				w(diag.ReservedNamespace, "tenants.t1.namespaces[4]", `"kube-node-lease"`),
			},
		},
		{
			name: "Kubernetes namespace of a tenant in two clusters is reported once",
			mutate: func(t *model.Topology) {
				addCluster(t, "c2")
				t.Meshes["m1"].ControlPlanes["cp1-east"] = &model.ControlPlane{Cluster: "c2", Namespace: "istio-m1"}
				t.Tenants["t1"].Namespaces = []string{"kube-system"}
			},
			want: []want{w(diag.ReservedNamespace, "tenants.t1.namespaces[0]", `"kube-system"`)},
		},
		{
			name: "istio-cni on a CNI cluster",
			mutate: func(t *model.Topology) {
				t.Clusters["c1"].CNI = true
				t.Tenants["t1"].Namespaces = []string{"istio-cni"}
			},
			want: []want{w(diag.ReservedNamespace, "tenants.t1.namespaces[0]", `namespace "istio-cni" runs the Istio CNI node agent in cluster "c1"`)},
		},
		{
			name: "istio-cni on OpenShift (CNI implied)",
			mutate: func(t *model.Topology) {
				t.Clusters["c1"].Platform = model.PlatformOpenShift
				t.Tenants["t1"].Namespaces = []string{"istio-cni"}
			},
			want: []want{w(diag.ReservedNamespace, "tenants.t1.namespaces[0]", `"istio-cni"`)},
		},
		{
			name:   "istio-cni on a cluster without CNI is an ordinary namespace",
			mutate: func(t *model.Topology) { t.Tenants["t1"].Namespaces = []string{"istio-cni"} },
		},

		// Revisions and tags in a cluster.
		{
			name:   "revision used by two control planes in one cluster",
			mutate: func(t *model.Topology) { cp(t, "m2", "cp2").Revision = "cp1" },
			want: []want{w(diag.DuplicateRevision, "meshes.m2.controlPlanes.cp2.revision",
				`revision or tag "cp1" is already used by control plane "cp1" of mesh "m1" in cluster "c1"`)},
		},
		{
			name:   "tag equal to another control plane's revision",
			mutate: func(t *model.Topology) { cp(t, "m2", "cp2").Tags = []string{"cp1"} },
			want:   []want{w(diag.DuplicateRevision, "meshes.m2.controlPlanes.cp2.tags[0]", `"cp1" is already used by control plane "cp1"`)},
		},
		{
			name: "tag used by two control planes",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Tags = []string{"stable"}
				cp(t, "m2", "cp2").Tags = []string{"prod", "stable"}
			},
			want: []want{w(diag.DuplicateRevision, "meshes.m2.controlPlanes.cp2.tags[1]", `"stable"`)},
		},
		{
			name:   "tag equal to the control plane's own revision",
			mutate: func(t *model.Topology) { cp(t, "m1", "cp1").Tags = []string{"cp1"} },
			want:   []want{w(diag.DuplicateRevision, "meshes.m1.controlPlanes.cp1.tags[0]", `"cp1" is already used by control plane "cp1"`)},
		},
		{
			name: "same revision in two clusters",
			mutate: func(t *model.Topology) {
				addCluster(t, "c2")
				cp(t, "m2", "cp2").Cluster = "c2"
				cp(t, "m2", "cp2").Revision = "cp1"
				cp(t, "m2", "cp2").Tags = []string{"cp1-tag"}
				cp(t, "m1", "cp1").Tags = []string{"cp1-tag"}
			},
		},

		// System namespaces.
		{
			name:   "two meshes share a system namespace",
			mutate: func(t *model.Topology) { cp(t, "m2", "cp2").Namespace = "istio-m1" },
			want: []want{w(diag.SharedSystemNamespace, "meshes.m2.controlPlanes.cp2.namespace",
				`namespace "istio-m1" in cluster "c1" already hosts control plane "cp1" of mesh "m1"`).withHint("istio-m2")},
		},
		{
			name: "two meshes share the default system namespace",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Namespace = ""
				cp(t, "m2", "cp2").Namespace = ""
			},
			want: []want{w(diag.SharedSystemNamespace, "meshes.m2.controlPlanes.cp2.namespace", `"istio-system"`)},
		},
		{
			name: "two control planes of one mesh share a system namespace",
			mutate: func(t *model.Topology) {
				addCanary(t)
				t.Tenants["t1"].ControlPlane = "cp1"
			},
		},
		{
			name: "two meshes use one namespace name in different clusters",
			mutate: func(t *model.Topology) {
				addCluster(t, "c2")
				cp(t, "m2", "cp2").Cluster = "c2"
				cp(t, "m2", "cp2").Namespace = "istio-m1"
			},
		},

		// Default revisions.
		{
			name: "two default revisions in one cluster",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Revision = model.DefaultRevision
				cp(t, "m2", "cp2").Revision = model.DefaultRevision
			},
			want: []want{w(diag.MultipleDefaults, "meshes.m2.controlPlanes.cp2.revision", `cluster "c1" has more than one default revision`)},
		},
		{
			name: "a default revision and a default tag in one cluster",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Revision = model.DefaultRevision
				cp(t, "m2", "cp2").Tags = []string{"default"}
			},
			want: []want{w(diag.MultipleDefaults, "meshes.m2.controlPlanes.cp2.tags[0]", `more than one default revision`)},
		},
		{
			name: "three defaults are reported twice",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Tags = []string{"default"}
				cp(t, "m2", "cp2").Revision = model.DefaultRevision
				addCanary(t).Tags = []string{"default"}
				t.Tenants["t1"].ControlPlane = "cp1"
			},
			want: []want{
				// Control planes are taken by mesh, then name: cp1's tag is
				// the first default.
				w(diag.MultipleDefaults, "meshes.m1.controlPlanes.cp1-canary.tags[0]", `more than one default revision`),
				w(diag.MultipleDefaults, "meshes.m2.controlPlanes.cp2.revision", `more than one default revision`),
			},
		},
		{
			name: "default revision and default tag on one control plane",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Revision = model.DefaultRevision
				cp(t, "m1", "cp1").Tags = []string{"default"}
			},
			want: []want{w(diag.MultipleDefaults, "meshes.m1.controlPlanes.cp1.tags[0]", `more than one default revision`)},
		},
		{
			name:   "a tenant selecting the default revision nobody serves",
			mutate: func(t *model.Topology) { t.Tenants["t1"].Revision = model.DefaultRevision },
			want:   []want{w(diag.UndefinedRevision, "tenants.t1.revision", `serves no revision or tag "default"`)},
		},
		{
			name:   "one default revision",
			mutate: func(t *model.Topology) { cp(t, "m1", "cp1").Revision = model.DefaultRevision },
		},
		{
			name:   "one default tag",
			mutate: func(t *model.Topology) { cp(t, "m2", "cp2").Tags = []string{"default"} },
		},
		{
			name: "default revisions in two clusters",
			mutate: func(t *model.Topology) {
				addCluster(t, "c2")
				cp(t, "m2", "cp2").Cluster = "c2"
				cp(t, "m1", "cp1").Revision = model.DefaultRevision
				cp(t, "m2", "cp2").Revision = model.DefaultRevision
			},
		},

		// Versions.
		{
			name:   "a line meshc does not know, reported once where written",
			mutate: func(t *model.Topology) { t.Defaults.Istio.Version = "1.21.6" },
			want: []want{w(diag.UnsupportedVersion, "defaults.istio.version", "Istio 1.21.6 is not a release meshc knows: it knows 1.22.0 to 1.32.0").
				withHint("use a supported release: 1.30.0-1.30.5, 1.31.0-1.31.4, 1.32.0")},
		},
		{
			name:   "unknown future line on a mesh",
			mutate: func(t *model.Topology) { t.Meshes["m1"].Version = "1.99.0" },
			want:   []want{w(diag.UnsupportedVersion, "meshes.m1.version", "Istio 1.99.0 is not a release meshc knows")},
		},
		{
			name:   "unparseable version on a control plane",
			mutate: func(t *model.Topology) { cp(t, "m2", "cp2").Version = "latest" },
			want:   []want{w(diag.UnsupportedVersion, "meshes.m2.controlPlanes.cp2.version", `version "latest" is not major.minor.patch`)},
		},
		{
			name:   "a v prefix is the same release",
			mutate: func(t *model.Topology) { t.Defaults.Istio.Version = "v1.30.3" },
		},
		{
			name:   "a patch newer than meshc knows is a warning",
			mutate: func(t *model.Topology) { t.Meshes["m1"].Version = "1.31.7" },
			want: []want{w(diag.NewerPatch, "meshes.m1.version", "Istio 1.31.7 is newer than the newest 1.31 release meshc knows (1.31.4)").
				withHint("or use 1.31.4")},
		},
		{
			name:   "an end-of-life release is a warning",
			mutate: func(t *model.Topology) { t.Meshes["m1"].Version = "1.24.6" },
			want: []want{w(diag.EndOfLife, "meshes.m1.version", "Istio 1.24.6 is end of life").
				withHint("1.30.0-1.30.5, 1.31.0-1.31.4, 1.32.0")},
		},
		{
			name:   "no version anywhere",
			mutate: func(t *model.Topology) { t.Defaults.Istio.Version = "" },
			want: []want{
				w(diag.MissingField, "meshes.m1", `mesh "m1" has no Istio version`).withHint("set meshes.m1.version or defaults.istio.version, e.g. 1.32.0"),
				w(diag.MissingField, "meshes.m2", `mesh "m2" has no Istio version`),
			},
		},
		{
			name: "version skew of three minors within a mesh",
			mutate: func(t *model.Topology) {
				addCanary(t).Version = "1.27.9"
				t.Tenants["t1"].ControlPlane = "cp1"
			},
			want: []want{
				w(diag.UnsupportedVersion, "defaults.istio.version",
					`control planes of mesh "m1" run Istio 1.27.9 and 1.30.3, too far apart`).withHint("upgrade cp1-canary first"),
				w(diag.EndOfLife, "meshes.m1.controlPlanes.cp1-canary.version", "Istio 1.27.9 is end of life"),
			},
		},
		{
			name: "version skew reported where the newer version is written",
			mutate: func(t *model.Topology) {
				t.Meshes["m1"].Version = "1.32.0"
				addCanary(t).Version = "1.29.6"
				t.Tenants["t1"].ControlPlane = "cp1"
			},
			want: []want{
				w(diag.EndOfLife, "meshes.m1.controlPlanes.cp1-canary.version", "Istio 1.29.6 is end of life"),
				w(diag.UnsupportedVersion, "meshes.m1.version", "run Istio 1.29.6 and 1.32.0, too far apart"),
			},
		},
		{
			name: "another major version is unknown and too far apart",
			mutate: func(t *model.Topology) {
				addCanary(t).Version = "2.0.0"
				t.Tenants["t1"].ControlPlane = "cp1"
			},
			want: []want{
				w(diag.UnsupportedVersion, "meshes.m1.controlPlanes.cp1-canary.version", "Istio 2.0.0 is not a release meshc knows"),
				w(diag.UnsupportedVersion, "meshes.m1.controlPlanes.cp1-canary.version", "run Istio 1.30.3 and 2.0.0, too far apart"),
			},
		},
		{
			name: "version skew of two minors is fine",
			mutate: func(t *model.Topology) {
				addCanary(t).Version = "1.32.0"
				t.Tenants["t1"].ControlPlane = "cp1"
			},
		},
		{
			name: "version skew across meshes is fine",
			mutate: func(t *model.Topology) {
				t.Meshes["m2"].Version = "1.32.0"
				t.Meshes["m1"].Version = "1.30.0"
			},
		},

		// Helm values.
		{
			name: "valid values",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Values = map[string]any{
					"pilot":  map[string]any{"replicaCount": float64(2), "env": map[string]any{"PILOT_TRACE_SAMPLING": "1"}},
					"global": map[string]any{"logging": map[string]any{"level": "default:info"}},
				}
			},
		},
		{
			name: "values with an unknown field",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Values = map[string]any{"pilot": map[string]any{"replicaCout": float64(2)}}
			},
			want: []want{w(diag.InvalidValues, "meshes.m1.controlPlanes.cp1.values.pilot.replicaCout", "values.pilot.replicaCout: unknown field")},
		},
		{
			name: "values with a wrong type",
			mutate: func(t *model.Topology) {
				cp(t, "m2", "cp2").Values = map[string]any{"pilot": map[string]any{"replicaCount": "three"}}
			},
			want: []want{
				// The schema's note that its rules were skipped is dropped:
				// the type error says what to fix.
				w(diag.InvalidValues, "meshes.m2.controlPlanes.cp2.values.pilot.replicaCount", `values.pilot.replicaCount: must be of type integer: "string"`),
			},
		},
		{
			name: "owned values",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Values = map[string]any{
					"revision":   "x",
					"global":     map[string]any{"meshID": "y", "istioNamespace": "z"},
					"pilot":      map[string]any{"env": map[string]any{"ENABLE_ENHANCED_RESOURCE_SCOPING": "true"}},
					"meshConfig": map[string]any{"trustDomain": "example.org"},
				}
			},
			want: []want{
				w(diag.OwnedValues, "meshes.m1.controlPlanes.cp1.values.global.istioNamespace", "values.global.istioNamespace is computed by meshc").
					withHint("controlPlanes.<name>.namespace"),
				w(diag.OwnedValues, "meshes.m1.controlPlanes.cp1.values.global.meshID", "is computed by meshc").withHint("set meshes.<mesh>.meshID instead"),
				w(diag.OwnedValues, "meshes.m1.controlPlanes.cp1.values.meshConfig.trustDomain", "is computed by meshc"),
				w(diag.OwnedValues, "meshes.m1.controlPlanes.cp1.values.pilot.env.ENABLE_ENHANCED_RESOURCE_SCOPING", "is computed by meshc"),
				w(diag.OwnedValues, "meshes.m1.controlPlanes.cp1.values.revision", "values.revision is computed by meshc").
					withHint("controlPlanes.<name>.revision"),
			},
		},
		{
			name: "owned value next to an unknown one",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Values = map[string]any{"revision": "x", "bogus": true}
			},
			want: []want{
				w(diag.InvalidValues, "meshes.m1.controlPlanes.cp1.values.bogus", "unknown field"),
				w(diag.OwnedValues, "meshes.m1.controlPlanes.cp1.values.revision", "computed by meshc"),
			},
		},
		{
			name: "a sibling of an owned value is not owned",
			mutate: func(t *model.Topology) {
				cp(t, "m1", "cp1").Values = map[string]any{"global": map[string]any{"multiCluster": map[string]any{"enabled": true}}}
			},
		},

		// Labels.
		{
			name:   "invalid discovery label value",
			mutate: func(t *model.Topology) { t.Meshes["m1"].DiscoveryLabel = map[string]string{"istio-discovery": "m1!"} },
			want:   []want{w(diag.InvalidValue, "meshes.m1.discoveryLabel.istio-discovery", `invalid label value "m1!"`)},
		},
		{
			name: "invalid discovery label key",
			mutate: func(t *model.Topology) {
				t.Meshes["m2"].DiscoveryLabel = map[string]string{"istio-discovery": "m2", "bad key": "x"}
			},
			want: []want{w(diag.InvalidValue, `meshes.m2.discoveryLabel["bad key"]`, `invalid label key "bad key"`)},
		},
		{
			name: "invalid tenant labels",
			mutate: func(t *model.Topology) {
				t.Tenants["t1"].Labels = map[string]string{
					"team":              "-payments",
					"example.com/owner": "ok",
					"a/b/c":             "v",
					"size":              long64,
				}
			},
			want: []want{
				w(diag.InvalidValue, "tenants.t1.labels.size", "invalid label value", "must be no more than 63"),
				w(diag.InvalidValue, "tenants.t1.labels.team", `invalid label value "-payments"`),
				w(diag.InvalidValue, `tenants.t1.labels["a/b/c"]`, `invalid label key "a/b/c"`),
			},
		},
		{
			name: "valid labels with prefixes and empty values",
			mutate: func(t *model.Topology) {
				t.Meshes["m1"].DiscoveryLabel = map[string]string{"example.com/mesh": "m1", "istio-discovery": "m1"}
				t.Tenants["t1"].Labels = map[string]string{"example.com/team": "payments", "tier": "", "x": long63}
			},
		},

		// Several problems at once come out sorted by path, then code.
		{
			name: "several problems sorted",
			mutate: func(t *model.Topology) {
				t.Tenants["t2"].Mesh = "m9"
				t.Tenants["T3"] = &model.Tenant{Mesh: "m1", Namespaces: []string{"app3"}}
				t.Clusters["c1"].Network = "n9"
				t.Meshes["m1"].Version = "1.99.0"
				cp(t, "m2", "cp2").Revision = "cp1"
			},
			want: []want{
				w(diag.UndefinedNetwork, "clusters.c1.network"),
				w(diag.UnsupportedVersion, "meshes.m1.version"),
				w(diag.DuplicateRevision, "meshes.m2.controlPlanes.cp2.revision"),
				w(diag.InvalidName, "tenants.T3"),
				w(diag.UndefinedMesh, "tenants.t2.mesh"),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			topo := base()
			if tc.mutate != nil {
				tc.mutate(topo)
			}
			got := run(t, topo)
			assertDiags(t, got, tc.want)
			assertSorted(t, got)
			for _, d := range got {
				// W codes are warnings, E codes errors.
				if strings.HasPrefix(string(d.Code), "W") != d.IsWarning() {
					t.Errorf("%s has severity %q", d.Code, d.Severity)
				}
			}
		})
	}
}

func assertSorted(t *testing.T, l diag.List) {
	t.Helper()
	sorted := slices.Clone(l)
	sorted.Sort()
	if !slices.EqualFunc(l, sorted, func(a, b diag.Diagnostic) bool {
		return a.Code == b.Code && a.Path == b.Path && a.Message == b.Message
	}) {
		t.Errorf("diagnostics are not sorted: %v", l)
	}
}

// fakeSource places each path on a line of its own, in an order unrelated
// to the paths' text.
type fakeSource map[string]int

func (s fakeSource) Pos(p model.Path) diag.Pos {
	for q := p; len(q) > 0; q = q[:len(q)-1] {
		if line, ok := s[q.String()]; ok {
			return diag.Pos{File: "topology.yaml", Line: line, Column: 3}
		}
	}
	return diag.Pos{File: "topology.yaml"}
}

func TestDiagnosticsSortedByPosition(t *testing.T) {
	topo := base()
	topo.Tenants["t2"].Mesh = "m9"          // tenants.t2.mesh
	topo.Clusters["c1"].Network = "n9"      // clusters.c1.network
	topo.Meshes["m1"].Version = "1.99.0"    // meshes.m1.version
	topo.Tenants["t1"].Revision = "missing" // tenants.t1.revision
	topo.Source = fakeSource{
		"tenants.t2.mesh":     3,
		"tenants.t1":          7, // the revision is not written: its nearest written ancestor
		"clusters.c1.network": 12,
		"meshes.m1.version":   20,
	}
	got := run(t, topo)
	assertDiags(t, got, []want{
		w(diag.UndefinedMesh, "tenants.t2.mesh"),
		w(diag.UndefinedRevision, "tenants.t1.revision"),
		w(diag.UndefinedNetwork, "clusters.c1.network"),
		w(diag.UnsupportedVersion, "meshes.m1.version"),
	})
	for i, line := range []int{3, 7, 12, 20} {
		if got[i].Pos != (diag.Pos{File: "topology.yaml", Line: line, Column: 3}) {
			t.Errorf("diagnostic %d (%s): pos %v, want line %d", i, got[i].Path, got[i].Pos, line)
		}
	}
}

// Related locations point at the first claim of what is claimed twice.
func TestRelated(t *testing.T) {
	topo := base()
	cp(topo, "m2", "cp2").Namespace = "istio-m1"
	topo.Tenants["t2"].Namespaces = []string{"app1"}
	got := run(t, topo)
	assertDiags(t, got, []want{
		w(diag.SharedSystemNamespace, "meshes.m2.controlPlanes.cp2.namespace"),
		w(diag.NamespaceConflict, "tenants.t2.namespaces[0]", `claimed by tenant "t1"`),
	})
	if r := got[0].Related; len(r) != 1 || r[0].Path != "meshes.m1.controlPlanes.cp1.namespace" {
		t.Errorf("E131 related: %+v", r)
	}
	if r := got[1].Related; len(r) != 1 || r[0].Path != "tenants.t1.namespaces[0]" {
		t.Errorf("E120 related: %+v", r)
	}
}
