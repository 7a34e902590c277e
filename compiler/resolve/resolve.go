// Package resolve derives, once, the facts about a topology that later
// stages share, each with its origin: the topology path that set it, or the
// rule that derived it and the paths the rule read, and whether the value
// was defaulted. Check judges these facts, plan turns them into
// per-cluster state carrying the same reasons, and explain and graph print
// those reasons: none of them derives a fact again.
//
// The facts: each control plane's Istio version, parsed; the installs in
// each cluster and their kind (istiod, the remote profile, an external
// istiod), and the one that hosts external control planes there; which
// control planes inject for the Istio CNI agent, and because of which
// clusters; which meshes span clusters or networks and get east-west
// gateways; who discovers whom and why; and where each tenant's namespaces
// land in each cluster. Resolve runs on unchecked input too (check judges
// its facts), so it never assumes a reference resolves.
//
// Every index is built in one pass over the fleet: resolving is linear in
// the number of clusters, control planes and tenants.
//
// Import direction: resolve imports model and release only.
package resolve

import (
	"cmp"
	"fmt"
	"slices"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/release"
)

// Origin says where a fact comes from.
type Origin struct {
	// Path is the topology path that set the value, or that the rule
	// deriving it read.
	Path model.Path
	// Rule names the rule that derived the value; empty when the user
	// wrote it at Path (or it defaulted there).
	Rule string
	// Defaulted is set when nothing was written at Path: the value is its
	// default.
	Defaulted bool
}

// Topology is a topology with its facts resolved.
type Topology struct {
	Model *model.Topology
	// SailOperator is the Sail operator release the sail target's bundles
	// are for: the one defaults.sail.operator names, else the newest meshc
	// knows.
	SailOperator SailOperator

	versions     map[*model.ControlPlane]Version
	meshes       map[string]*Mesh
	installs     map[string][]*Install   // by cluster, ordered by mesh then name
	discoveries  map[string][]*Discovery // by the cluster istiod runs in
	discoveredBy map[[2]string]bool      // mesh, cluster watched from another cluster
	placements   map[*model.Tenant]map[string]*Placement
	tenantCls    map[*model.Tenant][]string
	tenantsIn    map[[2]string][]*model.Tenant  // mesh, cluster: by tenant name
	hosts        map[string]*model.ControlPlane // by cluster: its first istiod that is not external
	cniNeeds     map[*model.ControlPlane][]string
	dataPlanes   map[*model.Tenant]DataPlane
	ambientIn    map[string][]string // by cluster: the ambient meshes installed there, sorted
}

// DataPlane is how a tenant's workloads join their mesh: sidecar or
// ambient, and the line that says so (the tenant's own dataplane, else
// its mesh's).
type DataPlane struct {
	Mode   string
	Origin Origin
}

// Ambient reports whether the data plane is ambient.
func (d DataPlane) Ambient() bool { return d.Mode == model.DataPlaneAmbient }

// Profile is a control plane's configuration profile and where it comes
// from: the ambient profile for an ambient mesh's (openshift-ambient on
// OpenShift), else what the control plane names (empty for the target's
// default).
type Profile struct {
	Name   string
	Origin Origin
}

// Version is a control plane's Istio release: as written (after
// defaulting), parsed once, looked up in release's table once, and where
// it was written.
type Version struct {
	Text string
	// Parsed is the release; valid only when Err is nil.
	Parsed release.Version
	Err    error
	// Release is Parsed's line in the table (its newest patch, end of
	// life) and whether Parsed is a newer patch than meshc knows; valid
	// only when Err and Unknown are nil. Unknown says that meshc does not
	// know the line.
	Release release.Resolved
	Unknown error
	Origin  Origin
}

// SailOperator is a Sail operator release, as written and looked up once.
type SailOperator struct {
	// Text is the release as written, else the default's line.
	Text string
	// Release is valid only when Err is nil.
	Release release.SailOperator
	Err     error
	Origin  Origin
}

