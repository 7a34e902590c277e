package resolve_test

import (
	"fmt"
	"slices"
	"testing"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/resolve"
)

// fleet is an in-memory topology: mesh "shop" with a primary in east
// managing remote west and a primary in north (multi-primary, two
// networks), an external control plane of mesh "ext" hosted in ops, and a
// single-cluster mesh "solo" with a stable and a canary control plane.
func fleet() *model.Topology {
	t := &model.Topology{
		Metadata: model.Metadata{Name: "fleet"},
		Defaults: model.Defaults{Istio: model.IstioDefaults{Version: "1.27.3"}},
		Networks: map[string]model.Network{"n1": {}, "n2": {}},
		Clusters: map[string]*model.Cluster{
			"east": {Network: "n1"}, "west": {Network: "n2"}, "north": {Network: "n1"},
			"ops": {}, "cfg": {}, "solo": {},
		},
		Meshes: map[string]*model.Mesh{
			"shop": {Version: "1.28.2", ControlPlanes: map[string]*model.ControlPlane{
				"a": {Cluster: "east", Remotes: []string{"west"}, Version: "1.28.2"}, // written, equal to the mesh's
				"b": {Cluster: "north"},
			}},
			"ext": {ControlPlanes: map[string]*model.ControlPlane{
				"x": {Cluster: "ops", External: true, ConfigCluster: "cfg", Remotes: []string{"cfg"}, Namespace: "external-istiod"},
			}},
			"solo": {ControlPlanes: map[string]*model.ControlPlane{
				"stable": {Cluster: "solo", Tags: []string{"prod"}},
				"canary": {Cluster: "solo", Version: "1.28.2"},
			}},
		},
		Tenants: map[string]*model.Tenant{
			"web":  {Mesh: "shop", Namespaces: []string{"web"}},
			"pay":  {Mesh: "solo", Revision: "prod", Namespaces: []string{"pay"}},
			"lab":  {Mesh: "solo", ControlPlane: "canary", Namespaces: []string{"lab"}},
			"none": {Mesh: "solo", Clusters: []string{"east"}, Namespaces: []string{"none"}},
		},
	}
	t.ResolveDefaults()
	return t
}

func TestVersionsParsedOnceWithWhereWritten(t *testing.T) {
	r := resolve.Resolve(fleet())
	cp := func(mesh, name string) *model.ControlPlane { return r.Model.Meshes[mesh].ControlPlanes[name] }
	for _, tc := range []struct {
		cp        *model.ControlPlane
		version   string
		origin    string
		defaulted bool
	}{
		// Written on the control plane, though equal to the mesh's: the
		// origin is where it was written, not a guess from the values.
		{cp("shop", "a"), "1.28.2", "meshes.shop.controlPlanes.a.version", false},
		{cp("shop", "b"), "1.28.2", "meshes.shop.version", false},
		{cp("solo", "stable"), "1.27.3", "defaults.istio.version", false},
		{cp("solo", "canary"), "1.28.2", "meshes.solo.controlPlanes.canary.version", false},
	} {
		v := r.Version(tc.cp)
		if v.Err != nil || v.Parsed.String() != tc.version || v.Text != tc.version {
			t.Errorf("%s: version %+v, want %s", tc.cp.Name, v, tc.version)
		}
		if v.Origin.Path.String() != tc.origin || v.Origin.Defaulted != tc.defaulted {
			t.Errorf("%s: origin %+v, want %s", tc.cp.Name, v.Origin, tc.origin)
		}
	}

	// Nowhere written: the mesh is blamed, and the version does not parse
	// (check reports it; nothing panics).
	topo := fleet()
	topo.Defaults.Istio.Version = ""
	topo.Meshes["solo"].Version = ""
	topo.Meshes["solo"].ControlPlanes["stable"].Version = ""
	topo.ResolveDefaults()
	v := resolve.Resolve(topo).Version(topo.Meshes["solo"].ControlPlanes["stable"])
	if v.Err == nil || v.Origin.Path.String() != "meshes.solo" || !v.Origin.Defaulted {
		t.Errorf("unset version: %+v", v)
	}
}

