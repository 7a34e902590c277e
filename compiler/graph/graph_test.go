package graph_test

import (
	"bytes"
	"flag"
	"go/build"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/graph"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
	"meshc.dev/meshc/compiler/resolve"
)

// update rewrites golden/graphs from the example topologies:
// go test ./compiler/graph -update
var update = flag.Bool("update", false, "rewrite golden/graphs from the example topologies")

const (
	topologiesDir = "../../topologies"
	goldenDir     = "../../golden/graphs"
)

type example struct {
	name string
	t    *model.Topology
	p    *plan.Plan
}

// examples compiles every example topology.
func examples(t *testing.T) []example {
	t.Helper()
	entries, err := os.ReadDir(topologiesDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []example
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || !slices.Contains([]string{".yaml", ".yml", ".json", ".cue"}, ext) {
			continue
		}
		out = append(out, compile(t, strings.TrimSuffix(e.Name(), ext), filepath.Join(topologiesDir, e.Name())))
	}
	if len(out) < 3 {
		t.Fatalf("expected at least 3 example topologies, found %d", len(out))
	}
	return out
}

func compile(t *testing.T, name, path string) example {
	t.Helper()
	topo, err := compiler.Validate(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	res, err := compiler.CompileTopology(topo, compiler.Options{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return example{name, topo, res.Plan}
}

func compileBytes(t *testing.T, yaml string) example {
	t.Helper()
	topo, err := compiler.ValidateBytes("t.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.CompileTopology(topo, compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return example{"t", topo, res.Plan}
}

// TestGolden compares each example's drawing, in both formats, with
// golden/graphs/<example>.mmd and .dot.
func TestGolden(t *testing.T) {
	want := map[string]bool{}
	for _, ex := range examples(t) {
		g := graph.Build(ex.t, ex.p)
		for ext, got := range map[string][]byte{".mmd": g.Mermaid(), ".dot": g.DOT()} {
			path := filepath.Join(goldenDir, ex.name+ext)
			want[ex.name+ext] = true
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%v (run go test ./compiler/graph -update)", err)
				continue
			}
			if !bytes.Equal(golden, got) {
				t.Errorf("%s differs from golden (run go test ./compiler/graph -update and read the diff):\n%s", path, got)
			}
		}
	}
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !want[e.Name()] {
			if *update {
				_ = os.Remove(filepath.Join(goldenDir, e.Name()))
				continue
			}
			t.Errorf("golden/graphs/%s: no example draws it", e.Name())
		}
	}
}

// TestDeterministic builds every drawing twice.
func TestDeterministic(t *testing.T) {
	for _, ex := range examples(t) {
		a, b := graph.Build(ex.t, ex.p), graph.Build(ex.t, ex.p)
		if !bytes.Equal(a.Mermaid(), b.Mermaid()) || !bytes.Equal(a.DOT(), b.DOT()) {
			t.Errorf("%s: output differs between runs", ex.name)
		}
	}
}

// TestStructure checks every example's graph against its plan.
func TestStructure(t *testing.T) {
	for _, ex := range examples(t) {
		t.Run(ex.name, func(t *testing.T) {
			checkStructure(t, ex)
		})
	}
}

func checkStructure(t *testing.T, ex example) {
	t.Helper()
	g := graph.Build(ex.t, ex.p)

	// IDs: valid, unique across nodes and groups; references resolve.
	seen := map[string]bool{}
	for _, gr := range g.Groups {
		if !graph.ValidID(gr.ID) || seen[gr.ID] {
			t.Errorf("group ID %q invalid or duplicated", gr.ID)
		}
		seen[gr.ID] = true
		if gr.Parent != "" && g.Group(gr.Parent) == nil {
			t.Errorf("group %s: parent %s does not exist", gr.ID, gr.Parent)
		}
	}
	for _, n := range g.Nodes {
		if !graph.ValidID(n.ID) || seen[n.ID] {
			t.Errorf("node ID %q invalid or duplicated", n.ID)
		}
		seen[n.ID] = true
		if g.Group(n.Group) == nil {
			t.Errorf("node %s: group %q does not exist", n.ID, n.Group)
		}
	}
	edges := map[[3]string]bool{}
	for _, e := range g.Edges {
		if g.Node(e.From) == nil || g.Node(e.To) == nil {
			t.Errorf("edge %s -> %s: an end does not exist", e.From, e.To)
		}
		edges[[3]string{e.From, e.To, string(e.Kind)}] = true
	}
	hasEdge := func(from, to string, kind graph.EdgeKind) bool {
		return edges[[3]string{from, to, string(kind)}]
	}

	// Every cluster appears once, in its own group, inside its network's.
	clusterNode := map[string]*graph.Node{}
	for _, n := range g.Nodes {
		if n.Kind != graph.KindCluster {
			continue
		}
		if clusterNode[n.Name] != nil {
			t.Errorf("cluster %s drawn twice", n.Name)
		}
		clusterNode[n.Name] = n
	}
	if len(clusterNode) != len(ex.p.Clusters) {
		t.Errorf("%d cluster nodes, plan has %d clusters", len(clusterNode), len(ex.p.Clusters))
	}
	for _, c := range ex.p.Clusters {
		n := clusterNode[c.Name]
		if n == nil {
			t.Errorf("cluster %s not drawn", c.Name)
			continue
		}
		cg := g.Group(n.Group)
		if cg == nil || cg.Kind != graph.GroupCluster || cg.Name != c.Name {
			t.Errorf("cluster %s: in group %+v, want its own cluster group", c.Name, cg)
			continue
		}
		ng := g.Group(cg.Parent)
		if ng == nil || ng.Kind != graph.GroupNetwork || ng.Name != c.Network {
			t.Errorf("cluster %s: in network group %+v, want network %q", c.Name, ng, c.Network)
		}
	}
	// Network groups: one per network, none empty.
	networks := map[string]int{}
	for _, gr := range g.Groups {
		if gr.Kind == graph.GroupNetwork {
			networks[gr.Name]++
			if len(childGroups(g, gr.ID)) == 0 {
				t.Errorf("network group %s is empty", gr.ID)
			}
		}
	}
	for _, c := range ex.p.Clusters {
		if networks[c.Network] != 1 {
			t.Errorf("network %q has %d groups, want 1", c.Network, networks[c.Network])
		}
	}

	// Control planes: each drawn once, in the cluster it runs in; an edge
	// to every cluster with its remote install; external ones marked, with
	// an edge to their config cluster.
	cpNode := map[[2]string]*graph.Node{}
	for _, n := range g.Nodes {
		if n.Kind == graph.KindControlPlane || n.Kind == graph.KindExternalControlPlane {
			key := [2]string{n.Mesh, n.Name}
			if cpNode[key] != nil {
				t.Errorf("control plane %v drawn twice", key)
			}
			cpNode[key] = n
		}
	}
	if len(cpNode) != len(ex.t.ControlPlanes()) {
		t.Errorf("%d control plane nodes, topology has %d", len(cpNode), len(ex.t.ControlPlanes()))
	}
	remoteEdges := 0
	for _, e := range g.Edges {
		if e.Kind == graph.EdgeRemote {
			remoteEdges++
		}
	}
	remoteInstalls := 0
	for _, c := range ex.p.Clusters {
		for _, cp := range c.ControlPlanes {
			n := cpNode[[2]string{cp.Mesh, cp.Name}]
			if n == nil {
				t.Errorf("control plane %s/%s not drawn", cp.Mesh, cp.Name)
				continue
			}
			if !cp.Remote {
				if n.Cluster != c.Name {
					t.Errorf("control plane %s drawn in %s, runs in %s", n.ID, n.Cluster, c.Name)
				}
				if (n.Kind == graph.KindExternalControlPlane) != cp.External {
					t.Errorf("control plane %s: kind %s, external %v", n.ID, n.Kind, cp.External)
				}
				if cp.External && !hasEdge(n.ID, clusterNode[cp.ConfigCluster].ID, graph.EdgeConfig) {
					t.Errorf("external control plane %s: no config edge to %s", n.ID, cp.ConfigCluster)
				}
				continue
			}
			remoteInstalls++
			if !hasEdge(n.ID, clusterNode[c.Name].ID, graph.EdgeRemote) {
				t.Errorf("no remote edge %s -> %s", n.ID, c.Name)
			}
		}
	}
	if remoteEdges != remoteInstalls {
		t.Errorf("%d remote edges, plan has %d remote installs", remoteEdges, remoteInstalls)
	}

	// Multi-primary: control planes of a mesh in different clusters
	// discover each other, and each discovers edge is one of resolve's
	// discoveries: an istiod in the discovering namespace and one running
	// in the discovered cluster.
	discovered := map[[2]string]bool{}
	for _, c := range ex.p.Clusters {
		for _, d := range ex.p.Facts.Discoveries(c.Name) {
			for _, a := range ex.t.ControlPlanesOfCluster(c.Name) {
				for _, o := range ex.t.ControlPlanesOfCluster(d.Discovered) {
					if a.Cluster == c.Name && a.Namespace == d.Namespace && a.Mesh == d.Mesh && o.Cluster == d.Discovered && o.Mesh == d.Mesh {
						na, no := cpNode[[2]string{a.Mesh, a.Name}].ID, cpNode[[2]string{o.Mesh, o.Name}].ID
						discovered[[2]string{min(na, no), max(na, no)}] = true
					}
				}
			}
		}
	}
	for _, e := range g.Edges {
		if e.Kind == graph.EdgeDiscovers && !discovered[[2]string{min(e.From, e.To), max(e.From, e.To)}] {
			t.Errorf("discovers edge %s -> %s is no discovery of resolve's", e.From, e.To)
		}
	}
	for _, mname := range model.SortedKeys(ex.t.Meshes) {
		m := ex.t.Meshes[mname]
		for _, a := range m.ControlPlanes {
			for _, b := range m.ControlPlanes {
				if a.Name >= b.Name || a.Cluster == b.Cluster {
					continue
				}
				na, nb := cpNode[[2]string{mname, a.Name}], cpNode[[2]string{mname, b.Name}]
				if !hasEdge(na.ID, nb.ID, graph.EdgeDiscovers) && !hasEdge(nb.ID, na.ID, graph.EdgeDiscovers) {
					t.Errorf("no discovers edge between %s and %s", na.ID, nb.ID)
				}
			}
		}
	}

	// East-west gateways: one node per plan gateway; cross-network edges
	// join gateways of a mesh on different networks.
	type gw struct{ cluster, mesh, network string }
	var gws []gw
	for _, c := range ex.p.Clusters {
		for _, x := range c.EastWestGateways {
			if x.CrossNetwork {
				gws = append(gws, gw{c.Name, x.Mesh, x.Network})
			}
		}
	}
	ewNode := func(cluster, mesh string) *graph.Node {
		for _, n := range g.Nodes {
			if n.Kind == graph.KindEastWestGateway && n.Cluster == cluster && n.Mesh == mesh {
				return n
			}
		}
		t.Errorf("no east-west gateway of mesh %s drawn in %s", mesh, cluster)
		return &graph.Node{}
	}
	for _, a := range gws {
		for _, b := range gws {
			if a.mesh != b.mesh || a.network == b.network {
				continue
			}
			na, nb := ewNode(a.cluster, a.mesh), ewNode(b.cluster, b.mesh)
			if !hasEdge(na.ID, nb.ID, graph.EdgeCrossNetwork) && !hasEdge(nb.ID, na.ID, graph.EdgeCrossNetwork) {
				t.Errorf("no cross-network edge between %s and %s", na.ID, nb.ID)
			}
		}
	}

	// Exposure: every remote reaches its control plane, through a node
	// other than istiod, by an edge labelled with the address.
	for _, c := range ex.p.Clusters {
		for _, x := range c.IstiodExposures {
			cp := cpNode[[2]string{x.ControlPlane.Mesh, x.ControlPlane.Name}]
			for _, r := range x.ControlPlane.Remotes {
				found := false
				for _, e := range g.Edges {
					if e.Kind == graph.EdgeExpose && e.From == clusterNode[r].ID && e.Label == x.Address && hasEdge(e.To, cp.ID, graph.EdgeExpose) {
						found = true
					}
				}
				if !found {
					t.Errorf("no exposure path %s -> %s (%s) -> %s", r, x.Via, x.Address, cp.ID)
				}
			}
		}
	}

	// Tenants: a node in each cluster they land in (shared with the
	// tenants served alike), with an edge to the control plane serving
	// them labelled with their revision.
	for _, name := range model.SortedKeys(ex.t.Tenants) {
		tn := ex.t.Tenants[name]
		facts := resolve.Resolve(ex.t)
		for _, cl := range facts.TenantClusters(tn) {
			placement := facts.Placement(tn, cl)
			var node *graph.Node
			for _, n := range g.Nodes {
				if n.Kind == graph.KindTenant && slices.Contains(n.Members, name) && n.Cluster == cl {
					node = n
				}
			}
			if node == nil {
				t.Errorf("tenant %s not drawn in %s", name, cl)
				continue
			}
			if g.Group(node.Group).Name != cl {
				t.Errorf("tenant %s in %s: drawn in group %s", name, cl, node.Group)
			}
			for _, ns := range tn.Namespaces {
				if !strings.Contains(strings.Join(node.Label, "\n"), ns) {
					t.Errorf("tenant node %s does not list namespace %s", node.ID, ns)
				}
			}
			cp := cpNode[[2]string{placement.ControlPlane.Mesh, placement.ControlPlane.Name}]
			want := "istio.io/rev=" + placement.Revision
			if ex.p.Facts.TenantDataPlane(tn).Ambient() {
				want = "istio.io/dataplane-mode=ambient"
			}
			found := false
			for _, e := range g.Edges {
				if e.Kind == graph.EdgeTenant && e.From == node.ID && e.To == cp.ID && e.Label == want {
					found = true
				}
			}
			if !found {
				t.Errorf("tenant %s in %s: no edge to %s labelled %s", name, cl, cp.ID, want)
			}
		}
	}

	// Legend: a node per mesh.
	for _, m := range model.SortedKeys(ex.t.Meshes) {
		found := false
		for _, n := range g.Nodes {
			found = found || n.Kind == graph.KindMesh && n.Name == m
		}
		if !found {
			t.Errorf("mesh %s not in the legend", m)
		}
	}

	checkMermaid(t, g)
	checkDOT(t, g)
}

func childGroups(g *graph.Graph, parent string) []*graph.Group {
	var out []*graph.Group
	for _, gr := range g.Groups {
		if gr.Parent == parent {
			out = append(out, gr)
		}
	}
	return out
}

var (
	mermaidNode     = regexp.MustCompile(`^\s*([A-Za-z0-9_]+)(\[\[|\{\{|\(\[|\(|\[)"[^"]*"(\]\]|\}\}|\]\)|\)|\])$`)
	mermaidSubgraph = regexp.MustCompile(`^\s*subgraph ([A-Za-z0-9_]+)\["[^"]*"\]$`)
	mermaidEdge     = regexp.MustCompile(`^  ([A-Za-z0-9_]+) (<?(-->|-\.->|==>))\|"[^"]*"\| ([A-Za-z0-9_]+)$`)
	mermaidStyle    = regexp.MustCompile(`^  (classDef|class|style|linkStyle) \S+ \S.*$`)
)

// checkMermaid parses the flowchart line by line: each line is one of the
// statements meshc writes, subgraphs balance, every node is defined once
// and every edge joins defined nodes.
func checkMermaid(t *testing.T, g *graph.Graph) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(g.Mermaid()), "\n"), "\n")
	if len(lines) < 5 || lines[0] != "---" || lines[2] != "---" || lines[3] != "flowchart LR" {
		t.Fatalf("Mermaid: want front matter then flowchart LR, got %q", lines[:min(4, len(lines))])
	}
	defined := map[string]bool{}
	depth, edges := 0, 0
	for _, l := range lines[4:] {
		switch {
		case mermaidSubgraph.MatchString(l):
			depth++
			defined[mermaidSubgraph.FindStringSubmatch(l)[1]] = true
		case strings.TrimSpace(l) == "end":
			depth--
		case mermaidNode.MatchString(l):
			id := mermaidNode.FindStringSubmatch(l)[1]
			if defined[id] {
				t.Errorf("Mermaid: %s defined twice", id)
			}
			defined[id] = true
		case mermaidEdge.MatchString(l):
			m := mermaidEdge.FindStringSubmatch(l)
			if !defined[m[1]] || !defined[m[4]] {
				t.Errorf("Mermaid: edge between undefined nodes: %s", l)
			}
			if depth != 0 {
				t.Errorf("Mermaid: edge inside a subgraph: %s", l)
			}
			edges++
		case mermaidStyle.MatchString(l):
		default:
			t.Errorf("Mermaid: unexpected line %q", l)
		}
		if depth < 0 {
			t.Fatalf("Mermaid: unbalanced end")
		}
	}
	if depth != 0 {
		t.Errorf("Mermaid: %d subgraphs not closed", depth)
	}
	if edges != len(g.Edges) {
		t.Errorf("Mermaid: %d edges, graph has %d", edges, len(g.Edges))
	}
	for _, n := range g.Nodes {
		if !defined[n.ID] {
			t.Errorf("Mermaid: node %s not defined", n.ID)
		}
	}
}

