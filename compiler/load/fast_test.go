package load

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/parser"
	"github.com/rogpeppe/go-internal/txtar"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/internal/fleet"
	"meshc.dev/meshc/schema"
)

// TestFastPlanLeavesAgreeWithCUE checks every scalar the fast road reads
// from the schema against CUE itself, on sample values and on every
// literal the schema names: a scalar the plan accepts, CUE must accept.
func TestFastPlanLeavesAgreeWithCUE(t *testing.T) {
	plans := schemaPlans()
	if len(plans) != len(shardedMaps) {
		t.Fatalf("plans for %d maps, want %d", len(plans), len(shardedMaps))
	}
	samples := []string{`""`, `"a"`, `"A"`, `"k8s"`, `"-a"`, `"a-"`, `"a.b"`, `"1.30.3"`, `"v1.30.3"`, `"1.30"`, `"1.30.3-rc.1"`,
		`"https://x"`, `"http://x"`, `"oci://x"`, `"10m"`, `"5x"`, `"strict"`, `"` + strings.Repeat("a", 64) + `"`,
		`true`, `false`, `null`, `1`, `-1`, `1.5`, `1e3`, `{}`, `[]`}
	var leaves int
	var walk func(path string, n *planNode)
	walk = func(path string, n *planNode) {
		switch {
		case !n.known:
			// Not wrong (CUE decides), but slow when the field is written.
			t.Logf("%s: the plan does not understand the schema here: entities writing it go to CUE", path)
		case n.any:
		case n.isStruct:
			for name, f := range n.fields {
				walk(path+"."+name, f.node)
			}
			if n.pattern != nil {
				walk(path+".*", n.pattern)
			}
		case n.isList:
			for i, p := range n.prefix {
				walk(fmt.Sprintf("%s[%d]", path, i), p)
			}
			if n.elem != nil {
				walk(path+"[*]", n.elem)
			}
		default:
			leaves++
			tried := slices.Clone(samples)
			for _, a := range n.alts {
				if a.literal != nil {
					b, _ := json.Marshal(a.literal)
					tried = append(tried, string(b))
				}
			}
			for _, src := range tried {
				x, err := parser.ParseExpr("sample", src)
				if err != nil {
					t.Fatal(err)
				}
				_, fast := n.check(x)
				ctx := n.schema.Context()
				cueOK := n.schema.Unify(ctx.CompileString(src)).Validate(cue.Concrete(true)) == nil
				if fast && !cueOK {
					t.Errorf("%s: the plan accepts %s, CUE does not", path, src)
				}
				if !fast && cueOK {
					// Not wrong (CUE decides), but slow: say so.
					t.Logf("%s: the plan leaves %s to CUE", path, src)
				}
			}
		}
	}
	for m, n := range plans {
		if !n.known {
			t.Errorf("%s: the plan does not know the schema of an entity: every one goes to CUE", m)
		}
		walk(m, n)
	}
	if leaves < 30 {
		t.Errorf("only %d scalars checked", leaves)
	}
}

// TestPlannable pins which schemas a plan may stand for: the embedded one,
// and none whose fields depend on an entity's values.
func TestPlannable(t *testing.T) {
	if !plannable(schema.Topology) {
		t.Error("the embedded schema is not plannable: every entity goes to CUE")
	}
	for _, src := range []string{
		"#A: {mode: string, if mode == \"x\" {extra!: string}}",
		"#A: {name: string, revision: *name | string}",
		"#A: {for k in [\"a\"] {(k): string}}",
		"#A: {let x = 1, n: x}",
		"import \"strings\"\n#A: {n: strings.MinRunes(1)}",
		"#A: {n: \"\\(_x)\"}\n_x: \"a\"",
		"#A: {[=~\"^x\"]: int, ...}",
	} {
		if plannable(src) {
			t.Errorf("plannable: %s", src)
		}
	}
	if !plannable("#A: {n: #B | *\"x\", m?: [...string], l: [string]: bool}\n#B: =~\"^a\"") {
		t.Error("a schema of definitions and kinds is plannable")
	}
}

