package explain

import (
	"fmt"
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
	// Tenant, ControlPlane and Revision are set for a tenant's namespace
	// placed in this cluster: the control plane serving it and its
	// istio.io/rev.
	Tenant       string `json:"tenant,omitempty"`
	ControlPlane string `json:"controlPlane,omitempty"`
	Revision     string `json:"revision,omitempty"`
	File         string `json:"file"`
	Layer        string `json:"layer"`
	Wave         int    `json:"wave"`
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
	var ns *plan.Namespace
	if pc != nil {
		for _, n := range pc.Namespaces {
			if n.Name == name {
				ns = n
			}
		}
	}
	if ns == nil {
		var cands []string
		for _, c := range model.SortedKeys(x.plans) {
			for _, n := range x.plans[c].Namespaces {
				cands = append(cands, "namespace/"+c+"/"+n.Name)
			}
		}
		reason := fmt.Sprintf("meshc creates no namespace %q in cluster %s", name, cluster)
		if pc == nil {
			reason = fmt.Sprintf("topology %s has no cluster %q", x.topo.Metadata.Name, cluster)
		}
		return nil, &NotFoundError{What: a.What, Reason: reason, Suggestions: x.suggest(a.What, cands)}
	}
	n := &NamespaceAnswer{
		Cluster: cluster, Name: name, Role: string(ns.Role), Mesh: ns.Mesh,
		Layer: emit.LayerNamespaces.Dir, Wave: emit.LayerNamespaces.Wave,
	}
	n.Why = x.namespaceWhy(pc, ns)
	if tn := x.topo.Tenants[x.tenantOf(ns)]; tn != nil {
		n.Tenant = tn.Name
		if pl := ns.Placement; pl != nil && pl.ControlPlane != nil {
			n.ControlPlane, n.Revision = pl.ControlPlane.Name, pl.Revision
		}
	}
	var obj emit.Object
	for _, o := range x.objects[cluster] {
		switch {
		case o.Kind == "Namespace" && o.Name == name:
			obj, n.File = o.Object, o.File
		case o.Namespace == name:
			n.Objects = append(n.Objects, ObjectLink{Kind: o.Kind, Name: o.Name, File: o.File})
		}
	}
	slices.SortFunc(n.Objects, func(a, b ObjectLink) int { return strings.Compare(a.File, b.File) })
	md, _ := obj["metadata"].(map[string]any)
	labels, _ := md["labels"].(map[string]any)
	for _, k := range sortedLabels(labels) {
		v, _ := labels[k].(string)
		n.Labels = append(n.Labels, x.namespaceLabel(pc, ns, k, v))
	}
	annotations, _ := md["annotations"].(map[string]any)
	for _, k := range sortedLabels(annotations) {
		v, _ := annotations[k].(string)
		n.Annotations = append(n.Annotations, x.namespaceAnnotation(pc, ns, k, v))
	}
	for _, pa := range pc.PeerAuths {
		if pa.Namespace == name {
			n.Policies = append(n.Policies, x.policyFact(pc, pa))
		}
	}
	n.Policies = append(n.Policies, x.policiesInEffect(pc, ns)...)
	a.Kind, a.Namespace = KindNamespace, n
	return a, nil
}

