// Package diag defines meshc's diagnostics: what went wrong, where (topology
// path and file:line:col), why, and how to fix it. Every stage reports
// problems as diagnostics; the CLI prints them once, as text or JSON.
//
// diag imports nothing of meshc's, so every stage can depend on it.
package diag

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Code is a stable diagnostic code. Codes never change meaning; new rules get
// new codes. The catalogue is in codes.go.
type Code string

// Pos is a position in an input file. Line and Column are 1-based; a zero
// Line means the position is unknown (the value came from a default).
type Pos struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Severity says whether a diagnostic stops compilation.
type Severity string

const (
	// Error is a certain failure: nothing is written while one exists.
	Error Severity = "error"
	// Warning is a risk rather than a certain failure: it is printed and
	// compilation goes on, unless --strict makes warnings errors.
	Warning Severity = "warning"
)

// Diagnostic is one problem with the user's input.
type Diagnostic struct {
	Code Code `json:"code"`
	// Severity is Error when empty. Warning codes start with W, error
	// codes with E.
	Severity Severity `json:"severity"`
	// Path is the topology path of the offending value, dotted, e.g.
	// meshes.mesh-1.controlPlanes.cp1.cluster.
	Path    string `json:"path,omitempty"`
	Pos     Pos    `json:"pos"`
	Message string `json:"message"`
	// Hint says how to fix it.
	Hint string `json:"hint,omitempty"`
	// Related are other places involved, e.g. the first claim of a
	// namespace that a second tenant claims again.
	Related []Related `json:"related,omitempty"`
}

// Related is a secondary location of a diagnostic.
type Related struct {
	Path string `json:"path,omitempty"`
	Pos  Pos    `json:"pos"`
}

// IsWarning reports whether d is a warning.
func (d Diagnostic) IsWarning() bool { return d.Severity == Warning }

// List is a set of diagnostics. It implements error so a stage can return it.
type List []Diagnostic

// Split separates errors from warnings, keeping their order.
func (l List) Split() (errors, warnings List) {
	for _, d := range l {
		if d.IsWarning() {
			warnings = append(warnings, d)
		} else {
			errors = append(errors, d)
		}
	}
	return errors, warnings
}

// Strict turns warnings into errors (--strict): the same code, position
// and text, and compilation stops.
func (l List) Strict() List {
	out := make(List, len(l))
	for i, d := range l {
		d.Severity = Error
		out[i] = d
	}
	return out
}

func (l List) Error() string {
	var b strings.Builder
	_ = l.WriteText(&b)
	return strings.TrimRight(b.String(), "\n")
}

// Sort orders diagnostics by file position, then path and code, so output is
// stable whatever order the checks ran in.
func (l List) Sort() {
	slices.SortStableFunc(l, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Column, b.Pos.Column),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Code, b.Code),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// WriteText prints the diagnostics for a terminal:
//
//	topology.yaml:12:14: error E102: meshes.m.controlPlanes.cp.cluster: cluster "c9" is not defined
//	    hint: define clusters.c9 or use one of: c1, c2
//
// A warning reads "warning W121" where an error reads "error E102".
func (l List) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, d := range l.clipped() {
		if pos := d.Pos.String(); pos != "" {
			b.WriteString(pos)
			b.WriteString(": ")
		}
		fmt.Fprintf(&b, "%s %s", d.severity(), d.Code)
		if d.Path != "" {
			fmt.Fprintf(&b, " at %s", d.Path)
		}
		fmt.Fprintf(&b, ": %s\n", d.Message)
		for _, r := range d.Related {
			b.WriteString("    see: ")
			if pos := r.Pos.String(); pos != "" {
				b.WriteString(pos)
				if r.Path != "" {
					b.WriteString(" ")
				}
			}
			b.WriteString(r.Path)
			b.WriteString("\n")
		}
		if d.Hint != "" {
			fmt.Fprintf(&b, "    hint: %s\n", d.Hint)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (d Diagnostic) severity() Severity {
	if d.Severity == "" {
		return Error
	}
	return d.Severity
}

// WithSeverity returns the diagnostics with every severity spelt out, as
// JSON shows them.
func (l List) WithSeverity() List {
	out := make(List, len(l))
	for i, d := range l {
		d.Severity = d.severity()
		out[i] = d
	}
	return out
}

// WriteJSON prints the diagnostics as one JSON document, for editors and CI.
func (l List) WriteJSON(w io.Writer) error {
	out := l.clipped().WithSeverity()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Diagnostics List `json:"diagnostics"`
	}{out})
}

// MaxQuoted is how much of a user's value a message quotes: enough to
// recognise it, never a 50 MB label value echoed whole.
const MaxQuoted = 80

// Quote quotes a user's value for a message, as %q does, cut to MaxQuoted
// bytes with the length of what was left out.
func Quote(s string) string {
	if len(s) <= MaxQuoted {
		return fmt.Sprintf("%q", s)
	}
	cut := MaxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes in all)", s[:cut], len(s))
}

// maxMessage bounds a message or hint as printed, whatever a rule put in
// it: a safety net behind Quote.
const maxMessage = 1000

// clip cuts s in its middle when longer than maxMessage, keeping its
// start (what) and its end (usually why).
func clip(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	head, tail := maxMessage/2, maxMessage/4
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	from := len(s) - tail
	for from < len(s) && !utf8.RuneStart(s[from]) {
		from++
	}
	return fmt.Sprintf("%s… (%d bytes cut) …%s", s[:head], from-head, s[from:])
}

// clipped is l with every path, message and hint within maxMessage.
func (l List) clipped() List {
	out := slices.Clone(l)
	for i := range out {
		out[i].Path, out[i].Message, out[i].Hint = clip(out[i].Path), clip(out[i].Message), clip(out[i].Hint)
	}
	return out
}

// EditDistance is the Levenshtein distance between a and b, in bytes: how
// far a misspelt name is from a known one, for "did you mean" hints.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
