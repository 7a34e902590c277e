//go:build !unix

package output

import (
	"bytes"
	"os"
	"path"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"meshc.dev/meshc/compiler/render"
)

// writeFiles makes folders (slash paths, parents first) below root, then
// puts every file of tree there: hard-linked from the same path below from
// when same says the file there is byte for byte, else written.
func writeFiles(root string, folders []string, tree render.Tree, from string, same map[string]bool) error {
	for _, d := range folders {
		if err := os.Mkdir(filepath.Join(root, filepath.FromSlash(d)), 0o755); err != nil {
			return err
		}
	}
	var g errgroup.Group
	g.SetLimit(2)
	for folder, names := range byFolder(tree.Paths()) {
		g.Go(func() error {
			for _, name := range names {
				p := path.Join(folder, name)
				target := filepath.Join(root, filepath.FromSlash(p))
				if same[p] && os.Link(filepath.Join(from, filepath.FromSlash(p)), target) == nil {
					continue
				}
				if err := os.WriteFile(target, tree[p], 0o644); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// compareFiles reads each of paths (slash paths below dir) and tells
// whether each holds exactly tree's bytes.
func compareFiles(dir string, paths []string, tree render.Tree) map[string]comparison {
	out := make(map[string]comparison, len(paths))
	for _, p := range paths {
		old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		out[p] = comparison{equal: err == nil && bytes.Equal(old, tree[p]), err: err}
	}
	return out
}
