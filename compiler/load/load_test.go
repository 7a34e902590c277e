package load_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"meshc.dev/meshc/compiler/check"
	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/load"
	"meshc.dev/meshc/compiler/model"
)

const minimal = `apiVersion: meshc.dev/v1alpha1
kind: Topology
metadata:
  name: t
defaults:
  istio:
    version: 1.28.2
clusters:
  c1: {}
meshes:
  m1:
    controlPlanes:
      cp1:
        cluster: c1
tenants:
  t1:
    mesh: m1
    namespaces: [a, b]
`

// TestFormatsAgree loads one topology written as YAML, JSON and CUE and
// expects the same model.
func TestFormatsAgree(t *testing.T) {
	inputs := map[string]string{
		"t.yaml": minimal,
		"t.json": `{"apiVersion": "meshc.dev/v1alpha1", "kind": "Topology", "metadata": {"name": "t"},
			"defaults": {"istio": {"version": "1.28.2"}}, "clusters": {"c1": {}},
			"meshes": {"m1": {"controlPlanes": {"cp1": {"cluster": "c1"}}}},
			"tenants": {"t1": {"mesh": "m1", "namespaces": ["a", "b"]}}}`,
		"t.cue": `apiVersion: "meshc.dev/v1alpha1"
kind: "Topology"
metadata: name: "t"
defaults: istio: version: "1.28.2"
clusters: c1: {}
meshes: m1: controlPlanes: cp1: cluster: "c1"
tenants: t1: {mesh: "m1", namespaces: ["a", "b"]}
`,
	}
	for file, src := range inputs {
		topo, err := load.Bytes(file, []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		cp := topo.Meshes["m1"].ControlPlanes["cp1"]
		if cp.Namespace != "istio-system" || cp.Revision != "cp1" || cp.Version != "1.28.2" || cp.Cluster != "c1" {
			t.Errorf("%s: control plane %+v", file, cp)
		}
		if got := topo.Tenants["t1"].Namespaces; strings.Join(got, ",") != "a,b" {
			t.Errorf("%s: tenant namespaces %v", file, got)
		}
		if topo.Clusters["c1"].Platform != "kubernetes" || topo.Meshes["m1"].MTLS != "STRICT" {
			t.Errorf("%s: schema defaults not applied", file)
		}
		pos := topo.Pos(model.Path{"meshes", "m1", "controlPlanes", "cp1", "cluster"})
		if pos.File != file || pos.Line == 0 {
			t.Errorf("%s: position of cluster = %v", file, pos)
		}
	}
}

// TestSchemaErrorsAllReported checks that problems in one struct do not
// hide each other: CUE alone stops at the first.
func TestSchemaErrorsAllReported(t *testing.T) {
	src := strings.Replace(minimal, "  c1: {}", "  c1:\n    platform: k8s\n    netwerk: n1", 1)
	src = strings.Replace(src, "        cluster: c1\n", "        namespace: x\n", 1)
	_, err := load.Bytes("t.yaml", []byte(src))
	var diags diag.List
	if !errors.As(err, &diags) {
		t.Fatalf("want diagnostics, got %v", err)
	}
	var got []string
	for _, d := range diags {
		got = append(got, string(d.Code)+" "+d.Path+" "+d.Pos.String())
	}
	want := []string{
		"E003 clusters.c1.platform t.yaml:10:5",
		"E002 clusters.c1.netwerk t.yaml:11:5",
		"E004 meshes.m1.controlPlanes.cp1.cluster t.yaml:15:7",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(diags[1].Hint, `did you mean "network"?`) {
		t.Errorf("unknown field hint = %q", diags[1].Hint)
	}
}

// FuzzLoad feeds arbitrary bytes, in every format, through the loader and
// the semantic checks: they must never panic, and every problem must come
// back as a diagnostic with a code, pointing into the input file.
func FuzzLoad(f *testing.F) {
	f.Add("t.yaml", []byte(minimal))
	f.Add("t.json", []byte(`{"apiVersion": "meshc.dev/v1alpha1", "kind": "Topology"}`))
	f.Add("t.cue", []byte(`clusters: c1: {}`))
	f.Add("t.yaml", []byte("a: [\n"))
	f.Add("t.yaml", []byte("- 1\n- 2\n"))
	if entries, err := os.ReadDir("../../topologies"); err == nil {
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join("../../topologies", e.Name()))
			if err == nil {
				f.Add(e.Name(), data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		ext := filepath.Ext(name)
		if !strings.Contains(".yaml .yml .json .cue", ext) || ext == "" {
			name = "t.yaml"
		} else {
			name = "t" + ext
		}
		topo, err := load.Bytes(name, data)
		if err != nil {
			var diags diag.List
			if !errors.As(err, &diags) {
				t.Fatalf("non-diagnostic error for user input: %v", err)
			}
			for _, d := range diags {
				if d.Code == "" || d.Message == "" || d.Pos.File != name || d.Pos.Line == 0 && d.Code != diag.UnsupportedFile {
					t.Fatalf("incomplete diagnostic: %+v", d)
				}
			}
			return
		}
		for _, d := range check.Topology(topo) {
			if d.Code == "" || d.Message == "" {
				t.Fatalf("incomplete diagnostic: %+v", d)
			}
		}
	})
}

// TestEveryDiagnosticHasAPosition feeds inputs that used to come back
// without a line (the line was inside the message, or nowhere), or not as
// a diagnostic at all: each must give diagnostics pointing into the file.
func TestEveryDiagnosticHasAPosition(t *testing.T) {
	deep := strings.Replace(minimal, "        cluster: c1\n",
		"        cluster: c1\n        values:\n          pilot: "+strings.Repeat("[", 10000)+strings.Repeat("]", 10000)+"\n", 1)
	bomb := minimal + "x: &a [x, x, x, x, x, x, x, x, x]\n"
	for _, c := range "bcdef" {
		prev := string(c - 1)
		if c == 'b' {
			prev = "a"
		}
		bomb += string(c) + ": &" + string(c) + " [" + strings.Repeat("*"+prev+", ", 8) + "*" + prev + "]\n"
	}
	cases := []struct {
		name, file, data string
		code             diag.Code
	}{
		{"empty yaml", "t.yaml", "", diag.Syntax},
		{"blank yaml", "t.yaml", "\n\n", diag.Syntax},
		{"empty json", "t.json", "", diag.Syntax},
		{"empty cue", "t.cue", "", diag.MissingField},
		{"NUL byte", "t.yaml", "apiVersion: meshc.dev/v1alpha1\nkind: To\x00pology\n", diag.Syntax},
		{"NUL byte in JSON", "t.json", "{\"a\": \"\x00\"}", diag.Syntax},
		{"structural cycle", "t.cue", "a: b: a\n", diag.InvalidValue},
		{"closed definition", "t.cue", "#D: {x: int}\na: #D & {y: 1}\n", diag.UnknownField},
		{"empty namespaces", "t.yaml", strings.Replace(minimal, "[a, b]", "[]", 1), diag.InvalidValue},
		{"alias bomb", "t.yaml", bomb, diag.InputLimit},
		{"values 10,000 deep", "t.yaml", deep, diag.InputLimit},
		{"duplicate key in YAML", "t.yaml", minimal + "tenants: {}\n", diag.DuplicateKey},
		{"duplicate key in JSON", "t.json", `{"kind": "Topology", "kind": "Topology"}`, diag.DuplicateKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load.Bytes(c.file, []byte(c.data))
			var diags diag.List
			if !errors.As(err, &diags) {
				t.Fatalf("got %v, want diagnostics", err)
			}
			if diags[0].Code != c.code {
				t.Errorf("first code %s, want %s: %v", diags[0].Code, c.code, diags)
			}
			for _, d := range diags {
				if d.Pos.File != c.file || d.Pos.Line == 0 || d.Pos.Column == 0 {
					t.Errorf("no position: %+v", d)
				}
				if strings.Contains(d.Message, c.file+":") {
					t.Errorf("position inside the message: %q", d.Message)
				}
			}
		})
	}
}

// TestByteOrderMark reads JSON and CUE with a UTF-8 byte-order mark as
// YAML is read with one: the mark is not part of the topology.
func TestByteOrderMark(t *testing.T) {
	bom := "\xef\xbb\xbf"
	for name, data := range map[string]string{
		"t.yaml": bom + minimal,
		"t.json": bom + `{"apiVersion": "meshc.dev/v1alpha1", "kind": "Topology", "metadata": {"name": "t"}, "clusters": {"c1": {}}, "meshes": {"m1": {"controlPlanes": {"cp1": {"cluster": "c1"}}}}}`,
		"t.cue":  bom + `apiVersion: "meshc.dev/v1alpha1", kind: "Topology", metadata: name: "t", clusters: c1: {}, meshes: m1: controlPlanes: cp1: cluster: "c1"`,
	} {
		if _, err := load.Bytes(name, []byte(data)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTimeLimit stops a CUE topology that would evaluate for ever.
func TestTimeLimit(t *testing.T) {
	defer func(old time.Duration) { load.Timeout = old }(load.Timeout)
	load.Timeout = 200 * time.Millisecond
	slow := "import \"list\"\n_spin: [for i in list.Range(0, 100000, 1) for j in list.Range(0, 100000, 1) if i*j < 0 {i}]\n"
	start := time.Now()
	_, err := load.Bytes("t.cue", []byte(slow))
	var diags diag.List
	if !errors.As(err, &diags) || diags[0].Code != diag.EvalTimeout {
		t.Fatalf("got %v, want %s", err, diag.EvalTimeout)
	}
	if d := diags[0]; d.Pos.Line != 1 || !strings.Contains(d.Hint, "--eval-timeout") {
		t.Errorf("diagnostic %+v", d)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("returned after %v", elapsed)
	}
}

// TestDefaultedFieldsNotMissing pins that a schema error elsewhere does not
// bring false "required field is missing" errors for fields the schema
// defaults (written *"x" | string, which CUE folds into a non-disjunction),
// and that hints list what the schema allows rather than a copy of it.
func TestDefaultedFieldsNotMissing(t *testing.T) {
	src := strings.Replace(minimal, "defaults:\n", "defaults:\n  instaler: sail\n", 1) + `  # remote secrets and delivery with every defaulted field left out
delivery:
  repoURL: https://git.example.com/mesh.git
  path: deploy
  argocd: {}
  flux:
    gitRepository: mesh
`
	src = strings.Replace(src, "  m1:\n", "  m1:\n    remoteSecrets:\n      mode: externalSecrets\n      secretStore:\n        name: vault\n", 1)
	_, err := load.Bytes("t.yaml", []byte(src))
	var list diag.List
	if !errors.As(err, &list) {
		t.Fatalf("want diagnostics, got %v", err)
	}
	if len(list) != 1 || list[0].Code != diag.UnknownField || list[0].Path != "defaults.instaler" {
		t.Fatalf("want exactly the unknown field defaults.instaler, got:\n%v", list)
	}

	// An invalid installer's hint names every installer the schema allows.
	src = strings.Replace(minimal, "defaults:\n", "defaults:\n  installer: kubectl\n", 1)
	_, err = load.Bytes("t.yaml", []byte(src))
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("want one diagnostic, got %v", err)
	}
	for _, installer := range []model.Installer{model.InstallerSail, model.InstallerIstioctl, model.InstallerHelm, model.InstallerRendered} {
		if !strings.Contains(list[0].Hint, `"`+string(installer)+`"`) {
			t.Errorf("hint %q does not name installer %s", list[0].Hint, installer)
		}
	}

	// A defaults mapping of the wrong kind names its fields from the schema.
	src = strings.Replace(minimal, "defaults:\n  istio:\n    version: 1.28.2\n", "defaults: 3\n", 1)
	_, err = load.Bytes("t.yaml", []byte(src))
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("want one diagnostic, got %v", err)
	}
	if !strings.Contains(list[0].Hint, "helm, installer, istio") {
		t.Errorf("hint %q does not list the fields of defaults", list[0].Hint)
	}
}

// TestSchemaDefaultsAgreeWithModel pins that the defaults the CUE schema
// gives a loaded topology are the ones model.ResolveDefaults gives a
// topology built in memory: the two places that fill them cannot drift.
func TestSchemaDefaultsAgreeWithModel(t *testing.T) {
	src := minimal + `delivery:
  repoURL: https://git.example.com/mesh.git
  path: deploy
  argocd: {}
  flux:
    gitRepository: mesh
`
	src = strings.Replace(src, "  m1:\n", "  m1:\n    remoteSecrets:\n      mode: externalSecrets\n      secretStore:\n        name: vault\n", 1)
	loaded, err := load.Bytes("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	mem := &model.Topology{
		Metadata: model.Metadata{Name: "t"},
		Defaults: model.Defaults{Istio: model.IstioDefaults{Version: "1.28.2"}},
		Clusters: map[string]*model.Cluster{"c1": {}},
		Meshes: map[string]*model.Mesh{"m1": {
			ControlPlanes: map[string]*model.ControlPlane{"cp1": {Cluster: "c1"}},
		}},
		Delivery: &model.Delivery{RepoURL: "https://git.example.com/mesh.git", Path: "deploy",
			ArgoCD: &model.ArgoCDConfig{}, Flux: &model.FluxConfig{GitRepository: "mesh"}},
	}
	mem.ResolveDefaults()
	if got, want := *loaded.Delivery.ArgoCD, *mem.Delivery.ArgoCD; got != want {
		t.Errorf("argocd: schema %+v, model %+v", got, want)
	}
	if got, want := *loaded.Delivery.Flux, *mem.Delivery.Flux; got != want {
		t.Errorf("flux: schema %+v, model %+v", got, want)
	}
	if loaded.Delivery.Revision != mem.Delivery.Revision {
		t.Errorf("delivery.revision: schema %q, model %q", loaded.Delivery.Revision, mem.Delivery.Revision)
	}
	lm, mm := loaded.Meshes["m1"], mem.Meshes["m1"]
	if lm.MTLS != mm.MTLS || lm.ControlPlanes["cp1"].Namespace != mm.ControlPlanes["cp1"].Namespace ||
		loaded.Clusters["c1"].Platform != mem.Clusters["c1"].Platform {
		t.Errorf("mesh, control plane or cluster defaults differ: schema %+v %+v, model %+v %+v", lm, lm.ControlPlanes["cp1"], mm, mm.ControlPlanes["cp1"])
	}
	// The schema defaults the store's kind and key prefix; the model
	// leaves a store it did not write alone, so compare with the schema's.
	if s := lm.RemoteSecrets.SecretStore; s.Kind != "ClusterSecretStore" || s.KeyPrefix != "meshc" {
		t.Errorf("secret store defaults %+v", s)
	}
	// What the user did not write is known as such, whichever filled it.
	for _, p := range []model.Path{{"delivery", "revision"}, {"delivery", "argocd", "project"}, {"meshes", "m1", "mtls"}, {"meshes", "m1", "controlPlanes", "cp1", "namespace"}} {
		if !loaded.Defaulted(p) || !mem.Defaulted(p) && p[0] == "meshes" {
			t.Errorf("%s: defaulted loaded=%v in memory=%v", p, loaded.Defaulted(p), mem.Defaulted(p))
		}
	}
	if loaded.Defaulted(model.Path{"delivery", "repoURL"}) {
		t.Error("delivery.repoURL is written")
	}
}

// TestSchemaErrorsHidingOneAnother pins that every schema problem comes
// out at once although CUE reports one per struct and missing fields only
// when nothing else is wrong: a field CUE blamed is taken out and CUE is
// asked again, and a field taken out is not reported missing.
func TestSchemaErrorsHidingOneAnother(t *testing.T) {
	src := `apiVersion: meshc.dev/v1alpha2
kind: Topology
defaults:
  istio:
    version: 1.30.3
  instaler: sail
clusters:
  c1:
    platform: k8s
    netwerk: n1
    cni: "yes"
meshes:
  m1:
    mtls: strict
    discoveryLabel:
      "team name": 3
    controlPlanes:
      cp1:
        clster: c1
        tags: [a, B]
tenants:
  t1:
    namespaces: [shop, Checkout]
  t2:
    mesh: m
    namespaces: []
delivery:
  path: 3
`
	_, err := load.Bytes("t.yaml", []byte(src))
	var diags diag.List
	if !errors.As(err, &diags) {
		t.Fatalf("want diagnostics, got %v", err)
	}
	var got []string
	for _, d := range diags {
		got = append(got, string(d.Code)+" "+d.Path+" "+d.Pos.String())
	}
	want := []string{
		"E003 apiVersion t.yaml:1:1",
		"E004 metadata t.yaml:1:1",
		"E002 defaults.instaler t.yaml:6:3",
		"E003 clusters.c1.platform t.yaml:9:5",
		"E002 clusters.c1.netwerk t.yaml:10:5",
		"E003 clusters.c1.cni t.yaml:11:5",
		"E003 meshes.m1.mtls t.yaml:14:5",
		`E003 meshes.m1.discoveryLabel["team name"] t.yaml:16:7`,
		"E004 meshes.m1.controlPlanes.cp1.cluster t.yaml:18:7",
		"E002 meshes.m1.controlPlanes.cp1.clster t.yaml:19:9",
		"E003 meshes.m1.controlPlanes.cp1.tags[1] t.yaml:20:19",
		"E004 tenants.t1.mesh t.yaml:22:3",
		"E003 tenants.t1.namespaces[1] t.yaml:23:24",
		"E003 tenants.t2.namespaces t.yaml:26:5",
		"E004 delivery.repoURL t.yaml:27:1",
		"E003 delivery.path t.yaml:28:3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestHintForFoldedDisjunction pins the hint of a field whose schema CUE
// folds into one value (interval: *"10m" | =~"..."): the schema's
// alternatives, not just their kind.
func TestHintForFoldedDisjunction(t *testing.T) {
	src := minimal + "delivery:\n  repoURL: https://git.example.com/mesh.git\n  path: deploy\n  flux:\n    gitRepository: mesh\n    interval: 10y\n"
	_, err := load.Bytes("t.yaml", []byte(src))
	var list diag.List
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("want one diagnostic, got %v", err)
	}
	if want := `expected "10m" or =~"^[0-9]+(ms|s|m|h)$"`; list[0].Hint != want {
		t.Errorf("hint %q, want %q", list[0].Hint, want)
	}
}
