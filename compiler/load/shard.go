package load

import (
	"fmt"
	"runtime"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
)

// CUE's evaluator finds a field by scanning its struct's fields one by one,
// so a struct of n fields costs n² to build, unify and decode: 40,000
// tenants took a minute. In YAML and JSON nothing refers to anything, so
// the entity maps that grow with a fleet (shardedMaps) are cut out of the
// syntax tree and each entity is checked against its schema and decoded on
// its own: linear in the number of entities. An entity that fits the
// schema's plan takes the fast road (fast.go) and is never built in CUE;
// the others are built, validated and decoded by CUE. A CUE topology is a
// program whose entities may refer to one another; it is evaluated whole.
var shardedMaps = []string{"clusters", "meshes", "networks", "tenants"}

// shard is one entity cut out of the input: its topology path (map and
// key) and its value, built on its own.
type shard struct {
	path  model.Path
	value cue.Value
	// at is where the entity's key is written: its position, as CUE gives
	// a field's when the entity is built within its map.
	at diag.Pos
	// unified is value unified with its schema, once validated.
	unified cue.Value

	// An entity that took the fast road (fast.go) has no CUE value: syntax
	// is what the user wrote, data its plain data with defaults.
	syntax ast.Expr
	data   any
	fast   bool
}

// cutShards removes the entities of shardedMaps from the top-level fields
// of a YAML or JSON document, leaving each map empty (so that the document
// still has it), and returns them.
func cutShards(decls []ast.Decl) []*ast.Field {
	var out []*ast.Field
	for _, d := range decls {
		f, ok := d.(*ast.Field)
		if !ok {
			continue
		}
		name, _, err := ast.LabelName(f.Label)
		if err != nil || !isSharded(name) {
			continue
		}
		lit, ok := f.Value.(*ast.StructLit)
		if !ok {
			continue // not a map: the schema says so, on the whole document
		}
		var rest []ast.Decl
		for _, e := range lit.Elts {
			if ef, ok := e.(*ast.Field); ok {
				if _, _, err := ast.LabelName(ef.Label); err == nil {
					out = append(out, &ast.Field{Label: &ast.Ident{Name: name}, Value: &ast.StructLit{Elts: []ast.Decl{ef}}})
					continue
				}
			}
			rest = append(rest, e)
		}
		f.Value = &ast.StructLit{Lbrace: lit.Lbrace, Elts: rest, Rbrace: lit.Rbrace}
	}
	return out
}

func isSharded(name string) bool {
	for _, m := range shardedMaps {
		if m == name {
			return true
		}
	}
	return false
}

// buildShards builds each entity cut out by cutShards on its own.
func buildShards(ctx *cue.Context, filename string, fields []*ast.Field) ([]shard, diag.List) {
	fast := checkFast(fields)
	out := make([]shard, 0, len(fields))
	var diags diag.List
	for i, f := range fields {
		mapName, _, _ := ast.LabelName(f.Label)
		entity := f.Value.(*ast.StructLit).Elts[0].(*ast.Field)
		key, _, _ := ast.LabelName(entity.Label)
		path := model.Path{mapName, key}
		if fast[i].ok {
			out = append(out, shard{path: path, at: posOf(entity.Pos()), syntax: entity.Value, data: fast[i].data, fast: true})
			continue
		}
		v := ctx.BuildExpr(entity.Value, cue.Filename(filename))
		if err := v.Err(); err != nil {
			src := &source{input: v}
			diags = append(diags, evalDiagnostics(filename, err, nil, path, src.Pos)...)
			continue
		}
		out = append(out, shard{path: path, value: v, at: posOf(entity.Pos())})
	}
	return out, diags
}

// fastEntity is an entity checked against its map's plan: its plain data
// with defaults, if it fits (ok).
type fastEntity struct {
	data any
	ok   bool
}

// checkFast checks each entity cut out by cutShards against its map's
// plan (fast.go). The plans and the syntax are only read, and CUE is not
// involved, so the entities are checked side by side, a share of them per
// core: on a large fleet this is a large part of loading.
func checkFast(fields []*ast.Field) []fastEntity {
	out := make([]fastEntity, len(fields))
	if !fastPath {
		return out
	}
	plans := schemaPlans()
	if plans == nil {
		return out
	}
	var wg sync.WaitGroup
	shares := runtime.GOMAXPROCS(0)
	for w := range shares {
		wg.Go(func() {
			for i := w * len(fields) / shares; i < (w+1)*len(fields)/shares; i++ {
				f := fields[i]
				mapName, _, _ := ast.LabelName(f.Label)
				if plan := plans[mapName]; plan != nil {
					entity := f.Value.(*ast.StructLit).Elts[0].(*ast.Field)
					out[i].data, out[i].ok = plan.check(entity.Value)
				}
			}
		})
	}
	wg.Wait()
	return out
}

// validateShards checks each entity against its schema, reporting as the
// whole document does.
func (s *source) validateShards(filename string, shards []shard) diag.List {
	var out diag.List
	schemas := map[string]cue.Value{} // one schema per map: #Tenant, ...
	for i := range shards {
		sh := &shards[i]
		if sh.fast {
			continue // it fits the schema
		}
		sch, ok := schemas[sh.path[0].(string)]
		if !ok {
			sch = s.schemaAt(sh.path)
			schemas[sh.path[0].(string)] = sch
		}
		if !sch.Exists() {
			continue // the map itself is unknown: reported on the document
		}
		sh.unified = sh.value.Unify(sch) // paths in errors are the entity's own
		if err := sh.unified.Validate(cue.Concrete(true)); err != nil {
			out = append(out, s.schemaDiagnostics(filename, sh.path, sh.value, sch, err)...)
		}
	}
	return out
}

// decodeShards fills topo's maps with the entities.
func decodeShards(s *source, topo *model.Topology, shards []shard) error {
	for _, sh := range shards {
		decode := func(into any) error {
			if sh.fast {
				return decodeFast(sh.data, into)
			}
			return sh.unified.Decode(into)
		}
		key := sh.path[1].(string)
		var err error
		switch sh.path[0] {
		case "clusters":
			c := new(model.Cluster)
			err = decode(c)
			if topo.Clusters == nil {
				topo.Clusters = map[string]*model.Cluster{}
			}
			topo.Clusters[key] = c
		case "meshes":
			m := new(model.Mesh)
			err = decode(m)
			if topo.Meshes == nil {
				topo.Meshes = map[string]*model.Mesh{}
			}
			topo.Meshes[key] = m
		case "networks":
			var n model.Network
			err = decode(&n)
			if topo.Networks == nil {
				topo.Networks = map[string]model.Network{}
			}
			topo.Networks[key] = n
		case "tenants":
			tn := new(model.Tenant)
			err = decode(tn)
			if topo.Tenants == nil {
				topo.Tenants = map[string]*model.Tenant{}
			}
			topo.Tenants[key] = tn
		default:
			err = fmt.Errorf("no model map for %s", sh.path[0])
		}
		if err != nil {
			return fmt.Errorf("decoding %s: %w", sh.path, err)
		}
	}
	return nil
}
