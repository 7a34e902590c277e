package load

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/schema"
)

// CUE evaluates an entity of a large fleet in about a tenth of a
// millisecond, the most expensive stage of a build. Most entities are
// plain data that fit the schema at first sight, so they take a faster
// road: the schema is read once, mechanically, into a plan (what each
// struct allows and requires, each field's default, each scalar's
// alternatives: kinds, literals, regular expressions), and an entity's
// syntax is checked against it and decoded with those defaults without
// CUE. The plan is not a second copy of the schema: it is derived from
// the CUE schema, whatever fields it has, and any constraint it does not
// understand (a bound, a builtin, a disjunction of structs) makes it send
// the entity to CUE. So does any doubt about the input (a number that is
// not plain decimal, syntax that is not data) and every entity that does
// not fit: CUE alone says what is wrong (schemaerr.go).
//
// Sound by construction is not sound by proof: TestFastPlanLeavesAgreeWithCUE
// checks every scalar of the plan against CUE on sample values, and
// TestFastPathAgrees (FuzzFastPathAgrees on any input) loads every topology
// in the repository both ways, comparing models, positions and diagnostics.

// fastPath turns the faster road on; tests turn it off to compare.
var fastPath = true

// planNode is what the schema allows at one place: any value, a struct, a
// list or a scalar. A node that is not known sends its entity to CUE.
type planNode struct {
	known bool
	// schema is the constraint the node was read from, for tests.
	schema cue.Value
	any    bool // CUE's top: every value fits

	// A struct: its fields; pattern, when not nil, constrains every other
	// field (a map); open allows other fields unconstrained.
	isStruct bool
	fields   map[string]*planField
	pattern  *planNode
	open     bool

	// A list: prefix constrains its first elements, elem the others (nil:
	// no others allowed).
	isList bool
	prefix []*planNode
	elem   *planNode

	// A scalar: any one of the alternatives.
	alts []scalarAlt
}

type planField struct {
	node     *planNode
	required bool // must be written: marked !, or regular without a default
	// A regular field the user did not write takes def (a scalar default
	// or concrete value), or, a struct, the defaults of its own fields.
	regular bool
	def     any
	hasDef  bool
}

// scalarAlt is one alternative of a scalar: a kind, and a literal it must
// equal or regular expressions it must match.
type scalarAlt struct {
	kind    cue.Kind
	literal any // string or bool; nil: any value of kind
	match   []*regexp.Regexp
	noMatch []*regexp.Regexp
}

var (
	unknownNode = &planNode{}
	anyNode     = &planNode{known: true, any: true}
)

// schemaPlans holds the plan of each entity map's schema, built once; nil
// when the schema is not one a plan can stand for.
var schemaPlans = sync.OnceValue(func() map[string]*planNode {
	if !plannable(schema.Topology) {
		return nil
	}
	ctx := cuecontext.New()
	sch := ctx.CompileString(schema.Topology, cue.Filename(schemaFile))
	if sch.Err() != nil {
		return nil // loadBytes reports the broken schema
	}
	s := &source{schema: sch}
	out := map[string]*planNode{}
	for _, m := range shardedMaps {
		out[m] = planOf(s.schemaAt(model.Path{m, "x"}), 0)
	}
	return out
})

// plannable tells whether the schema means the same for every entity, so
// that reading it once, on its own, says what it requires of each: no
// comprehension or let (fields that exist or not depending on the
// entity's values), no reference to a field (a constraint that is another
// field's value). A definition (#Name) and a kind (string) are the same
// everywhere. A schema that is not plannable sends every entity to CUE.
func plannable(src string) bool {
	f, err := parser.ParseFile(schemaFile, src)
	if err != nil {
		return false
	}
	ok := true
	var values func(n ast.Node) bool
	values = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Package:
			return false
		case *ast.Field:
			// A label names a field, or with [string] every field; a
			// pattern for some labels only ([=~"^x"]) is not read.
			if l, isPattern := n.Label.(*ast.ListLit); isPattern {
				if id, ok2 := onlyElt(l).(*ast.Ident); !ok2 || id.Name != "string" {
					ok = false
				}
			}
			// Only the value constrains.
			ast.Walk(n.Value, values, nil)
			return false
		case *ast.Comprehension, *ast.LetClause, *ast.Interpolation, *ast.ImportDecl:
			ok = false
		case *ast.Ident:
			if !strings.HasPrefix(n.Name, "#") && !predeclared[n.Name] {
				ok = false
			}
		}
		return ok
	}
	ast.Walk(f, values, nil)
	return ok
}

