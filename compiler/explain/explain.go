// Package explain answers "why is this here?" about a compiled topology:
// for a cluster, a namespace or an emitted object (or a rendered file), which
// mesh, control plane and rule put it there, and which topology lines caused
// it. It reads what the pipeline already computed and the topology file's
// bytes, to quote the lines it points at; it decides nothing of its own.
//
// The reasons are the plan's: install kinds, discovery causes, tenant
// placements and each namespace label's source come from package resolve
// through the plan (Plan.Facts), and emit says what in the plan each object
// realises (emit.Resource.For). Explain turns them into sentences.
//
// Import direction: explain imports model, resolve, plan, emit and render;
// it never imports the compiler façade or the command line (the façade
// imports explain, and hands it the parts of a compiler.Result).
package explain

import (
	"bytes"
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
	"meshc.dev/meshc/compiler/render"
	"meshc.dev/meshc/compiler/resolve"
)

// Input is a compiled topology: the parts of a compiler.Result, and the
// bytes of the topology file its positions point into.
type Input struct {
	Topology *model.Topology
	Plan     *plan.Plan
	Output   *emit.Output
	Tree     render.Tree
	// Source is the topology file's content; lines are quoted from it. It
	// may be nil, and then answers carry positions without text.
	Source []byte
}

// Kinds of answers.
const (
	KindCluster   = "cluster"
	KindNamespace = "namespace"
	KindObject    = "object"
	KindFile      = "file"
)

// Answer is what Explain says about one WHAT. Exactly one of Cluster,
// Namespace, Object and File is set, as Kind says.
type Answer struct {
	Topology  string           `json:"topology"`
	Target    string           `json:"target"`
	What      string           `json:"what"`
	Kind      string           `json:"kind"`
	Cluster   *ClusterAnswer   `json:"cluster,omitempty"`
	Namespace *NamespaceAnswer `json:"namespace,omitempty"`
	Object    *ObjectAnswer    `json:"object,omitempty"`
	File      *FileAnswer      `json:"file,omitempty"`
}

// Ref points at a topology path and where it is written.
type Ref struct {
	// Path is the topology path, as diagnostics spell it.
	Path   string `json:"path"`
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Text is the source line at Line, without surrounding blanks.
	Text string `json:"text,omitempty"`
	// Default is set when the value at Path was not written and took its
	// default: the position is then that of its nearest written ancestor.
	Default bool `json:"default,omitempty"`
}

// Pos is the reference's file:line:col, or "" when unknown.
func (r Ref) Pos() string {
	return diag.Pos{File: r.File, Line: r.Line, Column: r.Column}.String()
}

// Fact is one reason: what it is about, why, and the topology lines
// behind it.
type Fact struct {
	Subject string `json:"subject"`
	Why     string `json:"why"`
	Sources []Ref  `json:"sources,omitempty"`
}

// NotFoundError says that WHAT names nothing in the compiled topology, with
// the closest names that do exist.
type NotFoundError struct {
	What        string
	Reason      string
	Suggestions []string
}

func (e *NotFoundError) Error() string {
	s := fmt.Sprintf("cannot explain %q: %s", e.What, e.Reason)
	if len(e.Suggestions) > 0 {
		s += "\n    did you mean: " + strings.Join(e.Suggestions, ", ")
	}
	return s
}

// Forms is the help text listing what Explain accepts.
const Forms = `cluster/<cluster>, namespace/<cluster>/<namespace>, <cluster>/<kind>/<name>, <cluster>/<kind>/<namespace>/<name>, or a file path clusters/<cluster>/...`

// Explain answers what; see Forms for what it accepts. An unknown what is a
// *NotFoundError.
func Explain(in Input, what string) (*Answer, error) {
	x := newExplainer(in)
	a := &Answer{Topology: in.Topology.Metadata.Name, Target: string(in.Output.Target), What: what}
	trimmed := strings.TrimSpace(what)
	if trimmed == "" {
		return nil, &NotFoundError{What: what, Reason: "say what to explain: " + Forms}
	}
	if file, ok := asFilePath(trimmed); ok {
		return x.file(a, file)
	}
	if _, ok := in.Tree[trimmed]; ok {
		return x.file(a, trimmed)
	}
	parts := strings.Split(strings.Trim(trimmed, "/"), "/")
	switch {
	case len(parts) == 2 && parts[0] == "cluster":
		return x.cluster(a, parts[1])
	case len(parts) == 3 && parts[0] == "namespace" && (x.topo.Clusters[parts[1]] != nil || x.topo.Clusters["namespace"] == nil):
		return x.namespace(a, parts[1], parts[2])
	case len(parts) == 3 || len(parts) == 4:
		return x.object(a, parts)
	}
	return nil, x.notFound(what, "not a form meshc explains: use "+Forms, trimmed, x.allNames())
}

// Names lists every WHAT that Explain answers for in, in order: clusters,
// namespaces, then objects. Shell completion offers them.
func Names(in Input) []string { return newExplainer(in).allNames() }

// asFilePath recognises a rendered file's path: clusters/<c>/..., possibly
// under the output folder (out/clusters/<c>/...).
func asFilePath(s string) (string, bool) {
	s = strings.TrimPrefix(path.Clean(strings.ReplaceAll(s, "\\", "/")), "./")
	if strings.HasPrefix(s, "clusters/") {
		return s, true
	}
	if i := strings.Index(s, "/clusters/"); i >= 0 && (strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".md")) {
		return s[i+1:], true
	}
	return "", false
}