// namespaceWhy says why a namespace exists.
func (x *explainer) namespaceWhy(pc *plan.Cluster, ns *plan.Namespace) []Fact {
	var out []Fact
	switch ns.Role {
	case plan.RoleSystem:
		for _, cp := range pc.ControlPlanes {
			if cp.Namespace != ns.Name {
				continue
			}
			f := Fact{Subject: "control plane " + cp.Name, Sources: x.refs(cp.Path().Child("namespace"))}
			switch cp.Install {
			case resolve.InstallRemote:
				f.Why = fmt.Sprintf("system namespace of control plane %s of mesh %s, installed here in the remote profile: istiod runs in cluster %s", cp.Name, cp.Mesh, cp.Cluster)
				f.Sources = append(f.Sources, x.ref(cp.InstallOrigin.Path))
			case resolve.InstallExternal:
				f.Why = fmt.Sprintf("system namespace of the external istiod of control plane %s (mesh %s), hosted here", cp.Name, cp.Mesh)
			default:
				f.Why = fmt.Sprintf("system namespace of control plane %s of mesh %s: istiod runs here, and it is the mesh's root namespace in this cluster", cp.Name, cp.Mesh)
			}
			if f.Sources[0].Default {
				f.Why += " (namespace defaults to " + model.DefaultNamespace + ")"
			}
			out = append(out, f)
		}
	case plan.RoleCNI:
		f := x.cniFact(pc)
		f.Subject = "Istio CNI agent"
		f.Why = "namespace of the Istio CNI node agent: " + f.Why
		out = append(out, f)
	case plan.RoleZtunnel:
		f := x.ztunnelFact(pc)
		f.Why = "namespace of ztunnel, which istiod trusts to ask for its workloads' certificates (trustedZtunnelNamespace): " + f.Why
		out = append(out, f)
	case plan.RoleTenant:
		tn := x.topo.Tenants[x.tenantOf(ns)]
		if tn == nil {
			break
		}
		i, _ := ns.Source[len(ns.Source)-1].(int)
		if ns.Placement == nil {
			// Created only to hold the tenant's mTLS override, read by
			// istiod here for the tenant's namespaces in its remotes.
			served := ns.OverrideFor
			out = append(out, Fact{
				Subject: "tenant " + tn.Name,
				Why: fmt.Sprintf("tenant %s lists it (namespaces[%d]) in cluster(s) %s, whose istiod reads policy in %s: meshc creates the same-named namespace here to hold the tenant's mTLS override",
					tn.Name, i, joinNames(served), pc.Name),
				Sources: x.refs(ns.Source, model.Path{"tenants", tn.Name, "mtls"}),
			})
			break
		}
		f := Fact{Subject: "tenant " + tn.Name, Sources: x.refs(ns.Source)}
		if j := slices.Index(tn.Clusters, pc.Name); j >= 0 {
			f.Why = fmt.Sprintf("tenant %s lists it (namespaces[%d]) to join mesh %s, in the clusters it lists", tn.Name, i, tn.Mesh)
			f.Sources = append(f.Sources, x.ref(model.Path{"tenants", tn.Name, "clusters", j}))
		} else {
			f.Why = fmt.Sprintf("tenant %s lists it (namespaces[%d]) to join mesh %s, in every cluster its control plane serves", tn.Name, i, tn.Mesh)
		}
		out = append(out, f, x.placementFact(ns.Placement))
	}
	return out
}

// placementFact says which control plane serves a tenant in a cluster, and
// why that one (resolve's reasons).
func (x *explainer) placementFact(pl *resolve.Placement) Fact {
	cp := pl.ControlPlane
	if cp == nil {
		return Fact{Subject: "no control plane", Why: pl.Why}
	}
	f := Fact{Subject: fmt.Sprintf("control plane %s (revision %s)", cp.Name, cp.Revision), Why: pl.Why}
	for _, o := range pl.Origins {
		f.Sources = append(f.Sources, x.ref(o.Path))
	}
	return f
}

