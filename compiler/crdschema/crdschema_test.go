package crdschema

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler/release"
	embedded "meshc.dev/meshc/schema"
)

// istioYAML is the reference valid Sail Istio object; cases mutate copies.
const istioYAML = `
apiVersion: sailoperator.io/v1
kind: Istio
metadata:
  name: mesh-1
spec:
  version: v1.28.2
  namespace: istio-system-1
  values:
    global:
      istioNamespace: istio-system-1
    meshConfig:
      discoverySelectors:
      - matchLabels:
          istio-discovery: mesh-1
    pilot:
      env:
        FOO: "true"
`

const peerAuthYAML = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system-1
spec:
  mtls:
    mode: STRICT
`

const gatewayV1beta1YAML = `
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: eastwest
  namespace: istio-system-1
spec:
  selector:
    istio: eastwestgateway
  servers:
  - port:
      number: 15443
      name: tls
      protocol: TLS
    tls:
      mode: AUTO_PASSTHROUGH
    hosts:
    - "*.local"
`

const serviceEntryYAML = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external
  namespace: default
spec:
  hosts:
  - api.example.com
  resolution: DNS
  ports:
  - number: 443
    name: https
    protocol: TLS
`

func mustObj(t testing.TB, src string) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal([]byte(src), &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// set assigns value at a dotted path, creating maps on the way.
func set(obj map[string]any, path string, value any) {
	keys := strings.Split(path, ".")
	m := obj
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = value
}

// del removes the field at a dotted path.
func del(obj map[string]any, path string) {
	keys := strings.Split(path, ".")
	m := obj
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	delete(m, keys[len(keys)-1])
}

func mustDefault(t testing.TB) *Set {
	t.Helper()
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkErrors asserts that err is exactly the listed problems, in order; a
// want Message is a substring of the actual one so that long apiserver
// messages (enum lists) need not be spelled out. want == nil means valid.
func checkErrors(t *testing.T, err error, want []FieldError) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("want valid, got:\n%v", err)
		}
		return
	}
	var got Errors
	if !errors.As(err, &got) {
		t.Fatalf("want Errors %v, got %T: %v", want, err, err)
	}
	if len(got) != len(want) {
		t.Fatalf("want %d problems %v, got %d:\n%v", len(want), want, len(got), got)
	}
	for i := range want {
		if got[i].Path != want[i].Path || !strings.Contains(got[i].Message, want[i].Message) {
			t.Errorf("problem %d: want %s: ...%s..., got %s", i, want[i].Path, want[i].Message, got[i])
		}
	}
}

