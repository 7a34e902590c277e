package check

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/resolve"
)

// cluster checks the control planes sharing one cluster: they must not
// claim one another's namespaces, revisions or the default revision.
func (c *checker) cluster(name string) {
	// In file order, so that of two conflicting claims the later one
	// written is blamed.
	cps := c.inFileOrder(c.t.ControlPlanesOfCluster(name))
	// An external istiod watches no namespace of the cluster hosting it, so
	// it cannot overlap discovery there; its revision is still the name of
	// its install (the Sail Istio CR, cluster-scoped), so it is claimed.
	hosted := slices.DeleteFunc(slices.Clone(cps), func(cp *model.ControlPlane) bool {
		return cp.External && cp.Cluster == name
	})

	// Revision and tag names are cluster-wide: each becomes an injection
	// webhook and an istio.io/rev value.
	type claim struct {
		cp   *model.ControlPlane
		path model.Path
	}
	revisions := map[string]claim{}
	var defaults []claim
	claimRevision := func(rev string, cp *model.ControlPlane, path model.Path) {
		if rev == model.DefaultRevision {
			// A second default is reported once, as MultipleDefaults.
			defaults = append(defaults, claim{cp, path})
			return
		}
		if first, ok := revisions[rev]; ok {
			d := c.report(diag.DuplicateRevision, path,
				"give each control plane in a cluster its own revision and tags",
				"revision or tag %q is already used by control plane %q of mesh %q in cluster %q", rev, first.cp.Name, first.cp.Mesh, name)
			c.related(d, first.path)
			return
		}
		revisions[rev] = claim{cp, path}
	}
	for _, cp := range cps {
		claimRevision(cp.Revision, cp, cp.Path().Child("revision"))
		for i, tag := range cp.Tags {
			claimRevision(tag, cp, cp.Path().Child("tags", i))
		}
	}
	if len(defaults) > 1 {
		for _, d := range defaults[1:] {
			diagnostic := c.report(diag.MultipleDefaults, d.path,
				"only one control plane per cluster may be the default revision or carry the default tag",
				"cluster %q has more than one default revision", name)
			c.related(diagnostic, defaults[0].path)
		}
	}

	// A system namespace belongs to one mesh: istiod's root namespace holds
	// mesh-wide config, which a second mesh would pick up.
	systemNS := map[string]*model.ControlPlane{}
	for _, cp := range cps {
		first, ok := systemNS[cp.Namespace]
		if !ok {
			systemNS[cp.Namespace] = cp
			continue
		}
		if first.Mesh != cp.Mesh {
			d := c.report(diag.SharedSystemNamespace, cp.Path().Child("namespace"),
				"give each mesh's control planes their own namespace, e.g. istio-"+cp.Mesh,
				"namespace %q in cluster %q already hosts control plane %q of mesh %q", cp.Namespace, name, first.Name, first.Mesh)
			c.related(d, first.Path().Child("namespace"))
		}
	}

	// Control planes of different meshes must see disjoint namespaces.
	for i, a := range hosted {
		for _, b := range hosted[i+1:] {
			if a.Mesh == b.Mesh {
				continue
			}
			ma, mb := c.t.Meshes[a.Mesh], c.t.Meshes[b.Mesh]
			switch {
			case len(ma.DiscoveryLabel) == 0 || len(mb.DiscoveryLabel) == 0:
				unscoped, other := a, b
				if len(ma.DiscoveryLabel) != 0 {
					unscoped, other = b, a
				}
				d := c.report(diag.UnscopedControlPlane, model.Path{"meshes", unscoped.Mesh, "discoveryLabel"},
					"give mesh "+unscoped.Mesh+" a discoveryLabel (remove the empty map to get the default istio-discovery: "+unscoped.Mesh+")",
					"control plane %q of mesh %q watches every namespace of cluster %q, which also runs control plane %q of mesh %q",
					unscoped.Name, unscoped.Mesh, name, other.Name, other.Mesh)
				c.related(d, other.Path())
			case c.labelledOverlap(name, ma, mb) || c.labelledOverlap(name, mb, ma):
				// A namespace meshc itself labels for one mesh is selected
				// by the other's discovery selector too.
				d := c.report(diag.DiscoveryOverlap, model.Path{"meshes", b.Mesh, "discoveryLabel"},
					"use the same label key with different values in both meshes, e.g. istio-discovery: "+b.Mesh,
					"discovery selector %s of mesh %q can match the same namespaces as %s of mesh %q in cluster %q",
					renderLabels(mb.DiscoveryLabel), b.Mesh, renderLabels(ma.DiscoveryLabel), a.Mesh, name)
				c.related(d, model.Path{"meshes", a.Mesh, "discoveryLabel"})
			case selectorsOverlap(ma.DiscoveryLabel, mb.DiscoveryLabel):
				// meshc labels each namespace for one mesh only, so only a
				// namespace someone labels by hand with both can match both.
				d := c.warn(diag.HandLabelOverlap, model.Path{"meshes", b.Mesh, "discoveryLabel"},
					"never label a namespace with both, or use the same label key with different values in both meshes, e.g. istio-discovery: "+b.Mesh,
					"discovery selector %s of mesh %q and %s of mesh %q in cluster %q use different keys: a namespace labelled by hand with both would join both meshes",
					renderLabels(mb.DiscoveryLabel), b.Mesh, renderLabels(ma.DiscoveryLabel), a.Mesh, name)
				c.related(d, model.Path{"meshes", a.Mesh, "discoveryLabel"})
			}
		}
	}
}

