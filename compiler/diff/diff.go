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

// Change is one changed field of an object.
type Change struct {
	Path string `json:"path"`
	Old  any    `json:"old,omitempty"`
	New  any    `json:"new,omitempty"`
}

// Object is one object's difference.
type Object struct {
	// ID is kind[/namespace]/name, or the file for a file that is not an
	// object (a README).
	ID      string   `json:"id"`
	File    string   `json:"file"`
	Status  Status   `json:"status"`
	Changes []Change `json:"changes,omitempty"`
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
	file    string
	value   any // the decoded object, or the file's text
}

// Trees compares the old tree with the new one.
func Trees(old, new render.Tree) (*Result, error) {
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
			byCluster[n.cluster] = append(byCluster[n.cluster], Object{ID: n.id, File: n.file, Status: Added})
		default:
			var changes []Change
			if oldText, ok := o.value.(string); ok {
				if newText, ok := n.value.(string); ok {
					changes = lineChanges(oldText, newText)
				}
			}
			compare("", o.value, n.value, secretMask(n.value), &changes)
			if _, text := n.value.(string); text {
				changes = slices.DeleteFunc(changes, func(c Change) bool { return c.Path == "" })
			}
			if len(changes) > 0 {
				byCluster[n.cluster] = append(byCluster[n.cluster], Object{ID: n.id, File: n.file, Status: Changed, Changes: changes})
			}
		}
	}
	for key, o := range oldEntries {
		if _, ok := newEntries[key]; !ok {
			byCluster[o.cluster] = append(byCluster[o.cluster], Object{ID: o.id, File: o.file, Status: Removed})
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
				e.id, e.value = id, obj
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
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, Change{Path: p, Old: a, New: b})
	}
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

// lineChanges reports the lines of a text file that went and came, in
// order: enough for notes and READMEs, which meshc writes whole.
func lineChanges(old, new string) []Change {
	oldLines, newLines := strings.Split(old, "\n"), strings.Split(new, "\n")
	inOld, inNew := map[string]int{}, map[string]int{}
	for _, l := range oldLines {
		inOld[l]++
	}
	for _, l := range newLines {
		inNew[l]++
	}
	var out []Change
	for i, l := range oldLines {
		if inNew[l] == 0 {
			out = append(out, Change{Path: "line " + strconv.Itoa(i+1), Old: l})
		}
	}
	for i, l := range newLines {
		if inOld[l] == 0 {
			out = append(out, Change{Path: "line " + strconv.Itoa(i+1), New: l})
		}
	}
	return out
}
