// Package release is meshc's table of Istio releases and the Sail operator
// releases that install them: which releases exist as far as meshc knows,
// which are end of life, which values and flags each has, where its charts
// are published. Every version-dependent decision of the compiler reads it
// here, so a new Istio release is one edit of table.go (and sail.go).
//
// Import direction: release imports only the standard library.
package release

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is an Istio release, major.minor.patch.
type Version struct{ Major, Minor, Patch int }

// Parse parses "1.28.2". The Sail operator and Istio's release tags spell
// versions with a leading v, so "v1.28.2" is accepted as the same release.
func Parse(s string) (Version, error) {
	parts := strings.Split(strings.TrimPrefix(s, "v"), ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("version %q is not major.minor.patch", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || p != strconv.Itoa(v) {
			return Version{}, fmt.Errorf("version %q is not major.minor.patch", s)
		}
		n[i] = v
	}
	return Version{n[0], n[1], n[2]}, nil
}

// MustParse parses a version meshc wrote itself (tables, tests).
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Compare orders versions.
func (v Version) Compare(o Version) int {
	switch {
	case v.Major != o.Major:
		return v.Major - o.Major
	case v.Minor != o.Minor:
		return v.Minor - o.Minor
	}
	return v.Patch - o.Patch
}

// Line is the version's minor release line.
func (v Version) Line() Line { return Line{v.Major, v.Minor} }

// SailVersion is the version as the Sail operator's spec.version enum
// spells it: v1.28.2.
func (v Version) SailVersion() string { return "v" + v.String() }

// RevisionSuffix is the version as Sail's RevisionBased strategy appends it
// to revision names: v1-28-2.
func (v Version) RevisionSuffix() string {
	return fmt.Sprintf("v%d-%d-%d", v.Major, v.Minor, v.Patch)
}

// Line is a minor release line, 1.28.
type Line struct{ Major, Minor int }

func (l Line) String() string { return fmt.Sprintf("%d.%d", l.Major, l.Minor) }

// Compare orders lines.
func (l Line) Compare(o Line) int {
	if l.Major != o.Major {
		return l.Major - o.Major
	}
	return l.Minor - o.Minor
}

// ParseLine parses "1.28", and, since a Sail operator release is named by
// its full version, "1.28.4" or "v1.28.4" as its line 1.28.
func ParseLine(s string) (Line, error) {
	t := strings.TrimPrefix(s, "v")
	if strings.Count(t, ".") == 2 {
		v, err := Parse(t)
		if err != nil {
			return Line{}, fmt.Errorf("release %q is not major.minor or major.minor.patch", s)
		}
		return v.Line(), nil
	}
	v, err := Parse(t + ".0")
	if err != nil {
		return Line{}, fmt.Errorf("release %q is not major.minor or major.minor.patch", s)
	}
	return v.Line(), nil
}