func TestValidate(t *testing.T) {
	s := mustDefault(t)
	notEvaluated := FieldError{Path: "", Message: "x-kubernetes-validations rules were not evaluated"}
	tests := []struct {
		name   string
		src    string
		mutate func(obj map[string]any)
		want   []FieldError
	}{
		{name: "valid Istio", src: istioYAML},
		{
			name:   "unknown Helm value",
			src:    istioYAML,
			mutate: func(o map[string]any) { set(o, "spec.values.pilot.envv", map[string]any{}) },
			want:   []FieldError{{"spec.values.pilot.envv", "unknown field"}},
		},
		{
			name:   "unknown spec field",
			src:    istioYAML,
			mutate: func(o map[string]any) { set(o, "spec.revision", "x") },
			want:   []FieldError{{"spec.revision", "unknown field"}},
		},
		{
			name:   "unknown metadata field",
			src:    istioYAML,
			mutate: func(o map[string]any) { set(o, "metadata.labelz", map[string]any{"a": "b"}) },
			want:   []FieldError{{"metadata.labelz", "unknown field"}},
		},
		{
			name:   "version not in enum",
			src:    istioYAML,
			mutate: func(o map[string]any) { set(o, "spec.version", "v9.9.9") },
			want:   []FieldError{notEvaluated, {"spec.version", `Unsupported value: "v9.9.9"`}},
		},
		{
			name:   "CEL rule istioNamespace must match namespace",
			src:    istioYAML,
			mutate: func(o map[string]any) { set(o, "spec.values.global.istioNamespace", "istio-system-2") },
			want:   []FieldError{{"spec", "spec.values.global.istioNamespace must match spec.namespace"}},
		},
		{
			name:   "wrong type",
			src:    istioYAML,
			mutate: func(o map[string]any) { set(o, "spec.values.global.meshID", 3) },
			want:   []FieldError{notEvaluated, {"spec.values.global.meshID", "must be of type string"}},
		},
		{
			name:   "cluster-scoped kind with a namespace",
			src:    istioYAML,
			mutate: func(o map[string]any) { set(o, "metadata.namespace", "istio-system") },
			want:   []FieldError{{"metadata.namespace", "Forbidden: not allowed on this type"}},
		},
		{
			name:   "name required",
			src:    istioYAML,
			mutate: func(o map[string]any) { del(o, "metadata.name") },
			want:   []FieldError{{"metadata.name", "Required value"}},
		},
		{
			name:   "name must be a DNS subdomain",
			src:    istioYAML,
			mutate: func(o map[string]any) { set(o, "metadata.name", "Mesh_1") },
			want:   []FieldError{{"metadata.name", "Invalid value"}},
		},
		{
			name:   "required field is not defaulted",
			src:    istioYAML,
			mutate: func(o map[string]any) { del(o, "spec.version") },
			want:   []FieldError{notEvaluated, {"spec.version", "Required value"}},
		},
		{
			name: "x-kubernetes-preserve-unknown-fields keeps anything",
			src:  istioYAML,
			mutate: func(o map[string]any) {
				set(o, "spec.values.experimental", map[string]any{"any": map[string]any{"thing": []any{1, "x"}}})
			},
		},
		{
			name: "Go-typed values are accepted as their JSON form",
			src:  istioYAML,
			mutate: func(o map[string]any) {
				set(o, "spec.values.pilot.replicaCount", 2)
				set(o, "spec.values.pilot.extraContainerArgs", []string{"--a", "--b"})
				set(o, "spec.values.pilot.env", map[string]string{"A": "b"})
			},
		},
		{
			name:   "null in a non-nullable field is dropped as the server does",
			src:    istioYAML,
			mutate: func(o map[string]any) { set(o, "spec.profile", nil) },
		},
		{
			name: "every problem is listed, sorted by path",
			src:  istioYAML,
			mutate: func(o map[string]any) {
				set(o, "spec.values.pilot.envv", map[string]any{})
				set(o, "spec.values.global.istioNamespace", "other")
				set(o, "metadata.namespace", "x")
				set(o, "spec.bogus", true)
			},
			want: []FieldError{
				{"metadata.namespace", "Forbidden"},
				{"spec", "must match spec.namespace"},
				{"spec.bogus", "unknown field"},
				{"spec.values.pilot.envv", "unknown field"},
			},
		},
		{name: "namespaced kind with namespace", src: peerAuthYAML},
		{
			name:   "namespaced kind without namespace",
			src:    peerAuthYAML,
			mutate: func(o map[string]any) { del(o, "metadata.namespace") },
			want:   []FieldError{{"metadata.namespace", "Required value"}},
		},
		{
			name:   "namespaced kind, bad enum",
			src:    peerAuthYAML,
			mutate: func(o map[string]any) { set(o, "spec.mtls.mode", "STRICTER") },
			want:   []FieldError{notEvaluated, {"spec.mtls.mode", `Unsupported value: "STRICTER"`}},
		},
		{name: "served non-storage version", src: gatewayV1beta1YAML},
		{
			name:   "version not served",
			src:    gatewayV1beta1YAML,
			mutate: func(o map[string]any) { o["apiVersion"] = "networking.istio.io/v9" },
			want:   []FieldError{{"apiVersion", "networking.istio.io/v9 is not a served version of Gateway.networking.istio.io (served: v1, v1alpha3, v1beta1)"}},
		},
		{
			name:   "unknown kind",
			src:    gatewayV1beta1YAML,
			mutate: func(o map[string]any) { o["apiVersion"] = "example.com/v1" },
			want:   []FieldError{{"kind", `no CustomResourceDefinition defines kind "Gateway" in group "example.com"`}},
		},
		{
			name:   "apiVersion required",
			src:    gatewayV1beta1YAML,
			mutate: func(o map[string]any) { delete(o, "apiVersion") },
			want:   []FieldError{{"apiVersion", "Required value"}},
		},
		{
			name:   "kind must be a string",
			src:    gatewayV1beta1YAML,
			mutate: func(o map[string]any) { o["kind"] = 1 },
			want:   []FieldError{{"kind", "must be a string"}},
		},
		{name: "list-type map and CEL on lists", src: serviceEntryYAML},
		{
			name: "list-type map keys must be unique",
			src:  serviceEntryYAML,
			mutate: func(o map[string]any) {
				ports := o["spec"].(map[string]any)["ports"].([]any)
				set(o, "spec.ports", append(ports, map[string]any{"number": 8443, "name": "https", "protocol": "TLS"}))
			},
			want: []FieldError{{"spec.ports[1]", "Duplicate value"}},
		},
		{
			name: "CEL rule inside a list",
			src:  serviceEntryYAML,
			mutate: func(o map[string]any) {
				ports := o["spec"].(map[string]any)["ports"].([]any)
				set(o, "spec.ports", append(ports, map[string]any{"number": 443, "name": "https-2", "protocol": "TLS"}))
			},
			want: []FieldError{{"spec.ports", "port number cannot be duplicated"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := mustObj(t, tt.src)
			if tt.mutate != nil {
				tt.mutate(obj)
			}
			before, _ := yaml.Marshal(obj)
			checkErrors(t, s.Validate(obj), tt.want)
			if after, _ := yaml.Marshal(obj); !bytes.Equal(before, after) {
				t.Errorf("Validate modified its argument:\n%s\nbecame\n%s", before, after)
			}
		})
	}
}

func TestValidateErrorText(t *testing.T) {
	obj := mustObj(t, istioYAML)
	set(obj, "spec.values.pilot.envv", map[string]any{})
	set(obj, "metadata.namespace", "x")
	err := mustDefault(t).Validate(obj)
	want := "metadata.namespace: Forbidden: not allowed on this type\nspec.values.pilot.envv: unknown field"
	if err == nil || err.Error() != want {
		t.Fatalf("want\n%s\ngot\n%v", want, err)
	}
}

func TestHas(t *testing.T) {
	s := mustDefault(t)
	for _, tt := range []struct {
		apiVersion, kind string
		want             bool
	}{
		{"sailoperator.io/v1", "Istio", true},
		{"sailoperator.io/v1", "IstioRevision", true},
		{"sailoperator.io/v1", "IstioRevisionTag", true},
		{"sailoperator.io/v1", "IstioCNI", true},
		{"sailoperator.io/v1", "ZTunnel", true},
		{"sailoperator.io/v1alpha1", "ZTunnel", true},
		{"networking.istio.io/v1", "Gateway", true},
		{"networking.istio.io/v1beta1", "Gateway", true},
		{"networking.istio.io/v1alpha3", "VirtualService", true},
		{"security.istio.io/v1", "PeerAuthentication", true},
		{"telemetry.istio.io/v1", "Telemetry", true},
		{"sailoperator.io/v2", "Istio", false},
		{"sailoperator.io/v1", "istio", false},
		{"gateway.networking.k8s.io/v1", "Gateway", true},
		{"gateway.networking.k8s.io/v1alpha2", "TLSRoute", false}, // v1.5.0 serves v1 only
		{"gateway.networking.k8s.io/v1alpha2", "TCPRoute", false}, // experimental channel
		{"v1", "ConfigMap", false},
		{"", "Istio", false},
		{"a/b/c", "Istio", false},
	} {
		if got := s.Has(tt.apiVersion, tt.kind); got != tt.want {
			t.Errorf("Has(%q, %q) = %v, want %v", tt.apiVersion, tt.kind, got, tt.want)
		}
	}
}

func TestValidateField(t *testing.T) {
	s := mustDefault(t)
	const av, kind = "sailoperator.io/v1", "Istio"
	tests := []struct {
		name  string
		path  string
		value any
		want  []FieldError
	}{
		{
			name:  "valid values",
			path:  "spec.values",
			value: map[string]any{"pilot": map[string]any{"env": map[string]any{"A": "b"}}},
		},
		{
			name:  "unknown value",
			path:  "spec.values",
			value: map[string]any{"pilot": map[string]any{"envv": map[string]any{}}},
			want:  []FieldError{{"spec.values.pilot.envv", "unknown field"}},
		},
		{
			name:  "wrong type",
			path:  "spec.values",
			value: map[string]any{"global": map[string]any{"meshID": 3}},
			want: []FieldError{
				{"spec.values", "x-kubernetes-validations rules were not evaluated"},
				{"spec.values.global.meshID", "must be of type string"},
			},
		},
		{
			name:  "scalar field",
			path:  "spec.version",
			value: "v9.9.9",
			want:  []FieldError{{"spec.version", `Unsupported value: "v9.9.9"`}},
		},
		{
			name:  "rule declared on the field itself",
			path:  "spec",
			value: map[string]any{"namespace": "a", "version": "v1.28.2", "values": map[string]any{"global": map[string]any{"istioNamespace": "b"}}},
			want:  []FieldError{{"spec", "spec.values.global.istioNamespace must match spec.namespace"}},
		},
		{
			name:  "rule declared below the field",
			path:  "spec.values.meshConfig",
			value: map[string]any{"defaultConfig": map[string]any{"serviceCluster": "a", "tracingServiceName": "APP_LABEL_AND_NAMESPACE"}},
			want:  []FieldError{{"spec.values.meshConfig.defaultConfig", "At most one of [serviceCluster tracingServiceName] should be set"}},
		},
		{
			name:  "map entry through additionalProperties",
			path:  "spec.values.pilot.env.FOO",
			value: 3,
			want:  []FieldError{{"spec.values.pilot.env.FOO", "must be of type string"}},
		},
		{
			name:  "preserve-unknown-fields subtree",
			path:  "spec.values.experimental",
			value: map[string]any{"anything": []any{1, 2}},
		},
		{name: "nil value", path: "spec.values", value: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, s.ValidateField(av, kind, tt.path, tt.value), tt.want)
		})
	}

	t.Run("relative paths", func(t *testing.T) {
		err := s.ValidateField(av, kind, "spec.values", map[string]any{"pilot": map[string]any{"envv": map[string]any{}}})
		var errs Errors
		if !errors.As(err, &errs) {
			t.Fatalf("want Errors, got %v", err)
		}
		if got := errs.TrimPrefix("spec.values"); len(got) != 1 || got[0].Path != "pilot.envv" {
			t.Fatalf("TrimPrefix: got %v", got)
		}
	})

	// Mistakes in the schema address are the caller's, not the data's: a
	// plain error, not Errors.
	for _, tt := range []struct{ av, kind, path string }{
		{av, kind, "spec.valuez"},
		{av, kind, "spec..values"},
		{av, kind, ""},
		{av, "Istioo", "spec.values"},
		{"sailoperator.io/v2", kind, "spec.values"},
	} {
		err := s.ValidateField(tt.av, tt.kind, tt.path, map[string]any{})
		var errs Errors
		if err == nil || errors.As(err, &errs) {
			t.Errorf("ValidateField(%q, %q, %q): want a plain error, got %#v", tt.av, tt.kind, tt.path, err)
		}
	}
}

