package charts

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// A fleet's releases of one chart differ mostly in the names of things:
// the cluster, mesh, network, revision, release and namespace. Helm's
// template engine costs tens of milliseconds a release, so each release is
// rendered once per shape: its identity strings (atoms) are replaced by
// placeholders in the release name, namespace and values, the result is
// rendered once, and every release of that shape gets the rendered
// objects with the placeholders replaced back by its own atoms. Releases
// alike in everything render once.
//
// That is only right when the chart treats atoms as opaque text: it
// prints them, joins them with other text, but never compares, measures
// or hashes them. Atoms are kept to plain lower-case names that are not
// a string the chart itself writes (so that `eq .Values.revision
// "default"` cannot tell a placeholder from an atom differently for two
// releases), and a guard checks it: the first release of a shape is
// rendered in full, and the shape, rendered when a release with other
// atoms comes, must give it byte for byte before any release uses the
// shape (a shape that differs renders every release in full). Releases
// with the same atoms as the first are the same release (the placeholders
// give back the atoms they stand for), and get copies of its full render:
// the base chart's CRDs, the same for every cluster, render once, not a
// second time with placeholders. Every guardEvery-th release
// after it is rendered both ways and compared too (a difference then fails
// the compilation: releases were rendered from the shape).

// identityPaths are the value paths of Istio's charts holding names of
// things. Strings equal to one of their values, or containing one,
// anywhere in the values are rewritten (a discovery selector naming the
// mesh, an injection path naming the cluster and network).
var identityPaths = [][]string{
	{"global", "istioNamespace"},
	{"global", "meshID"},
	{"global", "multiCluster", "clusterName"},
	{"global", "network"},
	{"global", "remotePilotAddress"},
	{"revision"},
	{"defaultRevision"},
}

// guardEvery is how often, after the first, a release rendered from its
// shape is also rendered in full and compared: every guardEvery-th release
// with atoms of its own.
var guardEvery = 64

// atomPattern is what an atom may look like: a DNS name, which YAML reads
// as a plain string wherever a template prints it.
var atomPattern = regexp.MustCompile(`^[a-z]([-a-z0-9.]*[a-z0-9])?$`)

// yamlWords are plain scalars YAML 1.1 reads as something other than a
// string.
var yamlWords = map[string]bool{
	"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true, "nan": true, "inf": true,
}

// shape is the rendering of one shape, shared by its releases.
type shape struct {
	mu sync.Mutex
	// without is the kind of object the shape's releases leave out (see
	// RenderWithout): part of the shape's key.
	without string
	// first is the first release of the shape, rendered in full: a shape
	// of one release costs one render, as before shapes. Its atoms and
	// its objects, as rendered (callers get copies of them), stay until a
	// release with other atoms builds the shape and checks it against
	// them; releases with the same atoms get copies of them too.
	first     []string
	firstObjs []map[string]any
	// built is set once objs and parts hold the shape's rendering.
	built bool
	objs  []map[string]any // with placeholders
	// parts holds, for each object, its top-level fields that hold a
	// placeholder, as instantiate copies them: the other fields are
	// shared by every release of the shape.
	parts []map[string]*part
	// checked holds the atoms of the releases seen: rendering is
	// deterministic, so the same atoms need no second check.
	checked map[string]bool
	// full is set once a full render differed from the substituted one:
	// every release of the shape then renders in full.
	full bool
}

// placeholder stands for the i-th atom of a release: lower case and plain,
// like the atoms, and never a prefix of another placeholder.
func placeholder(i int) string { return fmt.Sprintf(placeholderMark+"%dz", i) }

const placeholderMark = "zmeshcatom"