// TestFastPathAgrees loads every topology in the repository, valid or not
// (the examples, the fleet generator's, the testscripts' inputs), with the
// fast road and without: the models, the positions of every path and the
// diagnostics must be the same.
func TestFastPathAgrees(t *testing.T) {
	inputs := map[string][]byte{
		"fleet.yaml":       fleet.YAML(fleet.ManyMeshes(20)),
		"fleet-small.yaml": fleet.YAML(fleet.Size{Clusters: 12, Meshes: 5, Namespaces: 40}),
	}
	// Plain data in every spelling YAML and JSON allow, under values
	// (open), labels (a map) and the entities' own fields.
	inputs["odd.yaml"] = []byte(`apiVersion: meshc.dev/v1alpha1
kind: Topology
metadata: {name: t}
defaults: {istio: {version: 1.30.3}}
networks: {n1: {}, "n 2": {}}
clusters:
  c1: &c {network: n1, cni: true, podCIDRs: [10.0.0.0/16], platform: "openshift"}
  c2:
    <<: *c
    cni: true
  "c 3": {caBundle: "", tlsServerName: "~"}
meshes:
  m1:
    eastWestGateways: false
    discoveryLabel: {"team name": "a b", "x.io/y": ""}
    controlPlanes:
      cp1:
        cluster: c1
        tags: [a, 'b']
        values:
          pilot: {replicaCount: 2, cpu: 1.5, neg: -3, big: 12345678901234567890, exp: 1e3, hex: 0x1F, oct: 0o17,
            none: null, tilde: ~, "on": on, date: 2001-12-14, when: 2001-12-14t21:59:43.10-05:00}
          global:
            multi: |
              line one
              line "two"
            folded: >
              a
              b
            list: [1, "2", [3, {four: 4}], null, true]
            empty: {}
            emptyList: []
            unicode: "é\u00e9\t"
tenants:
  t1: {mesh: m1, namespaces: [a], labels: {k: v}, mtls: STRICT}
  t2: {mesh: m1, namespaces: [b], clusters: [c1], revision: cp1, controlPlane: cp1}
`)
	inputs["odd.json"] = []byte(`{"apiVersion": "meshc.dev/v1alpha1", "kind": "Topology", "metadata": {"name": "t"},
		"defaults": {"istio": {"version": "1.30.3"}}, "clusters": {"c1": {"cni": false, "serviceCIDRs": []}},
		"meshes": {"m1": {"mtls": "NONE", "controlPlanes": {"cp1": {"cluster": "c1", "values": {"a": [1.0, -0.5, 1E+2, 100000000000000000000000, null, "\u00e9"]}}}}},
		"tenants": {"t1": {"mesh": "m1", "namespaces": ["a", "b"]}}}`)
	files, _ := filepath.Glob("../../topologies/*")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(f)] = data
	}
	scripts, _ := filepath.Glob("../../internal/cli/testdata/script/*.txtar")
	for _, s := range scripts {
		a, err := txtar.ParseFile(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range a.Files {
			if ext := filepath.Ext(f.Name); ext == ".yaml" || ext == ".yml" || ext == ".json" {
				inputs[filepath.Base(s)+"/"+f.Name] = f.Data
			}
		}
	}
	if len(inputs) < 50 {
		t.Fatalf("only %d inputs", len(inputs))
	}
	var fastShards int
	for name, data := range inputs {
		fast := bothRoads(t, name, data)
		fastShards += fast
		if strings.HasPrefix(name, "odd.") || strings.HasPrefix(name, "fleet") {
			t.Logf("%s: %d entities on the fast road", name, fast)
			if fast == 0 {
				t.Errorf("%s: no entity took the fast road", name)
			}
		}
	}
	if fastShards < 100 {
		t.Errorf("only %d entities took the fast road", fastShards)
	}
}

// FuzzFastPathAgrees is TestFastPathAgrees on any input.
func FuzzFastPathAgrees(f *testing.F) {
	f.Add("t.yaml", []byte(fleet.YAML(fleet.Size{Clusters: 3, Meshes: 2, Namespaces: 6})))
	f.Add("t.json", []byte(`{"apiVersion": "meshc.dev/v1alpha1", "kind": "Topology", "metadata": {"name": "t"}, "clusters": {"c1": {"cni": true}}, "meshes": {"m1": {"controlPlanes": {"cp1": {"cluster": "c1", "values": {"a": [1, null]}}}}}}`))
	if files, err := filepath.Glob("../../topologies/*.yaml"); err == nil {
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(filepath.Base(file), data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		if ext := filepath.Ext(name); ext == ".json" {
			name = "t.json"
		} else {
			name = "t.yaml" // a CUE topology takes no fast road
		}
		bothRoads(t, name, data)
	})
}

// bothRoads loads data with the fast road and without, fails t unless the
// diagnostics, the models and the position of every path are the same,
// and says how many entities took the fast road.
func bothRoads(t *testing.T, name string, data []byte) int {
	t.Helper()
	file := filepath.Base(name)
	fastTopo, fastErr := loadBytes(file, data)
	fastPath = false
	slowTopo, slowErr := loadBytes(file, data)
	fastPath = true
	if fmt.Sprint(fastErr) != fmt.Sprint(slowErr) {
		t.Errorf("%s: errors differ\nfast: %v\nCUE:  %v", name, fastErr, slowErr)
		return 0
	}
	if fastErr != nil {
		var diags diag.List
		if !errors.As(fastErr, &diags) {
			t.Errorf("%s: %v", name, fastErr)
		}
		return 0
	}
	fs, ss := fastTopo.Source.(*source), slowTopo.Source.(*source)
	fast := 0
	for _, sh := range fs.shards {
		if sh.fast {
			fast++
		}
	}
	fsIndex, ssIndex := fs.positions(), ss.positions()
	if !reflect.DeepEqual(fsIndex, ssIndex) {
		for k, v := range ssIndex {
			if fsIndex[k] != v {
				t.Errorf("%s: position of %s: fast %v, CUE %v", name, k, fsIndex[k], v)
			}
		}
		for k := range fsIndex {
			if _, ok := ssIndex[k]; !ok {
				t.Errorf("%s: fast road indexes %s, CUE does not", name, k)
			}
		}
	}
	fastTopo.Source, slowTopo.Source = nil, nil
	if !reflect.DeepEqual(fastTopo, slowTopo) {
		a, _ := json.MarshalIndent(fastTopo, "", " ")
		b, _ := json.MarshalIndent(slowTopo, "", " ")
		t.Errorf("%s: models differ\nfast: %s\nCUE:  %s", name, a, b)
	}
	return fast
}
