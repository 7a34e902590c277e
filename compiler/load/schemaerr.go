package load

import (
	"fmt"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/literal"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
)

// maxSchemaRounds bounds how often schemaDiagnostics asks CUE again: each
// round takes away at least one field, so a topology needs as many rounds
// as the fields that hide one another's errors, never this many.
const maxSchemaRounds = 64

// schemaDiagnostics turns CUE's errors of validating in (found at topology
// path prefix) against its schema sch into diagnostics: the topology path
// each error names, the position the user wrote there (from the input,
// since CUE also points into the schema), and a code, message and hint
// chosen by the kind of error, with the hint read from the schema.
//
// CUE reports one error per struct field at most, stops looking inside a
// struct after a field fails, and reports missing required fields only
// once nothing else is wrong. So that the user sees every problem at once,
// the fields CUE blamed are taken out of the input and CUE is asked again,
// until it reports nothing new. A field taken out is not "missing"
// afterwards: it was reported already.
func (s *source) schemaDiagnostics(filename string, prefix model.Path, in, sch cue.Value, err error) diag.List {
	var out diag.List
	reported := map[string]bool{} // topology paths (relative to prefix) already diagnosed
	removed := map[string]bool{}  // and the paths taken out of the input for it
	cur := in
	for round := 0; err != nil && round < maxSchemaRounds; round++ {
		var remove []model.Path
		for _, g := range groupErrors(cur, err) {
			key := g.path.String()
			if reported[key] || removed[key] {
				continue
			}
			reported[key] = true
			out = append(out, s.schemaDiagnostic(filename, prefix, g))
			// A list element cannot be taken out without renumbering the
			// rest: take the list.
			at := g.path
			if n := len(at); n > 0 {
				if _, ok := at[n-1].(int); ok {
					at = at[:n-1]
				}
			}
			if len(at) > 0 {
				remove = append(remove, at)
				removed[at.String()] = true
			}
		}
		if len(remove) == 0 {
			break
		}
		next, ok := without(cur, remove)
		if !ok {
			break
		}
		cur = next
		err = cur.Unify(sch).Validate(cue.Concrete(true))
	}
	return out
}

// errorGroup is CUE's errors at one topology path: a disjunction that
// matched no alternative comes as one error per alternative.
type errorGroup struct {
	path model.Path
	errs []cueerrors.Error
}

func groupErrors(in cue.Value, err error) []errorGroup {
	var out []errorGroup
	index := map[string]int{}
	for _, e := range cueerrors.Errors(err) {
		p := typedPath(in, e.Path())
		key := p.String()
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, errorGroup{path: p})
		}
		out[i].errs = append(out[i].errs, e)
	}
	return out
}

// typedPath turns the selectors of a CUE error into a topology path, with
// list indexes as ints (CUE gives every selector as a string).
func typedPath(in cue.Value, sels []string) model.Path {
	p := model.Path{}
	v := in
	for _, sel := range sels {
		if v.Exists() && v.IncompleteKind() == cue.ListKind {
			if i, err := strconv.Atoi(sel); err == nil {
				p = append(p, i)
				v = v.LookupPath(cue.MakePath(cue.Index(i)))
				continue
			}
		}
		key := sel
		if strings.HasPrefix(sel, `"`) {
			if u, err := literal.Unquote(sel); err == nil {
				key = u
			}
		}
		p = append(p, key)
		if v.Exists() {
			v = v.LookupPath(cue.MakePath(cue.Str(key)))
		}
	}
	return p
}