// labelledOverlap reports whether a namespace meshc labels for mesh a in
// cluster (a system or tenant namespace, with its discovery, network and
// tenant labels) is selected by mesh b's discovery selector.
func (c *checker) labelledOverlap(cluster string, a, b *model.Mesh) bool {
	base := maps.Clone(a.DiscoveryLabel)
	if base == nil {
		base = map[string]string{}
	}
	sets := []map[string]string{base}
	if cl := c.t.Clusters[cluster]; cl != nil && cl.Network != "" {
		system := maps.Clone(base)
		system["topology.istio.io/network"] = cl.Network
		sets = append(sets, system)
	}
	for _, tn := range c.r.TenantsIn(a.Name, cluster) {
		labels := maps.Clone(tn.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		maps.Copy(labels, a.DiscoveryLabel)
		sets = append(sets, labels)
	}
	for _, labels := range sets {
		if selects(b.DiscoveryLabel, labels) {
			return true
		}
	}
	return false
}

// selects reports whether a label selector matches a namespace's labels.
func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// selectorsOverlap reports whether one namespace could match both label
// selectors: it can unless some key is required with different values.
func selectorsOverlap(a, b map[string]string) bool {
	for k, va := range a {
		if vb, ok := b[k]; ok && va != vb {
			return false
		}
	}
	return true
}

func renderLabels(l map[string]string) string {
	var parts []string
	for _, k := range model.SortedKeys(l) {
		parts = append(parts, k+"="+l[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// reservedNamespaces belong to Kubernetes; meshc never creates or labels them.
var reservedNamespaces = map[string]bool{
	"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true,
}

// CNINamespace is where the Istio CNI node agent runs.
const CNINamespace = "istio-cni"

// tenants checks that each tenant lands on exactly one control plane per
// cluster and that no namespace is claimed twice in a cluster.
func (c *checker) tenants() {
	t := c.t
	claims := map[[2]string]claim{} // {cluster, namespace}
	// Control planes claim their system namespaces first (two meshes in
	// one system namespace are reported as SharedSystemNamespace).
	for _, cp := range t.ControlPlanes() {
		for _, cl := range append([]string{cp.Cluster}, cp.Remotes...) {
			key := [2]string{cl, cp.Namespace}
			if _, ok := claims[key]; ok {
				continue
			}
			claims[key] = claim{mesh: cp.Mesh, path: cp.Path().Child("namespace"), system: true}
		}
	}
	for _, tn := range c.tenantsInFileOrder() {
		name := tn.Name
		base := model.Path{"tenants", name}
		mesh, ok := t.Meshes[tn.Mesh]
		if !ok {
			continue // reported as an undefined reference
		}
		if _, ok := mesh.ControlPlanes[tn.ControlPlane]; tn.ControlPlane != "" && !ok {
			continue // reported as an undefined reference
		}
		clusters := c.r.TenantClusters(tn)
		if len(clusters) == 0 {
			c.report(diag.ClusterNotServed, base.Child("mesh"),
				"add a control plane to mesh "+tn.Mesh, "mesh %q has no control plane for tenant %q", tn.Mesh, name)
		}
		for _, cl := range clusters {
			if _, ok := t.Clusters[cl]; !ok {
				continue
			}
			placement, ok := c.placeTenant(tn, cl, base)
			if !ok {
				continue
			}
			for i, ns := range tn.Namespaces {
				path := base.Child("namespaces", i)
				if reservedNamespaces[ns] {
					c.report(diag.ReservedNamespace, path, "create a namespace of your own for the tenant's workloads",
						"namespace %q belongs to Kubernetes and cannot join a mesh through meshc", ns)
					continue
				}
				ambient := len(c.r.AmbientMeshesIn(cl)) > 0
				if ns == CNINamespace && (t.Clusters[cl].NeedsCNI() || ambient) {
					c.report(diag.ReservedNamespace, path, "choose another namespace name",
						"namespace %q runs the Istio CNI node agent in cluster %q", ns, cl)
					continue
				}
				if ns == model.ZtunnelNamespace && ambient {
					c.report(diag.ReservedNamespace, path, "choose another namespace name",
						"namespace %q runs ztunnel in cluster %q", ns, cl)
					continue
				}
				key := [2]string{cl, ns}
				if first, ok := claims[key]; ok && first.tenant == name && first.override {
					claims[key] = claim{mesh: tn.Mesh, path: path, tenant: name}
				} else if ok && first.tenant == name {
					d := c.report(diag.NamespaceConflict, path, "remove the duplicate",
						"namespace %q is listed twice in tenant %q", ns, name)
					c.related(d, first.path)
					continue
				} else if ok {
					d := c.report(diag.NamespaceConflict, path,
						"a namespace belongs to one tenant and one mesh per cluster; remove it from one of them",
						"namespace %q in cluster %q is already %s", ns, cl, first.what())
					c.related(d, first.path)
					continue
				}
				if _, ok := claims[key]; !ok {
					claims[key] = claim{mesh: tn.Mesh, path: path, tenant: name}
				}
				// istiod reads policy in one cluster: a tenant's mTLS
				// override for a remote goes there, into a namespace of
				// the same name, which must not be another tenant's.
				if tn.MTLS == "" || placement.ControlPlane.ClusterID() == cl {
					continue
				}
				where := [2]string{placement.ControlPlane.ClusterID(), ns}
				if first, ok := claims[where]; ok && first.tenant != name {
					d := c.report(diag.NamespaceConflict, base.Child("mtls"),
						"a namespace belongs to one tenant and one mesh per cluster; rename one of them",
						"tenant %q's mTLS override for namespace %q must go to cluster %q, where istiod reads its policy, but the namespace there is already %s",
						name, ns, where[0], first.what())
					c.related(d, first.path)
				} else if !ok {
					claims[where] = claim{mesh: tn.Mesh, path: base.Child("mtls"), tenant: name, override: true}
				}
			}
		}
	}
}

// claim is what holds a namespace of a cluster, for tenants to report a
// second claim against.
type claim struct {
	mesh   string
	path   model.Path
	tenant string // empty for a system namespace
	system bool
	// override marks the namespace a tenant's mTLS override needs in
	// the cluster whose istiod reads its policy.
	override bool
}

// what says what holds the namespace, for a diagnostic: written only when
// one is reported, not for each of a fleet's namespaces.
func (cl claim) what() string {
	switch {
	case cl.system:
		return fmt.Sprintf("the system namespace of mesh %q", cl.mesh)
	case cl.override:
		return fmt.Sprintf("where tenant %q of mesh %q keeps its mTLS override", cl.tenant, cl.mesh)
	}
	return fmt.Sprintf("claimed by tenant %q of mesh %q", cl.tenant, cl.mesh)
}

// placeTenant checks that tenant tn has exactly one control plane in
// cluster cl serving its revision, and returns that placement.
func (c *checker) placeTenant(tn *model.Tenant, cl string, base model.Path) (*resolve.Placement, bool) {
	placement := c.r.Placement(tn, cl)
	candidates := placement.Candidates
	clusterPath := base.Child("mesh")
	if i := indexOf(tn.Clusters, cl); i >= 0 {
		clusterPath = base.Child("clusters", i)
	}
	switch {
	case len(candidates) == 0 && tn.ControlPlane != "":
		if _, ok := c.t.Meshes[tn.Mesh].ControlPlanes[tn.ControlPlane]; ok {
			c.report(diag.ClusterNotServed, clusterPath,
				"list only clusters where the control plane runs, or drop controlPlane",
				"control plane %q of mesh %q does not run in cluster %q", tn.ControlPlane, tn.Mesh, cl)
		}
		return placement, false
	case len(candidates) == 0 && tn.Revision != "" && len(c.t.ControlPlanesIn(tn.Mesh, cl)) > 0:
		c.report(diag.UndefinedRevision, base.Child("revision"),
			"use a revision or tag of one of the mesh's control planes in cluster "+cl+": "+strings.Join(servedRevisions(c.t.ControlPlanesIn(tn.Mesh, cl)), ", "),
			"no control plane of mesh %q in cluster %q serves revision %q", tn.Mesh, cl, tn.Revision)
		return placement, false
	case len(candidates) == 0:
		c.report(diag.ClusterNotServed, clusterPath,
			"add a control plane of mesh "+tn.Mesh+" in cluster "+cl+", or remove the cluster from the tenant",
			"mesh %q has no control plane in cluster %q", tn.Mesh, cl)
		return placement, false
	case len(candidates) > 1:
		var names []string
		for _, cp := range candidates {
			names = append(names, cp.Name)
		}
		c.report(diag.AmbiguousControlPlane, base,
			"set controlPlane (one of "+strings.Join(names, ", ")+") or a revision only one of them serves",
			"mesh %q runs %d control planes in cluster %q; tenant %q must choose one", tn.Mesh, len(candidates), cl, tn.Name)
		return placement, false
	}
	if !placement.ControlPlane.Serves(placement.Revision) {
		c.report(diag.UndefinedRevision, base.Child("revision"),
			"use one of: "+strings.Join(servedRevisions(candidates), ", "),
			"control plane %q serves no revision or tag %q", placement.ControlPlane.Name, placement.Revision)
		return placement, false
	}
	return placement, true
}

func servedRevisions(cps []*model.ControlPlane) []string {
	set := map[string]bool{}
	for _, cp := range cps {
		set[cp.Revision] = true
		for _, t := range cp.Tags {
			set[t] = true
		}
	}
	return model.SortedKeys(set)
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// inFileOrder sorts control planes by where they are written (by name when
// the topology has no source), without changing the shared slice.
func (c *checker) inFileOrder(cps []*model.ControlPlane) []*model.ControlPlane {
	return byPosition(c, cps, (*model.ControlPlane).Path)
}

// tenantsInFileOrder returns the tenants in the order they are written.
func (c *checker) tenantsInFileOrder() []*model.Tenant {
	var out []*model.Tenant
	for _, name := range model.SortedKeys(c.t.Tenants) {
		out = append(out, c.t.Tenants[name])
	}
	return byPosition(c, out, func(tn *model.Tenant) model.Path { return model.Path{"tenants", tn.Name} })
}

// byPosition sorts xs stably by the position of each one's path, looking
// each position up once: a lookup per comparison made checking quadratic
// in the number of tenants.
func byPosition[T any](c *checker, xs []T, path func(T) model.Path) []T {
	type placed struct {
		x   T
		pos diag.Pos
	}
	ps := make([]placed, len(xs))
	for i, x := range xs {
		ps[i] = placed{x, c.t.Pos(path(x))}
	}
	slices.SortStableFunc(ps, func(a, b placed) int { return comparePos(a.pos, b.pos) })
	out := make([]T, len(ps))
	for i, p := range ps {
		out[i] = p.x
	}
	return out
}

func comparePos(a, b diag.Pos) int {
	return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
}