// TestVersionsLookedUpOnce: each version carries its line's facts from
// release's table beside the parsed version, so that check reads them
// instead of parsing and looking up again.
func TestVersionsLookedUpOnce(t *testing.T) {
	for _, tc := range []struct {
		written           string
		newerPatch, known bool
	}{
		{"1.28.2", false, true},
		{"v1.28.99", true, true},
		{"1.99.0", false, false},
	} {
		topo := fleet()
		topo.Meshes["solo"].ControlPlanes["canary"].Version = tc.written
		v := resolve.Resolve(topo).Version(topo.Meshes["solo"].ControlPlanes["canary"])
		if v.Err != nil || (v.Unknown == nil) != tc.known {
			t.Errorf("%s: %+v, want it parsed, known %v", tc.written, v, tc.known)
			continue
		}
		if tc.known && (v.Release.Version != v.Parsed || v.Release.Line != v.Parsed.Line() || v.Release.NewerPatch != tc.newerPatch) {
			t.Errorf("%s: release %+v, want line %s, newer patch %v", tc.written, v.Release, v.Parsed.Line(), tc.newerPatch)
		}
	}
}

func TestMeshFacts(t *testing.T) {
	r := resolve.Resolve(fleet())
	shop, ext, solo := r.Mesh("shop"), r.Mesh("ext"), r.Mesh("solo")
	if !slices.Equal(shop.Clusters, []string{"east", "north", "west"}) || !slices.Equal(shop.Primaries, []string{"east", "north"}) {
		t.Errorf("shop clusters %v primaries %v", shop.Clusters, shop.Primaries)
	}
	if !shop.MultiCluster || !shop.MultiNetwork || !shop.EastWest || shop.EastWestOrigin.Rule == "" || !shop.EastWestOrigin.Defaulted {
		t.Errorf("shop spans clusters and networks: %+v", shop)
	}
	// One data-plane cluster, but an external control plane watches it.
	if !ext.MultiCluster || !ext.External || ext.MultiNetwork || ext.EastWest {
		t.Errorf("ext: %+v", ext)
	}
	if solo.MultiCluster || solo.EastWest {
		t.Errorf("solo is one cluster: %+v", solo)
	}

	topo := fleet()
	off := false
	topo.Meshes["shop"].EastWestGateways = &off
	shop = resolve.Resolve(topo).Mesh("shop")
	if shop.EastWest || shop.EastWestOrigin.Path.String() != "meshes.shop.eastWestGateways" || shop.EastWestOrigin.Rule != "" {
		t.Errorf("eastWestGateways: false is the user's: %+v", shop.EastWestOrigin)
	}
}

func TestInstalls(t *testing.T) {
	r := resolve.Resolve(fleet())
	kinds := func(cluster string) []string {
		var out []string
		for _, in := range r.Installs(cluster) {
			out = append(out, in.ControlPlane.Name+":"+string(in.Kind)+"@"+in.Origin.Path.String())
		}
		return out
	}
	for cluster, want := range map[string][]string{
		"east": {"a:istiod@meshes.shop.controlPlanes.a.cluster"},
		"west": {"a:remote@meshes.shop.controlPlanes.a.remotes[0]"},
		"ops":  {"x:external@meshes.ext.controlPlanes.x.cluster"},
		"cfg":  {"x:remote@meshes.ext.controlPlanes.x.remotes[0]"},
		"solo": {"canary:istiod@meshes.solo.controlPlanes.canary.cluster", "stable:istiod@meshes.solo.controlPlanes.stable.cluster"},
	} {
		if got := kinds(cluster); !slices.Equal(got, want) {
			t.Errorf("%s installs %v, want %v", cluster, got, want)
		}
	}
}

