package check_test

import (
	"testing"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
)

// addRemote makes cluster name (created on network n1 with an API server)
// a remote of control plane cpName of mesh, exposed through a load
// balancer (an internal one) unless the control plane already says how.
func addRemote(t *model.Topology, mesh, cpName, name string) {
	if _, ok := t.Clusters[name]; !ok {
		addCluster(t, name)
	}
	c := cp(t, mesh, cpName)
	c.Remotes = append(c.Remotes, name)
	if c.Expose == nil {
		c.Expose = &model.Expose{Via: model.ExposeLoadBalancer, Address: "istiod." + c.Cluster + ".example.com", Service: internalLB}
	}
}

var internalLB = &model.ExposeService{Annotations: map[string]string{"networking.gke.io/load-balancer-type": "Internal"}}

// addPrimary gives mesh a control plane in cluster (created when missing)
// sharing the mesh's system namespace, which makes the mesh multi-primary.
func addPrimary(t *model.Topology, mesh, name, cluster string) *model.ControlPlane {
	if _, ok := t.Clusters[cluster]; !ok {
		addCluster(t, cluster)
	}
	c := &model.ControlPlane{Cluster: cluster, Namespace: "istio-" + mesh}
	t.Meshes[mesh].ControlPlanes[name] = c
	return c
}

func addNetwork(t *model.Topology, name string) { t.Networks[name] = model.Network{} }

func ptr[T any](v T) *T { return &v }

func TestMulticlusterRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*model.Topology)
		want   []want
	}{
		// E160: who manages a remote.
		{
			name: "remote managed by two control planes of one mesh",
			mutate: func(t *model.Topology) {
				addPrimary(t, "m1", "east", "c2")
				addRemote(t, "m1", "cp1", "r1")
				addRemote(t, "m1", "east", "r1")
				t.Tenants["t1"].Clusters = []string{"c1"}
			},
			// Without positions, control planes are taken by name: cp1
			// lists r1 first, east is blamed.
			want: []want{w(diag.RemoteManagedTwice, "meshes.m1.controlPlanes.east.remotes[0]",
				`cluster "r1" is already a remote of control plane "cp1" of mesh "m1"`).
				withHint("remotes of one control plane only")},
		},
		{
			name: "the same remote in two different meshes",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				addRemote(t, "m2", "cp2", "r1")
			},
		},
		{
			name: "a remote of one mesh that is a primary of another",
			mutate: func(t *model.Topology) {
				addPrimary(t, "m2", "cp2-west", "c2")
				delete(t.Meshes["m2"].ControlPlanes, "cp2")
				addRemote(t, "m1", "cp1", "c2")
			},
		},

		// E167: a remote that runs a control plane of the mesh.
		{
			name: "remote that is another primary of the mesh",
			mutate: func(t *model.Topology) {
				addPrimary(t, "m1", "east", "c2")
				addRemote(t, "m1", "cp1", "c2")
				// Else t1 is also reported ambiguous in c2 (E123), where
				// both control planes now serve it.
				t.Tenants["t1"].Clusters = []string{"c1"}
			},
			want: []want{w(diag.RemoteIsPrimary, "meshes.m1.controlPlanes.cp1.remotes[0]",
				`cluster "c2" runs a control plane of mesh "m1", so it cannot be a remote of "cp1"`).
				withHint("remove it from remotes")},
		},
		{
			name: "control plane listing its own cluster as a remote",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "c1")
			},
			want: []want{w(diag.RemoteIsPrimary, "meshes.m1.controlPlanes.cp1.remotes[0]",
				`control plane "cp1" runs in cluster "c1", so the cluster cannot also be its remote`).withHint("always serves its own cluster")},
		},
		{
			name: "a primary listed as a remote is not also reported as managed twice",
			mutate: func(t *model.Topology) {
				addPrimary(t, "m1", "east", "c2")
				addRemote(t, "m1", "cp1", "c2")
				addRemote(t, "m1", "east", "c2") // its own cluster
				t.Tenants["t1"].Clusters = []string{"c1"}
			},
			want: []want{
				w(diag.RemoteIsPrimary, "meshes.m1.controlPlanes.cp1.remotes[0]", `remote of "cp1"`),
				w(diag.RemoteIsPrimary, "meshes.m1.controlPlanes.east.remotes[0]", `control plane "east" runs in cluster "c2"`),
			},
		},

		// E161: how remotes reach their control plane.
		{
			name: "remotes without expose",
			mutate: func(t *model.Topology) {
				addCluster(t, "r1")
				cp(t, "m1", "cp1").Remotes = []string{"r1"}
			},
			want: []want{w(diag.RemoteUnreachable, "meshes.m1.controlPlanes.cp1",
				`control plane "cp1" has remotes but says nothing of how they reach it`).withHint("add expose:")},
		},
		{
			name: "expose through the east-west gateway of a mesh without east-west gateways",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				cp(t, "m1", "cp1").Expose.Via = model.ExposeEastWest
				t.Meshes["m1"].EastWestGateways = ptr(false)
			},
			want: []want{w(diag.RemoteUnreachable, "meshes.m1.controlPlanes.cp1.expose.via",
				`control plane "cp1" is exposed through the east-west gateway, but mesh "m1" has eastWestGateways: false`).
				withHint("via: loadBalancer")},
		},
		{
			name: "expose through a load balancer without east-west gateways",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				t.Meshes["m1"].EastWestGateways = ptr(false)
			},
		},
		{
			name: "expose through the east-west gateway on one network (gateway left to meshc)",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				cp(t, "m1", "cp1").Expose.Via = model.ExposeEastWest
			},
		},
		{
			name: "expose through the east-west gateway with gateways asked for",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				cp(t, "m1", "cp1").Expose.Via = model.ExposeEastWest
				t.Meshes["m1"].EastWestGateways = ptr(true)
			},
		},

		// E162 and E003: pod and service ranges.
		{
			name: "overlapping pod CIDRs on one network",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				t.Clusters["c1"].PodCIDRs = []string{"10.0.0.0/16"}
				t.Clusters["r1"].PodCIDRs = []string{"10.1.0.0/16", "10.0.128.0/17"}
			},
			want: []want{w(diag.CIDROverlap, "clusters.r1.podCIDRs[1]",
				`10.0.128.0/17 overlaps 10.0.0.0/16 of cluster "c1" on network "n1"`).
				withHint("give every cluster on network n1 its own pod and service ranges")},
		},
		{
			name: "overlapping service CIDRs on one network",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				t.Clusters["c1"].ServiceCIDRs = []string{"10.96.0.0/12"}
				t.Clusters["r1"].ServiceCIDRs = []string{"10.100.0.0/16"}
			},
			want: []want{w(diag.CIDROverlap, "clusters.r1.serviceCIDRs[0]",
				`10.100.0.0/16 overlaps 10.96.0.0/12 of cluster "c1" on network "n1"`)},
		},
		{
			name: "a pod range overlapping another cluster's service range",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				t.Clusters["c1"].ServiceCIDRs = []string{"10.96.0.0/16"}
				t.Clusters["r1"].PodCIDRs = []string{"10.0.0.0/8"}
			},
			want: []want{w(diag.CIDROverlap, "clusters.r1.podCIDRs[0]", `10.0.0.0/8 overlaps 10.96.0.0/16 of cluster "c1"`)},
		},
		{
			name: "overlapping IPv6 ranges, written unmasked",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				t.Clusters["c1"].PodCIDRs = []string{"fd00:10::1/48"}
				t.Clusters["r1"].PodCIDRs = []string{"fd00:10:0:5::/64"}
			},
			want: []want{w(diag.CIDROverlap, "clusters.r1.podCIDRs[0]", `fd00:10:0:5::/64 overlaps fd00:10::/48`)},
		},
		{
			name: "the same ranges on two networks",
			mutate: func(t *model.Topology) {
				addNetwork(t, "n2")
				addRemote(t, "m1", "cp1", "r1")
				t.Clusters["r1"].Network = "n2"
				t.Clusters["c1"].PodCIDRs = []string{"10.0.0.0/16"}
				t.Clusters["c1"].ServiceCIDRs = []string{"10.96.0.0/16"}
				t.Clusters["r1"].PodCIDRs = []string{"10.0.0.0/16"}
				t.Clusters["r1"].ServiceCIDRs = []string{"10.96.0.0/16"}
			},
		},
		{
			name: "adjacent ranges on one network",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				t.Clusters["c1"].PodCIDRs = []string{"10.0.0.0/17"}
				t.Clusters["r1"].PodCIDRs = []string{"10.0.128.0/17"}
			},
		},
		{
			name: "overlapping ranges of clusters without a network are not compared",
			mutate: func(t *model.Topology) {
				addCluster(t, "c2")
				t.Clusters["c1"].Network = ""
				t.Clusters["c2"].Network = ""
				t.Clusters["c1"].PodCIDRs = []string{"10.0.0.0/16"}
				t.Clusters["c2"].PodCIDRs = []string{"10.0.0.0/16"}
			},
		},
		{
			name: "invalid CIDRs",
			mutate: func(t *model.Topology) {
				t.Clusters["c1"].PodCIDRs = []string{"10.0.0.0/16", "10.0.0.0/33"}
				t.Clusters["c1"].ServiceCIDRs = []string{"10.96.0.0"}
			},
			want: []want{
				w(diag.InvalidValue, "clusters.c1.podCIDRs[1]", `invalid CIDR "10.0.0.0/33"`).withHint("10.0.0.0/16"),
				w(diag.InvalidValue, "clusters.c1.serviceCIDRs[0]", `invalid CIDR "10.96.0.0"`),
			},
		},

		// E163 and E168: meshes spanning networks.
		{
			name: "multi-network mesh with eastWestGateways false",
			mutate: func(t *model.Topology) {
				addNetwork(t, "n2")
				addRemote(t, "m1", "cp1", "r1")
				t.Clusters["r1"].Network = "n2"
				t.Meshes["m1"].EastWestGateways = ptr(false)
			},
			want: []want{w(diag.MissingEastWest, "meshes.m1.eastWestGateways",
				`mesh "m1" spans networks n1, n2 but has no east-west gateways`).withHint("remove eastWestGateways: false")},
		},
		{
			name: "multi-network mesh with gateways left to meshc",
			mutate: func(t *model.Topology) {
				addNetwork(t, "n2")
				addRemote(t, "m1", "cp1", "r1")
				t.Clusters["r1"].Network = "n2"
			},
		},
		{
			name: "single-network mesh with eastWestGateways false",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				t.Meshes["m1"].EastWestGateways = ptr(false)
			},
		},
		{
			name: "two meshes on different networks in one fleet are each single-network",
			mutate: func(t *model.Topology) {
				addNetwork(t, "n2")
				addCluster(t, "c2")
				t.Clusters["c2"].Network = "n2"
				cp(t, "m2", "cp2").Cluster = "c2"
				t.Meshes["m1"].EastWestGateways = ptr(false)
				t.Meshes["m2"].EastWestGateways = ptr(false)
			},
		},
		{
			name: "cluster without network in a multi-network mesh",
			mutate: func(t *model.Topology) {
				addNetwork(t, "n2")
				addRemote(t, "m1", "cp1", "r1")
				addRemote(t, "m1", "cp1", "r2")
				t.Clusters["r1"].Network = "n2"
				t.Clusters["r2"].Network = ""
			},
			want: []want{w(diag.MissingNetwork, "clusters.r2",
				`cluster "r2" has no network, but other clusters of mesh "m1" are on n1, n2`).withHint("set clusters.r2.network")},
		},
		{
			name: "no cluster of a multicluster mesh has a network",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				t.Clusters["c1"].Network = ""
				t.Clusters["r1"].Network = ""
			},
		},

		// E164: a shared root of trust.
		{
			name: "two primaries without trust",
			mutate: func(t *model.Topology) {
				addPrimary(t, "m2", "cp2-west", "c2")
			},
			want: []want{w(diag.NoSharedTrust, "meshes.m2",
				`mesh "m2" has control planes in 2 clusters but no shared root of trust`).withHint("add trust:")},
		},
		{
			name: "three primaries without trust",
			mutate: func(t *model.Topology) {
				addPrimary(t, "m2", "cp2-west", "c2")
				addPrimary(t, "m2", "cp2-south", "c3")
			},
			want: []want{w(diag.NoSharedTrust, "meshes.m2", "control planes in 3 clusters")},
		},
		{
			name: "one primary with remotes needs no trust",
			mutate: func(t *model.Topology) {
				addRemote(t, "m2", "cp2", "r1")
				addRemote(t, "m2", "cp2", "r2")
			},
		},
		{
			name: "two control planes of a mesh in one cluster need no trust",
			mutate: func(t *model.Topology) {
				t.Meshes["m2"].ControlPlanes["cp2-canary"] = &model.ControlPlane{Cluster: "c1", Namespace: "istio-m2"}
				t.Tenants["t2"].ControlPlane = "cp2"
			},
		},
		{
			name: "two primaries with trust",
			mutate: func(t *model.Topology) {
				addPrimary(t, "m1", "east", "c2")
			},
		},

		// E165: API servers of discovered clusters.
		{
			name: "remote without apiServer",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				t.Clusters["r1"].APIServer = ""
			},
			want: []want{w(diag.MissingAPIServer, "clusters.r1",
				`control planes of mesh "m1" in other clusters discover cluster "r1", but it has no apiServer`).
				withHint("set clusters.r1.apiServer")},
		},
		{
			name: "primary of a primary-remote mesh needs no apiServer",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				t.Clusters["c1"].APIServer = ""
			},
		},
		{
			name: "multi-primary: each primary without apiServer",
			mutate: func(t *model.Topology) {
				addPrimary(t, "m1", "east", "c2")
				t.Clusters["c1"].APIServer = ""
				t.Clusters["c2"].APIServer = ""
			},
			want: []want{
				w(diag.MissingAPIServer, "clusters.c1", `discover cluster "c1"`),
				w(diag.MissingAPIServer, "clusters.c2", `discover cluster "c2"`),
			},
		},
		{
			name: "multi-primary: the second primary without apiServer",
			mutate: func(t *model.Topology) {
				addPrimary(t, "m1", "east", "c2")
				t.Clusters["c2"].APIServer = ""
			},
			want: []want{w(diag.MissingAPIServer, "clusters.c2", `discover cluster "c2"`)},
		},
		{
			name: "a single-cluster mesh needs no apiServer",
			mutate: func(t *model.Topology) {
				t.Clusters["c1"].APIServer = ""
			},
		},
		{
			name: "apiServer is required once per mesh discovering the cluster",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				addRemote(t, "m2", "cp2", "r1")
				t.Clusters["r1"].APIServer = ""
			},
			want: []want{
				w(diag.MissingAPIServer, "clusters.r1", `mesh "m1"`),
				w(diag.MissingAPIServer, "clusters.r1", `mesh "m2"`),
			},
		},

		// E166: what the trust and remote-secret modes need.
		{
			name: "certManager trust without issuer",
			mutate: func(t *model.Topology) {
				addPrimary(t, "m1", "east", "c2")
				t.Meshes["m1"].Trust = &model.Trust{Mode: model.TrustCertManager}
			},
			want: []want{w(diag.MissingSecretSource, "meshes.m1.trust",
				"trust mode certManager needs the issuer").withHint("add trust.issuer")},
		},
		{
			name: "certManager trust with issuer",
			mutate: func(t *model.Topology) {
				addPrimary(t, "m1", "east", "c2")
				t.Meshes["m1"].Trust = &model.Trust{Mode: model.TrustCertManager, Issuer: &model.Issuer{Name: "root", Kind: "ClusterIssuer"}}
			},
		},
		{
			name: "externalSecrets trust without store",
			mutate: func(t *model.Topology) {
				addPrimary(t, "m1", "east", "c2")
				t.Meshes["m1"].Trust = &model.Trust{Mode: model.TrustExternalSecrets}
			},
			want: []want{w(diag.MissingSecretSource, "meshes.m1.trust",
				"trust mode externalSecrets needs the secret store").withHint("add trust.secretStore")},
		},
		{
			name: "externalSecrets trust with an issuer but no store",
			mutate: func(t *model.Topology) {
				addPrimary(t, "m1", "east", "c2")
				t.Meshes["m1"].Trust = &model.Trust{Mode: model.TrustExternalSecrets, Issuer: &model.Issuer{Name: "root"}}
			},
			want: []want{w(diag.MissingSecretSource, "meshes.m1.trust", "externalSecrets needs the secret store")},
		},
		{
			name: "externalSecrets remote secrets without store",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				t.Meshes["m1"].RemoteSecrets = &model.RemoteSecrets{Mode: model.SecretsExternalSecret}
			},
			want: []want{w(diag.MissingSecretSource, "meshes.m1.remoteSecrets",
				"remote secrets through External Secrets need the store").withHint("add remoteSecrets.secretStore")},
		},
		{
			name: "trust and remote secrets both without store",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				t.Meshes["m1"].Trust = &model.Trust{Mode: model.TrustExternalSecrets}
				t.Meshes["m1"].RemoteSecrets = &model.RemoteSecrets{Mode: model.SecretsExternalSecret}
			},
			want: []want{
				w(diag.MissingSecretSource, "meshes.m1.remoteSecrets"),
				w(diag.MissingSecretSource, "meshes.m1.trust"),
			},
		},
		{
			name: "externalSecrets with stores, manual modes without",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				store := &model.SecretStore{Name: "vault", Kind: "ClusterSecretStore", KeyPrefix: "meshc"}
				t.Meshes["m1"].Trust = &model.Trust{Mode: model.TrustExternalSecrets, SecretStore: store}
				t.Meshes["m1"].RemoteSecrets = &model.RemoteSecrets{Mode: model.SecretsExternalSecret, SecretStore: store}
				addRemote(t, "m2", "cp2", "r2")
				t.Meshes["m2"].Trust = &model.Trust{Mode: model.TrustManual}
				t.Meshes["m2"].RemoteSecrets = &model.RemoteSecrets{Mode: model.SecretsManual}
			},
		},

		// Found in review.
		{
			name: "a tenant's mTLS override would land in another mesh's namespace",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				t.Tenants["t1"].Clusters = []string{"r1"}
				t.Tenants["t1"].Namespaces = []string{"shop"}
				t.Tenants["t1"].MTLS = "DISABLE"
				t.Tenants["t2"].Namespaces = []string{"shop"}
			},
			want: []want{w(diag.NamespaceConflict, "tenants.t2.namespaces[0]",
				`namespace "shop" in cluster "c1" is already where tenant "t1" of mesh "m1" keeps its mTLS override`)},
		},
		{
			name: "an external control plane behind an east-west gateway",
			mutate: func(t *model.Topology) {
				addCluster(t, "host")
				addCluster(t, "r1")
				c := cp(t, "m1", "cp1")
				c.Cluster, c.External, c.ConfigCluster, c.Remotes = "host", true, "r1", []string{"r1"}
				c.Expose = &model.Expose{Via: model.ExposeEastWest, Address: "10.0.0.1"}
				t.Tenants["t1"].Clusters = []string{"r1"}
			},
			want: []want{w(diag.NoHostingGateway, "meshes.m1.controlPlanes.cp1.expose.via",
				`external control plane "cp1" cannot be exposed through an east-west gateway`)},
		},

		// E102: remotes are cluster references.
		{
			name: "undefined remote cluster",
			mutate: func(t *model.Topology) {
				addRemote(t, "m1", "cp1", "r1")
				cp(t, "m1", "cp1").Remotes = []string{"r1", "r9"}
			},
			want: []want{w(diag.UndefinedCluster, "meshes.m1.controlPlanes.cp1.remotes[1]",
				`cluster "r9" is not defined`).withHint("define clusters.r9 or use one of: c1, r1")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			topo := base()
			tc.mutate(topo)
			got := run(t, topo)
			assertDiags(t, got, tc.want)
			assertSorted(t, got)
		})
	}
}