var (
	dotNode  = regexp.MustCompile(`^\t+([A-Za-z0-9_]+) \[label="(?:[^"\\]|\\.)*", .*\];$`)
	dotEdge  = regexp.MustCompile(`^\t([A-Za-z0-9_]+) -> ([A-Za-z0-9_]+) \[xlabel="(?:[^"\\]|\\.)*".*\];$`)
	dotGroup = regexp.MustCompile(`^\t+subgraph cluster_([A-Za-z0-9_]+) \{$`)
)

// checkDOT checks the digraph's shape: balanced braces, one cluster
// subgraph per group, every node defined once, edges between defined nodes.
func checkDOT(t *testing.T, g *graph.Graph) {
	t.Helper()
	out := string(g.DOT())
	if !strings.HasPrefix(out, "digraph \""+g.Name+"\" {\n") || !strings.HasSuffix(out, "\n}\n") {
		t.Fatalf("DOT: want digraph \"%s\" { … }", g.Name)
	}
	if strings.Count(out, "{") != strings.Count(out, "}") {
		t.Errorf("DOT: unbalanced braces")
	}
	defined, groups := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if m := dotGroup.FindStringSubmatch(l); m != nil {
			groups[m[1]] = true
		}
		if m := dotNode.FindStringSubmatch(l); m != nil {
			if defined[m[1]] {
				t.Errorf("DOT: %s defined twice", m[1])
			}
			defined[m[1]] = true
		}
	}
	edges := 0
	for _, l := range strings.Split(out, "\n") {
		if m := dotEdge.FindStringSubmatch(l); m != nil {
			edges++
			if !defined[m[1]] || !defined[m[2]] {
				t.Errorf("DOT: edge between undefined nodes: %s", l)
			}
		}
	}
	if edges != len(g.Edges) {
		t.Errorf("DOT: %d edges, graph has %d", edges, len(g.Edges))
	}
	for _, gr := range g.Groups {
		if !groups[gr.ID] {
			t.Errorf("DOT: no subgraph cluster_%s", gr.ID)
		}
	}
	for _, n := range g.Nodes {
		if !defined[n.ID] {
			t.Errorf("DOT: node %s not defined", n.ID)
		}
	}
}