func TestErrorsTrimPrefix(t *testing.T) {
	errs := Errors{{"spec.values", "a"}, {"spec.values.pilot", "b"}, {"spec.valuesX", "c"}, {"spec.values[0]", "d"}, {"metadata", "e"}}
	got := errs.TrimPrefix("spec.values")
	want := Errors{{"", "a"}, {"pilot", "b"}, {"spec.valuesX", "c"}, {"[0]", "d"}, {"metadata", "e"}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if errs[1].Path != "spec.values.pilot" {
		t.Fatal("TrimPrefix modified its receiver")
	}
}

// widgetCRD exercises what the Istio CRDs do not: bounds, patterns, embedded
// resources, a status subresource, a transition rule and an unserved version.
const widgetCRD = `# a comment
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
  annotations:
    "example.com/note": "kind: NotThis"
spec:
  group: example.com
  names:
    kind: Widget
    plural: widgets
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      subresources:
        status: {}
      schema:
        openAPIV3Schema:
          type: object
          description: |
            kind: NotThis
            served: false
          properties:
            spec:
              type: object
              required: [size]
              x-kubernetes-validations:
              - rule: "!has(self.limit) || self.limit >= self.size"
                message: limit must be at least size
              - rule: "self.size == oldSelf.size"
                message: size is immutable
              properties:
                size: {type: integer, minimum: 1, maximum: 10}
                limit: {type: integer}
                label: {type: string, pattern: "^[a-z]+$"}
                template:
                  type: object
                  x-kubernetes-embedded-resource: true
                  x-kubernetes-preserve-unknown-fields: true
            status:
              type: object
              properties:
                phase: {type: string}
    -
      name: v2
      served: false # not yet
      storage: false
      schema:
        openAPIV3Schema:
          type: object
`

// widgetJSON is a CRD in JSON, which is YAML the quick scan does not read:
// Load must fall back to parsing it.
const widgetJSON = `{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
 "metadata": {"name": "gadgets.example.com"},
 "spec": {"group": "example.com", "names": {"kind": "Gadget", "plural": "gadgets"}, "scope": "Cluster",
  "versions": [{"name": "v1", "served": true, "storage": true,
   "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": {"color": {"type": "string", "enum": ["red", "blue"]}}}}}}}]}}`

func TestLoadCustomCRDs(t *testing.T) {
	fsys := fstest.MapFS{
		"crds/widgets.yaml":  {Data: []byte(widgetCRD)},
		"crds/gadgets.yaml":  {Data: []byte(widgetJSON)},
		"crds/README.md":     {Data: []byte("not a CRD")},
		"crds/sub/more.yaml": {Data: []byte("ignored: subdirectories are not read")},
	}
	s, err := Load(fsys, "crds")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Has("example.com/v1", "Widget") || s.Has("example.com/v2", "Widget") || !s.Has("example.com/v1", "Gadget") {
		t.Fatal("Has: wrong answer for Widget/Gadget versions")
	}
	widget := func(spec map[string]any) map[string]any {
		return map[string]any{"apiVersion": "example.com/v1", "kind": "Widget",
			"metadata": map[string]any{"name": "w", "namespace": "default"}, "spec": spec}
	}
	tests := []struct {
		name string
		obj  map[string]any
		want []FieldError
	}{
		{name: "valid, transition rule skipped on create", obj: widget(map[string]any{"size": 3, "limit": 5, "label": "abc"})},
		{name: "maximum", obj: widget(map[string]any{"size": 11}), want: []FieldError{{"spec.size", "should be less than or equal to 10"}}},
		{name: "pattern", obj: widget(map[string]any{"size": 1, "label": "ABC"}), want: []FieldError{{"spec.label", "should match '^[a-z]+$'"}}},
		{name: "CEL", obj: widget(map[string]any{"size": 4, "limit": 2}), want: []FieldError{{"spec", "limit must be at least size"}}},
		{
			name: "embedded resource needs apiVersion and kind; its metadata is strict",
			obj:  widget(map[string]any{"size": 1, "template": map[string]any{"metadata": map[string]any{"name": "x", "bogus": 1}, "spec": map[string]any{"free": "form"}}}),
			want: []FieldError{{"spec.template.apiVersion", "Required value"}, {"spec.template.kind", "Required value"}, {"spec.template.metadata.bogus", "unknown field"}},
		},
		{
			name: "status is dropped on create when the subresource is on",
			obj: func() map[string]any {
				o := widget(map[string]any{"size": 1})
				o["status"] = map[string]any{"phase": 3}
				return o
			}(),
		},
		{
			name: "not served",
			obj: func() map[string]any {
				o := widget(map[string]any{"size": 1})
				o["apiVersion"] = "example.com/v2"
				return o
			}(),
			want: []FieldError{{"apiVersion", "example.com/v2 is not a served version of Widget.example.com (served: v1)"}},
		},
		{
			name: "from the fully parsed file",
			obj:  map[string]any{"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": map[string]any{"name": "g"}, "spec": map[string]any{"color": "green"}},
			want: []FieldError{{"spec.color", `Unsupported value: "green"`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, s.Validate(tt.obj), tt.want)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tt := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"missing dir", nil, "file does not exist"},
		{"not a CRD", map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"}, "not an apiextensions.k8s.io/v1 CustomResourceDefinition"},
		{"two documents", map[string]string{"a.yaml": widgetCRD + "---\n" + widgetCRD}, "more than one YAML document"},
		{"duplicate kind", map[string]string{"a.yaml": widgetCRD, "b.yaml": widgetCRD}, "both define Widget.example.com"},
		{"bad YAML", map[string]string{"a.yaml": "{"}, "parsing crds/a.yaml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, data := range tt.files {
				fsys["crds/"+name] = &fstest.MapFile{Data: []byte(data)}
			}
			_, err := Load(fsys, "crds")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want error containing %q, got %v", tt.want, err)
			}
		})
	}
}

