package release

import (
	"fmt"
	"slices"
)

// SailOperator is a release line of the Sail operator and the Istio
// releases it installs. The operator's pkg/istioversion/versions.yaml lists
// them; releases it marks `eol: true` stay valid spec.version values but
// "will not be installable", so an Istio CR naming one is never acted on.
type SailOperator struct {
	Line Line
	// Release is the operator release the list was read from.
	Release string
	// Installs are the Istio releases it installs, oldest first.
	Installs []Version
	// Assumed: the line is newer than any meshc knows; Installs follows the
	// pattern of every line since 1.28 (its own minor and the two before,
	// every patch meshc knows).
	Assumed bool
}

// sailOperators are the Sail operator release lines meshc knows, oldest
// first, each as the versions.yaml of its release branch lists it (the
// non-eol entries; github.com/istio-ecosystem/sail-operator):
//
//   - release-1.26 @07a49c5 (VERSION 1.26.8): 1.24.0-1.24.6, 1.25.1-1.25.3,
//     1.25.5 (no 1.25.4), 1.26.0-1.26.8
//   - release-1.27 @8cde773 (1.27.9): 1.24.0-1.24.6, 1.25.1-1.25.5,
//     1.26.0-1.26.8, 1.27.0-1.27.9
//   - release-1.28 @70dfab9 (1.28.10): 1.26.0-1.26.8, 1.27.0-1.27.9,
//     1.28.0-1.28.10
//   - release-1.29 @216a25c (1.29.6): 1.27.0-1.27.9, 1.28.0-1.28.10,
//     1.29.0-1.29.6
//   - release-1.30 @8f8aeea (1.30.3): 1.28.0-1.28.10, 1.29.0-1.29.6,
//     1.30.0-1.30.3
//   - 1.31: main @328df99 (VERSION 1.31.0, 2026-08-22) lists 1.29.0-1.29.6
//     and 1.30.0-1.30.3 (1.28 and older eol); sail-operator#2343 adds
//     1.31.0, and #2362 (release-1.31, open when read) 1.31.1, 1.30.5 and
//     1.29.8. Only what is merged is listed; a newer patch of a line the
//     operator installs is a warning, not a refusal.
//
// Older lines (release-1.25 and before) install only releases that are
// end of life everywhere; meshc does not name them.
var sailOperators = []SailOperator{
	{Line: Line{1, 26}, Release: "1.26.8", Installs: versions(
		span(1, 24, 0, 6), span(1, 25, 1, 3), span(1, 25, 5, 5), span(1, 26, 0, 8))},
	{Line: Line{1, 27}, Release: "1.27.9", Installs: versions(
		span(1, 24, 0, 6), span(1, 25, 1, 5), span(1, 26, 0, 8), span(1, 27, 0, 9))},
	{Line: Line{1, 28}, Release: "1.28.10", Installs: versions(
		span(1, 26, 0, 8), span(1, 27, 0, 9), span(1, 28, 0, 10))},
	{Line: Line{1, 29}, Release: "1.29.6", Installs: versions(
		span(1, 27, 0, 9), span(1, 28, 0, 10), span(1, 29, 0, 6))},
	{Line: Line{1, 30}, Release: "1.30.3", Installs: versions(
		span(1, 28, 0, 10), span(1, 29, 0, 6), span(1, 30, 0, 3))},
	{Line: Line{1, 31}, Release: "1.31.0", Installs: versions(
		span(1, 29, 0, 6), span(1, 30, 0, 3), span(1, 31, 0, 0))},
}

func span(major, minor, from, to int) []Version {
	var out []Version
	for p := from; p <= to; p++ {
		out = append(out, Version{major, minor, p})
	}
	return out
}

func versions(spans ...[]Version) []Version { return slices.Concat(spans...) }

// DefaultSailOperator is the line meshc compiles the sail target for when
// the topology names none: the newest it knows.
func DefaultSailOperator() SailOperator { return sailOperators[len(sailOperators)-1] }

// SailOperators lists the lines meshc knows, oldest first.
func SailOperators() []SailOperator { return slices.Clone(sailOperators) }

// LookupSailOperator finds the line of a Sail operator release ("1.30",
// "1.30.3" or "v1.30.3"). A line newer than any meshc knows is assumed to
// install its own minor and the two before (Assumed); an older or malformed
// one is an error.
func LookupSailOperator(s string) (SailOperator, error) {
	l, err := ParseLine(s)
	if err != nil {
		return SailOperator{}, err
	}
	for _, op := range sailOperators {
		if op.Line == l {
			return op, nil
		}
	}
	newest := sailOperators[len(sailOperators)-1].Line
	if l.Compare(newest) < 0 {
		return SailOperator{}, fmt.Errorf("meshc knows Sail operator releases %s to %s; %s installs only end-of-life Istio releases",
			sailOperators[0].Line, newest, s)
	}
	op := SailOperator{Line: l, Release: s, Assumed: true}
	for _, r := range table {
		if r.Line.Major == l.Major && r.Line.Minor <= l.Minor && r.Line.Minor >= l.Minor-MaxMinorSkew {
			op.Installs = append(op.Installs, span(r.Line.Major, r.Line.Minor, 0, r.Latest)...)
		}
	}
	return op, nil
}

// Install says whether the operator installs v: ok when its list has v;
// newerPatch when the list has v's line but only older patches (a later
// operator release of the same line may list it).
func (op SailOperator) Install(v Version) (ok, newerPatch bool) {
	if slices.Contains(op.Installs, v) {
		return true, false
	}
	for _, i := range op.Installs {
		if i.Line() == v.Line() && i.Compare(v) > 0 {
			return false, false // an older patch the operator skipped
		}
	}
	return false, slices.ContainsFunc(op.Installs, func(i Version) bool { return i.Line() == v.Line() })
}

// Nearest is the release the operator installs that is closest to v: the
// newest older one of v's line, else the first newer one, else its newest.
func (op SailOperator) Nearest(v Version) Version {
	var older, newer *Version
	for i := range op.Installs {
		c := op.Installs[i]
		switch {
		case c.Compare(v) < 0 && c.Line() == v.Line():
			older = &op.Installs[i]
		case c.Compare(v) > 0 && newer == nil:
			newer = &op.Installs[i]
		}
	}
	if older != nil {
		return *older
	}
	if newer != nil {
		return *newer
	}
	return op.Installs[len(op.Installs)-1]
}

// InstallRange describes what the operator installs, for messages:
// "1.28.0 to 1.30.3".
func (op SailOperator) InstallRange() string {
	return op.Installs[0].String() + " to " + op.Installs[len(op.Installs)-1].String()
}

// ZTunnelAPIVersion is the apiVersion of the operator's ZTunnel: v1 from
// Sail 1.28 (sail-operator#1365, which drops spec.profile: v1 always
// applies the ambient profile), v1alpha1 with spec.profile before.
func (op SailOperator) ZTunnelAPIVersion() string {
	if op.Line.Compare(Line{1, 28}) >= 0 {
		return "sailoperator.io/v1"
	}
	return "sailoperator.io/v1alpha1"
}