// TestExampleShapes pins what the examples' drawings must show.
func TestExampleShapes(t *testing.T) {
	byName := map[string]*graph.Graph{}
	for _, ex := range examples(t) {
		byName[ex.name] = graph.Build(ex.t, ex.p)
	}
	count := func(g *graph.Graph, kind graph.EdgeKind) int {
		n := 0
		for _, e := range g.Edges {
			if e.Kind == kind {
				n++
			}
		}
		return n
	}
	cases := []struct {
		example string
		kind    graph.EdgeKind
		want    int
	}{
		{"primary-remote-two-networks", graph.EdgeRemote, 1},
		{"primary-remote-two-networks", graph.EdgeCrossNetwork, 1},
		{"primary-remote-two-networks", graph.EdgeExpose, 2},
		{"primary-remote-two-networks", graph.EdgeTenant, 2},
		{"primary-remote-one-network", graph.EdgeCrossNetwork, 0},
		{"primary-remote-one-network", graph.EdgeExpose, 2},
		{"multi-primary", graph.EdgeDiscovers, 1},
		{"multi-primary", graph.EdgeCrossNetwork, 1},
		{"multi-primary", graph.EdgeRemote, 0},
		{"external-control-plane", graph.EdgeConfig, 1},
		{"external-control-plane", graph.EdgeRemote, 2},
		{"external-control-plane", graph.EdgeExpose, 3},
		{"fleet-three-networks", graph.EdgeDiscovers, 1},
		{"fleet-three-networks", graph.EdgeCrossNetwork, 5},
		{"canary-upgrade", graph.EdgeTenant, 3},
		{"multiple-control-planes", graph.EdgeRemote, 0},
	}
	for _, c := range cases {
		g := byName[c.example]
		if g == nil {
			t.Errorf("no example %s", c.example)
			continue
		}
		if got := count(g, c.kind); got != c.want {
			t.Errorf("%s: %d %s edges, want %d", c.example, got, c.kind, c.want)
		}
	}
	// The external control plane is drawn in its hosting cluster, marked.
	ext := byName["external-control-plane"].Node("cp_mesh1_external_istiod")
	if ext == nil || ext.Kind != graph.KindExternalControlPlane || ext.Cluster != "external" {
		t.Errorf("external control plane: got %+v, want it external in cluster external", ext)
	}
	// The canary's tenant follows its tag to the canary control plane.
	found := false
	for _, e := range byName["canary-upgrade"].Edges {
		found = found || e.From == "tn_prod_eu_1_ledger" && e.To == "cp_payments_canary" && e.Label == "istio.io/rev=next"
	}
	if !found {
		t.Errorf("canary-upgrade: ledger is not drawn on the canary with istio.io/rev=next")
	}
}