func onlyElt(l *ast.ListLit) ast.Expr {
	if len(l.Elts) != 1 {
		return nil
	}
	return l.Elts[0]
}

var predeclared = map[string]bool{
	"string": true, "bool": true, "int": true, "float": true, "number": true,
	"bytes": true, "null": true, "true": true, "false": true, "_": true,
}

func planOf(v cue.Value, depth int) *planNode {
	if depth > 32 || v.Err() != nil {
		return unknownNode
	}
	switch k := v.IncompleteKind(); {
	case k == cue.TopKind:
		if op, _ := v.Expr(); op == cue.NoOp && !v.IsConcrete() {
			return anyNode
		}
		return unknownNode
	case k == cue.StructKind:
		return structPlan(v, depth)
	case k == cue.ListKind:
		return listPlan(v, depth)
	case k&(cue.StructKind|cue.ListKind) != 0:
		return unknownNode // a struct or a scalar: CUE decides
	}
	alts, ok := scalarAlts(v, 0)
	if !ok {
		return unknownNode
	}
	return &planNode{known: true, schema: v, alts: alts}
}

func structPlan(v cue.Value, depth int) *planNode {
	if op, _ := v.Expr(); op != cue.NoOp && op != cue.SelectorOp {
		return unknownNode // a disjunction or conjunction of structs
	}
	n := &planNode{known: true, isStruct: true, fields: map[string]*planField{}}
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return unknownNode
	}
	for it.Next() {
		sel := it.Selector()
		if sel.LabelType() != cue.StringLabel {
			return unknownNode
		}
		fv := it.Value()
		f := &planField{node: planOf(fv, depth+1)}
		switch sel.ConstraintType() {
		case cue.RequiredConstraint:
			f.required = true
		case cue.OptionalConstraint:
		default:
			f.regular = true
			if d, ok := fv.Default(); ok && d.IsConcrete() && d.Kind()&(cue.StructKind|cue.ListKind) == 0 {
				f.def, f.hasDef = goScalar(d)
			} else if fv.IsConcrete() && fv.Kind()&(cue.StructKind|cue.ListKind) == 0 {
				f.def, f.hasDef = goScalar(fv)
			} else if fv.IncompleteKind() != cue.StructKind {
				f.required = true // no default: CUE would find it incomplete
			}
		}
		n.fields[sel.Unquoted()] = f
	}
	// A key no schema would name: does the struct take other fields?
	probe := cue.Str("\x00meshc probe")
	pattern := v.LookupPath(cue.MakePath(cue.AnyString))
	switch {
	case !v.Allows(probe):
		if pattern.Exists() {
			return unknownNode // a pattern for some keys only
		}
	case pattern.Exists():
		n.pattern = planOf(pattern, depth+1)
	default:
		n.open = true
	}
	return n
}

func listPlan(v cue.Value, depth int) *planNode {
	if op, _ := v.Expr(); op != cue.NoOp {
		return unknownNode
	}
	n := &planNode{known: true, isList: true}
	it, err := v.List()
	if err != nil {
		return unknownNode
	}
	for it.Next() {
		n.prefix = append(n.prefix, planOf(it.Value(), depth+1))
	}
	if e := v.LookupPath(cue.MakePath(cue.AnyIndex)); e.Exists() {
		n.elem = planOf(e, depth+1)
	}
	return n
}

