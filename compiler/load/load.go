// Package load reads a topology file (.cue, .yaml, .yml or .json), validates
// it against the embedded CUE schema and decodes it once into model types.
//
// It is the only package that imports CUE: YAML and JSON go through CUE's own
// encoders, so positions of any topology path stay available to later
// stages through model.Source. Schema diagnostics are CUE's own errors
// (schemaerr.go), placed at the position the user wrote at each error's
// path, with hints read from the schema.
//
// Import direction: load imports model, diag and schema.
package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	cuejson "cuelang.org/go/encoding/json"
	cueyaml "cuelang.org/go/encoding/yaml"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/schema"
)

// schemaFile is the name schema positions carry; it never shows up in a
// diagnostic's position, which always points into the user's file.
const schemaFile = "meshc.dev/schema/topology.cue"

// Extensions lists the input formats by file extension.
var Extensions = []string{".cue", ".json", ".yaml", ".yml"}

// File reads and loads the topology at path. A problem with the input is
// returned as a diag.List; any other error is meshc's or the system's.
func File(path string) (*model.Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, diag.List{{
			Code:    diag.UnsupportedFile,
			Pos:     diag.Pos{File: path},
			Message: fmt.Sprintf("cannot read topology: %v", unwrapPathError(err)),
			Hint:    "pass the path of a .cue, .yaml, .yml or .json topology file",
		}}
	}
	return Bytes(path, data)
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// DefaultTimeout is how long loading a topology may take unless Timeout
// says otherwise: the largest fleet meshc is measured on loads in seconds.
const DefaultTimeout = time.Minute

// Timeout bounds how long loading one topology may take (zero: no bound),
// for a CUE topology is a program that may evaluate for ever. The CLI's
// --eval-timeout sets it.
//
// CUE's evaluator cannot be interrupted: on timeout, Bytes returns and the
// evaluation goes on in the background until it ends. The CLI exits at
// once; a long-lived caller pays with a goroutine and its memory.
var Timeout = DefaultTimeout

// Bytes loads a topology from data; filename picks the format by extension
// and names the file in diagnostics.
func Bytes(filename string, data []byte) (*model.Topology, error) {
	limit := Timeout
	if limit <= 0 {
		return loadBytes(filename, data)
	}
	type result struct {
		t   *model.Topology
		err error
	}
	done := make(chan result, 1)
	go func() {
		t, err := loadBytes(filename, data)
		done <- result{t, err}
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.t, r.err
	case <-timer.C:
		return nil, diag.List{{
			Code:    diag.EvalTimeout,
			Pos:     diag.Pos{File: filename, Line: 1, Column: 1},
			Message: fmt.Sprintf("loading the topology took longer than the time limit of %v", limit),
			Hint:    "look for a comprehension or disjunction that grows without bound; if the topology is just large, raise --eval-timeout",
		}}
	}
}

func loadBytes(filename string, data []byte) (*model.Topology, error) {
	ctx := cuecontext.New()
	input, shards, diags := parse(ctx, filename, data)
	if diags != nil {
		return nil, sorted(diags)
	}
	sch := ctx.CompileString(schema.Topology, cue.Filename(schemaFile))
	if err := sch.Err(); err != nil {
		return nil, fmt.Errorf("compiling embedded schema: %w", err)
	}
	unified := sch.Unify(input)
	src := &source{input: input, schema: sch, shards: shards}
	if err := unified.Validate(cue.Concrete(true)); err != nil {
		diags = src.schemaDiagnostics(filename, model.Path{}, input, sch, err)
	}
	diags = append(diags, src.validateShards(filename, shards)...)
	if len(diags) > 0 {
		return nil, sorted(diags)
	}
	topo := new(model.Topology)
	if err := unified.Decode(topo); err != nil {
		return nil, fmt.Errorf("decoding validated topology: %w", err)
	}
	if err := decodeShards(src, topo, shards); err != nil {
		return nil, err
	}
	topo.Source = src
	for _, m := range topo.Meshes {
		for _, cp := range m.ControlPlanes {
			var err error
			if cp.Values, err = jsonNormal(cp.Values); err != nil {
				return nil, fmt.Errorf("normalizing values: %w", err)
			}
		}
	}
	topo.ResolveDefaults()
	return topo, nil
}

