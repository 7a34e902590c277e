// Package graph draws a compiled topology: clusters grouped by network, the
// control planes running in each (external ones in their hosting cluster),
// the clusters they manage, multi-primary peers, east-west gateways and the
// paths remotes take to reach istiod, and the tenants each control plane
// serves. Build turns a topology and its plan into a neutral Graph; Mermaid
// and DOT write that graph as text. Everything is read from the plan where
// the plan decides it (which installs run where, which gateways exist, who
// discovers whom, the istio.io/rev label a namespace carries), so the
// drawing shows what the bundles do.
//
// Output is deterministic: nodes, edges and groups are sorted, and IDs are
// derived from names only.
//
// Import direction: graph imports model and plan only (and the standard
// library); nothing in the compiler pipeline imports graph.
package graph

import (
	"cmp"
	"slices"
	"strings"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
)

// Kind is what a node stands for.
type Kind string

// Node kinds.
const (
	KindCluster              Kind = "cluster"
	KindControlPlane         Kind = "controlPlane"
	KindExternalControlPlane Kind = "externalControlPlane"
	KindEastWestGateway      Kind = "eastWestGateway"
	KindIngressGateway       Kind = "ingressGateway"
	KindLoadBalancer         Kind = "loadBalancer"
	KindTenant               Kind = "tenant"
	// KindMesh is a legend entry: one per mesh.
	KindMesh Kind = "mesh"
)

// kindRank orders nodes of one group.
var kindRank = map[Kind]int{
	KindCluster: 0, KindControlPlane: 1, KindExternalControlPlane: 1,
	KindEastWestGateway: 2, KindIngressGateway: 3, KindLoadBalancer: 4,
	KindTenant: 5, KindMesh: 6,
}

// GroupKind is what a group stands for.
type GroupKind string

// Group kinds.
const (
	GroupNetwork GroupKind = "network"
	GroupCluster GroupKind = "cluster"
	GroupLegend  GroupKind = "legend"
)

// EdgeKind is what an edge stands for.
type EdgeKind string

// Edge kinds.
const (
	// EdgeRemote: a control plane manages a remote cluster (the remote
	// profile installed there points at it).
	EdgeRemote EdgeKind = "remote"
	// EdgeConfig: an external control plane reads its configuration from
	// its config cluster.
	EdgeConfig EdgeKind = "config"
	// EdgeDiscovers: control planes of one mesh in different clusters
	// (multi-primary) discover each other's clusters. Both ways.
	EdgeDiscovers EdgeKind = "discovers"
	// EdgeCrossNetwork: east-west gateways of one mesh on different
	// networks pass service traffic to each other. Both ways.
	EdgeCrossNetwork EdgeKind = "crossNetwork"
	// EdgeExpose: the path a remote cluster takes to istiod, remote
	// cluster → gateway or load balancer (labelled with the address) →
	// control plane.
	EdgeExpose EdgeKind = "expose"
	// EdgeTenant: a tenant's namespaces are served by a control plane,
	// labelled with their istio.io/rev value.
	EdgeTenant EdgeKind = "tenant"
)

var edgeRank = map[EdgeKind]int{
	EdgeRemote: 0, EdgeConfig: 1, EdgeDiscovers: 2, EdgeCrossNetwork: 3, EdgeExpose: 4, EdgeTenant: 5,
}

// Style is how an edge is drawn.
type Style string

// Edge styles.
const (
	StyleSolid  Style = "solid"
	StyleDashed Style = "dashed"
	StyleThick  Style = "thick"
)

// Group is a box around nodes and other groups: a network, a cluster, the
// legend.
type Group struct {
	ID    string
	Label string
	Kind  GroupKind
	// Parent is the ID of the enclosing group; empty at the top level.
	Parent string
	// Name is the network's or cluster's name; empty for the group of
	// clusters without a network and for the legend.
	Name string
}

// Node is one box.
type Node struct {
	ID string
	// Label is the node's text, one entry per line.
	Label []string
	Kind  Kind
	// Group is the ID of the innermost group holding the node.
	Group string
	// Mesh is the mesh the node belongs to; empty for clusters.
	Mesh string
	// Name is the entity's name: the cluster, control plane, tenant or
	// mesh; the namespace of a gateway; the address of a load balancer.
	Name string
	// Cluster is the cluster the node is drawn in; empty for the legend.
	Cluster string
	// Members are the tenants a tenant node draws, which its cluster's
	// control plane serves alike.
	Members []string
}