// TestNoNetworkGroup puts clusters without a network in one group of
// their own, after the networks.
func TestNoNetworkGroup(t *testing.T) {
	ex := compileBytes(t, `apiVersion: meshc.dev/v1alpha1
kind: Topology
metadata: {name: mixed}
defaults: {istio: {version: 1.30.3}}
networks: {none: {}}
clusters:
  a: {network: none}
  b: {}
  c: {}
meshes:
  m1: {controlPlanes: {cp1: {cluster: a}}}
  m2: {controlPlanes: {cp2: {cluster: b}}}
  m3: {controlPlanes: {cp3: {cluster: c}}}
`)
	checkStructure(t, ex)
	g := graph.Build(ex.t, ex.p)
	var nets []string
	for _, gr := range g.Groups {
		if gr.Kind == graph.GroupNetwork {
			nets = append(nets, gr.ID+"="+gr.Name)
		}
	}
	if want := []string{"net_none=none", "nonet="}; !slices.Equal(nets, want) {
		t.Errorf("network groups %v, want %v", nets, want)
	}
	if got := len(childGroups(g, "nonet")); got != 2 {
		t.Errorf("no-network group holds %d clusters, want 2", got)
	}
}

// TestIDCollisions gives distinct entities whose names sanitize alike
// distinct IDs.
func TestIDCollisions(t *testing.T) {
	ex := compileBytes(t, `apiVersion: meshc.dev/v1alpha1
kind: Topology
metadata: {name: collide}
defaults: {istio: {version: 1.30.3}}
clusters:
  c1: {}
meshes:
  a-b:
    controlPlanes: {c: {cluster: c1, namespace: istio-ab}}
  a:
    controlPlanes: {b-c: {cluster: c1, namespace: istio-a}}
tenants:
  t1: {mesh: a-b, namespaces: [one]}
  t2: {mesh: a, namespaces: [two]}
`)
	checkStructure(t, ex)
	g := graph.Build(ex.t, ex.p)
	var ids []string
	for _, n := range g.Nodes {
		if n.Kind == graph.KindControlPlane {
			ids = append(ids, n.ID)
		}
	}
	slices.Sort(ids)
	if want := []string{"cp_a_b_c", "cp_a_b_c_2"}; !slices.Equal(ids, want) {
		t.Errorf("control plane IDs %v, want %v", ids, want)
	}
}

