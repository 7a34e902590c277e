package explain

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteText prints the answer for people: headed sections, each reason
// followed by the topology lines behind it, as
//
//	at FILE:LINE:COL PATH | SOURCE LINE
//
// with "(default)" after a path the topology does not write.
func (a *Answer) WriteText(w io.Writer) error {
	p := &printer{bufio.NewWriter(w)}
	header := func(what string, args ...any) {
		p.line(0, "%s (topology %s, target %s)", fmt.Sprintf(what, args...), a.Topology, a.Target)
	}
	switch c, n, o, f := a.Cluster, a.Namespace, a.Object, a.File; a.Kind {
	case KindCluster:
		header("cluster %s", c.Name)
		p.titled("network "+c.Network.Subject, c.Network)
		p.titled("platform "+c.Platform.Subject, c.Platform)
		p.facts("control planes", mapped(c.ControlPlanes, ControlPlane.fact), "none: no control plane runs here or manages this cluster")
		p.facts("meshes", c.Meshes, "none")
		p.facts("namespaces", c.Namespaces, "none")
		p.section("bundle", len(c.Bundle), "no objects")
		for _, l := range c.Bundle {
			p.line(1, "%s (sync wave %d): %s", l.Layer, l.Wave, l)
		}
		if len(c.Files) > 0 {
			p.line(1, "beside the bundle: %s", strings.Join(c.Files, ", "))
		}
		p.facts("CNI", []Fact{c.CNI}, "")
		p.facts("discovers", c.Discovers, "none: no control plane here watches another cluster")
		p.facts("discovered by", c.DiscoveredBy, "none: no control plane elsewhere watches this cluster")
		p.facts("trust", c.Trust, "none: no intermediate CA under a shared root is needed here")
		p.facts("gateways", c.Gateways, "none")
	case KindNamespace:
		header("namespace %s in cluster %s", n.Name, n.Cluster)
		p.line(0, "role: %s%s", n.Role, prefixed(", mesh ", n.Mesh))
		if n.Tenant != "" {
			served := ""
			switch {
			case n.DataPlaneMode != "":
				served = fmt.Sprintf(", served by control plane %s through ztunnel (istio.io/dataplane-mode=%s)", n.ControlPlane, n.DataPlaneMode)
			case n.ControlPlane != "":
				served = fmt.Sprintf(", served by control plane %s at istio.io/rev=%s", n.ControlPlane, n.Revision)
			}
			p.line(0, "tenant: %s%s", n.Tenant, served)
		}
		p.line(0, "file: %s (layer %s, sync wave %d)", n.File, n.Layer, n.Wave)
		p.facts("why it exists", n.Why, "unknown")
		p.labels("labels", n.Labels)
		p.labels("annotations", n.Annotations)
		p.facts("policies", n.Policies, "none")
		p.section("objects in it", len(n.Objects), "none")
		for _, o := range n.Objects {
			p.line(1, "%s %s: %s", o.Kind, o.Name, o.File)
		}
	case KindObject:
		header("%s %s in cluster %s", o.Kind, strings.TrimPrefix(o.Namespace+"/"+o.Name, "/"), o.Cluster)
		p.line(0, "apiVersion: %s", o.APIVersion)
		p.line(0, "file: %s", o.File)
		switch {
		case !o.InBundle:
			p.line(0, "layer: none (beside the bundle, not applied by it)")
		case o.Wave != nil:
			p.line(0, "layer: %s (sync wave %d)", o.Layer, *o.Wave)
		default:
			p.line(0, "layer: %s (sync wave none)", o.Layer)
		}
		if o.Source != nil {
			p.line(0, "source: %s", o.Source.Path)
			p.refs(1, []Ref{*o.Source})
		}
		p.facts("rule", []Fact{{Subject: o.Rule}}, "")
		p.facts("about", o.About, "nothing more")
		if o.Kind == "Namespace" {
			p.line(0, "\nsee also: namespace/%s/%s (why each label)", o.Cluster, o.Name)
		}
	case KindFile:
		header("file %s in cluster %s", f.File, f.Cluster)
		p.facts("rule", []Fact{{Subject: f.Rule}}, "")
		if len(f.About) > 0 {
			p.facts("about", f.About, "")
		}
	}
	return p.Flush()
}

type printer struct{ *bufio.Writer }

func (p *printer) line(indent int, format string, args ...any) {
	p.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(p, format, args...)
	p.WriteByte('\n')
}

// section starts a section, saying none when it has no entries.
func (p *printer) section(title string, entries int, none string) {
	p.line(0, "\n%s", title)
	if entries == 0 {
		p.line(1, "%s", none)
	}
}

func (p *printer) refs(indent int, refs []Ref) {
	for _, r := range refs {
		s := "at " + prefixed("", r.Pos()+" ") + r.Path
		if r.Default {
			s += " (default)"
		}
		p.line(indent, "%s%s", s, prefixed(" | ", r.Text))
	}
}

// facts prints a section of facts: each subject, then why and the lines
// behind it (a fact without a why is a sentence of its own).
func (p *printer) facts(title string, fs []Fact, none string) {
	p.section(title, len(fs), none)
	for _, f := range fs {
		p.line(1, "%s", f.Subject)
		if f.Why != "" {
			p.line(2, "%s", f.Why)
		}
		p.refs(2, f.Sources)
	}
}

// titled prints a section whose title names the fact's subject.
func (p *printer) titled(title string, f Fact) {
	p.section(title, 1, "")
	p.line(1, "%s", f.Why)
	p.refs(1, f.Sources)
}

func (p *printer) labels(title string, ls []Label) {
	p.section(title, len(ls), "none")
	for _, l := range ls {
		p.line(1, "%s=%s", l.Key, l.Value)
		p.line(2, "%s", l.Why)
		p.refs(2, l.Sources)
	}
}

// prefixed is s after prefix, or "" when s is.
func prefixed(prefix, s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return prefix + s
}