// schemaDiagnostic maps CUE's errors at one path to a diagnostic.
func (s *source) schemaDiagnostic(filename string, prefix model.Path, g errorGroup) diag.Diagnostic {
	abs := prefix.Child(g.path...)
	d := diag.Diagnostic{Path: abs.String(), Pos: s.Pos(abs)}
	msgs := make([]string, len(g.errs))
	for i, e := range g.errs {
		msgs[i] = message(e)
	}
	has := func(sub string) bool {
		for _, m := range msgs {
			if strings.Contains(m, sub) {
				return true
			}
		}
		return false
	}
	key := lastKey(abs)
	switch {
	case has("field not allowed"):
		d.Code = diag.UnknownField
		d.Message = fmt.Sprintf("unknown field %q", key)
		d.Hint = s.allowedFieldsHint(abs)
	case has("field is required but not present"), has("incomplete value") && !s.Written(abs):
		d.Code = diag.MissingField
		d.Message = fmt.Sprintf("required field %q is missing", key)
		d.Hint = "add " + abs.String() + ":" + describeExpected(s.schemaAt(abs))
		if len(abs) > 0 {
			d.Pos = s.Pos(abs[:len(abs)-1]) // the mapping that lacks it
		}
	case has("incompatible list lengths") && s.emptyList(abs):
		d.Code = diag.InvalidValue
		d.Message, d.Hint = "the list is empty", "give at least one value"
	default:
		d.Code = diag.InvalidValue
		d.Message = "invalid value " + render(s.value(abs))
		d.Hint = "expected" + describeExpected(s.schemaAt(abs))
	}
	if d.Pos.Line == 0 {
		d.Pos = firstUserPos(g.errs[0], filename)
	}
	if d.Pos.File == "" {
		d.Pos.File = filename
	}
	return d
}

// value is the user's value at p, in the document or the entity holding it.
func (s *source) value(p model.Path) cue.Value {
	for _, sh := range s.shards {
		if len(p) >= len(sh.path) && p[:len(sh.path)].String() == sh.path.String() {
			return sh.value.LookupPath(cuePath(p[len(sh.path):]))
		}
	}
	return s.input.LookupPath(cuePath(p))
}

func (s *source) emptyList(p model.Path) bool {
	v := s.value(p)
	if v.IncompleteKind() != cue.ListKind {
		return false
	}
	n, err := v.Len().Int64()
	return err == nil && n == 0
}

// without returns v with the values at paths taken out, rebuilt from its
// syntax: CUE has no way to delete a field. Positions are lost, which is
// fine: diagnostics take theirs from the user's input.
func without(v cue.Value, paths []model.Path) (cue.Value, bool) {
	n := v.Syntax(cue.Final(), cue.Docs(false))
	var elts *[]ast.Decl
	switch n := n.(type) {
	case *ast.StructLit:
		elts = &n.Elts
	case *ast.File:
		elts = &n.Decls
	default:
		return cue.Value{}, false
	}
	for _, p := range paths {
		if !remove(elts, p) {
			return cue.Value{}, false
		}
	}
	expr, ok := n.(ast.Expr)
	if !ok {
		expr = &ast.StructLit{Elts: n.(*ast.File).Decls}
	}
	out := v.Context().BuildExpr(expr)
	return out, out.Err() == nil
}

// remove deletes the field at p from a struct's declarations.
func remove(elts *[]ast.Decl, p model.Path) bool {
	key, ok := p[0].(string)
	if !ok {
		return false
	}
	for i, d := range *elts {
		f, ok := d.(*ast.Field)
		if !ok {
			continue
		}
		name, _, err := ast.LabelName(f.Label)
		if err != nil || name != key {
			continue
		}
		if len(p) == 1 {
			*elts = append((*elts)[:i:i], (*elts)[i+1:]...)
			return true
		}
		return removeIn(f.Value, p[1:])
	}
	return false
}

func removeIn(x ast.Expr, p model.Path) bool {
	switch x := x.(type) {
	case *ast.StructLit:
		return remove(&x.Elts, p)
	case *ast.ListLit:
		i, ok := p[0].(int)
		if !ok || i >= len(x.Elts) || len(p) == 1 {
			return false
		}
		return removeIn(x.Elts[i], p[1:])
	}
	return false
}
