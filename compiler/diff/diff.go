// Package diff compares two rendered trees the way a reviewer reads them:
// per cluster, which objects are added, removed or changed, and for a
// changed object which fields changed. Objects are matched by identity
// (cluster, group, kind, namespace, name), not by file, and compared as
// data, so file names, key order and formatting never show up as changes.
// Secret payloads are masked.
//
// Import direction: diff imports render only.
package diff

import (
	"bytes"
	"cmp"
	"fmt"
	"path"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler/render"
)

// Status says what happened to an object.
type Status string

const (
	Added   Status = "added"
	Removed Status = "removed"
	Changed Status = "changed"
)

// Masked replaces secret values in output.
const Masked = "(masked)"

// Change is one changed field of an object: its old and new values, or,
// for a multi-line string (and a text file, whose Path is empty), the
// lines that changed, in order, with some context.
type Change struct {
	Path  string `json:"path"`
	Old   any    `json:"old,omitempty"`
	New   any    `json:"new,omitempty"`
	Lines []Line `json:"lines,omitempty"`
}

// Object is one object's difference.
type Object struct {
	// ID is kind[/namespace]/name, or the file for a file that is not an
	// object (a README).
	ID string `json:"id"`
	// Group, Kind, Namespace and Name identify an object for tools (the
	// core group is ""); a text file has none of them.
	Group     string   `json:"group,omitempty"`
	Kind      string   `json:"kind,omitempty"`
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name,omitempty"`
	File      string   `json:"file"`
	Status    Status   `json:"status"`
	Changes   []Change `json:"changes,omitempty"`
}

// Cluster is one cluster's differences, objects ordered by ID.
type Cluster struct {
	Name    string   `json:"name"`
	Objects []Object `json:"objects"`
}

// Count returns how many objects have status s.
func (c *Cluster) Count(s Status) int {
	n := 0
	for _, o := range c.Objects {
		if o.Status == s {
			n++
		}
	}
	return n
}

// Result is the difference between two trees.
type Result struct {
	Clusters []Cluster `json:"clusters"`
	// Other lists differences outside cluster bundles (delivery files).
	Other []Object `json:"other,omitempty"`
}

// Empty reports whether nothing differs.
func (r *Result) Empty() bool { return len(r.Clusters) == 0 && len(r.Other) == 0 }

type entry struct {
	cluster string
	id      string
	ref     objectRef
	file    string
	value   any // the decoded object, or the file's text
}

// objectRef is an object's API identity.
type objectRef struct{ group, kind, namespace, name string }

func (e entry) object(s Status) Object {
	return Object{ID: e.id, Group: e.ref.group, Kind: e.ref.kind, Namespace: e.ref.namespace, Name: e.ref.name, File: e.file, Status: s}
}

// Trees compares the old tree with the new one.
func Trees(old, new render.Tree) (*Result, error) {
	// A file with the same bytes at the same path holds the same object:
	// leave it out rather than decode it twice (a fleet's version bump
	// changes a few files of tens of thousands).
	old, new = withoutSame(old, new)
	oldEntries, err := entries(old)
	if err != nil {
		return nil, fmt.Errorf("old tree: %w", err)
	}
	newEntries, err := entries(new)
	if err != nil {
		return nil, fmt.Errorf("new tree: %w", err)
	}
	byCluster := map[string][]Object{}
	for key, n := range newEntries {
		o, ok := oldEntries[key]
		switch {
		case !ok:
			byCluster[n.cluster] = append(byCluster[n.cluster], n.object(Added))
		default:
			var changes []Change
			oldText, oldIsText := o.value.(string)
			newText, newIsText := n.value.(string)
			if oldIsText && newIsText {
				// A text file: its lines, in order (reordered steps of an
				// install README are a change).
				if lines := lineDiff(oldText, newText); len(lines) > 0 {
					changes = []Change{{Lines: lines}}
				}
			} else {
				compare("", o.value, n.value, secretMask(n.value), &changes)
			}
			if len(changes) > 0 {
				obj := n.object(Changed)
				obj.Changes = changes
				byCluster[n.cluster] = append(byCluster[n.cluster], obj)
			}
		}
	}
	for key, o := range oldEntries {
		if _, ok := newEntries[key]; !ok {
			byCluster[o.cluster] = append(byCluster[o.cluster], o.object(Removed))
		}
	}
	res := &Result{}
	names := make([]string, 0, len(byCluster))
	for name := range byCluster {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		objs := byCluster[name]
		slices.SortFunc(objs, func(a, b Object) int { return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.File, b.File)) })
		if name == "" {
			res.Other = objs
			continue
		}
		res.Clusters = append(res.Clusters, Cluster{Name: name, Objects: objs})
	}
	return res, nil
}

// withoutSame returns the trees without the files they hold alike.
func withoutSame(old, new render.Tree) (render.Tree, render.Tree) {
	o, n := render.Tree{}, render.Tree{}
	for p, data := range old {
		if other, ok := new[p]; !ok || !bytes.Equal(data, other) {
			o[p] = data
		}
	}
	for p, data := range new {
		if other, ok := old[p]; !ok || !bytes.Equal(data, other) {
			n[p] = data
		}
	}
	return o, n
}

