// Package istio holds facts about Istio releases that the compiler depends
// on: which releases meshc supports, and what changed between them.
//
// Import direction: istio imports only the standard library.
package istio

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Version is an Istio release, major.minor.patch.
type Version struct{ Major, Minor, Patch int }

// ParseVersion parses "1.28.2".
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("version %q is not major.minor.patch", s)
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return Version{}, fmt.Errorf("version %q is not major.minor.patch", s)
		}
		n[i] = v
	}
	return Version{n[0], n[1], n[2]}, nil
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

// SailVersion is the version as the Sail operator's spec.version enum
// spells it: v1.28.2.
func (v Version) SailVersion() string { return "v" + v.String() }

// RevisionSuffix is the version as Sail's RevisionBased strategy appends it
// to revision names: v1-28-2.
func (v Version) RevisionSuffix() string {
	return fmt.Sprintf("v%d-%d-%d", v.Major, v.Minor, v.Patch)
}

// NeedsEnhancedScopingFlag reports whether discovery selectors scope only
// endpoints unless istiod's ENABLE_ENHANCED_RESOURCE_SCOPING is set: true up
// to 1.24. From 1.25 the behaviour is always on and the flag is gone, so
// setting it would be an unknown env var at best.
func (v Version) NeedsEnhancedScopingFlag() bool {
	return v.Major == 1 && v.Minor <= 24
}

// oldestMinor is the oldest Istio minor meshc supports: the first whose
// multi-control-plane behaviour (discovery selectors scoping configuration,
// revision tags, the Sail v1 API) matches what meshc emits.
const oldestMinor = 22

// Supported lists the releases meshc compiles for: those the Sail operator
// offers, from 1.22 on.
func Supported() []string {
	out := make([]string, 0, len(releases))
	for _, r := range releases {
		v, _ := ParseVersion(r)
		if v.Major == 1 && v.Minor >= oldestMinor {
			out = append(out, r)
		}
	}
	return out
}

// IsSupported reports whether v is a release meshc compiles for.
func IsSupported(v string) bool { return slices.Contains(Supported(), v) }

// SupportedRange describes the supported releases for messages, e.g.
// "1.22.5 to 1.30.3".
func SupportedRange() string {
	s := Supported()
	return s[0] + " to " + s[len(s)-1]
}

// ReleasesOfMinor lists the supported releases of v's minor, for hints.
func ReleasesOfMinor(v Version) []string {
	var out []string
	for _, r := range Supported() {
		rv, _ := ParseVersion(r)
		if rv.Major == v.Major && rv.Minor == v.Minor {
			out = append(out, r)
		}
	}
	return out
}

// MaxMinorSkew is how many minor releases apart two control planes of one
// mesh may be: Istio supports canary upgrades across at most two minors.
const MaxMinorSkew = 2
