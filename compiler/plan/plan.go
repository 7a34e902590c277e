// Package plan turns a checked topology into per-cluster desired state: which
// namespaces exist with which labels, which control planes run where with
// which Helm values, which policies apply. The plan is target-independent:
// every installer target wraps the same plan, so they cannot disagree on
// identity or scoping.
//
// Plan reads the facts package resolve derived (versions, installs,
// discoveries, placements, which meshes span clusters or networks) and
// carries their reasons into what it plans, for explain and graph to print.
//
// Import direction: plan imports resolve, model and release; never CUE, never
// emitters.
package plan

import (
	"cmp"
	"maps"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/release"
	"meshc.dev/meshc/compiler/resolve"
)

// Labels and annotations meshc puts on what it emits.
const (
	LabelRev = "istio.io/rev"
	// LabelDataPlaneMode enrols a namespace's pods in the ambient data
	// plane (ztunnel), instead of sidecar injection by istio.io/rev.
	LabelDataPlaneMode = "istio.io/dataplane-mode"
	// LabelUseWaypoint on a namespace sends its services' traffic through
	// the named waypoint in it.
	LabelUseWaypoint = "istio.io/use-waypoint"
	// LabelWaypointFor says what traffic a waypoint handles.
	LabelWaypointFor = "istio.io/waypoint-for"
	// WaypointName is the name of a tenant namespace's waypoint, as
	// istioctl waypoint apply names it.
	WaypointName       = "waypoint"
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
	// Facts are the resolved facts the plan was made from, with their
	// origins: what explain and graph print beside the plan.
	Facts *resolve.Topology
}

// Cluster is the desired state of one cluster.
type Cluster struct {
	Name     string
	Platform model.Platform
	Network  string
	// CNI is set when the cluster runs the Istio CNI node agent: exactly
	// one per cluster, shared by all its control planes.
	CNI *CNI
	// Ztunnel is set when an ambient mesh runs in the cluster: one per
	// cluster, for the one ambient mesh there.
	Ztunnel *Ztunnel
	// Waypoints are the waypoints of the cluster's ambient tenants,
	// ordered by namespace.
	Waypoints     []*Waypoint
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

	// Meshes are the meshes the cluster belongs to, by name.
	Meshes []ClusterMesh
	// DiscoveredBy are the remote secrets elsewhere that read this
	// cluster's credentials, in cluster order.
	DiscoveredBy []Discovery
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
	// NeededBy are, when the cluster runs the agent only because a control
	// plane serving it injects for the agent (Source is that control
	// plane), the clusters of its data plane that need the agent.
	NeededBy []string
	// NeededByOrigins are the lines that make each of NeededBy need the
	// agent (its cni: true, or its platform).
	NeededByOrigins []model.Path
	// Ambient is set when the agent also runs in ambient mode (the ambient
	// profile): it redirects ambient pods' traffic to ztunnel.
	Ambient bool
	// Why says what asks for the agent, and For is the control plane
	// that injects for it (CNIForControlPlane).
	Why CNIReason
	For *model.ControlPlane
}

// CNIReason says why a cluster runs the Istio CNI agent.
type CNIReason string

// CNI reasons, in the order plan weighs them.
const (
	CNIForPlatform     CNIReason = "platform"     // OpenShift always runs it
	CNIForFlag         CNIReason = "cni"          // the cluster sets cni: true
	CNIForAmbient      CNIReason = "ambient"      // an ambient mesh runs here
	CNIForControlPlane CNIReason = "controlPlane" // a control plane serving it injects for it
)

// Ztunnel is the cluster's ztunnel node proxy, for its ambient mesh.
type Ztunnel struct {
	Namespace string
	Mesh      string
	// ControlPlane is the istiod ztunnel connects to (its revision): the
	// mesh's default revision in the cluster, else its first control
	// plane there.
	ControlPlane *ControlPlane
	// Version is its control plane's release: ztunnel may not be newer
	// than istiod.
	Version release.Version
	// Values are the ztunnel chart's values: the cluster's identity as
	// istiod's install says it (the same cluster name and network), and
	// where istiod is. Trust domain is not among them: ztunnel learns it
	// per workload from istiod.
	Values map[string]any
	// Source is the line that makes the mesh ambient.
	Source model.Path
}

