package explain

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
	"meshc.dev/meshc/compiler/render"
	"meshc.dev/meshc/compiler/resolve"
)

// NamespaceAnswer explains one namespace meshc creates in a cluster.
type NamespaceAnswer struct {
	Cluster string `json:"cluster"`
	Name    string `json:"name"`
	// Role is system, tenant or cni.
	Role string `json:"role"`
	Mesh string `json:"mesh,omitempty"`
	// Tenant and ControlPlane are set for a tenant's namespace placed in
	// this cluster: the control plane serving it. Revision is the
	// istio.io/rev that enrols it in a sidecar data plane; DataPlaneMode
	// is set instead (ambient) when istio.io/dataplane-mode enrols it.
	Tenant        string `json:"tenant,omitempty"`
	ControlPlane  string `json:"controlPlane,omitempty"`
	Revision      string `json:"revision,omitempty"`
	DataPlaneMode string `json:"dataPlaneMode,omitempty"`
	File          string `json:"file"`
	Layer         string `json:"layer"`
	Wave          int    `json:"wave"`
	// Why it exists: the control planes, tenant or CNI agent behind it.
	Why         []Fact       `json:"why"`
	Labels      []Label      `json:"labels"`
	Annotations []Label      `json:"annotations"`
	Policies    []Fact       `json:"policies,omitempty"`
	Objects     []ObjectLink `json:"objects,omitempty"`
}

// Label is a label or annotation and why it is there.
type Label struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Why     string `json:"why"`
	Sources []Ref  `json:"sources,omitempty"`
}

// ObjectLink names an object and its file.
type ObjectLink struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	File string `json:"file"`
}

func (x *explainer) namespace(a *Answer, cluster, name string) (*Answer, error) {
	pc := x.plans[cluster]
	if pc == nil || namespaceIn(pc, name) == nil {
		reason := fmt.Sprintf("meshc creates no namespace %q in cluster %s", name, cluster)
		if pc == nil {
			reason = fmt.Sprintf("topology %s has no cluster %q", x.topo.Metadata.Name, cluster)
		}
		_, namespaces, _ := x.names()
		return nil, x.notFound(a.What, reason, a.What, namespaces)
	}
	ns := namespaceIn(pc, name)
	n := &NamespaceAnswer{Cluster: cluster, Name: name, Role: string(ns.Role), Mesh: ns.Mesh, Tenant: ns.Tenant,
		Layer: emit.LayerNamespaces.Dir, Wave: emit.LayerNamespaces.Wave, Why: x.namespaceWhy(pc, ns)}
	if pl := ns.Placement; pl != nil && pl.ControlPlane != nil {
		n.ControlPlane, n.Revision = pl.ControlPlane.Name, pl.Revision
		if ns.Ambient {
			n.Revision, n.DataPlaneMode = "", ns.Labels[plan.LabelDataPlaneMode]
		}
	}
	var md map[string]any
	for _, o := range x.objects[cluster] {
		switch {
		case o.Kind == "Namespace" && o.Name == name:
			// The object as written, with render's labels.
			md, n.File = render.Labelled(o.Object, x.in.Output.Topology)["metadata"].(map[string]any), o.File
		case o.Namespace == name:
			n.Objects = append(n.Objects, ObjectLink{Kind: o.Kind, Name: o.Name, File: o.File})
		}
	}
	slices.SortFunc(n.Objects, func(a, b ObjectLink) int { return strings.Compare(a.File, b.File) })
	each := func(m any, why func(pc *plan.Cluster, ns *plan.Namespace, k, v string) Label) (out []Label) {
		kv, _ := m.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(kv)) {
			out = append(out, why(pc, ns, k, fmt.Sprint(kv[k])))
		}
		return out
	}
	n.Labels, n.Annotations = each(md["labels"], x.namespaceLabel), each(md["annotations"], x.namespaceAnnotation)
	for _, pa := range pc.PeerAuths {
		if pa.Namespace == name {
			n.Policies = append(n.Policies, x.policyFact(pc, pa))
		}
	}
	n.Policies = append(n.Policies, x.policiesInEffect(ns)...)
	a.Kind, a.Namespace = KindNamespace, n
	return a, nil
}

// systemNamespaceWhy says, per install kind, why a control plane's
// namespace is in a cluster (of control plane %[1]s, mesh %[2]s, istiod
// in cluster %[3]s).
var systemNamespaceWhy = map[resolve.InstallKind]string{
	resolve.InstallIstiod:   "system namespace of control plane %[1]s of mesh %[2]s: istiod runs here, and it is the mesh's root namespace in this cluster",
	resolve.InstallRemote:   "system namespace of control plane %[1]s of mesh %[2]s, installed here in the remote profile: istiod runs in cluster %[3]s",
	resolve.InstallExternal: "system namespace of the external istiod of control plane %[1]s (mesh %[2]s), hosted here",
}