// TestMulticlusterRelated: a remote managed twice points at the first
// control plane's remotes, a CIDR overlap at the range it overlaps.
func TestMulticlusterRelated(t *testing.T) {
	topo := base()
	addPrimary(topo, "m1", "east", "c2")
	addRemote(topo, "m1", "cp1", "r1")
	addRemote(topo, "m1", "east", "r1")
	topo.Tenants["t1"].Clusters = []string{"c1"}
	topo.Clusters["c1"].PodCIDRs = []string{"10.0.0.0/16"}
	topo.Clusters["c2"].PodCIDRs = []string{"10.0.0.0/24"}
	got := run(t, topo)
	assertDiags(t, got, []want{
		w(diag.CIDROverlap, "clusters.c2.podCIDRs[0]"),
		w(diag.RemoteManagedTwice, "meshes.m1.controlPlanes.east.remotes[0]"),
	})
	if r := got[0].Related; len(r) != 1 || r[0].Path != "clusters.c1.podCIDRs[0]" {
		t.Errorf("E162 related: %+v", r)
	}
	if r := got[1].Related; len(r) != 1 || r[0].Path != "meshes.m1.controlPlanes.cp1.remotes" {
		t.Errorf("E160 related: %+v", r)
	}
}

// TestRemoteManagedTwiceBlamesLaterInFile: with a source, the control plane
// written later is blamed, whatever the names' order.
func TestRemoteManagedTwiceBlamesLaterInFile(t *testing.T) {
	topo := base()
	addPrimary(topo, "m1", "east", "c2")
	addRemote(topo, "m1", "cp1", "r1")
	addRemote(topo, "m1", "east", "r1")
	topo.Tenants["t1"].Clusters = []string{"c1"}
	topo.Source = fakeSource{
		"meshes.m1.controlPlanes.east": 10,
		"meshes.m1.controlPlanes.cp1":  20,
	}
	got := run(t, topo)
	assertDiags(t, got, []want{w(diag.RemoteManagedTwice, "meshes.m1.controlPlanes.cp1.remotes[0]",
		`already a remote of control plane "east"`)})
	if got[0].Pos.Line != 20 {
		t.Errorf("pos %v, want line 20", got[0].Pos)
	}
}

