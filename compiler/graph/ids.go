package graph

import (
	"strconv"
	"strings"
)

// idAllocator gives every entity an ID that both Mermaid and Graphviz
// accept unquoted: a kind prefix, then the entity's names with every
// character outside [A-Za-z0-9] replaced by '_'. Two entities whose names
// sanitize alike get suffixes _2, _3… in the order they are allocated, so
// IDs stay unique; allocation follows sorted names, so they are stable.
type idAllocator struct {
	byKey map[string]string
	used  map[string]bool
}

func newIDAllocator() *idAllocator {
	return &idAllocator{byKey: map[string]string{}, used: map[string]bool{}}
}

func idKey(prefix string, parts []string) string {
	return prefix + "\x00" + strings.Join(parts, "\x00")
}

// id returns the ID of the entity prefix/parts, allocating it on first use.
func (a *idAllocator) id(prefix string, parts ...string) string {
	key := idKey(prefix, parts)
	if id, ok := a.byKey[key]; ok {
		return id
	}
	base := Sanitize(prefix)
	for _, p := range parts {
		base += "_" + Sanitize(p)
	}
	id := base
	for n := 2; a.used[id]; n++ {
		id = base + "_" + strconv.Itoa(n)
	}
	a.byKey[key] = id
	a.used[id] = true
	return id
}

// lookup returns the ID allocated to prefix/parts, or "".
func (a *idAllocator) lookup(prefix string, parts ...string) string {
	return a.byKey[idKey(prefix, parts)]
}

// Sanitize maps s to [A-Za-z0-9_]: every other byte becomes '_'.
func Sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// ValidID reports whether id is non-empty and made of [A-Za-z0-9_] only.
func ValidID(id string) bool {
	return id != "" && Sanitize(id) == id
}