// Mesh holds the facts about one mesh.
type Mesh struct {
	*model.Mesh
	// Clusters are where its workloads run: where its control planes run
	// (unless external) and their remotes, sorted.
	Clusters []string
	// Primaries are where its control planes run, hosting clusters of
	// external ones included, sorted: each is a CA of its own.
	Primaries []string
	// Networks are the networks of Clusters, sorted ("" for a cluster
	// without one, or one the topology does not define).
	Networks []string
	// External is set when one of its control planes is external.
	External bool
	// MultiCluster is set when a control plane watches a cluster other
	// than its own: the mesh has several clusters, or an external control
	// plane. Remote secrets and a shared root of trust matter then.
	MultiCluster bool
	// MultiNetwork is set when Clusters span more than one network.
	MultiNetwork bool
	// EastWest is set when the mesh's clusters get east-west gateways: as
	// the user says, else when the mesh spans networks.
	EastWest       bool
	EastWestOrigin Origin
	// Ambient is set when the mesh's data plane is ambient: ztunnel and
	// the CNI agent in ambient mode in each of its clusters, the ambient
	// profile on its control planes. DataPlaneOrigin is its dataplane
	// line.
	Ambient         bool
	DataPlaneOrigin Origin
}

// InstallKind is what a control plane installs in a cluster.
type InstallKind string

// Install kinds.
const (
	InstallIstiod   InstallKind = "istiod"   // istiod runs here and serves this cluster
	InstallRemote   InstallKind = "remote"   // the remote profile, pointing at istiod elsewhere
	InstallExternal InstallKind = "external" // an external istiod hosted here, serving other clusters
)

// Install is a control plane installed in a cluster.
type Install struct {
	ControlPlane *model.ControlPlane
	Cluster      string
	Kind         InstallKind
	// Origin is the line that puts it here: the control plane's cluster,
	// or its remotes entry.
	Origin Origin
}

// Discovery is a control plane watching another cluster of its mesh with
// that cluster's credentials.
type Discovery struct {
	Mesh string
	// ControlPlane is the first control plane of the mesh running in
	// Cluster's Namespace: the remote secret there serves all of them.
	ControlPlane *model.ControlPlane
	Cluster      string
	Namespace    string
	Discovered   string
	// Config is set when Discovered is an external control plane's config
	// cluster: istiod reads the mesh's configuration from it.
	Config bool
	// Why says why the control plane discovers Discovered; Origin is the
	// line behind it.
	Why    string
	Origin Origin
}

// Placement is where a tenant's namespaces land in one cluster: the
// control plane that serves them and the istio.io/rev value they carry.
type Placement struct {
	Cluster      string
	ControlPlane *model.ControlPlane
	Revision     string
	// Candidates are the control planes that could serve the tenant;
	// exactly one when ControlPlane is set.
	Candidates []*model.ControlPlane
	// Why says why ControlPlane serves the tenant here; Origins are the
	// lines behind it (a ControlPlane's serving line last).
	Why     string
	Origins []Origin
	// RevisionDefined is where the control plane defines the revision the
	// namespaces carry: its revision, or one of its tags (RevisionIs says
	// which: "the revision" or "a revision tag").
	RevisionDefined Origin
	RevisionIs      string
}