// Waypoint is a tenant namespace's waypoint proxy: a Gateway API Gateway
// of class istio-waypoint, which istiod deploys.
type Waypoint struct {
	Name      string
	Namespace string
	Tenant    string
	// Revision is the istio.io/rev the Gateway carries, so that the
	// revision serving the tenant deploys it; empty for the default
	// revision.
	Revision string
	Source   model.Path
}

// NamespaceRole says why a namespace exists.
type NamespaceRole string

const (
	RoleSystem  NamespaceRole = "system"  // a control plane's namespace
	RoleTenant  NamespaceRole = "tenant"  // a tenant's application namespace
	RoleCNI     NamespaceRole = "cni"     // the CNI node agent's namespace
	RoleZtunnel NamespaceRole = "ztunnel" // ztunnel's namespace
)

// Namespace is one namespace meshc creates and labels.
type Namespace struct {
	Name   string
	Role   NamespaceRole
	Mesh   string // empty for the CNI namespace
	Labels map[string]string
	// LabelSources say why each of Labels is there.
	LabelSources map[string]LabelSource
	Annotations  map[string]string
	// Source is the topology path that put the namespace there.
	Source model.Path
	// Placement is, for a tenant's namespace in a cluster it is placed
	// in, the control plane serving it and why; nil otherwise (a system or
	// CNI namespace, or one holding a tenant's mTLS override for istiod).
	Placement *resolve.Placement
	// OverrideFor is, for a namespace that only holds a tenant's mTLS
	// override, the tenant's clusters whose istiod reads policy here.
	OverrideFor []string
	// Tenant is the tenant whose namespace it is, Index its place in the
	// tenant's namespaces, and Ambient is set when the tenant's data plane
	// is ambient (enrolled by istio.io/dataplane-mode, not istio.io/rev).
	Tenant  string
	Index   int
	Ambient bool
	// ControlPlanes are, for a system namespace, the cluster's installs
	// in it.
	ControlPlanes []*ControlPlane
	// Policies are, for a tenant's namespace served here, the
	// PeerAuthentications that apply to it where istiod reads its policy
	// (the serving control plane's cluster ID): its mesh's mesh-wide one,
	// and its own override when that lives in another cluster.
	Policies []AppliedPolicy
}

// AppliedPolicy is a PeerAuthentication in cluster Cluster that applies to
// a namespace.
type AppliedPolicy struct {
	Cluster string
	*PeerAuth
}

// ClusterMesh is a mesh a cluster belongs to: as part of its data plane,
// or as the host of control planes outside it (Hosts).
type ClusterMesh struct {
	*resolve.Mesh
	DataPlane bool
	Hosts     []string
}

// Discovery is a remote secret in cluster By that reads another cluster's
// credentials.
type Discovery struct {
	By     string
	Secret *RemoteSecret
}

// ControlPlane is one install of a control plane in a cluster: istiod
// itself, or (Remote) the remote profile in one of its remote clusters,
// which injects and validates through the istiod it points at.
type ControlPlane struct {
	*model.ControlPlane
	// Install is what the control plane installs here, and Remote is set
	// for the remote profile.
	Install resolve.InstallKind
	// InstallOrigin is the line that puts it here.
	InstallOrigin resolve.Origin
	Remote        bool
	MeshID        string
	Version       release.Version
	// Profile is the configuration profile the user asked for, or empty.
	Profile string
	// Values is the complete Helm values tree: what meshc computes, with
	// the user's values merged last.
	Values map[string]any
	// DiscoverySelectors is the mesh's discovery label; empty means the
	// control plane sees every namespace.
	DiscoverySelectors map[string]string
	// CNINeededBy are the clusters of its data plane that need the Istio
	// CNI agent: when any does, istiod injects sidecars for the agent.
	CNINeededBy []string
	// Ambient is set when its mesh's data plane is ambient.
	Ambient bool
}

// PeerAuth is a PeerAuthentication without a selector: mesh-wide when in a
// root namespace, namespace-wide in a tenant's.
type PeerAuth struct {
	Name      string
	Namespace string
	Mode      string
	Source    model.Path
	// Mesh is whose policy it is; Tenant is set for a tenant's override of
	// its mesh's mode.
	Mesh   string
	Tenant string
}

// LabelRule is the rule that puts a label on a namespace.
type LabelRule string