// scalarAlts reads a scalar constraint as alternatives, or says it cannot.
func scalarAlts(v cue.Value, depth int) ([]scalarAlt, bool) {
	if depth > 16 {
		return nil, false
	}
	op, args := v.Expr()
	switch op {
	case cue.NoOp:
		if v.IsConcrete() {
			lit, ok := goScalar(v)
			if !ok {
				return nil, false
			}
			switch lit.(type) {
			case string, bool:
				return []scalarAlt{{kind: v.Kind(), literal: lit}}, true
			}
			return nil, false // a number: CUE compares those
		}
		// A kind, such as string, or a disjunction CUE folded into one
		// (*"meshc" | string): the plan takes the value's kinds only if
		// CUE says it allows every value of them, and not a validator that
		// only looks like a kind.
		k := v.IncompleteKind()
		for _, kind := range []struct {
			k    cue.Kind
			name string
		}{{cue.StringKind, "string"}, {cue.BoolKind, "bool"}, {cue.IntKind, "int"}, {cue.FloatKind, "float"}, {cue.NullKind, "null"}} {
			if k&kind.k == 0 {
				continue
			}
			if v.Subsume(v.Context().CompileString(kind.name)) != nil {
				return nil, false
			}
			k &^= kind.k
		}
		if k != 0 {
			return nil, false
		}
		return []scalarAlt{{kind: v.IncompleteKind()}}, true
	case cue.OrOp:
		var out []scalarAlt
		for _, a := range args {
			alts, ok := scalarAlts(a, depth+1)
			if !ok {
				return nil, false
			}
			out = append(out, alts...)
		}
		return out, true
	case cue.AndOp:
		all := scalarAlt{kind: cue.TopKind}
		for _, a := range args {
			alts, ok := scalarAlts(a, depth+1)
			if !ok || len(alts) != 1 || alts[0].literal != nil {
				return nil, false
			}
			all.kind &= alts[0].kind
			all.match = append(all.match, alts[0].match...)
			all.noMatch = append(all.noMatch, alts[0].noMatch...)
		}
		return []scalarAlt{all}, true
	case cue.RegexMatchOp, cue.NotRegexMatchOp:
		if len(args) != 1 {
			return nil, false
		}
		s, err := args[0].String()
		if err != nil {
			return nil, false
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, false
		}
		if op == cue.RegexMatchOp {
			return []scalarAlt{{kind: cue.StringKind, match: []*regexp.Regexp{re}}}, true
		}
		return []scalarAlt{{kind: cue.StringKind, noMatch: []*regexp.Regexp{re}}}, true
	case cue.SelectorOp:
		// A reference to a definition (#Name): read what it stands for.
		e := v.Eval()
		if eop, _ := e.Expr(); eop == cue.SelectorOp {
			return nil, false
		}
		return scalarAlts(e, depth+1)
	}
	return nil, false
}

func goScalar(v cue.Value) (any, bool) {
	switch v.Kind() {
	case cue.StringKind:
		s, err := v.String()
		return s, err == nil
	case cue.BoolKind:
		b, err := v.Bool()
		return b, err == nil
	}
	return nil, false
}