// Resolve derives the facts of t, which has had its defaults resolved.
func Resolve(t *model.Topology) *Topology {
	r := &Topology{
		Model:        t,
		versions:     map[*model.ControlPlane]Version{},
		meshes:       map[string]*Mesh{},
		installs:     map[string][]*Install{},
		discoveries:  map[string][]*Discovery{},
		discoveredBy: map[[2]string]bool{},
		placements:   map[*model.Tenant]map[string]*Placement{},
		tenantCls:    map[*model.Tenant][]string{},
		tenantsIn:    map[[2]string][]*model.Tenant{},
		hosts:        map[string]*model.ControlPlane{},
		cniNeeds:     map[*model.ControlPlane][]string{},
		dataPlanes:   map[*model.Tenant]DataPlane{},
		ambientIn:    map[string][]string{},
	}
	r.SailOperator = sailOperator(t)
	for _, cp := range t.ControlPlanes() {
		r.versions[cp] = r.version(cp)
		if !cp.External && r.hosts[cp.Cluster] == nil {
			r.hosts[cp.Cluster] = cp
		}
		for _, name := range cp.DataPlaneClusters() {
			if cl := t.Clusters[name]; cl != nil && cl.NeedsCNI() {
				r.cniNeeds[cp] = append(r.cniNeeds[cp], name)
			}
		}
	}
	for _, name := range model.SortedKeys(t.Meshes) {
		r.meshes[name] = r.mesh(t.Meshes[name])
	}
	for _, cluster := range model.SortedKeys(t.Clusters) {
		for _, cp := range t.ControlPlanesOfCluster(cluster) {
			in := install(cp, cluster)
			r.installs[cluster] = append(r.installs[cluster], in)
			if m := r.meshes[cp.Mesh]; m != nil && m.Ambient && in.Kind != InstallExternal && !slices.Contains(r.ambientIn[cluster], cp.Mesh) {
				r.ambientIn[cluster] = append(r.ambientIn[cluster], cp.Mesh)
			}
		}
	}
	for _, name := range model.SortedKeys(t.Meshes) {
		r.discover(r.meshes[name])
	}
	for _, name := range model.SortedKeys(t.Tenants) {
		tn := t.Tenants[name]
		clusters := r.tenantClusters(tn)
		r.tenantCls[tn] = clusters
		byCluster := map[string]*Placement{}
		for _, cl := range clusters {
			byCluster[cl] = r.place(tn, cl)
			k := [2]string{tn.Mesh, cl}
			r.tenantsIn[k] = append(r.tenantsIn[k], tn)
		}
		r.placements[tn] = byCluster
		r.dataPlanes[tn] = r.dataPlane(tn)
	}
	return r
}

// dataPlane is tn's data plane: its own, else its mesh's.
func (r *Topology) dataPlane(tn *model.Tenant) DataPlane {
	if tn.DataPlane != "" {
		return DataPlane{Mode: tn.DataPlane, Origin: Origin{Path: model.Path{"tenants", tn.Name, "dataplane"}}}
	}
	m := r.meshes[tn.Mesh]
	if m == nil {
		return DataPlane{Mode: model.DataPlaneSidecar, Origin: Origin{Path: model.Path{"tenants", tn.Name, "mesh"}, Defaulted: true}}
	}
	return DataPlane{Mode: m.DataPlane, Origin: Origin{Path: m.DataPlaneOrigin.Path, Rule: "the tenant's mesh's data plane", Defaulted: m.DataPlaneOrigin.Defaulted}}
}

// TenantDataPlane is how tn's workloads join their mesh.
func (r *Topology) TenantDataPlane(tn *model.Tenant) DataPlane { return r.dataPlanes[tn] }

// AmbientMeshesIn are the ambient meshes with an install (istiod or a
// remote) in cluster, sorted: each would run the cluster's one ztunnel.
// The slice is shared: callers must not modify it.
func (r *Topology) AmbientMeshesIn(cluster string) []string { return r.ambientIn[cluster] }

// Profile is cp's configuration profile: an ambient mesh's control
// planes get the ambient profile, openshift-ambient on OpenShift.
func (r *Topology) Profile(cp *model.ControlPlane) Profile {
	if m := r.meshes[cp.Mesh]; m != nil && m.Ambient {
		name := "ambient"
		if cl := r.Model.Clusters[cp.Cluster]; cl != nil && cl.Platform == model.PlatformOpenShift {
			name = "openshift-ambient"
		}
		return Profile{Name: name, Origin: Origin{Path: m.DataPlaneOrigin.Path, Rule: "the mesh's data plane is ambient"}}
	}
	return Profile{Name: cp.Profile, Origin: Origin{Path: cp.Path().Child("profile"), Defaulted: cp.Profile == ""}}
}

// Hosting is the control plane that runs in cp's cluster and would inject
// an ingress gateway exposing it (an external control plane's hosting
// cluster): the first one there, by mesh then name, that is not external
// itself; nil when there is none.
func (r *Topology) Hosting(cp *model.ControlPlane) *model.ControlPlane { return r.hosts[cp.Cluster] }