func TestDiscoveries(t *testing.T) {
	r := resolve.Resolve(fleet())
	got := map[string][]string{}
	for _, cluster := range []string{"east", "north", "west", "ops", "cfg", "solo"} {
		for _, d := range r.Discoveries(cluster) {
			got[cluster] = append(got[cluster], d.Namespace+"->"+d.Discovered+": "+d.Why+" @"+d.Origin.Path.String())
		}
	}
	want := map[string][]string{
		"east": {
			"istio-system->north: north runs control plane b of the same mesh @meshes.shop.controlPlanes.b.cluster",
			"istio-system->west: west is a remote of control plane a @meshes.shop.controlPlanes.a.remotes[0]",
		},
		"north": {
			"istio-system->east: east runs control plane a of the same mesh @meshes.shop.controlPlanes.a.cluster",
			"istio-system->west: west is a remote of control plane a of the same mesh @meshes.shop.controlPlanes.a.remotes[0]",
		},
		"ops": {"external-istiod->cfg: cfg is the config cluster of control plane x @meshes.ext.controlPlanes.x.remotes[0]"},
	}
	for _, c := range model.SortedKeys(want) {
		if !slices.Equal(got[c], want[c]) {
			t.Errorf("%s discovers\n  %q\nwant\n  %q", c, got[c], want[c])
		}
	}
	if len(got) != len(want) {
		t.Errorf("discoveries in %v, want only in %v", model.SortedKeys(got), model.SortedKeys(want))
	}
	if d := r.Discoveries("ops")[0]; !d.Config {
		t.Error("ops reads its configuration from cfg")
	}
	for _, tc := range []struct {
		mesh, cluster string
		want          bool
	}{{"shop", "west", true}, {"shop", "east", true}, {"ext", "cfg", true}, {"ext", "ops", false}, {"solo", "solo", false}} {
		if got := r.DiscoveredFromElsewhere(tc.mesh, tc.cluster); got != tc.want {
			t.Errorf("DiscoveredFromElsewhere(%s, %s) = %v", tc.mesh, tc.cluster, got)
		}
	}
}

func TestPlacements(t *testing.T) {
	r := resolve.Resolve(fleet())
	tn := r.Model.Tenants
	origins := func(p *resolve.Placement) []string {
		var out []string
		for _, o := range p.Origins {
			out = append(out, o.Path.String())
		}
		return out
	}
	// A tag picks the control plane among two in the cluster.
	pay := r.Placement(tn["pay"], "solo")
	if pay.ControlPlane.Name != "stable" || pay.Revision != "prod" ||
		pay.Why != "serves it in solo: of the 2 control planes of mesh solo there, it is the one whose revision tag is prod, the tenant's revision" ||
		!slices.Equal(origins(pay), []string{"tenants.pay.revision", "meshes.solo.controlPlanes.stable.tags[0]", "meshes.solo.controlPlanes.stable.cluster"}) ||
		pay.RevisionDefined.Path.String() != "meshes.solo.controlPlanes.stable.tags[0]" || pay.RevisionIs != "a revision tag" {
		t.Errorf("pay: %+v %v", pay, origins(pay))
	}
	lab := r.Placement(tn["lab"], "solo")
	if lab.ControlPlane.Name != "canary" || lab.Revision != "canary" ||
		!slices.Equal(origins(lab), []string{"tenants.lab.controlPlane", "meshes.solo.controlPlanes.canary.cluster"}) ||
		lab.RevisionIs != "the revision" {
		t.Errorf("lab: %+v %v", lab, origins(lab))
	}
	// The mesh's only control plane serving a remote.
	web := r.Placement(tn["web"], "west")
	if web.ControlPlane.Name != "a" || !slices.Equal(origins(web), []string{"meshes.shop.controlPlanes.a.remotes[0]"}) {
		t.Errorf("web in west: %+v %v", web, origins(web))
	}
	if got := r.TenantClusters(tn["web"]); !slices.Equal(got, []string{"east", "north", "west"}) {
		t.Errorf("web clusters %v", got)
	}
	// Not servable: no control plane, candidates for check to report.
	none := r.Placement(tn["none"], "east")
	if none.ControlPlane != nil || len(none.Candidates) != 0 {
		t.Errorf("none: %+v", none)
	}
	if r.Placement(tn["web"], "solo") != nil {
		t.Error("web has no namespaces in solo")
	}
}

