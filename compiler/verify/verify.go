// Package verify proves a rendered tree is usable as it is, before anything
// is written: every cluster's bundle builds with kustomize's krusty in
// process (the way Argo CD and Flux build it; a bundle's kustomization
// includes each layer's), and every object it yields is one the API server
// accepts unchanged: built-in kinds decode strictly into their types, Istio
// and Sail kinds satisfy their CRDs, and the objects of cert-manager, Flux,
// Argo CD and External Secrets decode strictly into their API types or
// strict mirrors of them.
//
// Import direction: verify imports render and crdschema.
package verify

import (
	"errors"
	"fmt"
	"path"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler/render"
)

// Build builds the kustomization in dir of tree with krusty and returns the
// resulting resources. helmCharts entries are left out: building them needs
// the helm binary and the network.
func Build(tree render.Tree, dir string) (resmap.ResMap, error) {
	fs := filesys.MakeFsInMemory()
	prefix := dir + "/"
	for _, p := range tree.Paths() {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		data := tree[p]
		if path.Base(p) == "kustomization.yaml" {
			var err error
			if data, err = withoutHelmCharts(data); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		}
		if err := fs.WriteFile("/"+p, data); err != nil {
			return nil, err
		}
	}
	return krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/"+dir)
}

// Bundles builds every cluster bundle in tree with krusty. A bundle's
// top-level kustomization includes each layer's, so one build per cluster
// proves every layer builds too (layers never refer to one another).
func Bundles(tree render.Tree) error {
	return eachBundle(tree, nil)
}

// eachBundle builds every cluster's bundle, spread over the machine's
// cores, and hands each one's objects to fn when fn is not nil. fn may be
// called concurrently.
func eachBundle(tree render.Tree, fn func(dir string, objects []map[string]any) error) error {
	// One in-memory filesystem per cluster, filled in one pass over the tree.
	type bundle struct {
		dir string
		fs  filesys.FileSystem
	}
	var bundles []*bundle
	for _, p := range tree.Paths() {
		parts := strings.SplitN(p, "/", 3)
		if len(parts) < 3 || parts[0] != "clusters" {
			continue
		}
		dir := render.ClusterDir(parts[1])
		if len(bundles) == 0 || bundles[len(bundles)-1].dir != dir {
			bundles = append(bundles, &bundle{dir: dir, fs: filesys.MakeFsInMemory()})
		}
		data := tree[p]
		if path.Base(p) == "kustomization.yaml" {
			// krusty would need the helm binary and the network for
			// helmCharts: HelmCharts checks those entries instead.
			var err error
			if data, err = withoutHelmCharts(data); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		if err := bundles[len(bundles)-1].fs.WriteFile("/"+p, data); err != nil {
			return err
		}
	}
	errs := make([]error, len(bundles))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, b := range bundles {
		g.Go(func() error {
			built, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(b.fs, "/"+b.dir)
			if err != nil {
				errs[i] = fmt.Errorf("kustomize build %s: %w", b.dir, err)
				return nil
			}
			if fn == nil {
				return nil
			}
			objects := make([]map[string]any, 0, built.Size())
			for _, r := range built.Resources() {
				m, err := r.Map()
				if err != nil {
					errs[i] = fmt.Errorf("%s: %w", b.dir, err)
					return nil
				}
				objects = append(objects, m)
			}
			errs[i] = fn(b.dir, objects)
			return nil
		})
	}
	_ = g.Wait()
	return errors.Join(errs...)
}

// withoutHelmCharts drops a kustomization's helmCharts, if any.
func withoutHelmCharts(data []byte) ([]byte, error) {
	if !strings.Contains(string(data), "helmCharts:") {
		return data, nil
	}
	var k map[string]any
	if err := yaml.Unmarshal(data, &k); err != nil {
		return nil, err
	}
	delete(k, "helmCharts")
	return yaml.Marshal(k)
}
