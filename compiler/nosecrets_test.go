package compiler

import (
	"testing"

	"meshc.dev/meshc/compiler/render"
)

// TestNoSecretsSharedBytes: files sharing one byte slice (render gives a
// fleet's alike files one copy) are scanned once and each reported, with
// the line and column of the key in it.
func TestNoSecretsSharedBytes(t *testing.T) {
	shared := []byte("kind: Secret\ndata:\n  key: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n    b3Blbn\n    -----END OPENSSH PRIVATE KEY-----\n")
	tree := render.Tree{
		"a.yaml":     shared,
		"b.yaml":     shared,
		"clean.yaml": []byte("kind: ConfigMap\n"),
		"empty.yaml": nil,
		"own.yaml":   []byte("x: -----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n"),
	}
	diags := noSecrets(tree)
	want := map[string][2]int{"a.yaml": {4, 5}, "b.yaml": {4, 5}, "own.yaml": {1, 4}}
	if len(diags) != len(want) {
		t.Fatalf("%d findings, want %d: %v", len(diags), len(want), diags)
	}
	for _, d := range diags {
		w, ok := want[d.Pos.File]
		if !ok || d.Pos.Line != w[0] || d.Pos.Column != w[1] {
			t.Errorf("%s:%d:%d, want %v", d.Pos.File, d.Pos.Line, d.Pos.Column, w)
		}
	}
}
