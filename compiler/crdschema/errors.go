package crdschema

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// FieldError is one problem found in an object: the field path it concerns
// (dotted, with [i] for list items and [key] for some map entries, as the API
// server prints them; "" for the object itself) and what is wrong with it.
type FieldError struct {
	Path    string
	Message string
}

// String renders the problem as "path: message", the form the API server uses.
func (e FieldError) String() string {
	if e.Path == "" {
		return "(root): " + e.Message
	}
	return e.Path + ": " + e.Message
}

// Errors is every problem found in one object. Validate and ValidateField
// return it (as error) so that callers can map each item onto their own
// diagnostics instead of parsing the text.
type Errors []FieldError

// Error lists the problems one per line, sorted by path.
func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, fe := range e {
		lines[i] = fe.String()
	}
	return strings.Join(lines, "\n")
}

// TrimPrefix returns the errors with prefix (and the dot after it) removed
// from their paths, for callers that report problems relative to the sub-tree
// they passed to ValidateField. Paths outside prefix are kept as they are.
func (e Errors) TrimPrefix(prefix string) Errors {
	out := make(Errors, len(e))
	for i, fe := range e {
		switch {
		case fe.Path == prefix:
			fe.Path = ""
		case strings.HasPrefix(fe.Path, prefix+"."):
			fe.Path = fe.Path[len(prefix)+1:]
		case strings.HasPrefix(fe.Path, prefix+"["):
			fe.Path = fe.Path[len(prefix):]
		}
		out[i] = fe
	}
	return out
}

// collector gathers problems from the several apiserver algorithms Validate
// runs, each of which reports in its own shape.
type collector struct {
	errs Errors
}

func (c *collector) add(path, msg string) {
	c.errs = append(c.errs, FieldError{Path: path, Message: msg})
}

func (c *collector) addFieldErrors(list field.ErrorList) {
	for _, fe := range list {
		c.addFieldError(fe)
	}
}

func (c *collector) addFieldError(fe *field.Error) {
	path := fe.Field
	if path == "<nil>" { // field.Path's rendering of the root
		path = ""
	}
	c.add(path, fe.ErrorBody())
}

func (c *collector) addUnknown(paths []string) {
	for _, p := range paths {
		c.add(p, "unknown field")
	}
}

// result sorts and de-duplicates the problems (the same path can be reported
// by two algorithms, e.g. embedded metadata) so output is deterministic and
// golden files stay stable. It returns nil when there is nothing to report,
// never a typed nil inside an error interface.
func (c *collector) result() error {
	if len(c.errs) == 0 {
		return nil
	}
	sort.SliceStable(c.errs, func(i, j int) bool {
		if c.errs[i].Path != c.errs[j].Path {
			return c.errs[i].Path < c.errs[j].Path
		}
		return c.errs[i].Message < c.errs[j].Message
	})
	out := c.errs[:1]
	for _, fe := range c.errs[1:] {
		if fe != out[len(out)-1] {
			out = append(out, fe)
		}
	}
	return out
}