// jsonNormal converts decoded values to plain JSON types (map[string]any,
// []any, string, float64, bool, nil), the only types Kubernetes'
// unstructured helpers, the schema validator and the YAML writer accept.
func jsonNormal(v map[string]any) (map[string]any, error) {
	if len(v) == 0 {
		return nil, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(data, &out)
}

// parse turns the input into a CUE value, keeping positions in filename.
//
// A YAML or JSON document comes back with its growing entity maps built
// apart, entity by entity (see shard.go).
func parse(ctx *cue.Context, filename string, data []byte) (cue.Value, []shard, diag.List) {
	v, cut, diags := parseWhole(ctx, filename, data)
	if diags != nil || len(cut) == 0 {
		return v, nil, diags
	}
	shards, diags := buildShards(ctx, filename, cut)
	return v, shards, diags
}

// parseWhole is parse before the entities are built: they come back as
// syntax, cut out of the document.
func parseWhole(ctx *cue.Context, filename string, data []byte) (cue.Value, []*ast.Field, diag.List) {
	var v cue.Value
	var cut []*ast.Field
	if d := textDiagnostic(filename, data); d != nil {
		return v, nil, diag.List{*d}
	}
	ext := strings.ToLower(filepath.Ext(filename))
	// explain re-reads a broken input with a plain parser, whose errors are
	// clearer than CUE's; nil when that parser finds nothing wrong.
	explain := func() *diag.Diagnostic { return nil }
	switch ext {
	case ".yaml", ".yml":
		explain = func() *diag.Diagnostic { return yamlDiagnostic(filename, data) }
		f, err := cueyaml.Extract(filename, data)
		if err != nil {
			return v, nil, syntaxDiagnostics(filename, err, explain())
		}
		if diags := inspect(f, true); diags != nil {
			return v, nil, sorted(diags)
		}
		cut = cutShards(f.Decls)
		v = ctx.BuildFile(f)
	case ".json":
		data = bytes.TrimPrefix(data, utf8BOM)
		explain = func() *diag.Diagnostic { return jsonDiagnostic(filename, data) }
		expr, err := cuejson.Extract(filename, data)
		if err != nil {
			return v, nil, syntaxDiagnostics(filename, err, explain())
		}
		if diags := inspect(expr, true); diags != nil {
			return v, nil, sorted(diags)
		}
		if lit, ok := expr.(*ast.StructLit); ok {
			cut = cutShards(lit.Elts)
		}
		v = ctx.BuildExpr(expr, cue.Filename(filename))
	case ".cue":
		data = bytes.TrimPrefix(data, utf8BOM)
		f, err := parser.ParseFile(filename, data, parser.ParseComments)
		if err != nil {
			return v, nil, syntaxDiagnostics(filename, err, nil)
		}
		// A field written twice is unification in CUE, not a mistake.
		if diags := inspect(f, false); diags != nil {
			return v, nil, sorted(diags)
		}
		v = ctx.BuildFile(f)
	default:
		return v, nil, diag.List{{
			Code:    diag.UnsupportedFile,
			Pos:     diag.Pos{File: filename},
			Message: fmt.Sprintf("unsupported topology format %q", ext),
			Hint:    "name the file with one of the extensions " + strings.Join(Extensions, ", "),
		}}
	}
	if err := v.Err(); err != nil {
		src := &source{input: v}
		return v, nil, evalDiagnostics(filename, err, explain(), nil, src.Pos)
	}
	if k := v.IncompleteKind(); k != cue.StructKind {
		if d := explain(); d != nil {
			return v, nil, diag.List{*d}
		}
		p := posOf(v.Pos())
		p.File = filename
		msg := fmt.Sprintf("a topology is a mapping of fields, not %s", k)
		if k == cue.TopKind {
			msg = "the file is empty"
		}
		return v, nil, diag.List{{
			Code:    diag.InvalidValue,
			Pos:     p,
			Message: msg,
			Hint:    "start the file with apiVersion: meshc.dev/v1alpha1 and kind: Topology",
		}}
	}
	return v, cut, nil
}

// syntaxDiagnostics reports a parse error; better, when not nil, is a
// clearer diagnostic found by re-reading the input with a plain parser.
func syntaxDiagnostics(filename string, err error, better *diag.Diagnostic) diag.List {
	return evalDiagnostics(filename, err, better, nil, nil)
}

// evalDiagnostics is syntaxDiagnostics for an error of evaluating a value
// found at topology path prefix: at, when not nil, finds the position of a
// path in the value, for errors CUE ties to a path but no position (a
// structural cycle).
func evalDiagnostics(filename string, err error, better *diag.Diagnostic, prefix model.Path, at func(model.Path) diag.Pos) diag.List {
	if better != nil {
		return diag.List{*better}
	}
	var out diag.List
	for _, e := range cueerrors.Errors(err) {
		p := firstUserPos(e, filename)
		if p.File == "" {
			p.File = filename
		}
		msg := message(e)
		if msg == "" {
			msg = e.Error()
		}
		if p.Line == 0 {
			// Some parsers put the position in the message only.
			if at, rest, ok := posPrefix(filename, msg); ok {
				p, msg = at, rest
			}
		}
		code, hint := diag.Syntax, "fix the syntax at the position shown"
		switch {
		case strings.Contains(msg, "conflicting values"):
			// CUE reads a key given twice as two values for one field.
			code, hint = diag.InvalidValue, "give the field one value; a key written twice must agree"
		case strings.Contains(msg, "structural cycle"):
			code, hint = diag.InvalidValue, "break the cycle: a value cannot contain itself, directly or through references"
		case strings.Contains(msg, "field not allowed"):
			code, hint = diag.UnknownField, "the definition it unifies with is closed: remove the field, or add it to the definition (or embed ... to open it)"
		case strings.Contains(msg, "aliases expand"):
			code, hint = diag.InputLimit, "expand fewer YAML aliases: write the repeated values out, or use a CUE topology with references"
		}
		rel := model.Path{}
		for _, sel := range e.Path() {
			rel = append(rel, sel)
		}
		if p.Line == 0 && at != nil {
			p = at(rel)
		}
		path := prefix.Child(rel...)
		out = append(out, diag.Diagnostic{
			Code:    code,
			Path:    path.String(),
			Pos:     p,
			Message: "cannot read topology: " + msg,
			Hint:    hint,
		})
	}
	if out == nil {
		out = diag.List{{Code: diag.Syntax, Pos: diag.Pos{File: filename}, Message: "cannot parse topology: " + err.Error()}}
	}
	return sorted(out)
}

// sorted sorts diagnostics, first giving a position to each that has none:
// the start of the file, for a problem with the file as a whole (empty, or
// an evaluation error CUE ties to no line). A file meshc cannot read at all
// keeps none.
func sorted(l diag.List) diag.List {
	for i := range l {
		// A file that cannot be read at all has no line to point at.
		if l[i].Pos.Line == 0 && l[i].Code != diag.UnsupportedFile {
			l[i].Pos.Line, l[i].Pos.Column = 1, 1
		}
	}
	l.Sort()
	return l
}

func posOf(p token.Pos) diag.Pos {
	if !p.IsValid() {
		return diag.Pos{}
	}
	// One search of the file's lines for both line and column: the
	// position index calls this for every value of a fleet.
	at := p.Position()
	return diag.Pos{File: p.Filename(), Line: at.Line, Column: at.Column}
}

// firstUserPos picks the first position of e inside the user's file; CUE
// also reports positions in the schema, which mean nothing to a user.
func firstUserPos(e cueerrors.Error, filename string) diag.Pos {
	for _, p := range cueerrors.Positions(e) {
		if p.Filename() == filename {
			return posOf(p)
		}
	}
	return diag.Pos{}
}

func message(e cueerrors.Error) string {
	format, args := e.Msg()
	return fmt.Sprintf(format, args...)
}

// source implements model.Source over the user's input value.
type source struct {
	input  cue.Value
	schema cue.Value
	// shards are the entities built apart from input (see shard.go).
	shards []shard

	// index maps every path the user wrote (model.Path.String()) to its
	// position, built once on the first lookup: CUE finds a field by a
	// linear scan of its struct, so a lookup per diagnostic or sort key
	// made checking quadratic in the number of tenants. It holds the
	// document and the entities built in CUE; entities holds those that
	// took the fast road, by key, each indexed on its first lookup.
	indexOnce sync.Once
	index     map[string]diag.Pos
	entities  map[string]*entityIndex
	broken    bool // the input has an error (see buildIndex)
}

// entityIndex is the position index of one entity that took the fast road
// (fast.go), built from its syntax when a path below it is first looked
// up: most of a fleet's entities are never asked about (a compile asks
// where the meshes' versions and data planes were written, and where
// each tenant is), so most are never indexed.
type entityIndex struct {
	path   string // the entity's key, of n segments
	n      int
	syntax ast.Expr
	at     diag.Pos

	once  sync.Once
	index map[string]diag.Pos
}

// lookup finds key, the entity's or a path below it.
func (e *entityIndex) lookup(key string) (diag.Pos, bool) {
	if key == e.path {
		return e.at, true
	}
	e.once.Do(func() {
		e.index = map[string]diag.Pos{}
		indexSyntax(e.n, e.path, e.syntax, e.index)
	})
	pos, ok := e.index[key]
	return pos, ok
}

func cuePath(p model.Path) cue.Path {
	sels := make([]cue.Selector, 0, len(p))
	for _, s := range p {
		switch s := s.(type) {
		case string:
			sels = append(sels, cue.Str(s))
		case int:
			sels = append(sels, cue.Index(s))
		}
	}
	return cue.MakePath(sels...)
}

// Pos returns the position of path in the user's file, or of its nearest
// ancestor the user wrote when the value came from a default.
func (s *source) Pos(p model.Path) diag.Pos {
	s.buildIndex()
	e := s.entityOf(p)
	for n := len(p); n >= 0; n-- {
		if pos, ok := s.lookup(e, n, p[:n].String()); ok && pos.Line != 0 {
			return pos
		}
		if s.broken {
			if v := s.input.LookupPath(cuePath(p[:n])); v.Exists() {
				if pos := posOf(v.Pos()); pos.Line != 0 {
					return pos
				}
			}
		}
	}
	return diag.Pos{}
}

// Written reports whether the user wrote the value at p: defaults, the
// schema's or meshc's, are not in the input.
func (s *source) Written(p model.Path) bool {
	s.buildIndex()
	_, ok := s.lookup(s.entityOf(p), len(p), p.String())
	return ok
}

// entityOf is the fast entity p is at or below, if any.
func (s *source) entityOf(p model.Path) *entityIndex {
	if len(p) < 2 || len(s.entities) == 0 {
		return nil
	}
	if name, ok := p[0].(string); !ok || !isSharded(name) {
		return nil
	}
	return s.entities[p[:2].String()]
}

// lookup finds key, a path of n segments, in e's index when it is e's
// or below it, else in the document's.
func (s *source) lookup(e *entityIndex, n int, key string) (diag.Pos, bool) {
	if e != nil && n >= 2 {
		return e.lookup(key)
	}
	pos, ok := s.index[key]
	return pos, ok
}

func (s *source) buildIndex() {
	s.indexOnce.Do(func() {
		// A value CUE could not evaluate (a cycle) has no fields to
		// index, but may still point at its parts: Pos looks them up one
		// by one. Asked of CUE once, here: later stages ask for
		// positions from several goroutines.
		s.broken = s.input.Err() != nil
		s.index = map[string]diag.Pos{}
		indexPositions(model.Path{}, s.input, s.index)
		for _, sh := range s.shards {
			key := sh.path.String()
			if sh.fast {
				if s.entities == nil {
					s.entities = map[string]*entityIndex{}
				}
				s.entities[key] = &entityIndex{path: key, n: len(sh.path), syntax: sh.syntax, at: sh.at}
				continue
			}
			indexPositions(sh.path, sh.value, s.index)
			s.index[key] = sh.at
		}
	})
}

// positions is every position the source knows, by path, every entity
// indexed: what tests compare between the fast road and CUE.
func (s *source) positions() map[string]diag.Pos {
	s.buildIndex()
	out := maps.Clone(s.index)
	for key, e := range s.entities {
		e.lookup("") // indexes it
		maps.Copy(out, e.index)
		out[key] = e.at
	}
	return out
}

// indexPositions records the position of v at path and of everything
// below it.
func indexPositions(path model.Path, v cue.Value, index map[string]diag.Pos) {
	index[path.String()] = posOf(v.Pos())
	switch v.IncompleteKind() {
	case cue.StructKind:
		fields, err := v.Fields()
		if err != nil {
			return
		}
		for fields.Next() {
			indexPositions(path.Child(fields.Selector().Unquoted()), fields.Value(), index)
		}
	case cue.ListKind:
		items, err := v.List()
		if err != nil {
			return
		}
		for i := 0; items.Next(); i++ {
			indexPositions(path.Child(i), items.Value(), index)
		}
	}
}

func lookupField(sch cue.Value, key string) cue.Value {
	for _, sel := range []cue.Selector{cue.Str(key), cue.Str(key).Optional(), cue.Str(key).Required()} {
		if v := sch.LookupPath(cue.MakePath(sel)); v.Exists() {
			return v
		}
	}
	return sch.LookupPath(cue.MakePath(cue.AnyString))
}

// render shows a user's value in a message: scalars as written, structures
// by kind.
func render(v cue.Value) string {
	switch v.IncompleteKind() {
	case cue.StructKind:
		return "(a mapping)"
	case cue.ListKind:
		return "(a list)"
	}
	if s, err := v.String(); err == nil {
		if n := utf8.RuneCountInString(s); n > 63 {
			return fmt.Sprintf("%s (%d characters)", diag.Quote(s), n)
		}
		return diag.Quote(s)
	}
	if v.IsConcrete() {
		return fmt.Sprint(v)
	}
	return "(" + v.IncompleteKind().String() + ")"
}

func lastKey(p model.Path) string {
	if len(p) == 0 {
		return ""
	}
	return fmt.Sprint(p[len(p)-1])
}

// indexSyntax is indexPositions for an entity that has only its syntax
// (fast.go): the position CUE gives a field's value is its label's, a list
// element's its own. path is the entity's key, of n segments; each child's
// key extends it, so a large fleet's paths are not written again per value.
func indexSyntax(n int, path string, x ast.Expr, index map[string]diag.Pos) {
	switch x := x.(type) {
	case *ast.StructLit:
		for _, d := range x.Elts {
			f, ok := d.(*ast.Field)
			if !ok {
				continue
			}
			name, _, err := ast.LabelName(f.Label)
			if err != nil {
				continue
			}
			child := model.ChildString(path, n, name)
			index[child] = posOf(f.Pos())
			indexSyntax(n+1, child, f.Value, index)
		}
	case *ast.ListLit:
		for i, e := range x.Elts {
			child := model.ChildString(path, n, i)
			index[child] = posOf(e.Pos())
			indexSyntax(n+1, child, e, index)
		}
	}
}

// schemaAt finds the schema constraint for a topology path, following
// pattern constraints for map entries.
func (s *source) schemaAt(p model.Path) cue.Value {
	v := s.schema
	for _, seg := range p {
		var next cue.Value
		switch seg := seg.(type) {
		case string:
			next = lookupField(v, seg)
		case int:
			next = v.LookupPath(cue.MakePath(cue.AnyIndex))
		}
		if !next.Exists() {
			return cue.Value{}
		}
		v = next
	}
	return v
}

// allowedFieldsHint lists the fields the schema allows beside an unknown
// one, best guess first.
func (s *source) allowedFieldsHint(p model.Path) string {
	if len(p) == 0 {
		return ""
	}
	parent := s.schemaAt(p[:len(p)-1])
	if !parent.Exists() {
		return "remove the field"
	}
	var fields []string
	it, err := parent.Fields(cue.Optional(true))
	if err != nil {
		return "remove the field"
	}
	for it.Next() {
		fields = append(fields, it.Selector().Unquoted())
	}
	if len(fields) == 0 {
		return "remove the field: this mapping takes no fields"
	}
	slices.Sort(fields)
	bad := lastKey(p)
	if best := closest(bad, fields); best != "" {
		return fmt.Sprintf("did you mean %q? allowed fields: %s", best, strings.Join(fields, ", "))
	}
	return "remove the field or use one of: " + strings.Join(fields, ", ")
}

// closest returns the candidate within a small edit distance of s, if any.
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := diag.EditDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// describeExpected renders a schema constraint for a hint: " one of
// "a", "b"" for enums, " a string matching ..." for patterns.
func describeExpected(v cue.Value) string {
	if !v.Exists() {
		return ""
	}
	if d, ok := definitionDescriptions[formatNode(v.Source())]; ok {
		return " " + d
	}
	op, args := v.Expr()
	if op != cue.OrOp && strings.HasPrefix(formatNode(v.Source()), "#") {
		// A reference to a definition the table does not describe (such
		// as #Installer): its alternatives, read from the schema so that
		// the hint cannot fall behind it.
		op, args = v.Eval().Expr()
	}
	if op == cue.OrOp {
		var alts []string
		concrete := true
		for _, a := range args {
			if a.IsConcrete() {
				alts = append(alts, fmt.Sprint(a))
			} else {
				concrete = false
				alts = append(alts, strings.TrimSpace(describeExpected(a)))
			}
		}
		if concrete {
			return " one of " + strings.Join(alts, ", ")
		}
		return " " + strings.Join(alts, ", or ")
	}
	src := strings.TrimSpace(formatNode(v.Source()))
	if strings.HasPrefix(src, "#") && v.IncompleteKind() == cue.StructKind {
		// A definition the table does not describe: its fields, read from
		// the schema so that the hint cannot fall behind it.
		if fields := fieldNames(v); len(fields) > 0 {
			return " a mapping with the fields " + strings.Join(fields, ", ")
		}
	}
	if src != "" && len(src) <= 120 && !strings.Contains(src, "\n") {
		return " " + src
	}
	if k := v.IncompleteKind(); k&(cue.StructKind|cue.ListKind) == 0 {
		// A disjunction CUE folded into one value (*"10m" | =~"^[0-9]+s$"
		// is no OrOp): as the schema writes it, without the default's mark.
		if s := fmt.Sprint(v); len(s) <= 120 && !strings.ContainsAny(s, "\n{") {
			s = strings.TrimPrefix(strings.ReplaceAll(s, "| *", "| "), "*")
			return " " + strings.ReplaceAll(s, " | ", " or ")
		}
	}
	switch k := v.IncompleteKind(); k {
	case cue.StructKind:
		return " a mapping"
	case cue.ListKind:
		return " a list"
	default:
		return " a value of kind " + k.String()
	}
}

// fieldNames lists the fields a schema struct allows, sorted.
func fieldNames(v cue.Value) []string {
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return nil
	}
	var out []string
	for it.Next() {
		out = append(out, it.Selector().Unquoted())
	}
	slices.Sort(out)
	return out
}

// definitionDescriptions say in words what the schema's definitions mean,
// for hints; a user never wrote "#Name".
var definitionDescriptions = map[string]string{
	"#Name":         "a DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters",
	"#Version":      "an Istio release written major.minor.patch, e.g. 1.30.3 (or v1.30.3)",
	"#Labels":       "a map of label keys to string values",
	"#Cluster":      "a mapping with the cluster's fields (network, platform, ...)",
	"#Mesh":         "a mapping with the mesh's fields (controlPlanes, ...)",
	"#ControlPlane": "a mapping with the control plane's fields (cluster, namespace, ...)",
	"#Tenant":       "a mapping with the tenant's fields (mesh, namespaces, ...)",
	"#Network":      "a mapping, {} for a network with no fields",
	`=~"^https://"`: "an https:// URL",
}

func formatNode(n ast.Node) string {
	switch n := n.(type) {
	case *ast.Field:
		return formatNode(n.Value)
	case *ast.BasicLit:
		return n.Value
	case *ast.UnaryExpr:
		return n.Op.String() + formatNode(n.X)
	case *ast.Ident:
		return n.Name
	}
	return ""
}
