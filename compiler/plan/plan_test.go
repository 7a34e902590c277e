package plan_test

import (
	"reflect"
	"slices"
	"testing"

	"meshc.dev/meshc/compiler/check"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
	"meshc.dev/meshc/compiler/release"
)

// build resolves defaults, insists the topology is valid (plan.Build runs
// on checked input only; warnings do not stop it) and plans it.
func build(t *testing.T, topo *model.Topology) *plan.Plan {
	t.Helper()
	topo.ResolveDefaults()
	if d, _ := check.Topology(topo).Split(); len(d) > 0 {
		t.Fatalf("topology is invalid:\n%v", d)
	}
	return plan.Build(topo)
}

func clusterOf(t *testing.T, p *plan.Plan, name string) *plan.Cluster {
	t.Helper()
	for _, c := range p.Clusters {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no cluster %q in the plan", name)
	return nil
}

func namespace(c *plan.Cluster, name string) *plan.Namespace {
	for _, ns := range c.Namespaces {
		if ns.Name == name {
			return ns
		}
	}
	return nil
}

// value follows keys through a Helm values tree.
func value(values map[string]any, keys ...string) any {
	var cur any = values
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func v(s string) release.Version {
	ver, err := release.Parse(s)
	if err != nil {
		panic(err)
	}
	return ver
}

func topology(version string) *model.Topology {
	return &model.Topology{
		APIVersion: model.APIVersion,
		Kind:       model.Kind,
		Metadata:   model.Metadata{Name: "fleet"},
		Defaults:   model.Defaults{Istio: model.IstioDefaults{Version: version}},
		Networks:   map[string]model.Network{},
		Clusters:   map[string]*model.Cluster{},
		Meshes:     map[string]*model.Mesh{},
		Tenants:    map[string]*model.Tenant{},
	}
}

var (
	vault  = &model.SecretStore{Name: "vault", Kind: "ClusterSecretStore", KeyPrefix: "meshc"}
	issuer = &model.Issuer{Name: "mesh1-root", Kind: "ClusterIssuer"}
)

// primaryRemote: istiod in main0 manages remote0. network2 empty puts
// remote0 on main0's network.
func primaryRemote(network2, via string) *model.Topology {
	t := topology("1.28.2")
	t.Networks["network1"] = model.Network{}
	if network2 != "" {
		t.Networks[network2] = model.Network{}
	} else {
		network2 = "network1"
	}
	t.Clusters["main0"] = &model.Cluster{Network: "network1", APIServer: "https://main0.example.com:6443"}
	t.Clusters["remote0"] = &model.Cluster{Network: network2, APIServer: "https://remote0.example.com:6443"}
	t.Meshes["mesh1"] = &model.Mesh{
		Trust:         &model.Trust{Mode: model.TrustCertManager, Issuer: issuer},
		RemoteSecrets: &model.RemoteSecrets{Mode: model.SecretsExternalSecret, SecretStore: vault},
		ControlPlanes: map[string]*model.ControlPlane{
			"primary": {Cluster: "main0", Namespace: "istio-system", Remotes: []string{"remote0"},
				Expose: &model.Expose{Via: via, Address: "istiod.main0.example.com"}},
		},
	}
	t.Tenants["sample"] = &model.Tenant{Mesh: "mesh1", Namespaces: []string{"sample"}}
	return t
}

func multiPrimary() *model.Topology {
	t := topology("1.28.2")
	t.Networks["east"] = model.Network{}
	t.Networks["west"] = model.Network{}
	t.Clusters["cluster1"] = &model.Cluster{Network: "east", APIServer: "https://cluster1.example.com:6443"}
	t.Clusters["cluster2"] = &model.Cluster{Network: "west", APIServer: "https://cluster2.example.com:6443"}
	t.Meshes["mesh1"] = &model.Mesh{
		Trust: &model.Trust{Mode: model.TrustCertManager, Issuer: issuer},
		ControlPlanes: map[string]*model.ControlPlane{
			"east": {Cluster: "cluster1", Namespace: "istio-system"},
			"west": {Cluster: "cluster2", Namespace: "istio-system"},
		},
	}
	t.Tenants["sample"] = &model.Tenant{Mesh: "mesh1", Namespaces: []string{"sample"}}
	return t
}

func TestPrimaryRemote(t *testing.T) {
	p := build(t, primaryRemote("network2", model.ExposeEastWest))
	if len(p.Clusters) != 2 || p.Clusters[0].Name != "main0" || p.Clusters[1].Name != "remote0" {
		t.Fatalf("clusters: %+v", p.Clusters)
	}
	main0, remote0 := clusterOf(t, p, "main0"), clusterOf(t, p, "remote0")

	t.Run("remote install", func(t *testing.T) {
		if len(remote0.ControlPlanes) != 1 {
			t.Fatalf("remote0 control planes: %d, want 1", len(remote0.ControlPlanes))
		}
		cp := remote0.ControlPlanes[0]
		if !cp.Remote || cp.Profile != plan.ProfileRemote || cp.Name != "primary" || cp.Cluster != "main0" {
			t.Errorf("remote install: Remote=%v Profile=%q Name=%q Cluster=%q", cp.Remote, cp.Profile, cp.Name, cp.Cluster)
		}
		if got := value(cp.Values, "global", "remotePilotAddress"); got != "istiod.main0.example.com" {
			t.Errorf("global.remotePilotAddress = %v", got)
		}
		if got := value(cp.Values, "istiodRemote", "injectionPath"); got != "/inject/cluster/remote0/net/network2" {
			t.Errorf("istiodRemote.injectionPath = %v", got)
		}
		// The remote's own identity, not the primary's.
		if got := value(cp.Values, "global", "multiCluster", "clusterName"); got != "remote0" {
			t.Errorf("global.multiCluster.clusterName = %v", got)
		}
		if got := value(cp.Values, "global", "network"); got != "network2" {
			t.Errorf("global.network = %v", got)
		}
		if got := value(cp.Values, "global", "meshID"); got != "mesh1" {
			t.Errorf("global.meshID = %v", got)
		}
		if got := value(cp.Values, "global", "istioNamespace"); got != "istio-system" {
			t.Errorf("global.istioNamespace = %v", got)
		}
	})

	t.Run("remote system namespace", func(t *testing.T) {
		ns := namespace(remote0, "istio-system")
		if ns == nil {
			t.Fatal("remote0 has no istio-system")
		}
		if ns.Role != plan.RoleSystem || ns.Mesh != "mesh1" {
			t.Errorf("role %q mesh %q", ns.Role, ns.Mesh)
		}
		want := map[string]string{plan.AnnotationControlPlaneClusters: "main0"}
		if !reflect.DeepEqual(ns.Annotations, want) {
			t.Errorf("annotations %v, want %v", ns.Annotations, want)
		}
		if ns.Labels[plan.LabelNetwork] != "network2" || ns.Labels["istio-discovery"] != "mesh1" {
			t.Errorf("labels %v", ns.Labels)
		}
		// The primary's system namespace names no leader.
		if a := namespace(main0, "istio-system").Annotations; len(a) != 0 {
			t.Errorf("main0 istio-system annotations %v", a)
		}
	})

	t.Run("primary install", func(t *testing.T) {
		if len(main0.ControlPlanes) != 1 {
			t.Fatalf("main0 control planes: %d", len(main0.ControlPlanes))
		}
		cp := main0.ControlPlanes[0]
		if cp.Remote || cp.Profile != "" {
			t.Errorf("primary: Remote=%v Profile=%q", cp.Remote, cp.Profile)
		}
		if got := value(cp.Values, "global", "remotePilotAddress"); got != nil {
			t.Errorf("primary has remotePilotAddress %v", got)
		}
		if got := value(cp.Values, "istiodRemote"); got != nil {
			t.Errorf("primary has istiodRemote %v", got)
		}
		if got := value(cp.Values, "global", "multiCluster", "clusterName"); got != "main0" {
			t.Errorf("global.multiCluster.clusterName = %v", got)
		}
	})

	t.Run("mesh-wide policy only in the primary", func(t *testing.T) {
		if len(remote0.PeerAuths) != 0 {
			t.Errorf("remote0 PeerAuths: %+v", remote0.PeerAuths)
		}
		if len(main0.PeerAuths) != 1 || main0.PeerAuths[0].Namespace != "istio-system" || main0.PeerAuths[0].Mode != "STRICT" {
			t.Errorf("main0 PeerAuths: %+v", main0.PeerAuths)
		}
	})

	t.Run("remote secrets and reader tokens", func(t *testing.T) {
		if len(main0.RemoteSecrets) != 1 {
			t.Fatalf("main0 remote secrets: %+v", main0.RemoteSecrets)
		}
		rs := main0.RemoteSecrets[0]
		if rs.Discovered == nil || rs.Discovered.Name != "remote0" || rs.Namespace != "istio-system" ||
			rs.ReaderNamespace != "istio-system" || rs.Mesh != "mesh1" ||
			rs.Mode != model.SecretsExternalSecret || rs.Store != vault {
			t.Errorf("remote secret %+v", rs)
		}
		if got := plan.RemoteSecretName("remote0"); got != "istio-remote-secret-remote0" {
			t.Errorf("RemoteSecretName = %q", got)
		}
		if len(remote0.RemoteSecrets) != 0 {
			t.Errorf("remote0 discovers nothing, has %+v", remote0.RemoteSecrets)
		}
		if len(remote0.ReaderTokens) != 1 {
			t.Fatalf("remote0 reader tokens: %+v", remote0.ReaderTokens)
		}
		tok := remote0.ReaderTokens[0]
		if tok.Cluster != "remote0" || tok.Namespace != "istio-system" || tok.Mesh != "mesh1" ||
			tok.Mode != model.SecretsExternalSecret || tok.Store != vault {
			t.Errorf("reader token %+v", tok)
		}
		if len(main0.ReaderTokens) != 0 {
			t.Errorf("nothing discovers main0, but it has reader tokens %+v", main0.ReaderTokens)
		}
	})

	t.Run("shared trust", func(t *testing.T) {
		if len(main0.CACerts) != 1 {
			t.Fatalf("main0 CA certs: %+v", main0.CACerts)
		}
		ca := main0.CACerts[0]
		if ca.Cluster != "main0" || ca.Namespace != "istio-system" || ca.TrustDomain != "cluster.local" || ca.Trust.Issuer != issuer {
			t.Errorf("CA cert %+v", ca)
		}
		// The remote's workloads get certificates from istiod in main0.
		if len(remote0.CACerts) != 0 {
			t.Errorf("remote0 CA certs: %+v", remote0.CACerts)
		}
	})

	t.Run("istiod exposure", func(t *testing.T) {
		if len(main0.IstiodExposures) != 1 {
			t.Fatalf("main0 exposures: %+v", main0.IstiodExposures)
		}
		e := main0.IstiodExposures[0]
		if e.Via != model.ExposeEastWest || e.Address != "istiod.main0.example.com" || e.ControlPlane.Name != "primary" ||
			e.Source.String() != "meshes.mesh1.controlPlanes.primary.expose" {
			t.Errorf("exposure %+v", e)
		}
		if len(remote0.IstiodExposures) != 0 {
			t.Errorf("remote0 exposures: %+v", remote0.IstiodExposures)
		}
	})

	t.Run("east-west gateways on both networks", func(t *testing.T) {
		for _, c := range []*plan.Cluster{main0, remote0} {
			if len(c.EastWestGateways) != 1 {
				t.Errorf("%s east-west gateways: %+v", c.Name, c.EastWestGateways)
				continue
			}
			g := c.EastWestGateways[0]
			if !g.CrossNetwork || g.Network != c.Network || g.Mesh != "mesh1" || g.Namespace != "istio-system" ||
				g.Revision != "primary" || g.Source.String() != "meshes.mesh1" {
				t.Errorf("%s gateway %+v", c.Name, g)
			}
		}
	})

	t.Run("tenant in both clusters", func(t *testing.T) {
		for _, c := range []*plan.Cluster{main0, remote0} {
			ns := namespace(c, "sample")
			if ns == nil || ns.Role != plan.RoleTenant || ns.Labels[plan.LabelRev] != "primary" || ns.Labels["istio-discovery"] != "mesh1" {
				t.Errorf("%s sample namespace %+v", c.Name, ns)
			}
		}
	})
}

func TestPrimaryRemoteWithoutTrust(t *testing.T) {
	topo := primaryRemote("network2", model.ExposeEastWest)
	topo.Meshes["mesh1"].Trust = nil
	topo.Meshes["mesh1"].RemoteSecrets = nil
	p := build(t, topo)
	main0, remote0 := clusterOf(t, p, "main0"), clusterOf(t, p, "remote0")
	if len(main0.CACerts)+len(remote0.CACerts) != 0 {
		t.Errorf("CA certs without trust: %+v %+v", main0.CACerts, remote0.CACerts)
	}
	// Remote secrets default to manual, without a store.
	if len(main0.RemoteSecrets) != 1 || main0.RemoteSecrets[0].Mode != model.SecretsManual || main0.RemoteSecrets[0].Store != nil {
		t.Errorf("remote secrets: %+v", main0.RemoteSecrets)
	}
	if len(remote0.ReaderTokens) != 1 || remote0.ReaderTokens[0].Mode != model.SecretsManual {
		t.Errorf("reader tokens: %+v", remote0.ReaderTokens)
	}
}

func TestRemoteInjectionPathWithoutNetwork(t *testing.T) {
	topo := primaryRemote("", model.ExposeLoadBalancer)
	topo.Networks = nil
	topo.Clusters["main0"].Network = ""
	topo.Clusters["remote0"].Network = ""
	p := build(t, topo)
	cp := clusterOf(t, p, "remote0").ControlPlanes[0]
	if got := value(cp.Values, "istiodRemote", "injectionPath"); got != "/inject/cluster/remote0" {
		t.Errorf("istiodRemote.injectionPath = %v", got)
	}
	if got := value(cp.Values, "global", "network"); got != nil {
		t.Errorf("global.network = %v", got)
	}
	if got := plan.InjectionPath(&model.Cluster{Name: "a/b", Network: "n/1"}); got != "/inject/cluster/a--slash--b/net/n--slash--1" {
		t.Errorf("InjectionPath with slashes = %q", got)
	}
}

func TestEastWestGatewaysOneNetwork(t *testing.T) {
	t.Run("istiod exposed through the gateway: gateway in the primary only", func(t *testing.T) {
		p := build(t, primaryRemote("", model.ExposeEastWest))
		main0, remote0 := clusterOf(t, p, "main0"), clusterOf(t, p, "remote0")
		if len(main0.EastWestGateways) != 1 {
			t.Fatalf("main0 gateways: %+v", main0.EastWestGateways)
		}
		g := main0.EastWestGateways[0]
		if g.CrossNetwork || g.Network != "network1" || g.Source.String() != "meshes.mesh1.controlPlanes.primary.expose" ||
			g.Why != plan.EastWestForExposure || g.Exposes == nil || g.Exposes.Name != "primary" {
			t.Errorf("main0 gateway %+v (source %s)", g, g.Source)
		}
		if len(remote0.EastWestGateways) != 0 {
			t.Errorf("remote0 gateways: %+v", remote0.EastWestGateways)
		}
		if len(main0.IstiodExposures) != 1 || main0.IstiodExposures[0].Via != model.ExposeEastWest {
			t.Errorf("exposures: %+v", main0.IstiodExposures)
		}
	})
	t.Run("the gateway names the control plane it exposes, not the first by name", func(t *testing.T) {
		topo := primaryRemote("", model.ExposeEastWest)
		// A canary that sorts first and has no remotes: not exposed.
		topo.Meshes["mesh1"].ControlPlanes["a-canary"] = &model.ControlPlane{Cluster: "main0", Namespace: "istio-system", Revision: "canary"}
		topo.Tenants["sample"].ControlPlane = "primary"
		g := clusterOf(t, build(t, topo), "main0").EastWestGateways
		if len(g) != 1 || g[0].Why != plan.EastWestForExposure || g[0].Exposes == nil || g[0].Exposes.Name != "primary" ||
			g[0].Source.String() != "meshes.mesh1.controlPlanes.primary.expose" {
			t.Errorf("main0 gateways: %+v", g)
		}
	})
	t.Run("istiod behind a load balancer: no gateway", func(t *testing.T) {
		p := build(t, primaryRemote("", model.ExposeLoadBalancer))
		for _, c := range p.Clusters {
			if len(c.EastWestGateways) != 0 {
				t.Errorf("%s gateways: %+v", c.Name, c.EastWestGateways)
			}
		}
		main0 := clusterOf(t, p, "main0")
		if len(main0.IstiodExposures) != 1 || main0.IstiodExposures[0].Via != model.ExposeLoadBalancer ||
			main0.IstiodExposures[0].Address != "istiod.main0.example.com" {
			t.Errorf("exposures: %+v", main0.IstiodExposures)
		}
	})
	t.Run("gateways asked for on one network: everywhere, not cross-network", func(t *testing.T) {
		topo := primaryRemote("", model.ExposeLoadBalancer)
		on := true
		topo.Meshes["mesh1"].EastWestGateways = &on
		p := build(t, topo)
		for _, c := range p.Clusters {
			if len(c.EastWestGateways) != 1 || c.EastWestGateways[0].CrossNetwork || c.EastWestGateways[0].Why != plan.EastWestWritten {
				t.Errorf("%s gateways: %+v", c.Name, c.EastWestGateways)
			}
		}
	})
	t.Run("single-cluster mesh: no multicluster machinery", func(t *testing.T) {
		topo := topology("1.28.2")
		topo.Clusters["c1"] = &model.Cluster{}
		topo.Meshes["m1"] = &model.Mesh{ControlPlanes: map[string]*model.ControlPlane{"cp1": {Cluster: "c1"}}}
		c := clusterOf(t, build(t, topo), "c1")
		if n := len(c.EastWestGateways) + len(c.IstiodExposures) + len(c.RemoteSecrets) + len(c.ReaderTokens) + len(c.CACerts); n != 0 {
			t.Errorf("single cluster has %d multicluster objects: %+v", n, c)
		}
	})
}

func TestMultiPrimary(t *testing.T) {
	p := build(t, multiPrimary())
	for _, pair := range [][2]string{{"cluster1", "cluster2"}, {"cluster2", "cluster1"}} {
		c := clusterOf(t, p, pair[0])
		if len(c.ControlPlanes) != 1 || c.ControlPlanes[0].Remote || c.ControlPlanes[0].Cluster != pair[0] {
			t.Errorf("%s control planes: %+v", c.Name, c.ControlPlanes)
		}
		if len(c.RemoteSecrets) != 1 || c.RemoteSecrets[0].Discovered.Name != pair[1] ||
			c.RemoteSecrets[0].Mode != model.SecretsManual || c.RemoteSecrets[0].ReaderNamespace != "istio-system" {
			t.Errorf("%s remote secrets: %+v", c.Name, c.RemoteSecrets)
		}
		if len(c.ReaderTokens) != 1 || c.ReaderTokens[0].Cluster != pair[0] {
			t.Errorf("%s reader tokens: %+v", c.Name, c.ReaderTokens)
		}
		if len(c.CACerts) != 1 || c.CACerts[0].Cluster != pair[0] || c.CACerts[0].Namespace != "istio-system" {
			t.Errorf("%s CA certs: %+v", c.Name, c.CACerts)
		}
		if len(c.EastWestGateways) != 1 || !c.EastWestGateways[0].CrossNetwork || c.EastWestGateways[0].Network != c.Network {
			t.Errorf("%s gateways: %+v", c.Name, c.EastWestGateways)
		}
		if len(c.IstiodExposures) != 0 {
			t.Errorf("%s exposures without remotes: %+v", c.Name, c.IstiodExposures)
		}
		if len(c.PeerAuths) != 1 || c.PeerAuths[0].Namespace != "istio-system" {
			t.Errorf("%s peer auths: %+v", c.Name, c.PeerAuths)
		}
		if a := namespace(c, "istio-system").Annotations; len(a) != 0 {
			t.Errorf("%s system namespace annotations: %v", c.Name, a)
		}
	}
}

// A primary with a remote in a multi-primary mesh: every primary discovers
// every cluster of the mesh, the remote included.
func TestMultiPrimaryWithRemote(t *testing.T) {
	topo := multiPrimary()
	topo.Clusters["remote1"] = &model.Cluster{Network: "west", APIServer: "https://remote1.example.com"}
	east := topo.Meshes["mesh1"].ControlPlanes["east"]
	east.Remotes = []string{"remote1"}
	east.Expose = &model.Expose{Via: model.ExposeEastWest, Address: "istiod.cluster1.example.com"}
	p := build(t, topo)
	discovered := func(c *plan.Cluster) []string {
		var out []string
		for _, rs := range c.RemoteSecrets {
			out = append(out, rs.Discovered.Name)
		}
		return out
	}
	if got := discovered(clusterOf(t, p, "cluster1")); !slices.Equal(got, []string{"cluster2", "remote1"}) {
		t.Errorf("cluster1 discovers %v", got)
	}
	if got := discovered(clusterOf(t, p, "cluster2")); !slices.Equal(got, []string{"cluster1", "remote1"}) {
		t.Errorf("cluster2 discovers %v", got)
	}
	r := clusterOf(t, p, "remote1")
	if len(r.ControlPlanes) != 1 || !r.ControlPlanes[0].Remote || r.ControlPlanes[0].Name != "east" {
		t.Errorf("remote1 control planes: %+v", r.ControlPlanes)
	}
	if ns := namespace(r, "istio-system"); ns == nil || ns.Annotations[plan.AnnotationControlPlaneClusters] != "cluster1" {
		t.Errorf("remote1 system namespace: %+v", ns)
	}
	if len(r.ReaderTokens) != 1 || len(r.CACerts) != 0 || len(r.RemoteSecrets) != 0 {
		t.Errorf("remote1: tokens %+v, CA certs %+v, secrets %+v", r.ReaderTokens, r.CACerts, r.RemoteSecrets)
	}
	if c1 := clusterOf(t, p, "cluster1"); len(c1.IstiodExposures) != 1 {
		t.Errorf("cluster1 exposures: %+v", c1.IstiodExposures)
	}
}

// A tenant's mTLS override in a remote is read by istiod in the primary:
// its PeerAuthentication (and a namespace to hold it) goes there.
func TestTenantOverrideInRemote(t *testing.T) {
	topo := primaryRemote("network2", model.ExposeEastWest)
	topo.Tenants["edge"] = &model.Tenant{Mesh: "mesh1", Clusters: []string{"remote0"}, Namespaces: []string{"edge", "edge-jobs"}, MTLS: "PERMISSIVE"}
	p := build(t, topo)
	main0, remote0 := clusterOf(t, p, "main0"), clusterOf(t, p, "remote0")

	for _, name := range []string{"edge", "edge-jobs"} {
		ns := namespace(main0, name)
		if ns == nil {
			t.Errorf("main0 has no namespace %s for the override", name)
			continue
		}
		if ns.Role != plan.RoleTenant || ns.Mesh != "mesh1" || ns.Labels["istio-discovery"] != "mesh1" {
			t.Errorf("main0 %s: %+v", name, ns)
		}
		// No workloads of the tenant run in main0: nothing is injected.
		if _, ok := ns.Labels[plan.LabelRev]; ok {
			t.Errorf("main0 %s has %s: %v", name, plan.LabelRev, ns.Labels)
		}
		if rns := namespace(remote0, name); rns == nil || rns.Labels[plan.LabelRev] != "primary" {
			t.Errorf("remote0 %s: %+v", name, rns)
		}
	}
	var got []string
	for _, pa := range main0.PeerAuths {
		got = append(got, pa.Namespace+"/"+pa.Name+"="+pa.Mode)
	}
	want := []string{"edge/edge-peerauth=PERMISSIVE", "edge-jobs/edge-peerauth=PERMISSIVE", "istio-system/mesh1-peerauth=STRICT"}
	if !slices.Equal(got, want) {
		t.Errorf("main0 peer auths %v, want %v", got, want)
	}
	if len(remote0.PeerAuths) != 0 {
		t.Errorf("remote0 peer auths: %+v", remote0.PeerAuths)
	}
	// The plan says which policies apply to the tenant's namespaces in
	// remote0: those where istiod reads policy for them, in main0.
	got = nil
	for _, pa := range namespace(remote0, "edge").Policies {
		got = append(got, pa.Cluster+":"+pa.Namespace+"/"+pa.Name+" tenant="+pa.Tenant)
	}
	if want := []string{"main0:edge/edge-peerauth tenant=edge", "main0:istio-system/mesh1-peerauth tenant="}; !slices.Equal(got, want) {
		t.Errorf("remote0 edge policies %v, want %v", got, want)
	}
	if ns := namespace(main0, "edge"); ns.Tenant != "edge" || ns.Index != 0 || ns.Policies != nil {
		t.Errorf("main0 edge (override only): %+v", ns)
	}
	if len(remote0.DiscoveredBy) == 0 || remote0.DiscoveredBy[0].By != "main0" {
		t.Errorf("remote0 discovered by %+v, want main0", remote0.DiscoveredBy)
	}
}

// A tenant in both clusters with an override gets one PeerAuthentication
// per namespace in the primary.
func TestTenantOverrideInPrimaryAndRemote(t *testing.T) {
	topo := primaryRemote("network2", model.ExposeEastWest)
	topo.Tenants["sample"].MTLS = "DISABLE"
	p := build(t, topo)
	main0, remote0 := clusterOf(t, p, "main0"), clusterOf(t, p, "remote0")
	var got []string
	for _, pa := range main0.PeerAuths {
		got = append(got, pa.Namespace+"/"+pa.Name+"="+pa.Mode)
	}
	if want := []string{"istio-system/mesh1-peerauth=STRICT", "sample/sample-peerauth=DISABLE"}; !slices.Equal(got, want) {
		t.Errorf("main0 peer auths %v, want %v", got, want)
	}
	if ns := namespace(main0, "sample"); ns == nil || ns.Labels[plan.LabelRev] != "primary" {
		t.Errorf("main0 sample keeps its injection label: %+v", ns)
	}
	if len(remote0.PeerAuths) != 0 {
		t.Errorf("remote0 peer auths: %+v", remote0.PeerAuths)
	}
}

func TestEnhancedScopingEnv(t *testing.T) {
	for _, tc := range []struct {
		version   string
		discovery map[string]string
		want      bool
	}{
		{"1.22.5", nil, true},
		{"1.24.6", nil, true},
		{"1.25.1", nil, false},
		{"1.28.2", nil, false},
		{"1.24.6", map[string]string{}, false}, // no selectors to scope with
	} {
		topo := topology(tc.version)
		topo.Clusters["c1"] = &model.Cluster{}
		topo.Meshes["m1"] = &model.Mesh{DiscoveryLabel: tc.discovery, ControlPlanes: map[string]*model.ControlPlane{"cp1": {Cluster: "c1"}}}
		cp := clusterOf(t, build(t, topo), "c1").ControlPlanes[0]
		got := value(cp.Values, "pilot", "env", plan.EnhancedScopingEnv)
		if tc.want && got != "true" || !tc.want && got != nil {
			t.Errorf("Istio %s, discovery %v: %s = %v, want set: %v", tc.version, tc.discovery, plan.EnhancedScopingEnv, got, tc.want)
		}
	}
	// A remote install runs no istiod: never the flag.
	topo := primaryRemote("network2", model.ExposeEastWest)
	topo.Defaults.Istio.Version = "1.24.6"
	p := build(t, topo)
	if got := value(clusterOf(t, p, "main0").ControlPlanes[0].Values, "pilot", "env", plan.EnhancedScopingEnv); got != "true" {
		t.Errorf("1.24 primary: %v", got)
	}
	if got := value(clusterOf(t, p, "remote0").ControlPlanes[0].Values, "pilot"); got != nil {
		t.Errorf("1.24 remote install has pilot values %v", got)
	}
}

func TestCNI(t *testing.T) {
	topo := topology("1.28.2")
	topo.Clusters["c1"] = &model.Cluster{CNI: true}
	topo.Clusters["c2"] = &model.Cluster{}
	topo.Clusters["ocp"] = &model.Cluster{Platform: model.PlatformOpenShift, APIServer: "https://ocp.example.com"}
	topo.Meshes["m1"] = &model.Mesh{ControlPlanes: map[string]*model.ControlPlane{
		"stable": {Cluster: "c1", Namespace: "istio-m1"},
		"canary": {Cluster: "c1", Namespace: "istio-m1", Version: "1.29.6"},
	}}
	topo.Meshes["m2"] = &model.Mesh{Version: "1.27.3", ControlPlanes: map[string]*model.ControlPlane{
		"cp2": {Cluster: "c1", Namespace: "istio-m2", Remotes: []string{"ocp"},
			Expose: &model.Expose{Via: model.ExposeLoadBalancer, Address: "10.0.0.9"}},
	}}
	topo.Meshes["m3"] = &model.Mesh{ControlPlanes: map[string]*model.ControlPlane{"cp3": {Cluster: "c2"}}}
	p := build(t, topo)

	c1 := clusterOf(t, p, "c1")
	if c1.CNI == nil {
		t.Fatal("c1 has cni: true but no CNI")
	}
	if c1.CNI.Version != v("1.29.6") || c1.CNI.Namespace != plan.CNINamespace || c1.CNI.Source.String() != "clusters.c1.cni" || c1.CNI.Why != plan.CNIForFlag {
		t.Errorf("c1 CNI %+v (version %s, source %s)", c1.CNI, c1.CNI.Version, c1.CNI.Source)
	}
	if c1.CNI.Owner == nil || c1.CNI.Owner != c1.ControlPlanes[0] {
		t.Errorf("c1 CNI owner %+v, want the first control plane", c1.CNI.Owner)
	}
	var cniNamespaces int
	for _, ns := range c1.Namespaces {
		if ns.Role == plan.RoleCNI {
			cniNamespaces++
			if ns.Name != plan.CNINamespace {
				t.Errorf("CNI namespace %q", ns.Name)
			}
		}
	}
	if cniNamespaces != 1 {
		t.Errorf("c1 has %d CNI namespaces, want 1", cniNamespaces)
	}
	for _, cp := range c1.ControlPlanes {
		if got := value(cp.Values, "pilot", "cni", "enabled"); got != true {
			t.Errorf("c1 %s: pilot.cni.enabled = %v", cp.Name, got)
		}
	}

	if c2 := clusterOf(t, p, "c2"); c2.CNI != nil || namespace(c2, plan.CNINamespace) != nil {
		t.Errorf("c2 without CNI has %+v", c2.CNI)
	} else if got := value(c2.ControlPlanes[0].Values, "pilot", "cni"); got != nil {
		t.Errorf("c2 pilot.cni = %v", got)
	}

	// OpenShift implies CNI, in a remote as well: its version is the
	// remote install's.
	ocp := clusterOf(t, p, "ocp")
	if ocp.CNI == nil || ocp.CNI.Version != v("1.27.3") || ocp.CNI.Source.String() != "clusters.ocp.platform" || ocp.CNI.Why != plan.CNIForPlatform {
		t.Errorf("ocp CNI %+v", ocp.CNI)
	}
}

func TestBuildOrdersAndIsDeterministic(t *testing.T) {
	mk := func() *model.Topology {
		topo := multiPrimary()
		topo.Clusters["remote1"] = &model.Cluster{Network: "west", APIServer: "https://remote1.example.com"}
		topo.Clusters["remote2"] = &model.Cluster{Network: "east", APIServer: "https://remote2.example.com"}
		east := topo.Meshes["mesh1"].ControlPlanes["east"]
		east.Remotes = []string{"remote2", "remote1"}
		east.Expose = &model.Expose{Via: model.ExposeEastWest, Address: "istiod.cluster1.example.com"}
		return topo
	}
	a, b := build(t, mk()), build(t, mk())
	// The facts the plans were made from index by pointer: compare what
	// was planned.
	if a.Topology != b.Topology || !reflect.DeepEqual(a.Clusters, b.Clusters) {
		t.Error("two builds of one topology differ")
	}
	var names []string
	for _, c := range a.Clusters {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"cluster1", "cluster2", "remote1", "remote2"}) {
		t.Errorf("clusters %v", names)
	}
	var discovered []string
	for _, rs := range clusterOf(t, a, "cluster1").RemoteSecrets {
		discovered = append(discovered, rs.Namespace+"/"+rs.Discovered.Name)
	}
	if want := []string{"istio-system/cluster2", "istio-system/remote1", "istio-system/remote2"}; !slices.Equal(discovered, want) {
		t.Errorf("cluster1 remote secrets %v, want %v", discovered, want)
	}
}

// TestAmbient plans an ambient mesh with a canary in one cluster: one
// ztunnel, following the revision the default tag points at, with istiod's
// identity; the CNI agent in ambient mode, brought by the same install;
// ambient tenants labelled for ztunnel (never istio.io/rev) with their
// waypoint, a tenant left on sidecars labelled as before.
func TestAmbient(t *testing.T) {
	topo := topology("1.30.3")
	topo.Networks["n1"] = model.Network{}
	topo.Clusters["c1"] = &model.Cluster{Network: "n1"}
	topo.Meshes["m1"] = &model.Mesh{DataPlane: model.DataPlaneAmbient, ControlPlanes: map[string]*model.ControlPlane{
		"a-canary": {Cluster: "c1", Revision: "canary"},
		"b-stable": {Cluster: "c1", Revision: "stable", Tags: []string{"default"}},
	}}
	topo.Tenants["shop"] = &model.Tenant{Mesh: "m1", Revision: "stable", Namespaces: []string{"shop"}, Waypoint: model.WaypointNamespace}
	topo.Tenants["legacy"] = &model.Tenant{Mesh: "m1", Revision: "canary", Namespaces: []string{"legacy"}, DataPlane: model.DataPlaneSidecar}
	c := clusterOf(t, build(t, topo), "c1")

	z := c.Ztunnel
	if z == nil || z.ControlPlane.Revision != "stable" || z.Namespace != model.ZtunnelNamespace {
		t.Fatalf("ztunnel %+v: want one in %s following revision stable (the default tag's)", z, model.ZtunnelNamespace)
	}
	want := map[string]any{"istioNamespace": "istio-system", "multiCluster": map[string]any{"clusterName": "c1"}, "network": "n1", "revision": "stable"}
	if !reflect.DeepEqual(z.Values, want) {
		t.Errorf("ztunnel values %v, want %v", z.Values, want)
	}
	if c.CNI == nil || !c.CNI.Ambient || c.CNI.Owner != z.ControlPlane || c.CNI.Why != plan.CNIForAmbient {
		t.Errorf("CNI %+v: want the agent in ambient mode, installed with ztunnel's control plane", c.CNI)
	}
	for _, cp := range c.ControlPlanes {
		if cp.Profile != "ambient" || value(cp.Values, "pilot", "trustedZtunnelNamespace") != model.ZtunnelNamespace {
			t.Errorf("%s: profile %q, trustedZtunnelNamespace %v", cp.Name, cp.Profile, value(cp.Values, "pilot", "trustedZtunnelNamespace"))
		}
		if value(cp.Values, "pilot", "env", "AMBIENT_ENABLE_MULTI_NETWORK") != nil {
			t.Errorf("%s: multi-network ambient on a one-network mesh", cp.Name)
		}
		if got := value(cp.Values, "global", "multiCluster", "clusterName"); got != z.Values["multiCluster"].(map[string]any)["clusterName"] {
			t.Errorf("%s: istiod's cluster name %v differs from ztunnel's", cp.Name, got)
		}
	}
	shop := namespace(c, "shop")
	if _, rev := shop.Labels[plan.LabelRev]; rev || shop.Labels[plan.LabelDataPlaneMode] != "ambient" || shop.Labels[plan.LabelUseWaypoint] != plan.WaypointName {
		t.Errorf("shop's labels %v", shop.Labels)
	}
	if legacy := namespace(c, "legacy"); legacy.Labels[plan.LabelRev] != "canary" || legacy.Labels[plan.LabelDataPlaneMode] != "" {
		t.Errorf("legacy's labels %v", legacy.Labels)
	}
	if zns := namespace(c, model.ZtunnelNamespace); zns == nil || zns.Labels[model.DefaultDiscoveryKey] != "m1" {
		t.Errorf("ztunnel's namespace %+v: want the mesh's discovery label", zns)
	}
	if len(c.Waypoints) != 1 || c.Waypoints[0].Namespace != "shop" || c.Waypoints[0].Revision != "stable" {
		t.Errorf("waypoints %+v: want one in shop for revision stable", c.Waypoints)
	}
}