// check checks syntax x against the node and returns x as Go data (with
// defaults), or false when CUE must decide.
func (n *planNode) check(x ast.Expr) (any, bool) {
	if !n.known {
		return nil, false
	}
	if n.any {
		return plainData(x)
	}
	switch {
	case n.isStruct:
		lit, ok := x.(*ast.StructLit)
		if !ok {
			return nil, false
		}
		out := make(map[string]any, len(lit.Elts)+len(n.fields))
		for _, d := range lit.Elts {
			name, value, skip, ok := dataField(d)
			if skip {
				continue
			}
			if !ok {
				return nil, false
			}
			var sub *planNode
			if pf, ok := n.fields[name]; ok {
				sub = pf.node
			} else if n.pattern != nil {
				sub = n.pattern
			} else if n.open {
				sub = anyNode
			} else {
				return nil, false
			}
			v, ok := sub.check(value)
			if !ok {
				return nil, false
			}
			out[name] = v
		}
		for name, pf := range n.fields {
			if _, ok := out[name]; ok {
				continue
			}
			switch {
			case pf.required:
				return nil, false
			case pf.hasDef:
				out[name] = pf.def
			case pf.regular:
				// A struct CUE makes although the user did not write it.
				v, ok := pf.node.check(&ast.StructLit{})
				if !ok {
					return nil, false
				}
				out[name] = v
			}
		}
		return out, true
	case n.isList:
		lit, ok := x.(*ast.ListLit)
		if !ok {
			return nil, false
		}
		out := make([]any, 0, len(lit.Elts))
		for i, e := range lit.Elts {
			var sub *planNode
			switch {
			case i < len(n.prefix):
				sub = n.prefix[i]
			case n.elem != nil:
				sub = n.elem
			default:
				return nil, false
			}
			if _, ok := e.(*ast.Ellipsis); ok {
				return nil, false
			}
			v, ok := sub.check(e)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		if len(out) < len(n.prefix) {
			return nil, false
		}
		return out, true
	}
	v, kind, ok := scalar(x)
	if !ok {
		return nil, false
	}
	for _, a := range n.alts {
		if a.fits(v, kind) {
			return v, true
		}
	}
	return nil, false
}

func (a scalarAlt) fits(v any, kind cue.Kind) bool {
	if a.kind&kind == 0 {
		return false
	}
	if a.literal != nil {
		return a.literal == v
	}
	if len(a.match)+len(a.noMatch) > 0 {
		s, ok := v.(string)
		if !ok {
			return false
		}
		for _, re := range a.match {
			if !re.MatchString(s) {
				return false
			}
		}
		for _, re := range a.noMatch {
			if re.MatchString(s) {
				return false
			}
		}
	}
	return true
}

// plainDecimal is a JSON number: what a plain YAML or JSON number is.
var plainDecimal = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

// scalar reads a literal as Go data: string, bool, nil or json.Number.
func scalar(x ast.Expr) (any, cue.Kind, bool) {
	switch x := x.(type) {
	case *ast.BasicLit:
		switch x.Kind {
		case token.STRING:
			if strings.HasPrefix(x.Value, "'") || strings.HasPrefix(x.Value, "#") {
				return nil, 0, false // bytes, or a raw string
			}
			s, err := literal.Unquote(x.Value)
			return s, cue.StringKind, err == nil
		case token.TRUE:
			return true, cue.BoolKind, true
		case token.FALSE:
			return false, cue.BoolKind, true
		case token.NULL:
			return nil, cue.NullKind, true
		case token.INT, token.FLOAT:
			if !plainDecimal.MatchString(x.Value) {
				return nil, 0, false
			}
			if _, err := strconv.ParseFloat(x.Value, 64); err != nil {
				return nil, 0, false // out of range: CUE says what it makes of it
			}
			kind := cue.FloatKind
			if x.Kind == token.INT && !strings.ContainsAny(x.Value, ".eE") {
				kind = cue.IntKind
			}
			return json.Number(x.Value), kind, true
		}
	case *ast.Ident:
		switch x.Name {
		case "true":
			return true, cue.BoolKind, true
		case "false":
			return false, cue.BoolKind, true
		case "null":
			return nil, cue.NullKind, true
		}
	case *ast.UnaryExpr:
		if x.Op == token.SUB {
			if lit, ok := x.X.(*ast.BasicLit); ok && (lit.Kind == token.INT || lit.Kind == token.FLOAT) {
				v, kind, ok := scalar(&ast.BasicLit{Kind: lit.Kind, Value: "-" + lit.Value})
				return v, kind, ok
			}
		}
	}
	return nil, 0, false
}

// dataField reads declaration d of a struct literal as a field of plain
// data: its name and value. skip is set for a comment; ok is false for
// anything CUE must decide (an embedding, a constraint such as name?: or
// name!:, a definition or a hidden field).
func dataField(d ast.Decl) (name string, value ast.Expr, skip, ok bool) {
	f, isField := d.(*ast.Field)
	if !isField || f.Constraint != token.ILLEGAL {
		_, comment := d.(*ast.CommentGroup)
		return "", nil, comment, false
	}
	name, isIdent, err := ast.LabelName(f.Label)
	if err != nil || isIdent && (strings.HasPrefix(name, "#") || strings.HasPrefix(name, "_")) {
		return "", nil, false, false
	}
	return name, f.Value, false, true
}

// plainData reads syntax that is plain data (any value a topology may hold
// under an open struct) as Go data.
func plainData(x ast.Expr) (any, bool) {
	n := anyNode
	switch x := x.(type) {
	case *ast.StructLit:
		out := make(map[string]any, len(x.Elts))
		for _, d := range x.Elts {
			name, value, skip, ok := dataField(d)
			if skip {
				continue
			}
			if !ok {
				return nil, false
			}
			v, ok := n.check(value)
			if !ok {
				return nil, false
			}
			out[name] = v
		}
		return out, true
	case *ast.ListLit:
		out := make([]any, 0, len(x.Elts))
		for _, e := range x.Elts {
			v, ok := n.check(e)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	}
	v, _, ok := scalar(x)
	return v, ok
}

// decodeFast decodes plain data (with defaults) into a model type, as
// encoding/json would from the same data (json struct tags, numbers into
// interfaces as float64), without the round trip through bytes.
func decodeFast(data any, into any) error {
	return assign(data, reflect.ValueOf(into).Elem())
}

func assign(data any, v reflect.Value) error {
	if data == nil {
		v.SetZero()
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return assign(data, v.Elem())
	case reflect.Struct:
		m, ok := data.(map[string]any)
		if !ok {
			return fmt.Errorf("cannot decode %T into %s", data, v.Type())
		}
		fields := jsonFields(v.Type())
		for k, x := range m {
			if i, ok := fields[k]; ok {
				if err := assign(x, v.Field(i)); err != nil {
					return err
				}
			}
		}
		return nil
	case reflect.Map:
		m, ok := data.(map[string]any)
		if !ok || v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("cannot decode %T into %s", data, v.Type())
		}
		out := reflect.MakeMapWithSize(v.Type(), len(m))
		for k, x := range m {
			e := reflect.New(v.Type().Elem()).Elem()
			if err := assign(x, e); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		}
		v.Set(out)
		return nil
	case reflect.Slice:
		l, ok := data.([]any)
		if !ok {
			return fmt.Errorf("cannot decode %T into %s", data, v.Type())
		}
		out := reflect.MakeSlice(v.Type(), len(l), len(l))
		for i, x := range l {
			if err := assign(x, out.Index(i)); err != nil {
				return err
			}
		}
		v.Set(out)
		return nil
	case reflect.Interface:
		if v.NumMethod() != 0 {
			return fmt.Errorf("cannot decode into %s", v.Type())
		}
		x, err := jsonPlain(data)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(x))
		return nil
	case reflect.String:
		s, ok := data.(string)
		if !ok {
			return fmt.Errorf("cannot decode %T into %s", data, v.Type())
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := data.(bool)
		if !ok {
			return fmt.Errorf("cannot decode %T into %s", data, v.Type())
		}
		v.SetBool(b)
		return nil
	}
	return fmt.Errorf("cannot decode into %s", v.Type())
}

// jsonPlain is data as encoding/json decodes it into an interface: numbers
// as float64.
func jsonPlain(data any) (any, error) {
	switch x := data.(type) {
	case json.Number:
		return x.Float64()
	case map[string]any:
		for k, e := range x {
			p, err := jsonPlain(e)
			if err != nil {
				return nil, err
			}
			x[k] = p
		}
	case []any:
		for i, e := range x {
			p, err := jsonPlain(e)
			if err != nil {
				return nil, err
			}
			x[i] = p
		}
	}
	return data, nil
}

// jsonFields maps each JSON name of a struct type to its field index.
var jsonFieldsCache sync.Map // reflect.Type -> map[string]int

func jsonFields(t reflect.Type) map[string]int {
	if m, ok := jsonFieldsCache.Load(t); ok {
		return m.(map[string]int)
	}
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		m[name] = i
	}
	jsonFieldsCache.Store(t, m)
	return m
}
