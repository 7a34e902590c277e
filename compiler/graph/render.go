package graph

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// colour is a fill and a stroke.
type colour struct{ fill, stroke string }

// palette colours meshes in order; it repeats past its end (the legend
// names every mesh, so a repeated colour is still readable).
var palette = []colour{
	{"#dbeafe", "#1d4ed8"}, // blue
	{"#dcfce7", "#15803d"}, // green
	{"#fef3c7", "#b45309"}, // amber
	{"#fce7f3", "#be185d"}, // pink
	{"#ede9fe", "#6d28d9"}, // violet
	{"#cffafe", "#0e7490"}, // cyan
	{"#fee2e2", "#b91c1c"}, // red
	{"#ecfccb", "#4d7c0f"}, // lime
}

var (
	neutral      = colour{"#f3f4f6", "#4b5563"}
	textColour   = "#111827"
	networkLine  = "#9ca3af"
	clusterLine  = "#6b7280"
	clusterFill  = "#ffffff"
	networkFill  = "#f9fafb"
	legendFill   = "#ffffff"
	defaultEdges = "#374151"
)

// meshColour is the colour of mesh, neutral for none.
func (g *Graph) meshColour(mesh string) colour {
	for i, m := range g.Meshes {
		if m == mesh {
			return palette[i%len(palette)]
		}
	}
	return neutral
}

// children returns the groups directly inside parent ("" for the top level)
// and the nodes in group, in the graph's order.
func (g *Graph) children(parent string) []*Group {
	var out []*Group
	for _, gr := range g.Groups {
		if gr.Parent == parent {
			out = append(out, gr)
		}
	}
	return out
}

func (g *Graph) nodesIn(group string) []*Node {
	var out []*Node
	for _, n := range g.Nodes {
		if n.Group == group {
			out = append(out, n)
		}
	}
	return out
}

// mermaidText escapes a label for a double-quoted Mermaid string, with
// Mermaid's entity codes.
var mermaidText = strings.NewReplacer(
	"#", "#35;", `"`, "#quot;", "<", "#lt;", ">", "#gt;", "&", "#amp;",
	"`", "#96;", "|", "#124;", "\n", " ", "\r", " ",
)

func mermaidLabel(lines []string) string {
	esc := make([]string, len(lines))
	for i, l := range lines {
		esc[i] = mermaidText.Replace(l)
	}
	return `"` + strings.Join(esc, "<br/>") + `"`
}

// mermaidShape wraps a quoted label in the brackets of each kind's shape.
func mermaidShape(k Kind, label string) string {
	switch k {
	case KindCluster:
		return "[[" + label + "]]"
	case KindControlPlane, KindExternalControlPlane:
		return "{{" + label + "}}"
	case KindEastWestGateway, KindIngressGateway:
		return "([" + label + "])"
	case KindLoadBalancer:
		return "(" + label + ")"
	default:
		return "[" + label + "]"
	}
}

