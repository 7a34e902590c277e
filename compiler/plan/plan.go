// Package plan turns a checked topology into per-cluster desired state: which
// namespaces exist with which labels, which control planes run where with
// which Helm values, which policies apply. The plan is target-independent:
// every installer target wraps the same plan, so they cannot disagree on
// identity or scoping.
//
// Import direction: plan imports model and istio; never CUE, never emitters.
package plan

import (
	"cmp"
	"maps"
	"slices"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/release"
)

// Labels and annotations meshc puts on what it emits.
const (
	LabelRev           = "istio.io/rev"
	LabelNetwork       = "topology.istio.io/network"
	AnnotationSource   = "meshc.dev/source"
	CNINamespace       = "istio-cni"
	EnhancedScopingEnv = "ENABLE_ENHANCED_RESOURCE_SCOPING"
	// AnnotationControlPlaneClusters on a remote's system namespace names
	// the cluster(s) whose istiod leads it.
	AnnotationControlPlaneClusters = "topology.istio.io/controlPlaneClusters"
	ProfileRemote                  = "remote"
)

// Plan is the desired state of a whole fleet.
type Plan struct {
	Topology string
	Clusters []*Cluster // ordered by name
}

// Cluster is the desired state of one cluster.
type Cluster struct {
	Name     string
	Platform string
	Network  string
	// CNI is set when the cluster runs the Istio CNI node agent: exactly
	// one per cluster, shared by all its control planes.
	CNI           *CNI
	Namespaces    []*Namespace    // ordered by name
	ControlPlanes []*ControlPlane // ordered by mesh, then name
	PeerAuths     []*PeerAuth     // ordered by namespace, then name

	// Multicluster machinery, each list ordered by namespace, then name.
	EastWestGateways []*EastWestGateway
	IngressGateways  []*IngressGateway
	IstiodExposures  []*IstiodExposure
	RemoteSecrets    []*RemoteSecret // secrets for the clusters this one's control planes discover
	ReaderTokens     []*ReaderToken  // reader credentials for control planes elsewhere
	CACerts          []*CACert       // intermediates under the mesh's shared root
}

// CNI is the cluster's Istio CNI node agent.
type CNI struct {
	Namespace string
	// Version is the newest release among the cluster's control planes:
	// the CNI agent must be at least as new as the proxies it serves.
	Version release.Version
	// Owner is the control plane whose install carries the CNI for
	// installers that bundle it with istiod (istioctl).
	Owner *ControlPlane
	// Source is the topology path that asks for the CNI agent.
	Source model.Path
}

// NamespaceRole says why a namespace exists.
type NamespaceRole string

const (
	RoleSystem NamespaceRole = "system" // a control plane's namespace
	RoleTenant NamespaceRole = "tenant" // a tenant's application namespace
	RoleCNI    NamespaceRole = "cni"    // the CNI node agent's namespace
)

// Namespace is one namespace meshc creates and labels.
type Namespace struct {
	Name        string
	Role        NamespaceRole
	Mesh        string // empty for the CNI namespace
	Labels      map[string]string
	Annotations map[string]string
	// Source is the topology path that put the namespace there.
	Source model.Path
}

// ControlPlane is one install of a control plane in a cluster: istiod
// itself, or (Remote) the remote profile in one of its remote clusters,
// which injects and validates through the istiod it points at.
type ControlPlane struct {
	*model.ControlPlane
	Remote  bool
	MeshID  string
	Version release.Version
	// Profile is the configuration profile the user asked for, or empty.
	Profile string
	// Values is the complete Helm values tree: what meshc computes, with
	// the user's values merged last.
	Values map[string]any
	// DiscoverySelectors is the mesh's discovery label; empty means the
	// control plane sees every namespace.
	DiscoverySelectors map[string]string
}

// PeerAuth is a PeerAuthentication without a selector: mesh-wide when in a
// root namespace, namespace-wide in a tenant's.
type PeerAuth struct {
	Name      string
	Namespace string
	Mode      string
	Source    model.Path
}

