package model

import (
	"slices"
	"testing"
)

// TestParsePath reads back what Path.String writes, and refuses what it
// never writes.
func TestParsePath(t *testing.T) {
	for _, p := range []Path{
		{"defaults", "istio", "version"},
		{"tenants", "t1", "namespaces", 0},
		{"tenants", "t1", "labels", "example.com/team"},
		{"x", `a"b`},
		{"x", ""},
		{"labels", "a/b", "c"},
		{"a.b", "c"},
		{0, 1},
	} {
		got, err := ParsePath(p.String())
		if err != nil || !slices.Equal(got, p) {
			t.Errorf("ParsePath(%q) = %#v, %v; want %#v", p.String(), got, err, p)
		}
	}
	for _, bad := range []string{"a[1", "a[x]", `a["b`, `a["b"`} {
		if p, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) = %#v, want an error", bad, p)
		}
	}
}