// CNINeededBy are the clusters of cp's data plane that need the Istio CNI
// agent (OpenShift, or cni: true). istiod injects one way for every
// cluster it serves: when any needs the agent, its sidecars all expect it.
func (r *Topology) CNINeededBy(cp *model.ControlPlane) []string { return r.cniNeeds[cp] }

// Version is cp's Istio release.
func (r *Topology) Version(cp *model.ControlPlane) Version { return r.versions[cp] }

// Mesh is the facts about the mesh called name, or nil.
func (r *Topology) Mesh(name string) *Mesh { return r.meshes[name] }

// Installs are the control planes installed in cluster, ordered by mesh
// then name. The slice is shared: callers must not modify it.
func (r *Topology) Installs(cluster string) []*Install { return r.installs[cluster] }

// Discoveries are the clusters the control planes running in cluster
// watch, ordered by mesh, control plane, then the mesh's clusters. The
// slice is shared: callers must not modify it.
func (r *Topology) Discoveries(cluster string) []*Discovery { return r.discoveries[cluster] }

// DiscoveredFromElsewhere reports whether a control plane of mesh running
// in another cluster watches cluster.
func (r *Topology) DiscoveredFromElsewhere(mesh, cluster string) bool {
	return r.discoveredBy[[2]string{mesh, cluster}]
}

// TenantClusters are the clusters tn's namespaces are created in: those
// it lists, else those its control plane (or its mesh's control planes)
// serve; sorted, without duplicates. The slice is shared: callers must not
// modify it.
func (r *Topology) TenantClusters(tn *model.Tenant) []string { return r.tenantCls[tn] }

// TenantsIn are the tenants of mesh with namespaces in cluster, by name:
// the inverse of TenantClusters, kept so that checks per cluster and mesh
// need not scan every tenant of the fleet (quadratic at fleet scale). The
// slice is shared: callers must not modify it.
func (r *Topology) TenantsIn(mesh, cluster string) []*model.Tenant {
	return r.tenantsIn[[2]string{mesh, cluster}]
}

// Placement is where tn's namespaces land in cluster, one of its
// TenantClusters; nil for another cluster.
func (r *Topology) Placement(tn *model.Tenant, cluster string) *Placement {
	return r.placements[tn][cluster]
}

// sailOperator looks up the Sail operator release the topology names, or
// takes meshc's default.
func sailOperator(t *model.Topology) SailOperator {
	path := model.Path{"defaults", "sail", "operator"}
	named := t.Defaults.Sail.Operator
	if named == "" {
		op := release.DefaultSailOperator()
		return SailOperator{Text: op.Line.String(), Release: op, Origin: Origin{Path: path, Defaulted: true}}
	}
	op, err := release.LookupSailOperator(named)
	return SailOperator{Text: named, Release: op, Err: err, Origin: Origin{Path: path}}
}

// version parses cp's release and finds where it was written: on the
// control plane, on its mesh, or in the fleet's defaults.
func (r *Topology) version(cp *model.ControlPlane) Version {
	t := r.Model
	v := Version{Text: cp.Version}
	switch {
	case !t.Defaulted(cp.Path().Child("version")):
		v.Origin = Origin{Path: cp.Path().Child("version")}
	case !t.Defaulted(model.Path{"meshes", cp.Mesh, "version"}):
		v.Origin = Origin{Path: model.Path{"meshes", cp.Mesh, "version"}}
	case t.Defaults.Istio.Version != "":
		v.Origin = Origin{Path: model.Path{"defaults", "istio", "version"}}
	default:
		v.Origin = Origin{Path: model.Path{"meshes", cp.Mesh}, Defaulted: true}
	}
	v.Parsed, v.Err = release.Parse(cp.Version)
	if v.Err == nil {
		v.Release, v.Unknown = v.Parsed.InTable(cp.Version)
	}
	return v
}