// explainer holds the input and the indexes every answer uses.
type explainer struct {
	in      Input
	topo    *model.Topology
	facts   *resolve.Topology // the facts the plan was made from
	lines   [][]byte
	plans   map[string]*plan.Cluster
	objects map[string][]*objRec // by cluster, in emitted order
}

// objRec is one emitted object, or an object in a file beside the bundle
// (an IstioOperator of the istioctl target), with where it is rendered.
type objRec struct {
	Cluster, APIVersion, Kind, Namespace, Name string
	Layer                                      *emit.Layer // nil beside the bundle
	File                                       string
	Object                                     emit.Object // as emitted, without render's labels
	For                                        any         // what in the plan it realises (emit.Resource.For)
}

func newExplainer(in Input) *explainer {
	x := &explainer{in: in, topo: in.Topology, facts: in.Plan.Facts, plans: map[string]*plan.Cluster{}, objects: map[string][]*objRec{}}
	if in.Source != nil {
		x.lines = bytes.Split(in.Source, []byte("\n"))
	}
	for _, pc := range in.Plan.Clusters {
		x.plans[pc.Name] = pc
	}
	add := func(cluster string, layer *emit.Layer, file string, o emit.Object, realises any) {
		md, _ := o["metadata"].(map[string]any)
		rec := &objRec{Cluster: cluster, Layer: layer, File: path.Join(render.ClusterDir(cluster), file), Object: o, For: realises}
		rec.APIVersion, _ = o["apiVersion"].(string)
		rec.Kind, _ = o["kind"].(string)
		rec.Name, _ = md["name"].(string)
		rec.Namespace, _ = md["namespace"].(string)
		x.objects[cluster] = append(x.objects[cluster], rec)
	}
	for _, c := range in.Output.Clusters {
		for i, r := range c.Resources {
			if name, err := render.FileName(r.Object); err == nil {
				add(c.Name, &c.Resources[i].Layer, path.Join(r.Layer.Dir, name), r.Object, r.For)
			}
		}
		for _, f := range c.Files {
			if f.Object != nil {
				add(c.Name, nil, f.Path, f.Object, f.For)
			}
		}
	}
	return x
}

// ref locates p in the topology and quotes its line.
func (x *explainer) ref(p model.Path) Ref {
	pos := x.topo.Pos(p)
	r := Ref{Path: p.String(), File: pos.File, Line: pos.Line, Column: pos.Column}
	r.Default = len(p) > 1 && pos.Line != 0 && x.topo.Pos(p[:len(p)-1]) == pos
	if r.Line > 0 && r.Line <= len(x.lines) {
		r.Text = strings.TrimSpace(string(x.lines[r.Line-1]))
	}
	return r
}

func (x *explainer) refs(ps ...model.Path) (out []Ref) {
	for _, p := range ps {
		out = append(out, x.ref(p))
	}
	return out
}

// notFound is the error for what, with the candidates closest to asked:
// at most three within a small edit distance, or every candidate when
// there are few and none is close.
func (x *explainer) notFound(what, reason, asked string, candidates []string) error {
	type scored struct {
		s string
		d int
	}
	low := strings.ToLower(asked)
	limit := max(2, min(len(asked)/4, 5))
	var close []scored
	for _, c := range candidates {
		d := diag.EditDistance(low, strings.ToLower(c))
		if d <= limit || len(low) >= 3 && strings.Contains(strings.ToLower(c), low) {
			close = append(close, scored{c, d})
		}
	}
	slices.SortFunc(close, func(a, b scored) int { return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.s, b.s)) })
	var out []string
	for _, s := range close {
		// Only the closest few: a near miss hides the farther ones.
		if len(out) == 3 || s.d > close[0].d+2 {
			break
		}
		if !slices.Contains(out, s.s) {
			out = append(out, s.s)
		}
	}
	if len(out) == 0 && len(candidates) <= 8 {
		out = slices.Compact(slices.Sorted(slices.Values(candidates)))
	}
	return &NotFoundError{What: what, Reason: reason, Suggestions: out}
}

// names lists the WHATs of every cluster, namespace and object.
func (x *explainer) names() (clusters, namespaces, objects []string) {
	for _, c := range model.SortedKeys(x.topo.Clusters) {
		clusters = append(clusters, "cluster/"+c)
	}
	for _, pc := range x.in.Plan.Clusters {
		for _, ns := range pc.Namespaces {
			namespaces = append(namespaces, "namespace/"+pc.Name+"/"+ns.Name)
		}
	}
	for _, c := range model.SortedKeys(x.objects) {
		for _, o := range x.objects[c] {
			objects = append(objects, o.id())
		}
	}
	return clusters, namespaces, objects
}

// allNames lists every WHAT that has an answer, in order.
func (x *explainer) allNames() []string {
	c, n, o := x.names()
	return slices.Concat(c, n, o)
}

// id is the object's full WHAT: <cluster>/<kind>/[<namespace>/]<name>.
func (o *objRec) id() string {
	return strings.Join(slices.DeleteFunc([]string{o.Cluster, strings.ToLower(o.Kind), o.Namespace, o.Name}, func(s string) bool { return s == "" }), "/")
}

// joinNames lists names: "a", "a and b", "a, b and c".
func joinNames(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