// Edge is one arrow.
type Edge struct {
	From, To string
	Label    string
	Kind     EdgeKind
	Style    Style
	// Mesh is the mesh the edge belongs to, for colouring.
	Mesh string
	// Both is set for an edge that goes both ways.
	Both bool
}

// Graph is a topology drawn as groups, nodes and edges, each list sorted.
type Graph struct {
	// Name is the topology's name.
	Name   string
	Groups []*Group
	Nodes  []*Node
	Edges  []*Edge
	// Meshes are the topology's meshes, sorted; a mesh's index picks its
	// colour.
	Meshes []string
}

// Group returns the group with id, or nil.
func (g *Graph) Group(id string) *Group {
	for _, gr := range g.Groups {
		if gr.ID == id {
			return gr
		}
	}
	return nil
}

// Node returns the node with id, or nil.
func (g *Graph) Node(id string) *Node {
	for _, n := range g.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// builder accumulates a graph.
type builder struct {
	t     *model.Topology
	p     *plan.Plan
	g     *Graph
	ids   *idAllocator
	nodes map[string]*Node
	edges map[edgeKey]*Edge
	// clusterGroup and clusterNode are the IDs of each cluster's group
	// and node.
	clusterGroup map[string]string
	clusterNode  map[string]string
	// cpNode is the node of each control plane, by mesh and name.
	cpNode map[[2]string]string
	// remotes are the clusters where each control plane's remote profile
	// is installed, by mesh and name.
	remotes map[[2]string][]string
}

type edgeKey struct {
	from, to string
	kind     EdgeKind
	label    string
}

// Build draws a checked topology from its plan.
func Build(t *model.Topology, p *plan.Plan) *Graph {
	b := &builder{
		t: t, p: p,
		g:            &Graph{Name: p.Topology, Meshes: model.SortedKeys(t.Meshes)},
		ids:          newIDAllocator(),
		nodes:        map[string]*Node{},
		edges:        map[edgeKey]*Edge{},
		clusterGroup: map[string]string{},
		clusterNode:  map[string]string{},
		cpNode:       map[[2]string]string{},
		remotes:      map[[2]string][]string{},
	}
	b.groups()
	b.controlPlanes()
	b.gateways()
	b.exposures()
	b.multiPrimary()
	b.tenants()
	b.legend()
	b.finish()
	return b.g
}

// groups makes a group per network (clusters without one share a group of
// their own), a group per cluster inside it, and each cluster's node.
func (b *builder) groups() {
	byNetwork := map[string][]*plan.Cluster{}
	for _, c := range b.p.Clusters {
		byNetwork[c.Network] = append(byNetwork[c.Network], c)
	}
	networks := model.SortedKeys(byNetwork)
	// The clusters without a network come last.
	if len(networks) > 0 && networks[0] == "" {
		networks = append(networks[1:], "")
	}
	for _, network := range networks {
		var gid, label string
		if network == "" {
			gid, label = b.ids.id("nonet"), "no network"
		} else {
			gid, label = b.ids.id("net", network), "network "+network
		}
		b.g.Groups = append(b.g.Groups, &Group{ID: gid, Label: label, Kind: GroupNetwork, Name: network})
		clusters := byNetwork[network]
		slices.SortFunc(clusters, func(a, c *plan.Cluster) int { return cmp.Compare(a.Name, c.Name) })
		for _, c := range clusters {
			cg := b.ids.id("cg", c.Name)
			b.clusterGroup[c.Name] = cg
			b.g.Groups = append(b.g.Groups, &Group{ID: cg, Label: "cluster " + c.Name, Kind: GroupCluster, Parent: gid, Name: c.Name})
			details := string(c.Platform)
			if c.CNI != nil {
				details += ", Istio CNI"
			}
			b.clusterNode[c.Name] = b.node(&Node{
				ID: b.ids.id("cl", c.Name), Kind: KindCluster, Group: cg, Name: c.Name, Cluster: c.Name,
				Label: []string{c.Name, details},
			})
		}
	}
}

// controlPlanes draws every istiod in the cluster it runs in, and an edge
// to each cluster where its remote profile is installed (and, for an
// external control plane, to its config cluster).
func (b *builder) controlPlanes() {
	for _, c := range b.p.Clusters {
		for _, cp := range c.ControlPlanes {
			key := [2]string{cp.Mesh, cp.Name}
			if cp.Remote {
				b.remotes[key] = append(b.remotes[key], c.Name)
				continue
			}
			kind := KindControlPlane
			if cp.External {
				kind = KindExternalControlPlane
			}
			rev := "revision " + cp.Revision
			if len(cp.Tags) > 0 {
				rev += ", tags " + strings.Join(cp.Tags, ", ")
			}
			label := []string{"control plane " + cp.Name, "mesh " + cp.Mesh, rev, "Istio " + cp.Version.String()}
			if cp.External {
				label = append(label, "external, config cluster "+cp.ConfigCluster)
			}
			b.cpNode[key] = b.node(&Node{
				ID: b.ids.id("cp", cp.Mesh, cp.Name), Kind: kind, Group: b.clusterGroup[c.Name],
				Mesh: cp.Mesh, Name: cp.Name, Cluster: c.Name, Label: label,
			})
		}
	}
	for _, cp := range b.t.ControlPlanes() {
		key := [2]string{cp.Mesh, cp.Name}
		from, ok := b.cpNode[key]
		if !ok {
			continue
		}
		for _, r := range b.remotes[key] {
			b.edge(&Edge{From: from, To: b.clusterNode[r], Label: "remote", Kind: EdgeRemote, Style: StyleSolid, Mesh: cp.Mesh})
		}
		if cp.External && cp.ConfigCluster != "" {
			if to, ok := b.clusterNode[cp.ConfigCluster]; ok {
				b.edge(&Edge{From: from, To: to, Label: "config", Kind: EdgeConfig, Style: StyleThick, Mesh: cp.Mesh})
			}
		}
	}
}

// gateways draws the east-west and ingress gateways of every cluster, and
// a dashed edge between east-west gateways of one mesh on different
// networks.
func (b *builder) gateways() {
	type ew struct {
		id, mesh, network string
	}
	var crossNetwork []ew
	for _, c := range b.p.Clusters {
		for _, gw := range c.EastWestGateways {
			label := []string{"east-west gateway", "mesh " + gw.Mesh}
			if gw.Network != "" {
				label = append(label, "network "+gw.Network)
			}
			label = append(label, "revision "+gw.Revision)
			id := b.node(&Node{
				ID: b.ids.id("ew", c.Name, gw.Mesh), Kind: KindEastWestGateway, Group: b.clusterGroup[c.Name],
				Mesh: gw.Mesh, Name: gw.Namespace, Cluster: c.Name, Label: label,
			})
			if gw.CrossNetwork {
				crossNetwork = append(crossNetwork, ew{id, gw.Mesh, gw.Network})
			}
		}
		for _, gw := range c.IngressGateways {
			mesh := ""
			for _, cp := range c.ControlPlanes {
				if !cp.Remote && cp.Namespace == gw.Namespace && cp.Revision == gw.Revision {
					mesh = cp.Mesh
					break
				}
			}
			b.node(&Node{
				ID: b.ids.id("ig", c.Name, gw.Namespace), Kind: KindIngressGateway, Group: b.clusterGroup[c.Name],
				Mesh: mesh, Name: gw.Namespace, Cluster: c.Name,
				Label: []string{"ingress gateway", "namespace " + gw.Namespace, "revision " + gw.Revision},
			})
		}
	}
	for i, a := range crossNetwork {
		for _, o := range crossNetwork[i+1:] {
			if a.mesh != o.mesh || a.network == o.network {
				continue
			}
			from, to := a.id, o.id
			if to < from {
				from, to = to, from
			}
			b.edge(&Edge{From: from, To: to, Label: "cross-network", Kind: EdgeCrossNetwork, Style: StyleDashed, Mesh: a.mesh, Both: true})
		}
	}
}

// exposures draws the paths remotes take to istiod: remote cluster →
// east-west gateway, ingress gateway or load balancer → control plane.
func (b *builder) exposures() {
	for _, c := range b.p.Clusters {
		for _, x := range c.IstiodExposures {
			cp := x.ControlPlane
			key := [2]string{cp.Mesh, cp.Name}
			to, ok := b.cpNode[key]
			if !ok {
				continue
			}
			var via string
			switch x.Via {
			case model.ExposeEastWest:
				via = b.ids.lookup("ew", c.Name, cp.Mesh)
			case model.ExposeIngress:
				if x.Ingress != nil {
					via = b.ids.lookup("ig", c.Name, x.Ingress.Namespace)
				}
			case model.ExposeLoadBalancer:
				via = b.node(&Node{
					ID: b.ids.id("lb", cp.Mesh, cp.Name), Kind: KindLoadBalancer, Group: b.clusterGroup[c.Name],
					Mesh: cp.Mesh, Name: x.Address, Cluster: c.Name,
					Label: []string{"istiod load balancer", x.Address},
				})
			}
			if via == "" || b.nodes[via] == nil {
				// Not drawn by the plan: straight to istiod.
				via = to
			}
			for _, r := range b.remotes[key] {
				b.edge(&Edge{From: b.clusterNode[r], To: via, Label: x.Address, Kind: EdgeExpose, Style: StyleSolid, Mesh: cp.Mesh})
			}
			if via != to {
				b.edge(&Edge{From: via, To: to, Label: "istiod 15012, 15017", Kind: EdgeExpose, Style: StyleSolid, Mesh: cp.Mesh})
			}
		}
	}
}

// multiPrimary joins control planes of one mesh that discover each
// other's clusters, as resolve found (the plan's remote secrets carry its
// discoveries): each istiod in a cluster's system namespace and each
// istiod of the mesh running in a cluster it discovers.
func (b *builder) multiPrimary() {
	istiods := map[[2]string][]*plan.ControlPlane{} // by cluster and mesh
	for _, c := range b.p.Clusters {
		for _, cp := range c.ControlPlanes {
			if !cp.Remote {
				istiods[[2]string{c.Name, cp.Mesh}] = append(istiods[[2]string{c.Name, cp.Mesh}], cp)
			}
		}
	}
	for _, c := range b.p.Clusters {
		for _, r := range c.RemoteSecrets {
			for _, a := range istiods[[2]string{c.Name, r.Mesh}] {
				for _, o := range istiods[[2]string{r.Discovered.Name, r.Mesh}] {
					from, to := b.cpNode[[2]string{r.Mesh, a.Name}], b.cpNode[[2]string{r.Mesh, o.Name}]
					if a.Namespace != r.Namespace || from == "" || to == "" {
						continue
					}
					if to < from {
						from, to = to, from
					}
					b.edge(&Edge{From: from, To: to, Label: "discovers", Kind: EdgeDiscovers, Style: StyleDashed, Mesh: r.Mesh, Both: true})
				}
			}
		}
	}
}

// tenants draws, in each cluster where the plan creates tenant namespaces,
// a node per group of tenants served alike (by the same control plane,
// with the same istio.io/rev values), with one edge to that control plane
// labelled with the value: a fleet's tenants would otherwise draw an edge
// each, all saying the same. Namespaces created only to hold a tenant's
// mTLS override (where istiod reads policy) carry no revision and get no
// edge.
func (b *builder) tenants() {
	for _, c := range b.p.Clusters {
		byTenant := map[string][]*plan.Namespace{}
		for _, ns := range c.Namespaces {
			if ns.Role != plan.RoleTenant || len(ns.Source) < 2 || ns.Source[0] != "tenants" {
				continue
			}
			name, _ := ns.Source[1].(string)
			byTenant[name] = append(byTenant[name], ns)
		}
		type tenantGroup struct {
			mesh, to   string // the serving control plane's node, if any
			revs       []string
			tenants    []string
			namespaces []string
		}
		var groups []*tenantGroup
		byKey := map[string]*tenantGroup{}
		for _, name := range model.SortedKeys(byTenant) {
			tn := b.t.Tenants[name]
			if tn == nil {
				continue
			}
			var nsNames, revs []string
			for _, ns := range byTenant[name] {
				nsNames = append(nsNames, ns.Name)
				// What ties the namespace to its control plane: its
				// revision, or for an ambient tenant its data plane mode
				// (ztunnel, which follows the control plane).
				if rev, ok := ns.Labels[plan.LabelRev]; ok {
					revs = append(revs, plan.LabelRev+"="+rev)
				}
				if mode, ok := ns.Labels[plan.LabelDataPlaneMode]; ok {
					revs = append(revs, plan.LabelDataPlaneMode+"="+mode)
				}
			}
			slices.Sort(revs)
			revs = slices.Compact(revs)
			to := ""
			if pl := byTenant[name][0].Placement; len(revs) > 0 && pl != nil && pl.ControlPlane != nil {
				to = b.cpNode[[2]string{pl.ControlPlane.Mesh, pl.ControlPlane.Name}]
			}
			key := tn.Mesh + "\x00" + to + "\x00" + strings.Join(revs, ",")
			g, ok := byKey[key]
			if !ok {
				g = &tenantGroup{mesh: tn.Mesh, to: to, revs: revs}
				byKey[key] = g
				groups = append(groups, g)
			}
			g.tenants = append(g.tenants, name)
			g.namespaces = append(g.namespaces, nsNames...)
		}
		for _, g := range groups {
			slices.Sort(g.namespaces)
			noun := "tenant "
			if len(g.tenants) > 1 {
				noun = "tenants "
			}
			label := []string{noun + strings.Join(g.tenants, ", "), "namespaces " + strings.Join(g.namespaces, ", ")}
			if len(g.revs) == 0 {
				label = append(label, "mTLS policy only")
			}
			id := b.node(&Node{
				ID: b.ids.id("tn", c.Name, g.tenants[0]), Kind: KindTenant, Group: b.clusterGroup[c.Name],
				Mesh: g.mesh, Name: strings.Join(g.tenants, ", "), Members: g.tenants, Cluster: c.Name, Label: label,
			})
			if g.to == "" {
				continue
			}
			for _, rev := range g.revs {
				b.edge(&Edge{From: id, To: g.to, Label: rev, Kind: EdgeTenant, Style: StyleSolid, Mesh: g.mesh})
			}
		}
	}
}

// legend lists the meshes, each in its colour.
func (b *builder) legend() {
	if len(b.g.Meshes) == 0 {
		return
	}
	gid := b.ids.id("legend")
	b.g.Groups = append(b.g.Groups, &Group{ID: gid, Label: "meshes", Kind: GroupLegend})
	for _, mname := range b.g.Meshes {
		mesh := b.t.Meshes[mname]
		label := []string{"mesh " + mname}
		if mesh.MeshID != "" && mesh.MeshID != mname {
			label = append(label, "meshID "+mesh.MeshID)
		}
		if mesh.TrustDomain != "" {
			label = append(label, "trust domain "+mesh.TrustDomain)
		}
		b.node(&Node{ID: b.ids.id("mesh", mname), Kind: KindMesh, Group: gid, Mesh: mname, Name: mname, Label: label})
	}
}

func (b *builder) node(n *Node) string {
	if _, ok := b.nodes[n.ID]; !ok {
		b.nodes[n.ID] = n
	}
	return n.ID
}

func (b *builder) edge(e *Edge) {
	if e.From == "" || e.To == "" {
		return
	}
	k := edgeKey{e.From, e.To, e.Kind, e.Label}
	if _, ok := b.edges[k]; !ok {
		b.edges[k] = e
	}
}

// finish sorts the nodes by group, kind and ID, and the edges by kind,
// ends and label.
func (b *builder) finish() {
	groupRank := map[string]int{}
	for i, gr := range b.g.Groups {
		groupRank[gr.ID] = i
	}
	for _, n := range b.nodes {
		b.g.Nodes = append(b.g.Nodes, n)
	}
	slices.SortFunc(b.g.Nodes, func(a, c *Node) int {
		return cmp.Or(cmp.Compare(groupRank[a.Group], groupRank[c.Group]),
			cmp.Compare(kindRank[a.Kind], kindRank[c.Kind]), cmp.Compare(a.ID, c.ID))
	})
	for _, e := range b.edges {
		b.g.Edges = append(b.g.Edges, e)
	}
	slices.SortFunc(b.g.Edges, func(a, c *Edge) int {
		return cmp.Or(cmp.Compare(edgeRank[a.Kind], edgeRank[c.Kind]),
			cmp.Compare(a.From, c.From), cmp.Compare(a.To, c.To), cmp.Compare(a.Label, c.Label))
	})
}