// renderShaped renders a release through its shape (see above).
func (s *Set) renderShaped(without, name, release, namespace string, values map[string]any) ([]map[string]any, error) {
	c := s.charts[name]
	if c == nil {
		return nil, s.missing(name)
	}
	atoms := s.atoms(c, release, namespace, values)
	if mentions(values, placeholderMark) {
		return s.renderWithout(without, name, release, namespace, values)
	}
	var rev []string
	for i, a := range atoms {
		rev = append(rev, placeholder(i), a)
	}
	fromShape := strings.NewReplacer(rev...)
	sRelease, sNamespace := toPlaceholders(release, atoms), toPlaceholders(namespace, atoms)
	sValues := valuesToPlaceholders(values, atoms)
	key, err := json.Marshal([]any{name, without, sRelease, sNamespace, sValues})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key)
	s.mu.Lock()
	sh := s.shapes[sum]
	if sh == nil {
		sh = &shape{without: without}
		s.shapes[sum] = sh
	}
	s.mu.Unlock()
	tuple := strings.Join(atoms, "\x00")
	sh.mu.Lock()
	if !sh.built && !sh.full {
		// The shape is set up under its lock: its other releases wait.
		if sh.checked == nil {
			out, err := s.firstOfShape(sh, atoms, name, release, namespace, values)
			sh.mu.Unlock()
			return out, err
		}
		if slices.Equal(atoms, sh.first) {
			out := ownMetadata(sh.firstObjs)
			sh.mu.Unlock()
			return out, nil
		}
		s.buildShape(sh, name, sRelease, sNamespace, sValues)
	}
	guard := !sh.checked[tuple] && len(sh.checked)%guardEvery == 0
	sh.checked[tuple] = true
	full := sh.full
	sh.mu.Unlock()
	if full {
		return s.renderWithout(without, name, release, namespace, values)
	}
	out := instantiate(sh, fromShape)
	if !guard {
		return out, nil
	}
	want, err := s.renderWithout(without, name, release, namespace, values)
	if err != nil {
		return nil, err
	}
	if !sameObjects(want, out) {
		// Other releases of this shape were rendered from it already:
		// nothing of this compilation can be trusted.
		return nil, fmt.Errorf("chart %s, release %s in %s renders differently in full than from the shape of earlier releases (meshc's mistake: the chart treats a name as more than text)", name, release, namespace)
	}
	return out, nil
}

// firstOfShape renders the first release of a shape in full and keeps what
// checking the shape needs. A release without atoms is its own shape: its
// render is the shape's, built at once.
func (s *Set) firstOfShape(sh *shape, atoms []string, name, release, namespace string, values map[string]any) ([]map[string]any, error) {
	out, err := s.renderWithout(sh.without, name, release, namespace, values)
	if err != nil {
		return nil, err
	}
	sh.checked = map[string]bool{strings.Join(atoms, "\x00"): true}
	if len(atoms) == 0 {
		sh.setObjects(out)
		return instantiate(sh, strings.NewReplacer()), nil
	}
	sh.first, sh.firstObjs = atoms, out
	return ownMetadata(out), nil
}

// buildShape renders a shape with placeholders, when a release with atoms
// other than the first's comes, and checks it against the first release's
// full render: a shape that differs renders every release in full.
func (s *Set) buildShape(sh *shape, name, sRelease, sNamespace string, sValues map[string]any) {
	defer func() { sh.first, sh.firstObjs = nil, nil }()
	objs, err := s.renderWithout(sh.without, name, sRelease, sNamespace, sValues)
	if err != nil {
		sh.full = true // the placeholders broke it: render in full
		return
	}
	sh.setObjects(objs)
	var rev []string
	for i, a := range sh.first {
		rev = append(rev, placeholder(i), a)
	}
	if !sameObjects(instantiate(sh, strings.NewReplacer(rev...)), sh.firstObjs) {
		sh.full = true
		s.mu.Lock()
		s.fullShapes++
		s.mu.Unlock()
	}
}

// setObjects makes objs the shape's rendering.
func (sh *shape) setObjects(objs []map[string]any) {
	sh.objs, sh.built = objs, true
	for _, o := range objs {
		d := map[string]*part{}
		for k, v := range o {
			if p := partOf(v); p != nil || strings.Contains(k, placeholderMark) {
				if p == nil {
					p = &part{fixed: v}
				}
				d[k] = p
			}
		}
		sh.parts = append(sh.parts, d)
	}
}

// ownMetadata copies objs for a caller: each object's metadata is its own
// to change, and the rest is shared (see Render).
func ownMetadata(objs []map[string]any) []map[string]any {
	out := make([]map[string]any, len(objs))
	for i, o := range objs {
		obj := maps.Clone(o)
		if md, ok := obj["metadata"]; ok {
			obj["metadata"] = runtime.DeepCopyJSONValue(md)
		}
		out[i] = obj
	}
	return out
}

// sameObjects compares two renders byte for byte, as JSON.
func sameObjects(a, b []map[string]any) bool {
	x, errX := json.Marshal(a)
	y, errY := json.Marshal(b)
	return errX == nil && errY == nil && bytes.Equal(x, y)
}

// toPlaceholders replaces every atom in s that stands as a name of its own
// (not inside a longer name: "r" in "docker.io" is no atom) by its
// placeholder.
func toPlaceholders(s string, atoms []string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if i == 0 || !nameByte(s[i-1]) {
			matched := false
			for n, a := range atoms {
				if strings.HasPrefix(s[i:], a) && (i+len(a) == len(s) || !nameByte(s[i+len(a)])) {
					b.WriteString(placeholder(n))
					i += len(a)
					matched = true
					break
				}
			}
			if matched {
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// nameByte tells whether c can continue a name: then an atom next to it
// is part of a longer name.
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// valuesToPlaceholders copies values with toPlaceholders applied to every
// string; keys are the chart's structure, and stay.
func valuesToPlaceholders(v map[string]any, atoms []string) map[string]any {
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(v))
			for k, x := range v {
				out[k] = walk(x)
			}
			return out
		case []any:
			out := make([]any, len(v))
			for i, x := range v {
				out[i] = walk(x)
			}
			return out
		case string:
			return toPlaceholders(v, atoms)
		}
		return v
	}
	out, _ := walk(v).(map[string]any)
	return out
}

