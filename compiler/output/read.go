package output

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"meshc.dev/meshc/compiler/render"
)

// Read reads a folder of committed output, to compare a compilation with:
// the files meshc's manifest lists, or, without one (output committed
// without it), every file under clusters/.
func Read(dir string) (render.Tree, error) {
	tree := render.Tree{}
	owned, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if len(owned) > 0 {
		for _, p := range owned {
			data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
			if errors.Is(err, fs.ErrNotExist) {
				// Listed but gone (removed by hand): the folder does not
				// hold it.
				continue
			}
			if err != nil {
				return nil, err
			}
			tree[p] = data
		}
		return tree, nil
	}
	root := filepath.Join(dir, "clusters")
	if _, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("%s holds no meshc output (no %s and no clusters/ folder)", dir, ManifestName)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		tree[filepath.ToSlash(rel)] = data
		return err
	})
	return tree, err
}