// entries decodes every file of a tree, keyed by cluster and identity.
func entries(tree render.Tree) (map[string]entry, error) {
	out := map[string]entry{}
	for _, p := range tree.Paths() {
		// Kustomizations only list the files beside them: their changes
		// are the objects added and removed, already reported.
		if path.Base(p) == "kustomization.yaml" {
			continue
		}
		cluster := ""
		if parts := strings.SplitN(p, "/", 3); len(parts) == 3 && parts[0] == "clusters" {
			cluster = parts[1]
		}
		e := entry{cluster: cluster, file: p, id: p, value: string(tree[p])}
		if ext := path.Ext(p); ext == ".yaml" || ext == ".yml" {
			var obj map[string]any
			if err := yaml.Unmarshal(tree[p], &obj); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if id := identity(obj); id != "" {
				e.id, e.value, e.ref = id, obj, refOf(obj)
				if cluster == "" {
					// Outside the bundles, a folder is one cluster's or one
					// system's (delivery/flux/<cluster>): objects of the
					// same name in two folders are different objects.
					e.id = path.Dir(p) + ": " + id
				}
			}
		}
		key := cluster + "\x00" + e.id
		if prev, dup := out[key]; dup {
			return nil, fmt.Errorf("%s and %s are the same object %s", prev.file, p, e.id)
		}
		out[key] = e
	}
	return out, nil
}

// identity is kind[/namespace]/name, qualified by API group when the kind
// is ambiguous (Gateway is both Istio's and the Gateway API's).
func identity(obj map[string]any) string {
	kind, _ := obj["kind"].(string)
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	if kind == "" || name == "" {
		return ""
	}
	if av, _ := obj["apiVersion"].(string); kind == "Gateway" && strings.Contains(av, "/") {
		kind += "." + strings.SplitN(av, "/", 2)[0]
	}
	if ns, _ := md["namespace"].(string); ns != "" {
		return kind + "/" + ns + "/" + name
	}
	return kind + "/" + name
}

// refOf is an object's group, kind, namespace and name.
func refOf(obj map[string]any) objectRef {
	var r objectRef
	if av, _ := obj["apiVersion"].(string); strings.Contains(av, "/") {
		r.group = strings.SplitN(av, "/", 2)[0]
	}
	r.kind, _ = obj["kind"].(string)
	md, _ := obj["metadata"].(map[string]any)
	r.namespace, _ = md["namespace"].(string)
	r.name, _ = md["name"].(string)
	return r
}

// secretMask reports which top-level fields of an object hold secret
// values: a Secret's data and stringData.
func secretMask(v any) map[string]bool {
	obj, ok := v.(map[string]any)
	if !ok || obj["kind"] != "Secret" || obj["apiVersion"] != "v1" {
		return nil
	}
	return map[string]bool{"data": true, "stringData": true}
}

// compare records the differences between a and b under path p.
func compare(p string, a, b any, mask map[string]bool, out *[]Change) {
	masked := func(v any) any {
		if v == nil {
			return nil
		}
		return Masked
	}
	top := p
	if i := strings.IndexAny(top, ".["); i >= 0 {
		top = top[:i]
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if mask[top] && !(aok && bok) {
		// A secret value, or a whole secret map added or removed: say
		// that it changed, never what it holds.
		if !reflect.DeepEqual(a, b) {
			*out = append(*out, Change{Path: p, Old: masked(a), New: masked(b)})
		}
		return
	}
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			compare(join(p, k), am[k], bm[k], mask, out)
		}
		return
	}
	al, alok := a.([]any)
	bl, blok := b.([]any)
	if alok && blok {
		compareLists(p, al, bl, mask, out)
		return
	}
	if reflect.DeepEqual(a, b) {
		return
	}
	as, aText := a.(string)
	bs, bText := b.(string)
	if aText && bText && (strings.Contains(as, "\n") || strings.Contains(bs, "\n")) {
		// A multi-line string (a values file, a script): the lines that
		// changed, not two whole blobs.
		*out = append(*out, Change{Path: p, Lines: lineDiff(as, bs)})
		return
	}
	*out = append(*out, Change{Path: p, Old: a, New: b})
}

// compareLists matches list items by name when every item has one (ports,
// containers, env), so inserting an item does not show every later one as
// changed; by position otherwise.
func compareLists(p string, a, b []any, mask map[string]bool, out *[]Change) {
	an, aok := byName(a)
	bn, bok := byName(b)
	if aok && bok {
		names := map[string]bool{}
		for k := range an {
			names[k] = true
		}
		for k := range bn {
			names[k] = true
		}
		sorted := make([]string, 0, len(names))
		for k := range names {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			compare(p+"["+k+"]", an[k], bn[k], mask, out)
		}
		return
	}
	for i := range max(len(a), len(b)) {
		var x, y any
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		compare(p+"["+strconv.Itoa(i)+"]", x, y, mask, out)
	}
}

func byName(list []any) (map[string]any, bool) {
	out := make(map[string]any, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, false
		}
		name, ok := m["name"].(string)
		if !ok || name == "" {
			return nil, false
		}
		if _, dup := out[name]; dup {
			return nil, false
		}
		out[name] = item
	}
	return out, len(out) > 0
}

func join(p, k string) string {
	if strings.ContainsAny(k, ".[]") {
		k = "[" + strconv.Quote(k) + "]"
		return p + k
	}
	if p == "" {
		return k
	}
	return p + "." + k
}