// mentions reports whether any string or key of v contains s.
func mentions(v any, s string) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if strings.Contains(k, s) || mentions(x, s) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if mentions(x, s) {
				return true
			}
		}
	case string:
		return strings.Contains(v, s)
	}
	return false
}

// atoms returns the identity strings of a release that may be rendered as
// placeholders, longest first (so that a release name is replaced whole
// before the revision inside it).
func (s *Set) atoms(c *chart.Chart, release, namespace string, values map[string]any) []string {
	literals := s.literals(c)
	seen := map[string]bool{}
	var out []string
	add := func(a string) {
		if seen[a] || !atomPattern.MatchString(a) || yamlWords[a] || literals[a] {
			return
		}
		seen[a] = true
		out = append(out, a)
	}
	add(release)
	add(namespace)
	for _, p := range identityPaths {
		var v any = values
		for _, k := range p {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		if a, ok := v.(string); ok {
			add(a)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	return out
}

// literalPattern finds the string literals of a chart's templates.
var literalPattern = regexp.MustCompile(`"((?:[^"\\\n]|\\.)*)"`)

// literals returns every quoted string a chart's templates (its
// dependencies' too) write: an atom equal to one of them could be compared
// with it, and is not rendered as a placeholder.
func (s *Set) literals(c *chart.Chart) map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.chartLiterals[c]; ok {
		return l
	}
	l := map[string]bool{}
	var walk func(c *chart.Chart)
	walk = func(c *chart.Chart) {
		for _, t := range c.Templates {
			for _, m := range literalPattern.FindAllSubmatch(t.Data, -1) {
				l[string(m[1])] = true
			}
		}
		for _, d := range c.Dependencies() {
			walk(d)
		}
	}
	walk(c)
	s.chartLiterals[c] = l
	return l
}

// instantiate copies a shape's objects with their placeholders replaced.
// What holds no placeholder is shared with the shape, not copied: a CRD's
// schema is hundreds of kilobytes, and an injection template a hundred.
// A top-level field that holds one is a value of each release's own (the
// YAML writer shares the text of a field that several objects hold). Each
// object's metadata is always the caller's own.
func instantiate(sh *shape, r *strings.Replacer) []map[string]any {
	out := make([]map[string]any, len(sh.objs))
	for i, o := range sh.objs {
		obj := make(map[string]any, len(o))
		for k, v := range o {
			if k == "metadata" {
				v = replaceStrings(v, r)
			} else if p := sh.parts[i][k]; p != nil {
				k, v = replace(k, r), p.instantiate(r)
			}
			obj[k] = v
		}
		out[i] = obj
	}
	return out
}

// part is a value of a shape's objects that holds a placeholder, ready
// for instantiate: a string to replace in, or a map or list to copy whose
// parts holding none are shared.
type part struct {
	// fixed is a value below a map or list that holds no placeholder.
	fixed any
	str   string
	isStr bool
	// A map's keys and values, or a list's items (keys nil).
	keys   []string
	values []*part
	isList bool
}

// partOf returns v as a part, or nil when v holds no placeholder.
func partOf(v any) *part {
	switch v := v.(type) {
	case map[string]any:
		p := &part{}
		dirty := false
		for k, x := range v {
			c := partOf(x)
			if c != nil || strings.Contains(k, placeholderMark) {
				dirty = true
			}
			if c == nil {
				c = &part{fixed: x}
			}
			p.keys = append(p.keys, k)
			p.values = append(p.values, c)
		}
		if !dirty {
			return nil
		}
		return p
	case []any:
		p := &part{isList: true}
		dirty := false
		for _, x := range v {
			c := partOf(x)
			if c != nil {
				dirty = true
			} else {
				c = &part{fixed: x}
			}
			p.values = append(p.values, c)
		}
		if !dirty {
			return nil
		}
		return p
	case string:
		if strings.Contains(v, placeholderMark) {
			return &part{str: v, isStr: true}
		}
	}
	return nil
}

// instantiate returns the part's value with r applied: a new map or list
// for one that holds a placeholder, the shape's own value for one that
// holds none.
func (p *part) instantiate(r *strings.Replacer) any {
	switch {
	case p.isStr:
		return r.Replace(p.str)
	case p.isList:
		out := make([]any, len(p.values))
		for i, c := range p.values {
			out[i] = c.instantiate(r)
		}
		return out
	case p.keys != nil:
		out := make(map[string]any, len(p.keys))
		for i, k := range p.keys {
			out[replace(k, r)] = p.values[i].instantiate(r)
		}
		return out
	}
	return p.fixed
}

// replaceStrings copies a JSON-shaped value with r applied to every string
// and map key that holds a placeholder.
func replaceStrings(v any, r *strings.Replacer) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[replace(k, r)] = replaceStrings(x, r)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = replaceStrings(x, r)
		}
		return out
	case string:
		return replace(v, r)
	}
	return v
}