// namespaceWhy says why a namespace exists.
func (x *explainer) namespaceWhy(pc *plan.Cluster, ns *plan.Namespace) []Fact {
	var out []Fact
	switch ns.Role {
	case plan.RoleSystem:
		for _, cp := range ns.ControlPlanes {
			f := Fact{Subject: "control plane " + cp.Name, Sources: x.refs(cp.Path().Child("namespace")),
				Why: fmt.Sprintf(systemNamespaceWhy[cp.Install], cp.Name, cp.Mesh, cp.Cluster)}
			if cp.Install == resolve.InstallRemote {
				f.Sources = append(f.Sources, x.ref(cp.InstallOrigin.Path))
			}
			if f.Sources[0].Default {
				f.Why += " (namespace defaults to " + model.DefaultNamespace + ")"
			}
			out = append(out, f)
		}
	case plan.RoleCNI:
		f := x.cniFact(pc)
		return []Fact{{Subject: "Istio CNI agent", Why: "namespace of the Istio CNI node agent: " + f.Why, Sources: f.Sources}}
	case plan.RoleZtunnel:
		f := x.ztunnelFact(pc)
		f.Why = "namespace of ztunnel, which istiod trusts to ask for its workloads' certificates (trustedZtunnelNamespace): " + f.Why
		return []Fact{f}
	case plan.RoleTenant:
		tn := x.topo.Tenants[ns.Tenant]
		f := Fact{Subject: "tenant " + tn.Name, Sources: x.refs(ns.Source),
			Why: fmt.Sprintf("tenant %s lists it (namespaces[%d]) to join mesh %s, in every cluster its control plane serves", tn.Name, ns.Index, tn.Mesh)}
		switch j := slices.Index(tn.Clusters, pc.Name); {
		case ns.Placement == nil:
			// Created only to hold the tenant's mTLS override, read by
			// istiod here for the tenant's namespaces in its remotes.
			f.Why = fmt.Sprintf("tenant %s lists it (namespaces[%d]) in cluster(s) %s, whose istiod reads policy in %s: meshc creates the same-named namespace here to hold the tenant's mTLS override",
				tn.Name, ns.Index, joinNames(ns.OverrideFor), pc.Name)
			return []Fact{{Subject: f.Subject, Why: f.Why, Sources: x.refs(ns.Source, model.Path{"tenants", tn.Name, "mtls"})}}
		case j >= 0:
			f.Why = fmt.Sprintf("tenant %s lists it (namespaces[%d]) to join mesh %s, in the clusters it lists", tn.Name, ns.Index, tn.Mesh)
			f.Sources = x.refs(ns.Source, model.Path{"tenants", tn.Name, "clusters", j})
		}
		out = append(out, f, x.placementFact(ns.Placement))
	}
	return out
}

// placementFact says which control plane serves a tenant in a cluster, and
// why that one (resolve's reasons).
func (x *explainer) placementFact(pl *resolve.Placement) Fact {
	if pl.ControlPlane == nil {
		return Fact{Subject: "no control plane", Why: pl.Why}
	}
	f := Fact{Subject: fmt.Sprintf("control plane %s (revision %s)", pl.ControlPlane.Name, pl.ControlPlane.Revision), Why: pl.Why}
	for _, o := range pl.Origins {
		f.Sources = append(f.Sources, x.ref(o.Path))
	}
	return f
}