// Mermaid writes the graph as a Mermaid flowchart (left to right), which
// GitHub renders in Markdown: a subgraph per network holding a subgraph per
// cluster, a class per mesh (its colour) and per kind, a legend of meshes.
func (g *Graph) Mermaid() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "---\ntitle: %s\n---\nflowchart LR\n", strconv.Quote("topology "+g.Name))
	var walk func(parent, indent string)
	walk = func(parent, indent string) {
		for _, n := range g.nodesIn(parent) {
			fmt.Fprintf(&b, "%s%s%s\n", indent, n.ID, mermaidShape(n.Kind, mermaidLabel(n.Label)))
		}
		for _, gr := range g.children(parent) {
			fmt.Fprintf(&b, "%ssubgraph %s[%s]\n", indent, gr.ID, mermaidLabel([]string{gr.Label}))
			walk(gr.ID, indent+"  ")
			fmt.Fprintf(&b, "%send\n", indent)
		}
	}
	walk("", "  ")

	for _, e := range g.Edges {
		fmt.Fprintf(&b, "  %s %s|%s| %s\n", e.From, mermaidArrow(e), mermaidLabel([]string{e.Label}), e.To)
	}

	// Classes: one per mesh (its colour), clusters, external control
	// planes (dashed border), legend entries.
	meshClass := g.meshClasses()
	fmt.Fprintf(&b, "  classDef k_cluster fill:%s,stroke:%s,color:%s\n", neutral.fill, neutral.stroke, textColour)
	for _, m := range g.Meshes {
		c := g.meshColour(m)
		fmt.Fprintf(&b, "  classDef %s fill:%s,stroke:%s,color:%s\n", meshClass[m], c.fill, c.stroke, textColour)
	}
	members := map[string][]string{}
	for _, n := range g.Nodes {
		switch {
		case n.Kind == KindCluster:
			members["k_cluster"] = append(members["k_cluster"], n.ID)
		case n.Mesh != "":
			members[meshClass[n.Mesh]] = append(members[meshClass[n.Mesh]], n.ID)
		}
		if n.Kind == KindExternalControlPlane {
			members["k_external"] = append(members["k_external"], n.ID)
		}
	}
	classes := []string{"k_cluster"}
	for _, m := range g.Meshes {
		classes = append(classes, meshClass[m])
	}
	classes = append(classes, "k_external")
	if len(members["k_external"]) > 0 {
		fmt.Fprintf(&b, "  classDef k_external stroke-dasharray:6 4,stroke-width:2px\n")
	}
	for _, c := range classes {
		if ids := members[c]; len(ids) > 0 {
			slices.Sort(ids)
			fmt.Fprintf(&b, "  class %s %s\n", strings.Join(ids, ","), c)
		}
	}
	for _, gr := range g.Groups {
		switch gr.Kind {
		case GroupNetwork:
			fmt.Fprintf(&b, "  style %s fill:%s,stroke:%s,stroke-dasharray:4 4\n", gr.ID, networkFill, networkLine)
		case GroupCluster:
			fmt.Fprintf(&b, "  style %s fill:%s,stroke:%s\n", gr.ID, clusterFill, clusterLine)
		case GroupLegend:
			fmt.Fprintf(&b, "  style %s fill:%s,stroke:%s\n", gr.ID, legendFill, networkLine)
		}
	}
	// Edges take their mesh's colour; linkStyle counts edges in order.
	byMesh := map[string][]string{}
	for i, e := range g.Edges {
		byMesh[e.Mesh] = append(byMesh[e.Mesh], strconv.Itoa(i))
	}
	for _, m := range append([]string{""}, g.Meshes...) {
		if idx := byMesh[m]; len(idx) > 0 {
			stroke := defaultEdges
			if m != "" {
				stroke = g.meshColour(m).stroke
			}
			fmt.Fprintf(&b, "  linkStyle %s stroke:%s,color:%s\n", strings.Join(idx, ","), stroke, stroke)
		}
	}
	return b.Bytes()
}

// meshClasses names each mesh's Mermaid class: m_<mesh>, unique.
func (g *Graph) meshClasses() map[string]string {
	ids := newIDAllocator()
	out := map[string]string{}
	for _, m := range g.Meshes {
		out[m] = ids.id("m", m)
	}
	return out
}

func mermaidArrow(e *Edge) string {
	var a string
	switch e.Style {
	case StyleDashed:
		a = "-.->"
	case StyleThick:
		a = "==>"
	default:
		a = "-->"
	}
	if e.Both {
		a = "<" + a
	}
	return a
}

// dotText escapes a line for a double-quoted DOT string.
var dotText = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")

func dotString(lines ...string) string {
	esc := make([]string, len(lines))
	for i, l := range lines {
		esc[i] = dotText.Replace(l)
	}
	return `"` + strings.Join(esc, `\n`) + `"`
}

