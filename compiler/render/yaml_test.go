package render

import (
	"encoding/json"
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"
)

var yamlCases = []any{
	map[string]any{},
	map[string]any{"a": "b"},
	map[string]any{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata": map[string]any{
			"name": "1-27-3",
			"labels": map[string]any{
				"istio.io/rev": "canary", "yes": "no", "on": "true", "n": "1.5", "empty": "",
				"colon": "a: b", "hash": "a #b", "star": "*x", "dash": "-x", "multi": "line1\nline2",
				"quote": `say "hi"`, "unicode": "héllo ✓", "tab": "a\tb", "html": "<a>&</a>",
			},
			"annotations": map[string]any{"argocd.argoproj.io/sync-wave": "0"},
		},
		"spec": map[string]any{
			"list":    []any{"a", "b", map[string]any{"x": 1.0, "y": []any{}}, []any{"nested", 2.5}},
			"maps":    []any{map[string]any{"matchLabels": map[string]any{"k": "v"}, "z": true}},
			"empty":   map[string]any{},
			"nothing": nil,
			"num":     -3.0,
			"big":     1e20,
			"small":   0.001,
			"bool":    false,
		},
	},
	[]any{map[string]any{}, []any{}, "x"},
}

// TestMarshalYAMLRoundTrip holds the hand-written encoder to
// sigs.k8s.io/yaml's reading: what it writes reads back as the same value.
func TestMarshalYAMLRoundTrip(t *testing.T) {
	for _, c := range yamlCases {
		assertRoundTrip(t, c)
	}
}

func assertRoundTrip(t *testing.T, v any) {
	t.Helper()
	data, err := MarshalYAML(v)
	if err != nil {
		t.Fatalf("MarshalYAML(%v): %v", v, err)
	}
	var got any
	if err := yaml.Unmarshal(data, &got); err != nil {
		t.Fatalf("reading back %.300q: %v", data, err)
	}
	want := normalize(t, v)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\nwrote:\n%.500s\ngot:  %.300v\nwant: %.300v", data, got, want)
	}
}

// normalize passes v through JSON, as sigs.k8s.io/yaml does on reading.
func normalize(t *testing.T, v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMarshalYAMLLayout(t *testing.T) {
	got, err := MarshalYAML(map[string]any{
		"metadata": map[string]any{"name": "x", "annotations": map[string]any{"w": "0"}},
		"spec":     map[string]any{"sel": []any{map[string]any{"matchLabels": map[string]any{"a": "b"}}}, "tags": []any{"p", "q"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `metadata:
  annotations:
    w: "0"
  name: x
spec:
  sel:
  - matchLabels:
      a: b
  tags:
  - p
  - q
`
	if string(got) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

// FuzzMarshalYAML writes arbitrary strings as keys and values and checks
// they read back unchanged.
func FuzzMarshalYAML(f *testing.F) {
	for _, s := range []string{"", "a", "1", "true", "a: b", "- x", "#", "'", "\"", "\n", "~", "0x1F", "1e3", ".inf", "<<", "2024-01-02", "@x", "`x", "%x", "!x", "&x", "|", ">", "?", "{", "[", "null"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		if !utf8Valid(k) || !utf8Valid(v) {
			t.Skip("YAML text is UTF-8")
		}
		assertRoundTrip(t, map[string]any{k: v, "list": []any{v, map[string]any{k: v}}})
	})
}

func utf8Valid(s string) bool {
	for _, r := range s {
		if r == '\uFFFD' {
			return false
		}
	}
	return true
}