// namespaceLabel says why a namespace carries label k=v: the plan's reason
// for it (or render's, for the labels on every object).
func (x *explainer) namespaceLabel(pc *plan.Cluster, ns *plan.Namespace, k, v string) Label {
	l := Label{Key: k, Value: v, Why: "not a label meshc explains"}
	src, ok := ns.LabelSources[k]
	switch {
	case k == render.LabelManagedBy:
		l.Why = "meshc labels every object it writes"
	case k == render.LabelTopology:
		l.Why, l.Sources = "the topology's name, on every object meshc writes", x.refs(model.Path{"metadata", "name"})
	case !ok:
	case src.Rule == plan.LabelForNetwork:
		l.Why = fmt.Sprintf("the network of cluster %s, on its system namespaces", pc.Name)
		l.Sources = x.refs(model.Path{"clusters", pc.Name, "network"})
	case src.Rule == plan.LabelForRevision:
		pl, tn := ns.Placement, x.topo.Tenants[src.Tenant]
		cp, r := pl.ControlPlane, x.ref(pl.RevisionDefined.Path)
		l.Why = fmt.Sprintf("the revision of control plane %s (mesh %s), which serves tenant %s in %s; the tenant names no revision",
			cp.Name, cp.Mesh, tn.Name, pc.Name)
		l.Sources = []Ref{r}
		if tn.Revision != "" {
			l.Why = fmt.Sprintf("tenant %s asks for revision %s: %s of control plane %s (mesh %s), which serves the tenant in %s",
				tn.Name, v, pl.RevisionIs, cp.Name, cp.Mesh, pc.Name)
			l.Sources = []Ref{x.ref(model.Path{"tenants", tn.Name, "revision"}), r}
		} else if r.Default {
			l.Why += " (the revision defaults to the control plane's name)"
		}
		l.Sources = append(l.Sources, x.ref(pl.Origins[len(pl.Origins)-1].Path)) // the line that makes it serve the cluster
	case src.Rule == plan.LabelForDiscovery:
		m := src.Mesh
		l.Why = fmt.Sprintf("discovery label of mesh %s: its control planes' discovery selectors pick the namespaces carrying it", m)
		l.Sources = x.refs(model.Path{"meshes", m, "discoveryLabel", k})
		if dr := x.ref(model.Path{"meshes", m, "discoveryLabel"}); dr.Default {
			l.Why += fmt.Sprintf(" (the mesh sets no discoveryLabel: it defaults to %s: %s)", model.DefaultDiscoveryKey, m)
			l.Sources = []Ref{dr}
		}
		if tn := x.topo.Tenants[src.Tenant]; tn != nil && tn.Labels[k] != "" && tn.Labels[k] != v {
			l.Why += fmt.Sprintf("; it wins over tenant %s's label %s=%s", tn.Name, k, tn.Labels[k])
		}
	case src.Rule == plan.LabelForTenant:
		l.Why, l.Sources = "an extra label of tenant "+src.Tenant, x.refs(model.Path{"tenants", src.Tenant, "labels", k})
	case src.Rule == plan.LabelForDataPlane:
		dp := x.facts.TenantDataPlane(x.topo.Tenants[src.Tenant])
		l.Why = fmt.Sprintf("tenant %s's data plane is ambient: ztunnel, not an injected sidecar, carries its pods' traffic (so the namespace carries no istio.io/rev)", src.Tenant)
		if dp.Origin.Rule != "" {
			l.Why += "; the tenant names no dataplane: it is its mesh's"
		}
		l.Sources = x.refs(dp.Origin.Path)
	case src.Rule == plan.LabelForWaypoint:
		l.Why = fmt.Sprintf("tenant %s asks for a waypoint per namespace: its services' traffic goes through the waypoint %s in it", src.Tenant, v)
		l.Sources = x.refs(model.Path{"tenants", src.Tenant, "waypoint"})
	}
	return l
}

// namespaceAnnotation says why a namespace carries annotation k=v.
func (x *explainer) namespaceAnnotation(pc *plan.Cluster, ns *plan.Namespace, k, v string) Label {
	l := Label{Key: k, Value: v, Why: "not an annotation meshc explains"}
	switch k {
	case plan.AnnotationSource:
		l.Why, l.Sources = "the topology path that put the namespace here", x.refs(ns.Source)
	case emit.AnnotationSyncWave:
		l.Why = "Argo CD sync wave of the namespaces layer: namespaces and their prerequisites are applied first"
	case plan.AnnotationControlPlaneClusters:
		for _, cp := range ns.ControlPlanes {
			if cp.Remote {
				leader, field := "the cluster "+v+" it runs in", "cluster"
				if cp.External {
					leader, field = "the external control plane's config cluster "+v, "configCluster"
				}
				l.Why = fmt.Sprintf("remote install of control plane %s (mesh %s): names the cluster ID of the istiod leading this remote, %s", cp.Name, cp.Mesh, leader)
				l.Sources = x.refs(cp.Path().Child(field), cp.InstallOrigin.Path)
				break
			}
		}
	}
	return l
}

// policiesInEffect explains the PeerAuthentications the plan says apply
// to a tenant's namespace from where istiod reads policy for it.
func (x *explainer) policiesInEffect(ns *plan.Namespace) []Fact {
	if ns.Role != plan.RoleTenant || ns.Placement == nil || ns.Placement.ControlPlane == nil {
		return nil
	}
	tn, cp, mesh := x.topo.Tenants[ns.Tenant], ns.Placement.ControlPlane, x.topo.Meshes[ns.Mesh]
	var out []Fact
	for _, pa := range ns.Policies {
		f := Fact{Subject: fmt.Sprintf("PeerAuthentication %s/%s in cluster %s (%s)", pa.Namespace, pa.Name, pa.Cluster, pa.Mode), Sources: x.refs(pa.Source),
			Why: fmt.Sprintf("applies here: tenant %s's override of its mesh's mTLS, placed in the same-named namespace of cluster %s, where istiod of control plane %s reads policy",
				tn.Name, pa.Cluster, cp.Name)}
		if pa.Tenant == "" {
			f.Why = fmt.Sprintf("applies here: mesh %s's mesh-wide mTLS, in the root namespace of control plane %s, which serves this namespace and reads policy in %s",
				mesh.Name, cp.Name, pa.Cluster)
			if tn.MTLS != "" {
				f.Why += fmt.Sprintf("; tenant %s's own PeerAuthentication overrides it", tn.Name)
			}
		}
		out = append(out, f)
	}
	if mesh.MTLS == model.MTLSNone {
		out = append(out, Fact{Subject: "no mesh-wide PeerAuthentication", Why: fmt.Sprintf("mesh %s sets mtls: NONE", mesh.Name),
			Sources: x.refs(model.Path{"meshes", mesh.Name, "mtls"})})
	}
	return out
}