func dotShape(k Kind) string {
	switch k {
	case KindCluster:
		return "box3d"
	case KindControlPlane, KindExternalControlPlane:
		return "hexagon"
	case KindEastWestGateway, KindIngressGateway:
		return "cds"
	case KindLoadBalancer:
		return "oval"
	case KindTenant:
		return "folder"
	default:
		return "box"
	}
}

// DOT writes the graph for Graphviz: a digraph laid out left to right, a
// cluster subgraph (subgraph cluster_<id>) per network holding one per
// cluster, nodes and edges coloured by mesh, a legend of meshes.
func (g *Graph) DOT() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "digraph %s {\n", dotString(g.Name))
	fmt.Fprintf(&b, "\tgraph [rankdir=LR, compound=true, fontname=\"Helvetica\", fontsize=16, label=%s, labelloc=t, forcelabels=true];\n", dotString("topology "+g.Name))
	fmt.Fprintf(&b, "\tnode [fontname=\"Helvetica\", fontsize=11, style=filled, fontcolor=%s];\n", dotString(textColour))
	fmt.Fprintf(&b, "\tedge [fontname=\"Helvetica\", fontsize=9];\n")
	var walk func(parent, indent string)
	walk = func(parent, indent string) {
		for _, n := range g.nodesIn(parent) {
			c := g.meshColour(n.Mesh)
			style := "filled"
			switch n.Kind {
			case KindExternalControlPlane:
				style = "filled,dashed"
			case KindMesh:
				style = "filled,rounded"
			}
			fmt.Fprintf(&b, "%s%s [label=%s, shape=%s, style=%s, fillcolor=%s, color=%s];\n",
				indent, n.ID, dotString(n.Label...), dotShape(n.Kind), dotString(style), dotString(c.fill), dotString(c.stroke))
		}
		for _, gr := range g.children(parent) {
			fmt.Fprintf(&b, "%ssubgraph cluster_%s {\n", indent, gr.ID)
			in := indent + "\t"
			fmt.Fprintf(&b, "%slabel=%s;\n", in, dotString(gr.Label))
			switch gr.Kind {
			case GroupNetwork:
				fmt.Fprintf(&b, "%sstyle=\"dashed,rounded,filled\";\n%sfillcolor=%s;\n%scolor=%s;\n", in, in, dotString(networkFill), in, dotString(networkLine))
			case GroupCluster:
				fmt.Fprintf(&b, "%sstyle=\"rounded,filled\";\n%sfillcolor=%s;\n%scolor=%s;\n", in, in, dotString(clusterFill), in, dotString(clusterLine))
			default:
				fmt.Fprintf(&b, "%sstyle=\"rounded,filled\";\n%sfillcolor=%s;\n%scolor=%s;\n", in, in, dotString(legendFill), in, dotString(networkLine))
			}
			walk(gr.ID, in)
			fmt.Fprintf(&b, "%s}\n", indent)
		}
	}
	walk("", "\t")
	for _, e := range g.Edges {
		stroke := defaultEdges
		if e.Mesh != "" {
			stroke = g.meshColour(e.Mesh).stroke
		}
		// xlabel, placed beside its edge once the layout is done: a label
		// takes part in the layout as a node of its own, which dot lines
		// up in a rank far from the edge once a fleet has a few of them.
		attrs := []string{"xlabel=" + dotString(e.Label), "color=" + dotString(stroke), "fontcolor=" + dotString(stroke)}
		switch e.Style {
		case StyleDashed:
			attrs = append(attrs, "style=dashed")
		case StyleThick:
			attrs = append(attrs, "style=bold", "penwidth=2")
		}
		if e.Both {
			attrs = append(attrs, "dir=both")
		}
		fmt.Fprintf(&b, "\t%s -> %s [%s];\n", e.From, e.To, strings.Join(attrs, ", "))
	}
	b.WriteString("}\n")
	return b.Bytes()
}