func TestHostingAndCNI(t *testing.T) {
	topo := fleet()
	topo.Clusters["west"].Platform = model.PlatformOpenShift
	// A mesh of the hosting cluster's own, to inject x's ingress gateway.
	topo.Meshes["ops"] = &model.Mesh{ControlPlanes: map[string]*model.ControlPlane{"own": {Cluster: "ops"}}}
	topo.ResolveDefaults()
	r := resolve.Resolve(topo)
	cp := func(mesh, name string) *model.ControlPlane { return topo.Meshes[mesh].ControlPlanes[name] }
	if h := r.Hosting(cp("ext", "x")); h != cp("ops", "own") {
		t.Errorf("x is hosted by %v, want ops/own", h)
	}
	if h := r.Hosting(cp("solo", "stable")); h != cp("solo", "canary") {
		t.Errorf("the first istiod of cluster solo is %v, want canary (by name)", h)
	}
	if got := r.CNINeededBy(cp("shop", "a")); !slices.Equal(got, []string{"west"}) {
		t.Errorf("a injects for the CNI agent because of %v, want west", got)
	}
	if got := r.CNINeededBy(cp("shop", "b")); len(got) != 0 {
		t.Errorf("b serves no cluster needing the CNI agent, got %v", got)
	}

	// Without a control plane of its own there, nothing hosts x.
	if h := resolve.Resolve(fleet()).Hosting(fleet().Meshes["ext"].ControlPlanes["x"]); h != nil {
		t.Errorf("x hosted by %v in a cluster running only external control planes", h)
	}
}