func (r *Topology) mesh(m *model.Mesh) *Mesh {
	t := r.Model
	out := &Mesh{Mesh: m, Clusters: m.Clusters(), Primaries: m.PrimaryClusters()}
	for _, c := range out.Clusters {
		if cl := t.Clusters[c]; cl != nil {
			out.Networks = append(out.Networks, cl.Network)
		}
	}
	slices.Sort(out.Networks)
	out.Networks = slices.Compact(out.Networks)
	for _, cp := range m.ControlPlanes {
		out.External = out.External || cp.External
	}
	path := model.Path{"meshes", m.Name}
	out.MultiCluster = len(out.Clusters) > 1 || out.External
	out.MultiNetwork = len(out.Networks) > 1
	if m.EastWestGateways != nil {
		out.EastWest = *m.EastWestGateways
		out.EastWestOrigin = Origin{Path: path.Child("eastWestGateways")}
	} else {
		out.EastWest = out.MultiNetwork
		out.EastWestOrigin = Origin{Path: path, Rule: "the mesh spans networks", Defaulted: true}
	}
	out.Ambient = m.DataPlane == model.DataPlaneAmbient
	out.DataPlaneOrigin = Origin{Path: path.Child("dataplane"), Defaulted: t.Defaulted(path.Child("dataplane"))}
	return out
}

func install(cp *model.ControlPlane, cluster string) *Install {
	in := &Install{ControlPlane: cp, Cluster: cluster, Kind: InstallIstiod, Origin: Origin{Path: cp.Path().Child("cluster")}}
	switch {
	case cp.Cluster != cluster:
		in.Kind = InstallRemote
		in.Origin = Origin{Path: cp.Path().Child("remotes", slices.Index(cp.Remotes, cluster))}
	case cp.External:
		in.Kind = InstallExternal
	}
	return in
}

// discover finds who discovers whom in mesh m: each control plane watches
// every other cluster of its mesh (its remotes, and the clusters of the
// other primaries), with one remote secret per system namespace.
func (r *Topology) discover(m *Mesh) {
	if !m.MultiCluster {
		return // a single-cluster mesh discovers no other cluster
	}
	seen := map[[3]string]bool{}
	for _, cp := range m.ControlPlaneList() {
		for _, other := range m.Clusters {
			key := [3]string{cp.Cluster, cp.Namespace, other}
			if other == cp.Cluster || seen[key] {
				continue
			}
			seen[key] = true
			d := &Discovery{
				Mesh: m.Name, ControlPlane: cp, Cluster: cp.Cluster, Namespace: cp.Namespace, Discovered: other,
				Config: cp.External && other == cp.ConfigCluster,
			}
			d.Why, d.Origin = m.discoveryCause(cp.Cluster, cp.Namespace, other)
			r.discoveries[cp.Cluster] = append(r.discoveries[cp.Cluster], d)
			r.discoveredBy[[2]string{m.Name, other}] = true
		}
	}
}

// discoveryCause says why the control planes of the mesh in cluster's
// namespace discover cluster other: a remote of theirs, or a cluster where
// another control plane of the mesh runs or installs.
func (m *Mesh) discoveryCause(cluster, namespace, other string) (string, Origin) {
	cps := m.ControlPlaneList()
	for _, cp := range cps {
		if cp.Cluster == cluster && cp.Namespace == namespace {
			if i := slices.Index(cp.Remotes, other); i >= 0 {
				what := "a remote"
				if cp.External && cp.ConfigCluster == other {
					what = "the config cluster"
				}
				return fmt.Sprintf("%s is %s of control plane %s", other, what, cp.Name), Origin{Path: cp.Path().Child("remotes", i)}
			}
		}
	}
	for _, cp := range cps {
		if cp.Cluster == other && !cp.External {
			return fmt.Sprintf("%s runs control plane %s of the same mesh", other, cp.Name), Origin{Path: cp.Path().Child("cluster")}
		}
		if i := slices.Index(cp.Remotes, other); i >= 0 {
			return fmt.Sprintf("%s is a remote of control plane %s of the same mesh", other, cp.Name), Origin{Path: cp.Path().Child("remotes", i)}
		}
	}
	return other + " is in mesh " + m.Name, Origin{Path: model.Path{"meshes", m.Name}}
}