// primaryRemote is a valid primary-remote fleet on two networks, in the
// shape of topologies/primary-remote-two-networks.yaml.
func primaryRemote() *model.Topology {
	return &model.Topology{
		APIVersion: model.APIVersion,
		Kind:       model.Kind,
		Metadata:   model.Metadata{Name: "pr"},
		Defaults:   model.Defaults{Istio: model.IstioDefaults{Version: "1.30.3"}},
		Networks:   map[string]model.Network{"network1": {}, "network2": {}},
		Clusters: map[string]*model.Cluster{
			"main0":   {Network: "network1", APIServer: "https://main0.example.com:6443", PodCIDRs: []string{"10.1.0.0/16"}},
			"remote0": {Network: "network2", APIServer: "https://remote0.example.com:6443", PodCIDRs: []string{"10.1.0.0/16"}},
		},
		Meshes: map[string]*model.Mesh{
			"mesh1": {
				Trust: &model.Trust{Mode: model.TrustCertManager, Issuer: &model.Issuer{Name: "mesh1-root", Kind: "ClusterIssuer"}},
				RemoteSecrets: &model.RemoteSecrets{Mode: model.SecretsExternalSecret,
					SecretStore: &model.SecretStore{Name: "vault", Kind: "ClusterSecretStore", KeyPrefix: "meshc"}},
				ControlPlanes: map[string]*model.ControlPlane{
					"primary": {Cluster: "main0", Revision: "default", Remotes: []string{"remote0"},
						Expose: &model.Expose{Via: model.ExposeEastWest, Address: "istiod.main0.example.com"}},
				},
			},
		},
		Tenants: map[string]*model.Tenant{
			"sample": {Mesh: "mesh1", Namespaces: []string{"sample"}, MTLS: "PERMISSIVE"},
		},
	}
}

