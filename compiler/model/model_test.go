package model

import (
	"slices"
	"testing"

	"meshc.dev/meshc/compiler/diag"
)

func TestPathString(t *testing.T) {
	tests := []struct {
		path Path
		want string
	}{
		{nil, ""},
		{Path{"defaults", "istio", "version"}, "defaults.istio.version"},
		{Path{"meshes", "m1", "controlPlanes", "cp1", "cluster"}, "meshes.m1.controlPlanes.cp1.cluster"},
		{Path{"tenants", "t1", "namespaces", 0}, "tenants.t1.namespaces[0]"},
		{Path{"tenants", "t1", "clusters", 12}, "tenants.t1.clusters[12]"},
		{Path{"meshes", "m1", "controlPlanes", "cp1", "tags", 1}, "meshes.m1.controlPlanes.cp1.tags[1]"},
		// Plain keys: letters, digits, '-' and '_'.
		{Path{"a-b", "C_d", "x9"}, "a-b.C_d.x9"},
		// Keys with dots, slashes, spaces, quotes or nothing are quoted.
		{Path{"clusters", "c.2"}, `clusters["c.2"]`},
		{Path{"tenants", "t1", "labels", "example.com/team"}, `tenants.t1.labels["example.com/team"]`},
		{Path{"meshes", "m", "discoveryLabel", "bad key"}, `meshes.m.discoveryLabel["bad key"]`},
		{Path{"x", `a"b`}, `x["a\"b"]`},
		{Path{"x", ""}, `x[""]`},
		{Path{"x", "ü"}, `x["ü"]`},
		// A quoted or indexed segment is followed by a dot before a plain key.
		{Path{"labels", "a/b", "c"}, `labels["a/b"].c`},
		{Path{"list", 0, "name"}, "list[0].name"},
		// A leading quoted key or index has no dot before it.
		{Path{"a.b", "c"}, `["a.b"].c`},
		{Path{0}, "[0]"},
		{Path{0, 1}, "[0][1]"},
	}
	for _, tc := range tests {
		if got := tc.path.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestPathChildDoesNotAlias(t *testing.T) {
	p := make(Path, 2, 8)
	p[0], p[1] = "meshes", "m1"
	a := p.Child("controlPlanes", "a")
	b := p.Child("controlPlanes", "b")
	if a.String() != "meshes.m1.controlPlanes.a" || b.String() != "meshes.m1.controlPlanes.b" {
		t.Fatalf("Child aliased its parent: a=%s b=%s", a, b)
	}
	if len(p) != 2 || p.String() != "meshes.m1" {
		t.Fatalf("Child changed its parent: %s", p)
	}
}

func topology() *Topology {
	return &Topology{
		Defaults: Defaults{Istio: IstioDefaults{Version: "1.28.2"}},
		Clusters: map[string]*Cluster{
			"east": {},
			"west": {Platform: PlatformOpenShift},
		},
		Meshes: map[string]*Mesh{
			"alpha": {
				ControlPlanes: map[string]*ControlPlane{
					"stable": {Cluster: "east"},
					"canary": {Cluster: "east", Revision: "next", Version: "1.29.0", Tags: []string{"beta"}},
					"west":   {Cluster: "west", Namespace: "istio-alpha"},
				},
			},
			"beta": {
				MeshID:         "beta-id",
				TrustDomain:    "beta.example",
				Version:        "1.27.3",
				DiscoveryLabel: map[string]string{"team": "beta"},
				MTLS:           "PERMISSIVE",
				ControlPlanes: map[string]*ControlPlane{
					"main": {Cluster: "west", Version: "1.27.4"},
				},
			},
			"empty": {DiscoveryLabel: map[string]string{}},
		},
		Tenants: map[string]*Tenant{
			"shop": {Mesh: "alpha", Namespaces: []string{"shop"}},
		},
	}
}

func TestResolveDefaults(t *testing.T) {
	topo := topology()
	topo.ResolveDefaults()

	for name, c := range topo.Clusters {
		if c.Name != name {
			t.Errorf("cluster %s: Name = %q", name, c.Name)
		}
	}
	if got := topo.Clusters["east"].Platform; got != PlatformKubernetes {
		t.Errorf("east platform = %q, want kubernetes", got)
	}
	if got := topo.Clusters["west"].Platform; got != PlatformOpenShift {
		t.Errorf("west platform = %q, want openshift (kept)", got)
	}
	if got := topo.Tenants["shop"].Name; got != "shop" {
		t.Errorf("tenant Name = %q", got)
	}

	alpha := topo.Meshes["alpha"]
	if alpha.Name != "alpha" || alpha.MeshID != "alpha" || alpha.TrustDomain != DefaultTrustDomain || alpha.MTLS != DefaultMTLS {
		t.Errorf("alpha defaults: name %q meshID %q trustDomain %q mtls %q", alpha.Name, alpha.MeshID, alpha.TrustDomain, alpha.MTLS)
	}
	if want := map[string]string{"istio-discovery": "alpha"}; !mapsEqual(alpha.DiscoveryLabel, want) {
		t.Errorf("alpha discoveryLabel = %v, want %v", alpha.DiscoveryLabel, want)
	}
	if alpha.Version != "1.28.2" {
		t.Errorf("alpha version = %q, want the fleet default", alpha.Version)
	}

	beta := topo.Meshes["beta"]
	if beta.MeshID != "beta-id" || beta.TrustDomain != "beta.example" || beta.MTLS != "PERMISSIVE" || beta.Version != "1.27.3" {
		t.Errorf("beta settings overwritten: %+v", beta)
	}
	if want := map[string]string{"team": "beta"}; !mapsEqual(beta.DiscoveryLabel, want) {
		t.Errorf("beta discoveryLabel = %v, want %v (kept)", beta.DiscoveryLabel, want)
	}
	// An empty, non-nil discoveryLabel means "unscoped" and is kept empty.
	if dl := topo.Meshes["empty"].DiscoveryLabel; dl == nil || len(dl) != 0 {
		t.Errorf("empty discoveryLabel = %#v, want an empty non-nil map", dl)
	}

	cps := []struct {
		mesh, name, ns, rev, version string
	}{
		{"alpha", "stable", DefaultNamespace, "stable", "1.28.2"}, // all defaults: revision = name, version from defaults via mesh
		{"alpha", "canary", DefaultNamespace, "next", "1.29.0"},   // own revision and version
		{"alpha", "west", "istio-alpha", "west", "1.28.2"},        // own namespace
		{"beta", "main", DefaultNamespace, "main", "1.27.4"},      // own version over the mesh's
	}
	for _, w := range cps {
		cp := topo.Meshes[w.mesh].ControlPlanes[w.name]
		if cp.Name != w.name || cp.Mesh != w.mesh || cp.Namespace != w.ns || cp.Revision != w.rev || cp.Version != w.version {
			t.Errorf("%s/%s: name %q mesh %q namespace %q revision %q version %q; want %+v",
				w.mesh, w.name, cp.Name, cp.Mesh, cp.Namespace, cp.Revision, cp.Version, w)
		}
	}

	// The mesh's version, not the fleet default, reaches control planes
	// that say nothing.
	topo2 := topology()
	topo2.Meshes["beta"].ControlPlanes["main"].Version = ""
	topo2.ResolveDefaults()
	if got := topo2.Meshes["beta"].ControlPlanes["main"].Version; got != "1.27.3" {
		t.Errorf("beta/main version = %q, want the mesh's 1.27.3", got)
	}
	// No version anywhere stays empty (the checks report it).
	topo3 := topology()
	topo3.Defaults.Istio.Version = ""
	topo3.ResolveDefaults()
	if got := topo3.Meshes["alpha"].ControlPlanes["stable"].Version; got != "" {
		t.Errorf("version with no default = %q, want empty", got)
	}
}

func TestResolveDefaultsIdempotentAndReindexes(t *testing.T) {
	topo := topology()
	topo.ResolveDefaults()
	first := names(topo.ControlPlanes())
	topo.ResolveDefaults()
	if got := names(topo.ControlPlanes()); !slices.Equal(got, first) {
		t.Fatalf("second ResolveDefaults: control planes %v, want %v", got, first)
	}
	if got := topo.Meshes["alpha"].ControlPlanes["stable"].Revision; got != "stable" {
		t.Errorf("revision after second run = %q", got)
	}

	// A control plane added later is indexed by the next run.
	topo.Meshes["beta"].ControlPlanes["extra"] = &ControlPlane{Cluster: "east"}
	topo.ResolveDefaults()
	if got := names(topo.ControlPlanesOfCluster("east")); !slices.Equal(got, []string{"alpha/canary", "alpha/stable", "beta/extra"}) {
		t.Errorf("east after re-resolving: %v", got)
	}
}

func TestIndex(t *testing.T) {
	topo := topology()
	topo.ResolveDefaults()
	if got, want := names(topo.ControlPlanes()), []string{"alpha/canary", "alpha/stable", "alpha/west", "beta/main"}; !slices.Equal(got, want) {
		t.Errorf("ControlPlanes() = %v, want %v (by mesh, then name)", got, want)
	}
	if got, want := names(topo.ControlPlanesOfCluster("west")), []string{"alpha/west", "beta/main"}; !slices.Equal(got, want) {
		t.Errorf("ControlPlanesOfCluster(west) = %v, want %v", got, want)
	}
	if got := topo.ControlPlanesOfCluster("nowhere"); len(got) != 0 {
		t.Errorf("ControlPlanesOfCluster(nowhere) = %v", names(got))
	}
	if got, want := names(topo.ControlPlanesIn("alpha", "east")), []string{"alpha/canary", "alpha/stable"}; !slices.Equal(got, want) {
		t.Errorf("ControlPlanesIn(alpha, east) = %v, want %v", got, want)
	}
	if got := topo.ControlPlanesIn("beta", "east"); len(got) != 0 {
		t.Errorf("ControlPlanesIn(beta, east) = %v", names(got))
	}
}

func TestControlPlaneHelpers(t *testing.T) {
	topo := topology()
	topo.ResolveDefaults()
	canary := topo.Meshes["alpha"].ControlPlanes["canary"]
	if got := canary.Path().String(); got != "meshes.alpha.controlPlanes.canary" {
		t.Errorf("Path = %s", got)
	}
	for rev, want := range map[string]bool{"next": true, "beta": true, "canary": false, "stable": false, "": false} {
		if got := canary.Serves(rev); got != want {
			t.Errorf("canary.Serves(%q) = %v, want %v", rev, got, want)
		}
	}
	if canary.IsDefaultRevision() {
		t.Error("canary is not the default revision")
	}
	canary.Revision = DefaultRevision
	if !canary.IsDefaultRevision() {
		t.Error("revision default is the default revision")
	}
	if !topo.Clusters["west"].NeedsCNI() {
		t.Error("OpenShift clusters need CNI")
	}
	if topo.Clusters["east"].NeedsCNI() {
		t.Error("a plain Kubernetes cluster without cni does not need CNI")
	}
	topo.Clusters["east"].CNI = true
	if !topo.Clusters["east"].NeedsCNI() {
		t.Error("cni: true needs CNI")
	}
	if got := topo.Pos(Path{"meshes"}); got != (diag.Pos{}) {
		t.Errorf("Pos without a source = %v, want zero", got)
	}
	if got := SortedKeys(map[string]int{"b": 1, "a": 2, "c": 3}); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("SortedKeys = %v", got)
	}
}

func names(cps []*ControlPlane) []string {
	var out []string
	for _, cp := range cps {
		out = append(out, cp.Mesh+"/"+cp.Name)
	}
	return out
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
