package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestVendoredMatchesShared: the CRDs in testdata are copies of the team's
// shared reference folder, unchanged (the released charts live in
// compiler/charts/released, checked there). A fresh clone has no
// shared folder; the test then has nothing to compare and says so.
func TestVendoredMatchesShared(t *testing.T) {
	for _, dir := range []string{"crds-ecosystem"} {
		t.Run(dir, func(t *testing.T) {
			shared := filepath.Join("..", "..", "shared", dir)
			if _, err := os.Stat(shared); err != nil {
				t.Skipf("no %s beside the repository to compare with", shared)
			}
			want := files(t, shared)
			got := files(t, filepath.Join("testdata", dir))
			for name, data := range want {
				if g, ok := got[name]; !ok {
					t.Errorf("testdata/%s/%s is missing", dir, name)
				} else if !bytes.Equal(g, data) {
					t.Errorf("testdata/%s/%s differs from the shared copy", dir, name)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("testdata/%s/%s is not in the shared folder", dir, name)
				}
			}
		})
	}
}

func files(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