// multiPrimary is a valid multi-primary fleet on two networks.
func multiPrimary() *model.Topology {
	return &model.Topology{
		APIVersion: model.APIVersion,
		Kind:       model.Kind,
		Metadata:   model.Metadata{Name: "mp"},
		Defaults:   model.Defaults{Istio: model.IstioDefaults{Version: "1.30.3"}},
		Networks:   map[string]model.Network{"east": {}, "west": {}},
		Clusters: map[string]*model.Cluster{
			"cluster1": {Network: "east", APIServer: "https://cluster1.example.com:6443", CABundle: exampleCA},
			"cluster2": {Network: "west", APIServer: "https://cluster2.example.com:6443", CABundle: exampleCA},
		},
		Meshes: map[string]*model.Mesh{
			"mesh1": {
				Trust: &model.Trust{Mode: model.TrustExternalSecrets,
					SecretStore: &model.SecretStore{Name: "vault", Kind: "ClusterSecretStore", KeyPrefix: "meshc"}},
				RemoteSecrets: &model.RemoteSecrets{Mode: model.SecretsManual},
				ControlPlanes: map[string]*model.ControlPlane{
					"east": {Cluster: "cluster1", Revision: "default"},
					"west": {Cluster: "cluster2", Revision: "default"},
				},
			},
		},
		Tenants: map[string]*model.Tenant{
			"sample": {Mesh: "mesh1", Namespaces: []string{"sample"}},
		},
	}
}

