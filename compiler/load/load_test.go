package load_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
				if d.Code == "" || d.Message == "" || d.Pos.File != name {
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
