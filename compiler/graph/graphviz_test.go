package graph_test

import (
	"bytes"
	"html"
	"os/exec"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler/graph"
)

// TestGraphvizRenders lays out every example with Graphviz, when it is
// installed: dot accepts the DOT without a warning, and every node and
// every edge label is in the picture. Without Graphviz it skips.
func TestGraphvizRenders(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("Graphviz is not installed (no dot in PATH)")
	}
	for _, ex := range examples(t) {
		t.Run(ex.name, func(t *testing.T) {
			g := graph.Build(ex.t, ex.p)
			cmd := exec.Command(dot, "-Tsvg")
			cmd.Stdin = bytes.NewReader(g.DOT())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("dot -Tsvg: %v\n%s", err, stderr.Bytes())
			}
			if stderr.Len() > 0 {
				t.Errorf("dot warns:\n%s", stderr.Bytes())
			}
			svg := html.UnescapeString(string(out))
			for _, n := range g.Nodes {
				if !strings.Contains(svg, "<title>"+n.ID+"</title>") {
					t.Errorf("node %s is not drawn", n.ID)
				}
			}
			for _, e := range g.Edges {
				if !strings.Contains(svg, "<title>"+e.From+"&#45;&gt;"+e.To+"</title>") && !strings.Contains(svg, "<title>"+e.From+"->"+e.To+"</title>") {
					t.Errorf("edge %s -> %s is not drawn", e.From, e.To)
				}
				if !strings.Contains(svg, ">"+e.Label+"</text>") {
					t.Errorf("edge %s -> %s: label %q is not drawn", e.From, e.To, e.Label)
				}
			}
		})
	}
}

// TestFleetGraphReadable keeps the 4-cluster, 3-network example readable:
// one tenant edge per group of tenants a control plane serves alike in a
// cluster, and labels drawn beside their edges (xlabel), not laid out as
// nodes of their own.
func TestFleetGraphReadable(t *testing.T) {
	var g *graph.Graph
	for _, ex := range examples(t) {
		if ex.name == "fleet-three-networks" {
			g = graph.Build(ex.t, ex.p)
		}
	}
	if g == nil {
		t.Fatal("no example fleet-three-networks")
	}
	tenantEdges := map[string]int{}
	for _, e := range g.Edges {
		if e.Kind == graph.EdgeTenant {
			tenantEdges[g.Node(e.From).Cluster]++
		}
	}
	// eu-1 serves tenants of two meshes; every other cluster one group.
	want := map[string]int{"ap-1": 1, "eu-1": 2, "eu-2": 1, "us-1": 1}
	for c, n := range want {
		if tenantEdges[c] != n {
			t.Errorf("cluster %s: %d tenant edges, want %d", c, tenantEdges[c], n)
		}
	}
	if dot := string(g.DOT()); strings.Contains(dot, " [label=\"istio.io/rev") || !strings.Contains(dot, "forcelabels=true") {
		t.Errorf("edge labels are not xlabels:\n%s", dot)
	}
}