// TestScanMatchesParse pins the quick header scan to the full parse for every
// embedded CRD, so Has and routing never depend on a wrong scan.
func TestScanMatchesParse(t *testing.T) {
	files, err := fs.Glob(embedded.CRDs, "crds/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no embedded CRDs: %v", err)
	}
	for _, f := range append(files, "widget") {
		raw := []byte(widgetCRD)
		if f != "widget" {
			raw, _ = embedded.CRDs.ReadFile(f)
		}
		h, err := scanHeader(raw)
		if err != nil {
			t.Errorf("%s: scan: %v", f, err)
			continue
		}
		e := &crdEntry{file: f, raw: raw}
		e.parse()
		if e.err != nil {
			t.Fatal(e.err)
		}
		if p := headerOf(e.parsed); !p.equal(&h) {
			t.Errorf("%s: scan %+v, parse %+v", f, h, p)
		}
	}
}

// TestScanDisagreementIsAnError checks the guard behind TestScanMatchesParse:
// if a scan ever got a header wrong, validation must fail loudly rather than
// use the wrong scope or version.
func TestScanDisagreementIsAnError(t *testing.T) {
	s, err := Load(fstest.MapFS{"crds/w.yaml": {Data: []byte(widgetCRD)}}, "crds")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range s.crds {
		e.header.scope = "Cluster"
	}
	err = s.Validate(map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w"}, "spec": map[string]any{"size": 1}})
	var errs Errors
	if err == nil || errors.As(err, &errs) || !strings.Contains(err.Error(), "disagrees") {
		t.Fatalf("want an internal error about the scan, got %v", err)
	}
}

func TestScanHeaderShapes(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      error
	}{
		{"flow style spec", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: {group: a}\n", errUnsure},
		{"JSON", widgetJSON, errUnsure},
		{"tab indent", "spec:\n\tgroup: a\n", errUnsure},
		{"block scalar name", strings.Replace(widgetCRD, "- name: v1", "- name: |\n        v1", 1), errUnsure},
		{"yes for served", strings.Replace(widgetCRD, "served: true", "served: yes", 1), errUnsure},
		{"second document", widgetCRD + "---\nkind: X\n", errMultiDoc},
		{"trailing marker only", widgetCRD + "---\n# nothing\n", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := scanHeader([]byte(tt.src)); err != tt.want {
				t.Fatalf("want %v, got %v", tt.want, err)
			}
		})
	}
}