func TestValidMulticlusterTopologies(t *testing.T) {
	for name, topo := range map[string]*model.Topology{
		"primary-remote": primaryRemote(),
		"multi-primary":  multiPrimary(),
	} {
		t.Run(name, func(t *testing.T) {
			if got := run(t, topo); len(got) != 0 {
				t.Fatalf("got %d diagnostics: %v", len(got), got)
			}
		})
	}
	// A multi-primary mesh whose primaries also have remotes, on three
	// networks, with a second mesh sharing a primary's cluster.
	t.Run("multi-primary with remotes", func(t *testing.T) {
		topo := multiPrimary()
		topo.Networks["south"] = model.Network{}
		topo.Clusters["remote1"] = &model.Cluster{Network: "south", APIServer: "https://remote1.example.com"}
		topo.Clusters["remote2"] = &model.Cluster{Network: "east", APIServer: "https://remote2.example.com"}
		east := topo.Meshes["mesh1"].ControlPlanes["east"]
		east.Remotes = []string{"remote1", "remote2"}
		east.Expose = &model.Expose{Via: model.ExposeEastWest, Address: "istiod.cluster1.example.com"}
		topo.Meshes["other"] = &model.Mesh{ControlPlanes: map[string]*model.ControlPlane{
			"other": {Cluster: "cluster1", Namespace: "istio-other"},
		}}
		if got := run(t, topo); len(got) != 0 {
			t.Fatalf("got %d diagnostics: %v", len(got), got)
		}
	})
}