// Label rules.
const (
	LabelForDiscovery LabelRule = "discovery" // a mesh's discovery label
	LabelForNetwork   LabelRule = "network"   // the cluster's network, on system namespaces
	LabelForRevision  LabelRule = "revision"  // istio.io/rev of a tenant's namespace
	LabelForTenant    LabelRule = "tenant"    // an extra label of the tenant
	LabelForDataPlane LabelRule = "dataplane" // istio.io/dataplane-mode of an ambient tenant's namespace
	LabelForWaypoint  LabelRule = "waypoint"  // istio.io/use-waypoint of a tenant with a waypoint
)

// LabelSource says why a namespace carries a label: the rule, and the mesh
// whose discovery label it is or the tenant whose namespace it is.
type LabelSource struct {
	Rule   LabelRule
	Mesh   string
	Tenant string
}

// label puts k=v on ns for the reason src.
func (ns *Namespace) label(k, v string, src LabelSource) {
	ns.Labels[k] = v
	ns.LabelSources[k] = src
}

// discoveryLabel puts mesh's discovery label on ns; meshc's labels win
// over a tenant's extra ones (tenant names the tenant, for explain to say
// so).
func (ns *Namespace) discoveryLabel(mesh *model.Mesh, tenant string) {
	for k, v := range mesh.DiscoveryLabel {
		ns.label(k, v, LabelSource{Rule: LabelForDiscovery, Mesh: mesh.Name, Tenant: tenant})
	}
}

func newNamespace(name string, role NamespaceRole, mesh string, source model.Path) *Namespace {
	return &Namespace{Name: name, Role: role, Mesh: mesh, Labels: map[string]string{}, LabelSources: map[string]LabelSource{}, Source: source}
}

// Build resolves a checked topology and plans every cluster; see Resolved.
func Build(t *model.Topology) *Plan { return Resolved(resolve.Resolve(t)) }