// Build plans every cluster of a checked topology.
func Build(t *model.Topology) *Plan {
	p := &Plan{Topology: t.Metadata.Name}
	tenantsByCluster := map[string][]*model.Tenant{}
	for _, name := range model.SortedKeys(t.Tenants) {
		tn := t.Tenants[name]
		for _, cl := range t.TenantClusters(tn) {
			tenantsByCluster[cl] = append(tenantsByCluster[cl], tn)
		}
	}
	// Tenants with an mTLS override in a remote cluster, by the cluster
	// whose istiod reads their policy.
	remoteOverrides := map[string][]*model.Tenant{}
	for _, name := range model.SortedKeys(t.Tenants) {
		tn := t.Tenants[name]
		if tn.MTLS == "" {
			continue
		}
		var own []string
		for _, cl := range t.TenantClusters(tn) {
			// ClusterID is where istiod reads policy: its own cluster, or an
			// external control plane's config cluster.
			if placement, _ := t.PlaceTenant(tn, cl); placement.ControlPlane != nil && placement.ControlPlane.ClusterID() != cl &&
				!slices.Contains(own, placement.ControlPlane.ClusterID()) {
				own = append(own, placement.ControlPlane.ClusterID())
				remoteOverrides[placement.ControlPlane.ClusterID()] = append(remoteOverrides[placement.ControlPlane.ClusterID()], tn)
			}
		}
	}
	for _, name := range model.SortedKeys(t.Clusters) {
		p.Clusters = append(p.Clusters, buildCluster(t, t.Clusters[name], tenantsByCluster[name], remoteOverrides))
	}
	return p
}

func tenantPeerAuth(tn *model.Tenant, ns string) *PeerAuth {
	return &PeerAuth{
		Name: tn.Name + "-peerauth", Namespace: ns, Mode: tn.MTLS,
		Source: model.Path{"tenants", tn.Name, "mtls"},
	}
}