// Each multicluster code turns the valid primary-remote fleet invalid
// with one change, and only that code is reported.
func TestPrimaryRemoteBroken(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*model.Topology)
		want   want
	}{
		{"no expose", func(t *model.Topology) { t.Meshes["mesh1"].ControlPlanes["primary"].Expose = nil },
			w(diag.RemoteUnreachable, "meshes.mesh1.controlPlanes.primary")},
		{"gateways off", func(t *model.Topology) {
			t.Meshes["mesh1"].EastWestGateways = ptr(false)
			t.Meshes["mesh1"].ControlPlanes["primary"].Expose.Via = model.ExposeLoadBalancer
			t.Meshes["mesh1"].ControlPlanes["primary"].Expose.Service = internalLB
		}, w(diag.MissingEastWest, "meshes.mesh1.eastWestGateways", "spans networks network1, network2")},
		{"one network", func(t *model.Topology) { t.Clusters["remote0"].Network = "network1" },
			w(diag.CIDROverlap, "clusters.remote0.podCIDRs[0]", `10.1.0.0/16 overlaps 10.1.0.0/16 of cluster "main0" on network "network1"`)},
		{"remote without apiServer", func(t *model.Topology) { t.Clusters["remote0"].APIServer = "" },
			w(diag.MissingAPIServer, "clusters.remote0")},
		{"remote without network", func(t *model.Topology) { t.Clusters["remote0"].Network = "" },
			// The mesh spans main0's network and "none": remote0 is blamed.
			w(diag.MissingNetwork, "clusters.remote0", `cluster "remote0" has no network`)},
		{"issuer missing", func(t *model.Topology) { t.Meshes["mesh1"].Trust.Issuer = nil },
			w(diag.MissingSecretSource, "meshes.mesh1.trust")},
		{"store missing", func(t *model.Topology) { t.Meshes["mesh1"].RemoteSecrets.SecretStore = nil },
			w(diag.MissingSecretSource, "meshes.mesh1.remoteSecrets")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			topo := primaryRemote()
			tc.mutate(topo)
			assertDiags(t, run(t, topo), []want{tc.want})
		})
	}
}