// TestConcurrentFirstUse validates from many goroutines on a fresh Set so
// that the lazy parse and compile run concurrently (meaningful with -race).
func TestConcurrentFirstUse(t *testing.T) {
	s, err := Load(embedded.CRDs, "crds")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 3 {
			case 0:
				errs[i] = s.Validate(mustObj(t, istioYAML))
			case 1:
				errs[i] = s.ValidateField("sailoperator.io/v1", "Istio", "spec.values", map[string]any{"pilot": map[string]any{"env": map[string]any{"A": "b"}}})
			default:
				errs[i] = s.Validate(mustObj(t, peerAuthYAML))
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
}

// TestEmbeddedCRDsMatchShared checks that the CRDs compiled into meshc are
// the ones in the shared folder they were copied from.
func TestEmbeddedCRDsMatchShared(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "crds")
	shared, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is absent", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	emb, err := fs.ReadDir(embedded.CRDs, "crds")
	if err != nil {
		t.Fatal(err)
	}
	names := func(des []fs.DirEntry) []string {
		var out []string
		for _, de := range des {
			if !de.IsDir() && strings.HasSuffix(de.Name(), ".yaml") {
				out = append(out, de.Name())
			}
		}
		return out
	}
	if a, b := names(emb), names(shared); !slices.Equal(a, b) {
		t.Fatalf("file lists differ:\nembedded %v\nshared   %v", a, b)
	}
	for _, name := range names(emb) {
		a, _ := embedded.CRDs.ReadFile("crds/" + name)
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s", name, filepath.Join(dir, name))
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(embedded.CRDs, "crds"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadAndFirstValidate is the cost a compiler run pays for Istio:
// Load, then parsing and compiling the ~790 KB Istio CRD on first use.
func BenchmarkLoadAndFirstValidate(b *testing.B) {
	obj := mustObj(b, istioYAML)
	for b.Loop() {
		s, err := Load(embedded.CRDs, "crds")
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Validate(obj); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateIstio(b *testing.B) {
	s := mustDefault(b)
	obj := mustObj(b, istioYAML)
	if err := s.Validate(obj); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := s.Validate(obj); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateFieldValues(b *testing.B) {
	s := mustDefault(b)
	values := mustObj(b, istioYAML)["spec"].(map[string]any)["values"]
	for b.Loop() {
		if err := s.ValidateField("sailoperator.io/v1", "Istio", "spec.values", values); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGatewayAPICRDs checks the Gateway API CRDs compiled into meshc: the
// standard channel of the release package release names, byte for byte
// the copies the real API server suite installs as prerequisites
// (e2e/testdata) and the shared folder they came from, when it is beside
// the repository; every CRD file of it but the ValidatingAdmissionPolicy.
func TestGatewayAPICRDs(t *testing.T) {
	emb, err := fs.ReadDir(embedded.CRDs, "crds-gateway-api")
	if err != nil {
		t.Fatal(err)
	}
	if len(emb) == 0 {
		t.Fatal("no Gateway API CRDs embedded")
	}
	for _, dir := range []string{
		filepath.Join("..", "..", "e2e", "testdata", "crds-ecosystem", "gateway-api"),
		filepath.Join("..", "..", "..", "..", "shared", "crds-ecosystem", "gateway-api"),
		filepath.Join("..", "..", "..", "shared", "crds-ecosystem", "gateway-api"),
	} {
		theirs, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			t.Logf("%s is absent", dir)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, de := range theirs {
			if strings.HasSuffix(de.Name(), ".yaml") && !strings.Contains(de.Name(), "_vap_") {
				want = append(want, de.Name())
			}
		}
		var got []string
		for _, de := range emb {
			got = append(got, de.Name())
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: file lists differ:\nembedded %v\nthere    %v", dir, got, want)
		}
		for _, name := range want {
			a, _ := embedded.CRDs.ReadFile("crds-gateway-api/" + name)
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s differs from %s", name, filepath.Join(dir, name))
			}
		}
	}
	for _, de := range emb {
		data, _ := embedded.CRDs.ReadFile("crds-gateway-api/" + de.Name())
		for _, want := range []string{"gateway.networking.k8s.io/bundle-version: " + release.GatewayAPI, "gateway.networking.k8s.io/channel: standard"} {
			if !bytes.Contains(data, []byte(want)) {
				t.Errorf("%s lacks %q", de.Name(), want)
			}
		}
	}
	s := mustDefault(t)
	for _, kind := range []string{"Gateway", "HTTPRoute", "GatewayClass"} {
		if !s.Has("gateway.networking.k8s.io/v1", kind) {
			t.Errorf("the default set has no gateway.networking.k8s.io/v1 %s", kind)
		}
	}
}