// namespaceLabel says why a namespace carries label k=v: the plan's reason
// for it (or render's, for the labels on every object).
func (x *explainer) namespaceLabel(pc *plan.Cluster, ns *plan.Namespace, k, v string) Label {
	l := Label{Key: k, Value: v}
	src, ok := ns.LabelSources[k]
	switch {
	case k == render.LabelManagedBy:
		l.Why = "meshc labels every object it writes"
	case k == render.LabelTopology:
		l.Why = "the topology's name, on every object meshc writes"
		l.Sources = x.refs(model.Path{"metadata", "name"})
	case !ok:
		l.Why = "not a label meshc explains"
	case src.Rule == plan.LabelForNetwork:
		l.Why = fmt.Sprintf("the network of cluster %s, on its system namespaces", pc.Name)
		l.Sources = x.refs(model.Path{"clusters", pc.Name, "network"})
	case src.Rule == plan.LabelForRevision:
		pl, tn := ns.Placement, x.topo.Tenants[src.Tenant]
		cp, r := pl.ControlPlane, x.ref(pl.RevisionDefined.Path)
		if tn.Revision != "" {
			l.Why = fmt.Sprintf("tenant %s asks for revision %s: %s of control plane %s (mesh %s), which serves the tenant in %s",
				tn.Name, v, pl.RevisionIs, cp.Name, cp.Mesh, pc.Name)
			l.Sources = []Ref{x.ref(model.Path{"tenants", tn.Name, "revision"}), r}
		} else {
			l.Why = fmt.Sprintf("the revision of control plane %s (mesh %s), which serves tenant %s in %s; the tenant names no revision",
				cp.Name, cp.Mesh, tn.Name, pc.Name)
			if r.Default {
				l.Why += " (the revision defaults to the control plane's name)"
			}
			l.Sources = []Ref{r}
		}
		l.Sources = append(l.Sources, x.ref(pl.Origins[len(pl.Origins)-1].Path)) // the line that makes it serve the cluster
	case src.Rule == plan.LabelForDiscovery:
		m := src.Mesh
		r := x.ref(model.Path{"meshes", m, "discoveryLabel", k})
		l.Why = fmt.Sprintf("discovery label of mesh %s: its control planes' discovery selectors pick the namespaces carrying it", m)
		if dr := x.ref(model.Path{"meshes", m, "discoveryLabel"}); dr.Default {
			l.Why += fmt.Sprintf(" (the mesh sets no discoveryLabel: it defaults to %s: %s)", model.DefaultDiscoveryKey, m)
			r = dr
		}
		if tn := x.topo.Tenants[src.Tenant]; tn != nil && tn.Labels[k] != "" && tn.Labels[k] != v {
			l.Why += fmt.Sprintf("; it wins over tenant %s's label %s=%s", tn.Name, k, tn.Labels[k])
		}
		l.Sources = []Ref{r}
	case src.Rule == plan.LabelForTenant:
		l.Why = fmt.Sprintf("an extra label of tenant %s", src.Tenant)
		l.Sources = x.refs(model.Path{"tenants", src.Tenant, "labels", k})
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
	l := Label{Key: k, Value: v}
	switch k {
	case plan.AnnotationSource:
		l.Why = "the topology path that put the namespace here"
		l.Sources = x.refs(ns.Source)
	case emit.AnnotationSyncWave:
		l.Why = "Argo CD sync wave of the namespaces layer: namespaces and their prerequisites are applied first"
	case plan.AnnotationControlPlaneClusters:
		for _, cp := range pc.ControlPlanes {
			if !cp.Remote || cp.Namespace != ns.Name {
				continue
			}
			if cp.External {
				l.Why = fmt.Sprintf("remote install of control plane %s (mesh %s): names the cluster ID of the istiod leading this remote, the external control plane's config cluster %s", cp.Name, cp.Mesh, v)
				l.Sources = x.refs(cp.Path().Child("configCluster"), cp.Path().Child("remotes", slices.Index(cp.Remotes, pc.Name)))
			} else {
				l.Why = fmt.Sprintf("remote install of control plane %s (mesh %s): names the cluster ID of the istiod leading this remote, the cluster %s it runs in", cp.Name, cp.Mesh, v)
				l.Sources = x.refs(cp.Path().Child("cluster"), cp.Path().Child("remotes", slices.Index(cp.Remotes, pc.Name)))
			}
			break
		}
	}
	if l.Why == "" {
		l.Why = "not an annotation meshc explains"
	}
	return l
}

// policiesInEffect lists the PeerAuthentications that apply to a tenant's
// namespace from elsewhere: its mesh's mesh-wide policy in the root
// namespace, and its own override when istiod reads policy in another
// cluster.
func (x *explainer) policiesInEffect(pc *plan.Cluster, ns *plan.Namespace) []Fact {
	tn := x.topo.Tenants[x.tenantOf(ns)]
	if ns.Role != plan.RoleTenant || tn == nil || ns.Placement == nil || ns.Placement.ControlPlane == nil {
		return nil
	}
	cp := ns.Placement.ControlPlane
	home := x.plans[cp.ClusterID()]
	mesh := x.topo.Meshes[tn.Mesh]
	var out []Fact
	if home == nil {
		return nil
	}
	for _, pa := range home.PeerAuths {
		switch {
		case pa.Namespace == cp.Namespace && pa.Name == mesh.Name+"-peerauth" && len(pa.Source) > 0 && pa.Source[0] == "meshes":
			f := Fact{
				Subject: fmt.Sprintf("PeerAuthentication %s/%s in cluster %s (%s)", pa.Namespace, pa.Name, home.Name, pa.Mode),
				Why: fmt.Sprintf("applies here: mesh %s's mesh-wide mTLS, in the root namespace of control plane %s, which serves this namespace and reads policy in %s",
					mesh.Name, cp.Name, home.Name),
				Sources: x.refs(pa.Source),
			}
			if tn.MTLS != "" {
				f.Why += fmt.Sprintf("; tenant %s's own PeerAuthentication overrides it", tn.Name)
			}
			out = append(out, f)
		case home != pc && pa.Namespace == ns.Name && pa.Name == tn.Name+"-peerauth":
			out = append(out, Fact{
				Subject: fmt.Sprintf("PeerAuthentication %s/%s in cluster %s (%s)", pa.Namespace, pa.Name, home.Name, pa.Mode),
				Why: fmt.Sprintf("applies here: tenant %s's override of its mesh's mTLS, placed in the same-named namespace of cluster %s, where istiod of control plane %s reads policy",
					tn.Name, home.Name, cp.Name),
				Sources: x.refs(pa.Source),
			})
		}
	}
	if mesh.MTLS == model.MTLSNone {
		out = append(out, Fact{Subject: "no mesh-wide PeerAuthentication", Why: fmt.Sprintf("mesh %s sets mtls: NONE", mesh.Name),
			Sources: x.refs(model.Path{"meshes", mesh.Name, "mtls"})})
	}
	return out
}