// Risks rather than certain failures are warnings, each at its place.
func TestExposeWarnings(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*model.Topology)
		want   []want
	}{
		{"istiod on a public load balancer", func(t *model.Topology) {
			t.Meshes["mesh1"].ControlPlanes["primary"].Expose.Via = model.ExposeLoadBalancer
		}, []want{w(diag.PublicIstiod, "meshes.mesh1.controlPlanes.primary.expose", "no annotation or class")}},
		{"a load balancer class says enough", func(t *model.Topology) {
			x := t.Meshes["mesh1"].ControlPlanes["primary"].Expose
			x.Via, x.Service = model.ExposeLoadBalancer, &model.ExposeService{LoadBalancerClass: "internal.example.com/lb"}
		}, nil},
		{"two control planes shape one east-west gateway differently", func(t *model.Topology) {
			primary := t.Meshes["mesh1"].ControlPlanes["primary"]
			primary.Expose.Service = internalLB
			addCluster(t, "remote9")
			t.Clusters["remote9"].Network = t.Clusters["remote0"].Network
			t.Clusters["remote9"].PodCIDRs, t.Clusters["remote9"].ServiceCIDRs = nil, nil
			canary := &model.ControlPlane{Name: "zcanary", Mesh: "mesh1", Cluster: primary.Cluster, Namespace: primary.Namespace,
				Revision: "canary", Version: primary.Version, Remotes: []string{"remote9"},
				Expose: &model.Expose{Via: model.ExposeEastWest, Address: "istiod.canary.example.com",
					Service: &model.ExposeService{LoadBalancerIP: "10.0.0.9"}}}
			t.Meshes["mesh1"].ControlPlanes["zcanary"] = canary
			t.Tenants["sample"].ControlPlane = "primary"
			t.ResolveDefaults()
		}, []want{w(diag.ExposeServiceClash, "meshes.mesh1.controlPlanes.zcanary.expose.service", `takes "primary"'s expose.service`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			topo := primaryRemote()
			tc.mutate(topo)
			got := run(t, topo)
			assertDiags(t, got, tc.want)
			for _, d := range got {
				if !d.IsWarning() {
					t.Errorf("%s is an error", d.Code)
				}
			}
		})
	}
}

// TestAmbientMulticlusterRules: ambient across clusters as upstream
// supports it per release: multi-primary only, alpha on 1.27 and 1.28,
// refused before, the same waypoints in every cluster.
func TestAmbientMulticlusterRules(t *testing.T) {
	ambient := func(topo *model.Topology) *model.Topology {
		for _, m := range topo.Meshes {
			m.DataPlane = model.DataPlaneAmbient
		}
		return topo
	}
	tests := []struct {
		name string
		topo *model.Topology
		want []want
	}{
		{name: "multi-primary on two networks", topo: ambient(multiPrimary())},
		{
			name: "primary-remote",
			topo: ambient(primaryRemote()),
			want: []want{w(diag.AmbientTopology, "meshes.mesh1.controlPlanes.primary.remotes", "primary-remote")},
		},
		{
			name: "multi-primary on 1.26",
			topo: func() *model.Topology {
				topo := ambient(multiPrimary())
				topo.Defaults.Istio.Version = "1.26.8"
				return topo
			}(),
			want: []want{
				w(diag.AmbientRelease, "defaults.istio.version", "does not support ambient across clusters").withHint("1.29 or later"),
				w(diag.EndOfLife, "defaults.istio.version", "end of life"),
			},
		},
		{
			name: "multi-primary on 1.28",
			topo: func() *model.Topology {
				topo := ambient(multiPrimary())
				topo.Defaults.Istio.Version = "1.28.2"
				return topo
			}(),
			want: []want{
				w(diag.EndOfLife, "defaults.istio.version", "end of life"),
				w(diag.AmbientAlpha, "defaults.istio.version", "alpha in Istio 1.28"),
			},
		},
		{
			name: "multi-primary on one network",
			topo: func() *model.Topology {
				topo := ambient(multiPrimary())
				topo.Clusters["cluster2"].Network = "east"
				delete(topo.Networks, "west")
				return topo
			}(),
			want: []want{w(diag.AmbientAlpha, "meshes.mesh1.dataplane", "on one network")},
		},
		{
			name: "sidecar tenant across clusters",
			topo: func() *model.Topology {
				topo := ambient(multiPrimary())
				topo.Tenants["sample"].DataPlane = model.DataPlaneSidecar
				return topo
			}(),
			want: []want{w(diag.MixedDataPlanes, "tenants.sample.dataplane", "known issues")},
		},
		{
			name: "waypoints that differ across clusters",
			topo: func() *model.Topology {
				topo := ambient(multiPrimary())
				topo.Tenants["sample"].Clusters = []string{"cluster1"}
				topo.Tenants["sample"].Waypoint = model.WaypointNamespace
				topo.Tenants["sample-west"] = &model.Tenant{Mesh: "mesh1", Clusters: []string{"cluster2"}, Namespaces: []string{"sample"}}
				return topo
			}(),
			want: []want{w(diag.WaypointsDiffer, "tenants.sample-west.waypoint", `has a waypoint in cluster1 but not in cluster2`)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertDiags(t, run(t, tt.topo), tt.want)
		})
	}
}