// replace applies r to s if s holds a placeholder: most strings hold none,
// and looking is cheaper than replacing.
func replace(s string, r *strings.Replacer) string {
	if !strings.Contains(s, placeholderMark) {
		return s
	}
	return r.Replace(s)
}

// parsed returns the objects of one rendered template file, parsing each
// distinct text once: the base chart prints its megabyte of CRDs
// verbatim into every release's output. Documents that are of kind
// without beyond doubt (ofKind) are not parsed, and not returned.
func (s *Set) parsed(content, without string) ([]map[string]any, error) {
	h := sha256.New()
	h.Write([]byte(without))
	h.Write([]byte{0})
	h.Write([]byte(content))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	s.mu.Lock()
	p, ok := s.parses[sum]
	if !ok {
		p = &parse{}
		s.parses[sum] = p
	}
	s.mu.Unlock()
	p.once.Do(func() { p.objs, p.err = parseDocs(content, without) })
	return p.objs, p.err
}

type parse struct {
	once sync.Once
	objs []map[string]any
	err  error
}

// parseDocs splits rendered template output into objects, leaving out the
// documents that are of kind without beyond doubt, unparsed.
func parseDocs(content, without string) ([]map[string]any, error) {
	var out []map[string]any
	for _, doc := range strings.Split(content, "\n---") {
		if without != "" && ofKind(doc, without) {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, err
		}
		if obj["kind"] != nil {
			out = append(out, obj)
		}
	}
	return out, nil
}

// ofKind reports whether a YAML document is, beyond doubt, an object of
// kind without reading it whole: its first lines other than blank lines
// and comments are "apiVersion: ..." and "kind: <kind>" (in either
// order), keys of a block mapping at the document's top level, the line
// after them starts another such key, and no other line of the document
// could be a second kind (a key "kind" at the top level, quoted or not,
// or an explicit key). A document this cannot vouch for is parsed.
//
// The first line is what follows the "---" that split it off.
func ofKind(doc, kind string) bool {
	var head []string // the first three lines that say something
	first := true
	for rest := doc; rest != "" && len(head) < 3; first = false {
		line, after, _ := strings.Cut(rest, "\n")
		rest = after
		if first && doc != "" && line != "" && line[0] != ' ' && line[0] != '#' {
			return false // "--- text": a document on the separator's line
		}
		if t := strings.TrimLeft(line, " \t"); t == "" || t[0] == '#' {
			continue
		}
		head = append(head, line)
	}
	if len(head) < 3 {
		return false
	}
	apiVersion, kindLine := head[0], head[1]
	if strings.HasPrefix(apiVersion, "kind:") {
		apiVersion, kindLine = kindLine, apiVersion
	}
	if kindLine != "kind: "+kind || !plainKey(apiVersion, "apiVersion") || !startsKey(head[2]) {
		return false
	}
	// One top-level kind only: yaml refuses a second, and must still.
	seen := 0
	for rest := doc; rest != ""; {
		line, after, _ := strings.Cut(rest, "\n")
		rest = after
		if strings.HasPrefix(line, "?") || strings.HasPrefix(strings.TrimLeft(line, `"'`), "kind") {
			if seen++; seen > 1 || line != kindLine {
				return false
			}
		}
	}
	return seen == 1
}

// plainKey reports whether line is "<key>: <value>" at the top level,
// the value one plain word (no quotes, flow, anchor, tag or comment).
func plainKey(line, key string) bool {
	v, ok := strings.CutPrefix(line, key+": ")
	return ok && v != "" && !strings.ContainsAny(v, " \t#\"'{}[]&*!|>%@`,") && v[0] != '-'
}

// startsKey reports whether line starts a key of the top-level block
// mapping: a plain name at its first column followed by a colon.
func startsKey(line string) bool {
	i := 0
	for i < len(line) && (line[i] >= 'a' && line[i] <= 'z' || line[i] >= 'A' && line[i] <= 'Z' || line[i] >= '0' && line[i] <= '9' || line[i] == '_' || line[i] == '-' || line[i] == '.') {
		i++
	}
	return i > 0 && line[0] != '-' && i < len(line) && line[i] == ':' && (i+1 == len(line) || line[i+1] == ' ')
}
