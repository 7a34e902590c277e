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
	p := &printer{w: bufio.NewWriter(w)}
	switch a.Kind {
	case KindCluster:
		p.cluster(a)
	case KindNamespace:
		p.namespace(a)
	case KindObject:
		p.object(a)
	case KindFile:
		p.file(a)
	}
	return p.w.Flush()
}

type printer struct {
	w *bufio.Writer
}

func (p *printer) line(indent int, format string, args ...any) {
	p.w.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(p.w, format, args...)
	p.w.WriteByte('\n')
}

func (p *printer) section(title string) {
	p.w.WriteByte('\n')
	p.line(0, "%s", title)
}

func (p *printer) refs(indent int, refs []Ref) {
	for _, r := range refs {
		s := "at "
		if pos := r.Pos(); pos != "" {
			s += pos + " "
		}
		s += r.Path
		if r.Default {
			s += " (default)"
		}
		if r.Text != "" {
			s += " | " + r.Text
		}
		p.line(indent, "%s", s)
	}
}

func (p *printer) fact(indent int, f Fact) {
	p.line(indent, "%s", f.Subject)
	p.line(indent+1, "%s", f.Why)
	p.refs(indent+1, f.Sources)
}

func (p *printer) facts(title string, fs []Fact, none string) {
	p.section(title)
	if len(fs) == 0 {
		p.line(1, "%s", none)
	}
	for _, f := range fs {
		p.fact(1, f)
	}
}

func header(a *Answer, what string) string {
	return fmt.Sprintf("%s (topology %s, target %s)", what, a.Topology, a.Target)
}

func (p *printer) cluster(a *Answer) {
	c := a.Cluster
	p.line(0, "%s", header(a, "cluster "+c.Name))
	p.section("network " + c.Network.Subject)
	p.line(1, "%s", c.Network.Why)
	p.refs(1, c.Network.Sources)
	p.section("platform " + c.Platform.Subject)
	p.line(1, "%s", c.Platform.Why)
	p.refs(1, c.Platform.Sources)

	p.section("control planes")
	if len(c.ControlPlanes) == 0 {
		p.line(1, "none: no control plane runs here or manages this cluster")
	}
	for _, cp := range c.ControlPlanes {
		p.fact(1, cp.fact())
	}
	p.facts("meshes", c.Meshes, "none")
	p.facts("namespaces", c.Namespaces, "none")

	p.section("bundle")
	if len(c.Bundle) == 0 {
		p.line(1, "no objects")
	}
	for _, l := range c.Bundle {
		p.line(1, "%s (sync wave %d): %s", l.Layer, l.Wave, l)
	}
	if len(c.Files) > 0 {
		p.line(1, "beside the bundle: %s", strings.Join(c.Files, ", "))
	}

	p.section("CNI")
	p.fact(1, c.CNI)
	p.facts("discovers", c.Discovers, "none: no control plane here watches another cluster")
	p.facts("discovered by", c.DiscoveredBy, "none: no control plane elsewhere watches this cluster")
	p.facts("trust", c.Trust, "none: no intermediate CA under a shared root is needed here")
	p.facts("gateways", c.Gateways, "none")
}

func (p *printer) labels(title string, ls []Label) {
	p.section(title)
	if len(ls) == 0 {
		p.line(1, "none")
	}
	for _, l := range ls {
		p.line(1, "%s=%s", l.Key, l.Value)
		p.line(2, "%s", l.Why)
		p.refs(2, l.Sources)
	}
}

func (p *printer) namespace(a *Answer) {
	n := a.Namespace
	p.line(0, "%s", header(a, fmt.Sprintf("namespace %s in cluster %s", n.Name, n.Cluster)))
	role := n.Role
	if n.Mesh != "" {
		role += ", mesh " + n.Mesh
	}
	p.line(0, "role: %s", role)
	if n.Tenant != "" {
		served := ""
		if n.ControlPlane != "" {
			served = fmt.Sprintf(", served by control plane %s at istio.io/rev=%s", n.ControlPlane, n.Revision)
		}
		p.line(0, "tenant: %s%s", n.Tenant, served)
	}
	p.line(0, "file: %s (layer %s, sync wave %d)", n.File, n.Layer, n.Wave)
	p.facts("why it exists", n.Why, "unknown")
	p.labels("labels", n.Labels)
	p.labels("annotations", n.Annotations)
	p.facts("policies", n.Policies, "none")
	p.section("objects in it")
	if len(n.Objects) == 0 {
		p.line(1, "none")
	}
	for _, o := range n.Objects {
		p.line(1, "%s %s: %s", o.Kind, o.Name, o.File)
	}
}

func (p *printer) object(a *Answer) {
	o := a.Object
	what := fmt.Sprintf("%s %s in cluster %s", o.Kind, o.Name, o.Cluster)
	if o.Namespace != "" {
		what = fmt.Sprintf("%s %s/%s in cluster %s", o.Kind, o.Namespace, o.Name, o.Cluster)
	}
	p.line(0, "%s", header(a, what))
	p.line(0, "apiVersion: %s", o.APIVersion)
	p.line(0, "file: %s", o.File)
	if o.InBundle {
		wave := "none"
		if o.Wave != nil {
			wave = fmt.Sprint(*o.Wave)
		}
		p.line(0, "layer: %s (sync wave %s)", o.Layer, wave)
	} else {
		p.line(0, "layer: none (beside the bundle, not applied by it)")
	}
	if o.Source != nil {
		p.line(0, "source: %s", o.Source.Path)
		p.refs(1, []Ref{*o.Source})
	}
	p.section("rule")
	p.line(1, "%s", o.Rule)
	p.facts("about", o.About, "nothing more")
	if o.Kind == "Namespace" {
		p.line(0, "")
		p.line(0, "see also: namespace/%s/%s (why each label)", o.Cluster, o.Name)
	}
}

func (p *printer) file(a *Answer) {
	f := a.File
	p.line(0, "%s", header(a, fmt.Sprintf("file %s in cluster %s", f.File, f.Cluster)))
	p.section("rule")
	p.line(1, "%s", f.Rule)
	if len(f.About) > 0 {
		p.facts("about", f.About, "")
	}
}