// TestTenantClusters pins where a tenant's namespaces are created, for
// every way a tenant says it.
func TestTenantClusters(t *testing.T) {
	topo := fleet()
	topo.Meshes["none"] = &model.Mesh{}
	tenants := []struct {
		name   string
		tenant *model.Tenant
		want   []string
	}{
		{"listed clusters, sorted and deduplicated", &model.Tenant{Mesh: "shop", Clusters: []string{"west", "east", "west"}}, []string{"east", "west"}},
		{"listed clusters win over the control plane", &model.Tenant{Mesh: "shop", ControlPlane: "a", Clusters: []string{"north"}}, []string{"north"}},
		{"listed clusters need not exist", &model.Tenant{Mesh: "shop", Clusters: []string{"nowhere"}}, []string{"nowhere"}},
		{"every cluster of the mesh, once", &model.Tenant{Mesh: "shop"}, []string{"east", "north", "west"}},
		{"the control plane's data plane", &model.Tenant{Mesh: "shop", ControlPlane: "a"}, []string{"east", "west"}},
		{"the control plane's cluster (two in solo)", &model.Tenant{Mesh: "solo", ControlPlane: "canary"}, []string{"solo"}},
		{"an undefined control plane", &model.Tenant{Mesh: "shop", ControlPlane: "nope"}, nil},
		{"a mesh without control planes", &model.Tenant{Mesh: "none"}, nil},
		{"an undefined mesh", &model.Tenant{Mesh: "nope"}, nil},
	}
	for i, tc := range tenants {
		topo.Tenants[fmt.Sprintf("t%d", i)] = tc.tenant
	}
	topo.ResolveDefaults()
	r := resolve.Resolve(topo)
	for _, tc := range tenants {
		if got := r.TenantClusters(tc.tenant); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// The listed clusters are not reordered in place.
	if got := tenants[0].tenant.Clusters; !slices.Equal(got, []string{"west", "east", "west"}) {
		t.Errorf("resolving changed the tenant's list: %v", got)
	}
}

// TestAmbientFacts: the data plane is resolved once per mesh and tenant,
// with the line that says so; an ambient mesh's control planes get the
// ambient profile (openshift-ambient on OpenShift), and the clusters where
// an ambient mesh installs are known, for the one-ztunnel rule.
func TestAmbientFacts(t *testing.T) {
	topo := fleet()
	topo.Meshes["solo"].DataPlane = model.DataPlaneAmbient
	topo.Tenants["lab"].DataPlane = model.DataPlaneSidecar
	topo.Clusters["solo"].Platform = model.PlatformOpenShift
	topo.ResolveDefaults()
	r := resolve.Resolve(topo)

	if m := r.Mesh("solo"); !m.Ambient || m.DataPlaneOrigin.Path.String() != "meshes.solo.dataplane" {
		t.Errorf("mesh solo: ambient %v from %s", m.Ambient, m.DataPlaneOrigin.Path)
	}
	if m := r.Mesh("shop"); m.Ambient || !m.DataPlaneOrigin.Defaulted {
		t.Errorf("mesh shop: ambient %v, defaulted %v", m.Ambient, m.DataPlaneOrigin.Defaulted)
	}
	for _, tc := range []struct {
		tenant, mode, origin string
		rule                 bool
	}{
		{"pay", model.DataPlaneAmbient, "meshes.solo.dataplane", true},  // its mesh's
		{"lab", model.DataPlaneSidecar, "tenants.lab.dataplane", false}, // its own, during a migration
		{"web", model.DataPlaneSidecar, "meshes.shop.dataplane", true},
	} {
		dp := r.TenantDataPlane(topo.Tenants[tc.tenant])
		if dp.Mode != tc.mode || dp.Origin.Path.String() != tc.origin || (dp.Origin.Rule != "") != tc.rule {
			t.Errorf("tenant %s: %s from %s (rule %q), want %s from %s", tc.tenant, dp.Mode, dp.Origin.Path, dp.Origin.Rule, tc.mode, tc.origin)
		}
	}
	if p := r.Profile(topo.Meshes["solo"].ControlPlanes["stable"]); p.Name != "openshift-ambient" || p.Origin.Rule == "" {
		t.Errorf("solo's stable control plane: profile %q (%+v), want openshift-ambient from the mesh's data plane", p.Name, p.Origin)
	}
	if p := r.Profile(topo.Meshes["shop"].ControlPlanes["a"]); p.Name != "" || !p.Origin.Defaulted {
		t.Errorf("shop's control plane a: profile %q (%+v), want none written", p.Name, p.Origin)
	}
	if got := r.AmbientMeshesIn("solo"); !slices.Equal(got, []string{"solo"}) {
		t.Errorf("ambient meshes in cluster solo: %v", got)
	}
	if got := r.AmbientMeshesIn("east"); len(got) != 0 {
		t.Errorf("ambient meshes in cluster east: %v", got)
	}
}

// TestPlaceTenant pins the rule that picks the control plane serving a
// tenant in a cluster, and the candidates check reports when it is not
// unique (moved here with the rule, from model).
func TestPlaceTenant(t *testing.T) {
	tests := []struct {
		name       string
		tenant     model.Tenant
		cluster    string
		cp         string // "" when not placed
		revision   string
		candidates []string
	}{
		{"one control plane", model.Tenant{Mesh: "alpha"}, "west", "alpha/west", "west", []string{"alpha/west"}},
		{"one control plane, its revision named", model.Tenant{Mesh: "beta", Revision: "main"}, "west", "beta/main", "main", []string{"beta/main"}},
		// With a single candidate the revision is not used to choose: the
		// placement carries it and the checks report that it is not served.
		{"one control plane, revision it does not serve", model.Tenant{Mesh: "beta", Revision: "other"}, "west", "beta/main", "other", []string{"beta/main"}},
		{"two control planes: ambiguous", model.Tenant{Mesh: "alpha"}, "east", "", "", []string{"alpha/canary", "alpha/stable"}},
		{"two control planes: controlPlane chooses", model.Tenant{Mesh: "alpha", ControlPlane: "stable"}, "east", "alpha/stable", "stable", []string{"alpha/stable"}},
		{"two control planes: revision chooses", model.Tenant{Mesh: "alpha", Revision: "next"}, "east", "alpha/canary", "next", []string{"alpha/canary"}},
		{"two control planes: tag chooses", model.Tenant{Mesh: "alpha", Revision: "beta"}, "east", "alpha/canary", "beta", []string{"alpha/canary"}},
		{"two control planes: revision nobody serves", model.Tenant{Mesh: "alpha", Revision: "gone"}, "east", "", "", nil},
		{"controlPlane and tag", model.Tenant{Mesh: "alpha", ControlPlane: "canary", Revision: "beta"}, "east", "alpha/canary", "beta", []string{"alpha/canary"}},
		{"controlPlane elsewhere", model.Tenant{Mesh: "alpha", ControlPlane: "west"}, "east", "", "", nil},
		{"mesh not in cluster", model.Tenant{Mesh: "beta"}, "east", "", "", nil},
		{"undefined cluster", model.Tenant{Mesh: "alpha"}, "nowhere", "", "", nil},
	}
	names := func(cps []*model.ControlPlane) []string {
		var out []string
		for _, cp := range cps {
			out = append(out, cp.Mesh+"/"+cp.Name)
		}
		return out
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			topo := &model.Topology{
				Defaults: model.Defaults{Istio: model.IstioDefaults{Version: "1.28.2"}},
				Clusters: map[string]*model.Cluster{"east": {}, "west": {}},
				Meshes: map[string]*model.Mesh{
					"alpha": {ControlPlanes: map[string]*model.ControlPlane{
						"stable": {Cluster: "east"},
						"canary": {Cluster: "east", Revision: "next", Tags: []string{"beta"}},
						"west":   {Cluster: "west", Namespace: "istio-alpha"},
					}},
					"beta": {ControlPlanes: map[string]*model.ControlPlane{"main": {Cluster: "west"}}},
				},
			}
			tn := tc.tenant
			tn.Namespaces, tn.Clusters = []string{"app"}, []string{tc.cluster}
			topo.Tenants = map[string]*model.Tenant{"app": &tn}
			topo.ResolveDefaults()
			p := resolve.Resolve(topo).Placement(topo.Tenants["app"], tc.cluster)
			if p.Cluster != tc.cluster {
				t.Errorf("placement cluster = %q, want %q", p.Cluster, tc.cluster)
			}
			if got := names(p.Candidates); !slices.Equal(got, tc.candidates) {
				t.Errorf("candidates = %v, want %v", got, tc.candidates)
			}
			if tc.cp == "" {
				if p.ControlPlane != nil || p.Revision != "" {
					t.Errorf("placed on %v revision %q, want no placement", names([]*model.ControlPlane{p.ControlPlane}), p.Revision)
				}
				return
			}
			if p.ControlPlane == nil {
				t.Fatalf("not placed, want %s", tc.cp)
			}
			if got := p.ControlPlane.Mesh + "/" + p.ControlPlane.Name; got != tc.cp || p.Revision != tc.revision {
				t.Errorf("placed on %s revision %q, want %s revision %q", got, p.Revision, tc.cp, tc.revision)
			}
			// Placing must not disturb the shared index.
			if got := names(topo.ControlPlanesOfCluster("east")); !slices.Equal(got, []string{"alpha/canary", "alpha/stable"}) {
				t.Errorf("index changed by placing: %v", got)
			}
		})
	}
}