// buildCluster plans one cluster; tenants are those with namespaces in it,
// ordered by name.
func buildCluster(t *model.Topology, cl *model.Cluster, tenants []*model.Tenant, remoteOverrides map[string][]*model.Tenant) *Cluster {
	c := &Cluster{Name: cl.Name, Platform: cl.Platform, Network: cl.Network}
	namespaces := map[string]*Namespace{}
	peerAuths := map[[2]string]*PeerAuth{}

	for _, mcp := range t.ControlPlanesOfCluster(cl.Name) {
		mesh := t.Meshes[mcp.Mesh]
		cp := &ControlPlane{
			ControlPlane:       mcp,
			Remote:             mcp.Cluster != cl.Name,
			MeshID:             mesh.MeshID,
			Version:            mustVersion(mcp.Version),
			Profile:            mcp.Profile,
			DiscoverySelectors: mesh.DiscoveryLabel,
		}
		switch {
		case cp.Remote:
			cp.Profile = ProfileRemote
			cp.Values = remoteHelmValues(cl, mesh, cp)
		case mcp.External:
			cp.Values = externalHelmValues(mesh, cp)
		default:
			cp.Values = helmValues(t, cl, mesh, cp)
		}
		c.ControlPlanes = append(c.ControlPlanes, cp)

		if _, ok := namespaces[mcp.Namespace]; !ok {
			labels := maps.Clone(mesh.DiscoveryLabel)
			if labels == nil {
				labels = map[string]string{}
			}
			if cl.Network != "" {
				labels[LabelNetwork] = cl.Network
			}
			ns := &Namespace{
				Name: mcp.Namespace, Role: RoleSystem, Mesh: mesh.Name, Labels: labels,
				Source: mcp.Path().Child("namespace"),
			}
			if mcp.External && !cp.Remote && mcp.Expose != nil && mcp.Expose.Via == model.ExposeIngress {
				// The external istiod watches no namespace of its hosting
				// cluster, but the hosting cluster's own istiod routes its
				// ingress gateway to it, so must see this namespace: it
				// carries the hosting mesh's label instead of its own.
				if host := HostingControlPlane(t, mcp); host != nil {
					labels = maps.Clone(t.Meshes[host.Mesh].DiscoveryLabel)
					if labels == nil {
						labels = map[string]string{}
					}
					if cl.Network != "" {
						labels[LabelNetwork] = cl.Network
					}
					ns.Labels = labels
				}
			}
			if cp.Remote && mcp.ClusterID() != cl.Name {
				// Names the cluster ID of the istiod leading this remote
				// (an external control plane's config cluster needs none).
				ns.Annotations = map[string]string{AnnotationControlPlaneClusters: mcp.ClusterID()}
			}
			namespaces[mcp.Namespace] = ns
		}
		// istiod reads mesh configuration from one cluster: its own, or an
		// external control plane's config cluster.
		if mesh.MTLS != model.MTLSNone && mcp.ClusterID() == cl.Name {
			key := [2]string{mcp.Namespace, mesh.Name}
			if _, ok := peerAuths[key]; !ok {
				peerAuths[key] = &PeerAuth{
					Name: mesh.Name + "-peerauth", Namespace: mcp.Namespace, Mode: mesh.MTLS,
					Source: model.Path{"meshes", mesh.Name, "mtls"},
				}
			}
		}
	}

	// The cluster runs the CNI agent when it needs it, or when a control
	// plane serving it injects for the agent because another of its
	// clusters needs it.
	var cniFor *model.ControlPlane
	for _, cp := range c.ControlPlanes {
		if cniFor == nil && CNIEnabled(t, cp.ControlPlane) {
			cniFor = cp.ControlPlane
		}
	}
	if (cl.NeedsCNI() || cniFor != nil) && len(c.ControlPlanes) > 0 {
		source := model.Path{"clusters", cl.Name, "platform"}
		switch {
		case cl.CNI:
			source = model.Path{"clusters", cl.Name, "cni"}
		case !cl.NeedsCNI():
			source = cniFor.Path()
		}
		cni := &CNI{Namespace: CNINamespace, Owner: c.ControlPlanes[0], Source: source}
		for _, cp := range c.ControlPlanes {
			if cp.Version.Compare(cni.Version) > 0 {
				cni.Version = cp.Version
			}
		}
		c.CNI = cni
		namespaces[CNINamespace] = &Namespace{Name: CNINamespace, Role: RoleCNI, Labels: map[string]string{}, Source: source}
	}

	for _, tn := range tenants {
		tname := tn.Name
		placement, _ := t.PlaceTenant(tn, cl.Name)
		mesh := t.Meshes[tn.Mesh]
		for i, ns := range tn.Namespaces {
			labels := maps.Clone(tn.Labels)
			if labels == nil {
				labels = map[string]string{}
			}
			// meshc's labels win over the tenant's extra labels: they are
			// what ties the namespace to its control plane.
			maps.Copy(labels, mesh.DiscoveryLabel)
			labels[LabelRev] = placement.Revision
			path := model.Path{"tenants", tname, "namespaces", i}
			namespaces[ns] = &Namespace{Name: ns, Role: RoleTenant, Mesh: mesh.Name, Labels: labels, Source: path}
			// istiod reads policy from its own cluster only: a tenant's
			// override in a remote cluster goes to the control plane's.
			if tn.MTLS != "" && placement.ControlPlane.ClusterID() == cl.Name {
				peerAuths[[2]string{ns, tname}] = tenantPeerAuth(tn, ns)
			}
		}
	}
	// The other way round: tenants placed in this cluster's control planes'
	// remotes whose override must live here, in a namespace of the same
	// name (Istio treats same-named namespaces as one across clusters).
	for _, tn := range remoteOverrides[cl.Name] {
		mesh := t.Meshes[tn.Mesh]
		for i, ns := range tn.Namespaces {
			if _, ok := namespaces[ns]; !ok {
				labels := maps.Clone(mesh.DiscoveryLabel)
				if labels == nil {
					labels = map[string]string{}
				}
				namespaces[ns] = &Namespace{Name: ns, Role: RoleTenant, Mesh: mesh.Name, Labels: labels,
					Source: model.Path{"tenants", tn.Name, "namespaces", i}}
			}
			peerAuths[[2]string{ns, tn.Name}] = tenantPeerAuth(tn, ns)
		}
	}

	multicluster(t, cl, c)

	for _, name := range model.SortedKeys(namespaces) {
		c.Namespaces = append(c.Namespaces, namespaces[name])
	}
	keys := slices.SortedFunc(maps.Keys(peerAuths), func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	for _, k := range keys {
		c.PeerAuths = append(c.PeerAuths, peerAuths[k])
	}
	return c
}

// mustVersion parses a version the checks have already accepted.
func mustVersion(s string) release.Version {
	v, err := release.Parse(s)
	if err != nil {
		panic("plan: unchecked version " + s)
	}
	return v
}

// HostingControlPlane is the control plane that runs in an external
// control plane's hosting cluster and injects its ingress gateway: the
// first one there that is not external itself.
func HostingControlPlane(t *model.Topology, external *model.ControlPlane) *model.ControlPlane {
	for _, cp := range t.ControlPlanesOfCluster(external.Cluster) {
		if cp.Cluster == external.Cluster && !cp.External {
			return cp
		}
	}
	return nil
}
