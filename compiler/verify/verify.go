// Package verify proves a rendered tree is usable as it is: every cluster's
// bundle, and each of its layers, builds with kustomize's krusty in process,
// the way Argo CD and Flux build it. It runs on the in-memory tree, before
// anything is written.
//
// Import direction: verify imports render.
package verify

import (
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"meshc.dev/meshc/compiler/render"
)

// Build builds the kustomization in dir of tree with krusty and returns the
// resulting resources.
func Build(tree render.Tree, dir string) (resmap.ResMap, error) {
	fs := filesys.MakeFsInMemory()
	prefix := dir + "/"
	for _, p := range tree.Paths() {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		if err := fs.WriteFile("/"+p, tree[p]); err != nil {
			return nil, err
		}
	}
	return krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/"+dir)
}

// Bundles builds every cluster bundle in tree, and every layer on its own
// (Flux builds layers separately), returning the first failure.
func Bundles(tree render.Tree) error {
	// One in-memory filesystem per cluster, filled in one pass over the tree.
	type bundle struct {
		fs   filesys.FileSystem
		dirs []string
	}
	bundles := map[string]*bundle{}
	var order []string
	for _, p := range tree.Paths() {
		parts := strings.SplitN(p, "/", 3)
		if len(parts) < 3 || parts[0] != "clusters" {
			continue
		}
		b := bundles[parts[1]]
		if b == nil {
			b = &bundle{fs: filesys.MakeFsInMemory()}
			bundles[parts[1]] = b
			order = append(order, parts[1])
		}
		if err := b.fs.WriteFile("/"+p, tree[p]); err != nil {
			return err
		}
		if dir, file := path.Split(p); file == "kustomization.yaml" {
			b.dirs = append(b.dirs, "/"+strings.TrimSuffix(dir, "/"))
		}
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	for _, name := range order {
		b := bundles[name]
		for _, dir := range b.dirs {
			if _, err := k.Run(b.fs, dir); err != nil {
				return fmt.Errorf("kustomize build %s: %w", strings.TrimPrefix(dir, "/"), err)
			}
		}
	}
	return nil
}