// TestEscaping quotes what Mermaid and Graphviz would otherwise read as
// syntax.
func TestEscaping(t *testing.T) {
	g := &graph.Graph{
		Name:   `we"ird`,
		Groups: []*graph.Group{{ID: "net_x", Label: `net "x"`, Kind: graph.GroupNetwork}},
		Nodes: []*graph.Node{
			{ID: "n1", Label: []string{`a "quoted" <b> #1 & |pipe|`, `back\slash`}, Kind: graph.KindTenant, Group: "net_x"},
			{ID: "n2", Label: []string{"end"}, Kind: graph.KindTenant, Group: "net_x"},
		},
		Edges: []*graph.Edge{{From: "n1", To: "n2", Label: `rev="x"`, Kind: graph.EdgeTenant, Style: graph.StyleSolid}},
	}
	mmd := string(g.Mermaid())
	for _, want := range []string{
		`n1["a #quot;quoted#quot; #lt;b#gt; #35;1 #amp; #124;pipe#124;<br/>back\slash"]`,
		`subgraph net_x["net #quot;x#quot;"]`,
		`n1 -->|"rev=#quot;x#quot;"| n2`,
	} {
		if !strings.Contains(mmd, want) {
			t.Errorf("Mermaid lacks %s:\n%s", want, mmd)
		}
	}
	dot := string(g.DOT())
	for _, want := range []string{
		`digraph "we\"ird" {`,
		`n1 [label="a \"quoted\" <b> #1 & |pipe|\nback\\slash"`,
		`label="net \"x\"";`,
		`n1 -> n2 [xlabel="rev=\"x\""`,
	} {
		if !strings.Contains(dot, want) {
			t.Errorf("DOT lacks %s:\n%s", want, dot)
		}
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{"cp_a_1": true, "": false, "a-b": false, "a b": false, "é": false, "_": true} {
		if got := graph.ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
	if got := graph.Sanitize("eu-1.x"); got != "eu_1_x" {
		t.Errorf("Sanitize = %q", got)
	}
}

// TestImportDirection keeps graph a leaf: it reads the model and the plan
// and nothing else of meshc's.
func TestImportDirection(t *testing.T) {
	p, err := build.Default.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{"meshc.dev/meshc/compiler/model", "meshc.dev/meshc/compiler/plan"}
	for _, imp := range p.Imports {
		if strings.HasPrefix(imp, "meshc.dev/") && !slices.Contains(allowed, imp) {
			t.Errorf("graph imports %s: only %v are allowed", imp, allowed)
		}
		if strings.Contains(imp, ".") && !strings.HasPrefix(imp, "meshc.dev/") {
			t.Errorf("graph imports %s: graph needs no third-party library", imp)
		}
	}
}