// tenantClusters are the clusters tn's namespaces are created in, from
// the mesh's facts, without a walk of the mesh's control planes per
// tenant: those it lists, else its control plane's data plane, else the
// mesh's.
func (r *Topology) tenantClusters(tn *model.Tenant) []string {
	if len(tn.Clusters) > 0 {
		return slices.Compact(slices.Sorted(slices.Values(tn.Clusters)))
	}
	m := r.meshes[tn.Mesh]
	switch {
	case m == nil:
		return nil
	case tn.ControlPlane == "":
		return m.Clusters
	}
	cp := m.ControlPlanes[tn.ControlPlane]
	if cp == nil {
		return nil
	}
	return slices.Compact(slices.Sorted(slices.Values(cp.DataPlaneClusters())))
}

// place picks the control plane serving tn in cluster and says why that
// one.
func (r *Topology) place(tn *model.Tenant, cluster string) *Placement {
	p := r.placeTenant(tn, cluster)
	cp := p.ControlPlane
	if cp == nil {
		p.Why = fmt.Sprintf("no single control plane of mesh %s serves cluster %s", tn.Mesh, cluster)
		return p
	}
	base := model.Path{"tenants", tn.Name}
	switch all := r.Model.ControlPlanesIn(tn.Mesh, cluster); {
	case tn.ControlPlane != "":
		p.Why = fmt.Sprintf("serves it in %s: the tenant names control plane %s", cluster, cp.Name)
		p.Origins = []Origin{{Path: base.Child("controlPlane")}}
	case tn.Revision != "" && len(all) > 1:
		rev, tag := revisionOrigin(cp, tn.Revision)
		what := "revision"
		if tag {
			what = "revision tag"
		}
		p.Why = fmt.Sprintf("serves it in %s: of the %d control planes of mesh %s there, it is the one whose %s is %s, the tenant's revision",
			cluster, len(all), tn.Mesh, what, tn.Revision)
		p.Origins = []Origin{{Path: base.Child("revision")}, rev}
	default:
		p.Why = fmt.Sprintf("serves it in %s: it is mesh %s's only control plane serving that cluster", cluster, tn.Mesh)
	}
	p.Origins = append(p.Origins, ServesOrigin(cp, cluster))
	var tag bool
	p.RevisionDefined, tag = revisionOrigin(cp, p.Revision)
	p.RevisionIs = "the revision"
	if tag {
		p.RevisionIs = "a revision tag"
	}
	return p
}

// placeTenant picks the control plane serving tenant tn in cluster, with
// the candidates when the choice is not unique (none, or several), for the
// checks to report.
func (r *Topology) placeTenant(tn *model.Tenant, cluster string) *Placement {
	candidates := r.Model.ControlPlanesIn(tn.Mesh, cluster)
	if tn.ControlPlane != "" {
		candidates = slices.DeleteFunc(candidates, func(cp *model.ControlPlane) bool { return cp.Name != tn.ControlPlane })
	} else if tn.Revision != "" && len(candidates) > 1 {
		// A revision or tag names the control plane when the mesh runs
		// several in the cluster (stable and canary).
		candidates = slices.DeleteFunc(candidates, func(cp *model.ControlPlane) bool { return !cp.Serves(tn.Revision) })
	}
	p := &Placement{Cluster: cluster, Candidates: candidates}
	if len(candidates) == 1 {
		p.ControlPlane, p.Revision = candidates[0], cmp.Or(tn.Revision, candidates[0].Revision)
	}
	return p
}

// ServesOrigin is the line that makes cp serve cluster: where it runs, or
// its remotes entry.
func ServesOrigin(cp *model.ControlPlane, cluster string) Origin {
	if i := slices.Index(cp.Remotes, cluster); i >= 0 {
		return Origin{Path: cp.Path().Child("remotes", i)}
	}
	return Origin{Path: cp.Path().Child("cluster")}
}

// revisionOrigin is where rev is defined on cp: its revision, or one of
// its tags (tag is set then).
func revisionOrigin(cp *model.ControlPlane, rev string) (o Origin, tag bool) {
	if i := slices.Index(cp.Tags, rev); i >= 0 && rev != cp.Revision {
		return Origin{Path: cp.Path().Child("tags", i)}, true
	}
	return Origin{Path: cp.Path().Child("revision")}, false
}
