package load

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/token"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/secret"
)

// MaxDepth is how deeply mappings and lists may nest in a topology. The
// deepest a topology needs is a control plane's Helm values, a dozen
// levels down; a limit far above keeps every later stage (JSON, YAML,
// recursion over values) far from its own limits, so that an absurd input
// is the user's error, not a crash.
const MaxDepth = 100

// utf8BOM starts files some Windows editors write; YAML skips it, and
// meshc reads JSON and CUE the same way.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// textDiagnostic refuses bytes no topology holds: a NUL byte says the
// file is binary (or was cut mid-write), and YAML, JSON and CUE all
// reject it with no position.
func textDiagnostic(filename string, data []byte) *diag.Diagnostic {
	i := bytes.IndexByte(data, 0)
	if i < 0 {
		return nil
	}
	line, col := lineCol(data, i+1)
	return &diag.Diagnostic{
		Code:    diag.Syntax,
		Pos:     diag.Pos{File: filename, Line: line, Column: col},
		Message: "the file holds a NUL byte: a topology is text",
		Hint:    "check that this is the topology file and that it was saved whole",
	}
}

// inspect walks the syntax tree of the input before CUE evaluates it, for
// what evaluation would hide or choke on: nesting deeper than MaxDepth,
// a key written twice in one YAML or JSON mapping (CUE would unify the
// two silently, which YAML and JSON readers do not), and private key
// material in any string, which must never reach the output (and Git).
func inspect(n ast.Node, duplicatesMatter bool) diag.List {
	w := &inspector{duplicatesMatter: duplicatesMatter}
	ast.Walk(n, w.before, w.after)
	return w.out
}

type inspector struct {
	duplicatesMatter bool
	out              diag.List
	stack            []frame
	depth            int
	tooDeep          bool
}

// frame is one node being walked: its topology path segment, if any, and
// for a list the index of the next element.
type frame struct {
	node    ast.Node
	segment any // string for a field, int for a list element, nil otherwise
	next    int
}

func (w *inspector) path() model.Path {
	p := model.Path{}
	for _, f := range w.stack {
		if f.segment != nil {
			p = append(p, f.segment)
		}
	}
	return p
}

func (w *inspector) before(n ast.Node) bool {
	f := frame{node: n}
	if len(w.stack) > 0 {
		parent := &w.stack[len(w.stack)-1]
		if _, ok := parent.node.(*ast.ListLit); ok {
			f.segment = parent.next
			parent.next++
		}
	}
	switch n := n.(type) {
	case *ast.Field:
		if name, _, err := ast.LabelName(n.Label); err == nil {
			f.segment = name
		}
	case *ast.StructLit, *ast.ListLit:
		if w.depth >= MaxDepth {
			if !w.tooDeep {
				w.tooDeep = true
				d := w.report(diag.InputLimit, n.Pos(), fmt.Sprintf("mappings and lists nest more than %d deep here", MaxDepth),
					"flatten the value: no topology needs this depth")
				// The path down to the first levels says where; the rest
				// would be a hundred selectors.
				if p := w.path(); len(p) > 8 {
					d.Path = p[:8].String() + "…"
				}
			}
			return false
		}
		w.depth++
		if s, ok := n.(*ast.StructLit); ok && w.duplicatesMatter {
			w.push(f)
			w.duplicates(s.Elts)
			return true
		}
	case *ast.File:
		if w.duplicatesMatter {
			w.push(f)
			w.duplicates(n.Decls)
			return true
		}
	case *ast.BasicLit:
		if n.Kind == token.STRING {
			w.push(f)
			w.secret(n)
			return true
		}
	}
	w.push(f)
	return true
}

func (w *inspector) push(f frame) { w.stack = append(w.stack, f) }

func (w *inspector) after(n ast.Node) {
	switch n.(type) {
	case *ast.StructLit, *ast.ListLit:
		w.depth--
	}
	w.stack = w.stack[:len(w.stack)-1]
}

func (w *inspector) report(code diag.Code, pos token.Pos, msg, hint string) *diag.Diagnostic {
	w.out = append(w.out, diag.Diagnostic{Code: code, Path: w.path().String(), Pos: posOf(pos), Message: msg, Hint: hint})
	return &w.out[len(w.out)-1]
}

// duplicates reports every key of a mapping written a second time.
func (w *inspector) duplicates(decls []ast.Decl) {
	first := map[string]token.Pos{}
	for _, d := range decls {
		f, ok := d.(*ast.Field)
		if !ok {
			continue
		}
		name, _, err := ast.LabelName(f.Label)
		if err != nil {
			continue
		}
		if at, ok := first[name]; ok {
			p := append(w.path(), name)
			w.out = append(w.out, diag.Diagnostic{
				Code: diag.DuplicateKey, Path: p.String(), Pos: posOf(f.Pos()),
				Message: fmt.Sprintf("key %s is written twice in one mapping", diag.Quote(name)),
				Hint:    "keep one of them: YAML and JSON readers disagree on which one wins",
				Related: []diag.Related{{Path: p.String(), Pos: posOf(at)}},
			})
			continue
		}
		first[name] = f.Pos()
	}
}

// secret refuses a string literal holding a private key.
func (w *inspector) secret(lit *ast.BasicLit) {
	s, err := literal.Unquote(lit.Value)
	if err != nil {
		s = lit.Value
	}
	f, ok := secret.Find([]byte(s))
	if !ok {
		return
	}
	w.report(diag.Secret, lit.Pos(),
		"this value holds "+f.What+"; meshc's output is committed to Git, so no key may reach it",
		"remove the key: give only public material (a CA certificate) and keep keys in a secret store")
}

// posPrefix finds a position a parser wrote into its message
// ("file.yaml:12: ..." or "file.yaml:12:3: ...") when it gave none apart,
// and returns it with the rest of the message.
func posPrefix(filename, msg string) (diag.Pos, string, bool) {
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(filename) + `:(\d+)(?::(\d+))?:\s*(.*)$`)
	m := re.FindStringSubmatch(msg)
	if m == nil {
		return diag.Pos{}, msg, false
	}
	line, _ := strconv.Atoi(m[1])
	col := 1
	if m[2] != "" {
		col, _ = strconv.Atoi(m[2])
	}
	return diag.Pos{File: filename, Line: line, Column: col}, m[3], true
}