// Resolved plans every cluster of a checked, resolved topology.
func Resolved(r *resolve.Topology) *Plan {
	t := r.Model
	p := &Plan{Topology: t.Metadata.Name, Facts: r}
	tenantsByCluster := map[string][]*model.Tenant{}
	for _, name := range model.SortedKeys(t.Tenants) {
		tn := t.Tenants[name]
		for _, cl := range r.TenantClusters(tn) {
			tenantsByCluster[cl] = append(tenantsByCluster[cl], tn)
		}
	}
	// Tenants with an mTLS override in a remote cluster, by the cluster
	// whose istiod reads their policy, with the clusters it reads it for.
	remoteOverrides := map[string][]*override{}
	for _, name := range model.SortedKeys(t.Tenants) {
		tn := t.Tenants[name]
		if tn.MTLS == "" {
			continue
		}
		own := map[string]*override{}
		for _, cl := range r.TenantClusters(tn) {
			// ClusterID is where istiod reads policy: its own cluster, or an
			// external control plane's config cluster.
			placement := r.Placement(tn, cl)
			if placement.ControlPlane == nil || placement.ControlPlane.ClusterID() == cl {
				continue
			}
			home := placement.ControlPlane.ClusterID()
			if own[home] == nil {
				own[home] = &override{tenant: tn}
				remoteOverrides[home] = append(remoteOverrides[home], own[home])
			}
			own[home].clusters = append(own[home].clusters, cl)
		}
	}
	// The meshes each cluster takes part in (data plane or primary), by
	// mesh name: built once, as scanning every mesh for every cluster is
	// quadratic at fleet scale.
	meshesByCluster := map[string][]*resolve.Mesh{}
	for _, name := range model.SortedKeys(t.Meshes) {
		mesh := r.Mesh(name)
		for _, cls := range [][]string{mesh.Clusters, mesh.Primaries} {
			for _, cl := range cls {
				if in := meshesByCluster[cl]; len(in) == 0 || in[len(in)-1] != mesh {
					meshesByCluster[cl] = append(in, mesh)
				}
			}
		}
	}
	// Clusters are planned side by side: each reads the resolved facts,
	// which nothing changes any more, and writes only its own Cluster, in
	// its place in name order.
	names := model.SortedKeys(t.Clusters)
	if len(names) > 0 {
		p.Clusters = make([]*Cluster, len(names))
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, name := range names {
		g.Go(func() error {
			p.Clusters[i] = buildCluster(r, t.Clusters[name], tenantsByCluster[name], meshesByCluster[name], remoteOverrides)
			return nil
		})
	}
	_ = g.Wait() // planning a cluster cannot fail
	byName := make(map[string]*Cluster, len(p.Clusters))
	for _, c := range p.Clusters {
		byName[c.Name] = c
	}
	for _, c := range p.Clusters {
		for _, rs := range c.RemoteSecrets {
			d := byName[rs.Discovered.Name]
			d.DiscoveredBy = append(d.DiscoveredBy, Discovery{By: c.Name, Secret: rs})
		}
		for _, ns := range c.Namespaces {
			ns.Policies = appliedPolicies(byName, c, ns)
		}
	}
	return p
}

// appliedPolicies are the PeerAuthentications that apply to tenant
// namespace ns of cluster c from where istiod reads policy for it.
func appliedPolicies(byName map[string]*Cluster, c *Cluster, ns *Namespace) []AppliedPolicy {
	if ns.Role != RoleTenant || ns.Placement == nil || ns.Placement.ControlPlane == nil {
		return nil
	}
	cp := ns.Placement.ControlPlane
	home := byName[cp.ClusterID()]
	if home == nil {
		return nil
	}
	var out []AppliedPolicy
	for _, pa := range home.PeerAuths {
		mine := pa.Tenant == "" && pa.Mesh == ns.Mesh && pa.Namespace == cp.Namespace ||
			pa.Tenant == ns.Tenant && pa.Namespace == ns.Name && home != c
		if mine {
			out = append(out, AppliedPolicy{Cluster: home.Name, PeerAuth: pa})
		}
	}
	return out
}

// override is a tenant's mTLS override kept where istiod reads policy for
// the tenant's clusters in clusters.
type override struct {
	tenant   *model.Tenant
	clusters []string
}

func tenantPeerAuth(tn *model.Tenant, ns string) *PeerAuth {
	return &PeerAuth{
		Name: tn.Name + "-peerauth", Namespace: ns, Mode: tn.MTLS,
		Source: model.Path{"tenants", tn.Name, "mtls"}, Mesh: tn.Mesh, Tenant: tn.Name,
	}
}

// buildCluster plans one cluster; tenants are those with namespaces in it,
// ordered by name, and meshes those it is a data plane or primary of,
// ordered by name.
func buildCluster(r *resolve.Topology, cl *model.Cluster, tenants []*model.Tenant, meshes []*resolve.Mesh, remoteOverrides map[string][]*override) *Cluster {
	t := r.Model
	c := &Cluster{Name: cl.Name, Platform: cl.Platform, Network: cl.Network}
	namespaces := map[string]*Namespace{}
	peerAuths := map[[2]string]*PeerAuth{}

	for _, in := range r.Installs(cl.Name) {
		mcp := in.ControlPlane
		mesh := t.Meshes[mcp.Mesh]
		cp := &ControlPlane{
			ControlPlane:       mcp,
			Install:            in.Kind,
			InstallOrigin:      in.Origin,
			Remote:             in.Kind == resolve.InstallRemote,
			MeshID:             mesh.MeshID,
			Version:            r.Version(mcp).Parsed,
			Profile:            r.Profile(mcp).Name,
			Ambient:            r.Mesh(mcp.Mesh).Ambient,
			DiscoverySelectors: mesh.DiscoveryLabel,
			CNINeededBy:        r.CNINeededBy(mcp),
		}
		switch {
		case cp.Remote:
			cp.Profile = ProfileRemote
			cp.Values = remoteHelmValues(cl, mesh, cp)
		case mcp.External:
			cp.Values = externalHelmValues(mesh, cp)
		default:
			cp.Values = helmValues(t, cl, r.Mesh(mesh.Name), cp)
		}
		c.ControlPlanes = append(c.ControlPlanes, cp)

		if _, ok := namespaces[mcp.Namespace]; !ok {
			ns := newNamespace(mcp.Namespace, RoleSystem, mesh.Name, mcp.Path().Child("namespace"))
			labelled := mesh
			if mcp.External && !cp.Remote && mcp.Expose != nil && mcp.Expose.Via == model.ExposeIngress {
				// The external istiod watches no namespace of its hosting
				// cluster, but the hosting cluster's own istiod routes its
				// ingress gateway to it, so must see this namespace: it
				// carries the hosting mesh's label instead of its own.
				if host := r.Hosting(mcp); host != nil {
					labelled = t.Meshes[host.Mesh]
				}
			}
			ns.discoveryLabel(labelled, "")
			if cl.Network != "" {
				ns.label(LabelNetwork, cl.Network, LabelSource{Rule: LabelForNetwork})
			}
			if cp.Remote && mcp.ClusterID() != cl.Name {
				// Names the cluster ID of the istiod leading this remote
				// (an external control plane's config cluster needs none).
				ns.Annotations = map[string]string{AnnotationControlPlaneClusters: mcp.ClusterID()}
			}
			namespaces[mcp.Namespace] = ns
		}
		namespaces[mcp.Namespace].ControlPlanes = append(namespaces[mcp.Namespace].ControlPlanes, cp)
		// istiod reads mesh configuration from one cluster: its own, or an
		// external control plane's config cluster.
		if mesh.MTLS != model.MTLSNone && mcp.ClusterID() == cl.Name {
			key := [2]string{mcp.Namespace, mesh.Name}
			if _, ok := peerAuths[key]; !ok {
				peerAuths[key] = &PeerAuth{
					Name: mesh.Name + "-peerauth", Namespace: mcp.Namespace, Mode: mesh.MTLS,
					Source: model.Path{"meshes", mesh.Name, "mtls"}, Mesh: mesh.Name,
				}
			}
		}
	}

	// The cluster runs the CNI agent when it needs it, or when a control
	// plane serving it injects for the agent because another of its
	// clusters needs it.
	var cniFor *model.ControlPlane
	for _, cp := range c.ControlPlanes {
		if cniFor == nil && len(cp.CNINeededBy) > 0 {
			cniFor = cp.ControlPlane
		}
	}
	// An ambient mesh needs the agent in ambient mode, and ztunnel.
	var ambient *resolve.Mesh
	if meshes := r.AmbientMeshesIn(cl.Name); len(meshes) > 0 {
		ambient = r.Mesh(meshes[0]) // check refuses a second one
	}
	if (cl.NeedsCNI() || cniFor != nil || ambient != nil) && len(c.ControlPlanes) > 0 {
		source, why := cniAsked(cl)
		switch {
		case cl.NeedsCNI():
		case ambient != nil:
			source, why = ambient.DataPlaneOrigin.Path, CNIForAmbient
		default:
			source, why = cniFor.Path(), CNIForControlPlane
		}
		cni := &CNI{Namespace: CNINamespace, Owner: c.ControlPlanes[0], Source: source, Ambient: ambient != nil, Why: why}
		if why == CNIForControlPlane {
			cni.NeededBy, cni.For = r.CNINeededBy(cniFor), cniFor
			for _, name := range cni.NeededBy {
				origin, _ := cniAsked(t.Clusters[name])
				cni.NeededByOrigins = append(cni.NeededByOrigins, origin)
			}
		}
		for _, cp := range c.ControlPlanes {
			if cp.Version.Compare(cni.Version) > 0 {
				cni.Version = cp.Version
			}
		}
		c.CNI = cni
		namespaces[CNINamespace] = newNamespace(CNINamespace, RoleCNI, "", source)
	}
	if ambient != nil {
		c.Ztunnel = planZtunnel(cl, ambient, c.ControlPlanes)
		if c.Ztunnel != nil {
			// istiod must see ztunnel's namespace to sign its certificates
			// for the workloads it proxies (istio/istio#52057).
			ns := newNamespace(c.Ztunnel.Namespace, RoleZtunnel, ambient.Name, c.Ztunnel.Source)
			ns.discoveryLabel(ambient.Mesh, "")
			namespaces[ns.Name] = ns
			if c.CNI != nil {
				// The install that brings ztunnel brings the agent in
				// ambient mode too (istioctl's ambient profile).
				c.CNI.Owner = c.Ztunnel.ControlPlane
			}
		}
	}

	for _, tn := range tenants {
		tname := tn.Name
		placement := r.Placement(tn, cl.Name)
		mesh := t.Meshes[tn.Mesh]
		for i, ns := range tn.Namespaces {
			n := newNamespace(ns, RoleTenant, mesh.Name, model.Path{"tenants", tname, "namespaces", i})
			n.Placement, n.Tenant, n.Index = placement, tname, i
			for k, v := range tn.Labels {
				n.label(k, v, LabelSource{Rule: LabelForTenant, Tenant: tname})
			}
			// meshc's labels win over the tenant's extra labels: they are
			// what ties the namespace to its control plane.
			n.discoveryLabel(mesh, tname)
			if r.TenantDataPlane(tn).Ambient() {
				// Ambient pods are enrolled by this label, never injected:
				// istio.io/rev would have the revision's injector add
				// sidecars.
				n.label(LabelDataPlaneMode, model.DataPlaneAmbient, LabelSource{Rule: LabelForDataPlane, Tenant: tname})
				n.Ambient = true
				if tn.Waypoint == model.WaypointNamespace {
					n.label(LabelUseWaypoint, WaypointName, LabelSource{Rule: LabelForWaypoint, Tenant: tname})
					wp := &Waypoint{Name: WaypointName, Namespace: ns, Tenant: tname, Source: model.Path{"tenants", tname, "waypoint"}}
					if placement.ControlPlane != nil && !placement.ControlPlane.IsDefaultRevision() {
						wp.Revision = placement.Revision
					}
					c.Waypoints = append(c.Waypoints, wp)
				}
			} else {
				n.label(LabelRev, placement.Revision, LabelSource{Rule: LabelForRevision, Tenant: tname})
			}
			namespaces[ns] = n
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
	for _, o := range remoteOverrides[cl.Name] {
		tn := o.tenant
		mesh := t.Meshes[tn.Mesh]
		for i, ns := range tn.Namespaces {
			if _, ok := namespaces[ns]; !ok {
				n := newNamespace(ns, RoleTenant, mesh.Name, model.Path{"tenants", tn.Name, "namespaces", i})
				n.Tenant, n.Index = tn.Name, i
				n.discoveryLabel(mesh, tn.Name)
				n.OverrideFor = o.clusters
				namespaces[ns] = n
			}
			peerAuths[[2]string{ns, tn.Name}] = tenantPeerAuth(tn, ns)
		}
	}

	multicluster(r, cl, c)
	for _, mesh := range meshes {
		cm := ClusterMesh{Mesh: mesh, DataPlane: slices.Contains(mesh.Clusters, cl.Name)}
		if !cm.DataPlane && !slices.Contains(mesh.Primaries, cl.Name) {
			continue
		}
		for _, name := range model.SortedKeys(mesh.ControlPlanes) {
			if !cm.DataPlane && mesh.ControlPlanes[name].Cluster == cl.Name {
				cm.Hosts = append(cm.Hosts, name)
			}
		}
		c.Meshes = append(c.Meshes, cm)
	}
	slices.SortFunc(c.Waypoints, func(a, b *Waypoint) int { return cmp.Compare(a.Namespace, b.Namespace) })

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

// cniAsked is the line that makes cl need the CNI agent, and why: cni:
// true, else its platform (OpenShift). Only meaningful when cl.NeedsCNI().
func cniAsked(cl *model.Cluster) (model.Path, CNIReason) {
	if cl.CNI {
		return model.Path{"clusters", cl.Name, "cni"}, CNIForFlag
	}
	return model.Path{"clusters", cl.Name, "platform"}, CNIForPlatform
}

// planZtunnel plans the cluster's ztunnel for ambient mesh m: connected to
// the mesh's default revision there (or its first control plane), with the
// identity istiod's values say.
func planZtunnel(cl *model.Cluster, m *resolve.Mesh, cps []*ControlPlane) *Ztunnel {
	var to *ControlPlane
	for _, cp := range cps {
		if cp.Mesh != m.Name || cp.External && !cp.Remote {
			continue
		}
		if to == nil || cp.IsDefaultRevision() || slices.Contains(cp.Tags, model.DefaultRevision) {
			to = cp
		}
		if cp.IsDefaultRevision() || slices.Contains(cp.Tags, model.DefaultRevision) {
			break
		}
	}
	if to == nil {
		return nil
	}
	return &Ztunnel{
		Namespace: model.ZtunnelNamespace, Mesh: m.Name, ControlPlane: to, Version: to.Version,
		Values: ztunnelValues(cl, m.Mesh, to), Source: m.DataPlaneOrigin.Path,
	}
}
