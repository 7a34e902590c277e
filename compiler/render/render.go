// Package render lays emitted objects out as files: one Kustomize bundle per
// cluster, one folder per layer, one file per object, every list sorted, so
// the same input always gives the same bytes.
//
// Layout of a cluster's bundle:
//
//	clusters/<cluster>/kustomization.yaml         the layers, in apply order
//	clusters/<cluster>/<layer>/kustomization.yaml the layer's files, sorted
//	clusters/<cluster>/<layer>/[<namespace>/]<kind>-<name>.yaml
//	clusters/<cluster>/istioctl/...               files beside the bundle
//
// Import direction: render imports emit.
package render

import (
	"fmt"
	"maps"
	"path"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/kustomize/api/types"

	"meshc.dev/meshc/compiler/emit"
)

// Labels put on every object.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelTopology  = "meshc.dev/topology"
)

// Tree is a set of files by slash-separated path relative to the output
// folder. Paths() gives them in a stable order. Several paths may hold the
// same byte slice (a fleet's alike CRDs): a file's bytes are never changed
// in place.
type Tree map[string][]byte

// Paths returns the tree's paths, sorted.
func (t Tree) Paths() []string {
	out := make([]string, 0, len(t))
	for p := range t {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// ClusterDir is the folder of a cluster's bundle.
func ClusterDir(cluster string) string { return path.Join("clusters", cluster) }

// LayerDir is the folder of a layer of a cluster's bundle: what Argo CD
// and Flux point at (package delivery lays itself out from here).
func LayerDir(cluster string, l emit.Layer) string { return path.Join(ClusterDir(cluster), l.Dir) }

// Labels are the labels meshc puts on every object it writes.
func Labels(topology string) map[string]any {
	return map[string]any{LabelManagedBy: "meshc", LabelTopology: topology}
}

// Render lays out the output of every cluster.
// Clusters are rendered concurrently, one tree each, then merged: writing
// YAML is most of a fleet's compile time.
func Render(out *emit.Output) (Tree, error) {
	trees := make([]Tree, len(out.Clusters))
	fields := findShared(out)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, c := range out.Clusters {
		g.Go(func() error {
			trees[i] = Tree{}
			if err := renderCluster(trees[i], out.Topology, c, fields); err != nil {
				return fmt.Errorf("cluster %s: %w", c.Name, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	n := len(out.Documents)
	for _, t := range trees {
		n += len(t)
	}
	tree := make(Tree, n) // a fleet's tens of thousands of files, not grown into
	for _, t := range trees {
		maps.Copy(tree, t) // cluster folders are disjoint
	}
	for _, d := range out.Documents {
		if _, dup := tree[d.Path]; dup {
			return nil, fmt.Errorf("two files render to %s", d.Path)
		}
		data, err := MarshalYAML(d.Object)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Path, err)
		}
		tree[d.Path] = data
	}
	return tree, nil
}

func renderCluster(tree Tree, topology string, c *emit.Cluster, fields *sharedFields) error {
	dir := ClusterDir(c.Name)
	byLayer := map[string][]string{}
	layerDirs := map[string]string{} // LayerDir of each layer, joined once
	for _, r := range c.Resources {
		name, err := FileName(r.Object)
		if err != nil {
			return err
		}
		ld, ok := layerDirs[r.Layer.Dir]
		if !ok {
			ld = LayerDir(c.Name, r.Layer)
			layerDirs[r.Layer.Dir] = ld
		}
		full := path.Join(ld, name)
		if _, dup := tree[full]; dup {
			return fmt.Errorf("two objects render to %s", full)
		}
		data, err := marshalLabelled(r.Object, topology, fields)
		if err != nil {
			return fmt.Errorf("%s: %w", full, err)
		}
		tree[full] = data
		byLayer[r.Layer.Dir] = append(byLayer[r.Layer.Dir], name)
	}
	var layers []string
	for _, l := range emit.Layers {
		files := byLayer[l.Dir]
		charts := c.HelmCharts[l.Dir]
		if len(files) == 0 && len(charts) == 0 {
			continue
		}
		slices.Sort(files)
		k := Kustomization(files)
		if len(charts) > 0 {
			k["helmCharts"] = charts
			// What the charts render carries no annotations of meshc's:
			// the layer gives it its sync wave, as its files have.
			k["commonAnnotations"] = map[string]any{emit.AnnotationSyncWave: fmt.Sprint(l.Wave)}
		}
		if err := putYAML(tree, path.Join(LayerDir(c.Name, l), "kustomization.yaml"), k); err != nil {
			return err
		}
		if !l.Detached {
			layers = append(layers, l.Dir)
		}
	}
	if err := putYAML(tree, path.Join(dir, "kustomization.yaml"), Kustomization(layers)); err != nil {
		return err
	}
	for _, f := range c.Files {
		full := path.Join(dir, f.Path)
		if _, dup := tree[full]; dup {
			return fmt.Errorf("two files render to %s", full)
		}
		data, err := fileData(f)
		if err != nil {
			return fmt.Errorf("%s: %w", full, err)
		}
		tree[full] = data
	}
	return nil
}

// fileData is the content of a file beside the bundle: its bytes, or its
// object (an IstioOperator) after its comment, written by the same YAML
// writer as every object, which istioctl (sigs.k8s.io/yaml) reads back to
// the same values.
func fileData(f emit.File) ([]byte, error) {
	if f.Object == nil {
		return f.Data, nil
	}
	body, err := MarshalYAML(f.Object)
	if err != nil {
		return nil, err
	}
	return append([]byte(f.Comment), body...), nil
}

// Labelled is obj as written: with meshc's own labels. They are written
// into each object rather than added by a kustomize transformer so that
// the files say exactly what is applied, and building a bundle stays
// cheap. obj itself is left as emit made it: the copy shares everything
// but the maps on the way to the labels.
func Labelled(obj emit.Object, topology string) emit.Object {
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		return obj
	}
	labels, _ := md["labels"].(map[string]any)
	// Labels(topology)'s two, set without building its map per object.
	own := make(map[string]any, len(labels)+2)
	maps.Copy(own, labels)
	own[LabelManagedBy], own[LabelTopology] = "meshc", topology
	labels = own
	md = maps.Clone(md)
	md["labels"] = labels
	out := maps.Clone(obj)
	out["metadata"] = md
	return out
}

// marshalLabelled is marshalYAML(Labelled(obj, topology), fields),
// without Labelled's copies of the object, its metadata and its labels for
// an object that shares no field with another (nearly every one): the
// labels are written as if the object held them.
func marshalLabelled(obj emit.Object, topology string, fields *sharedFields) ([]byte, error) {
	md, _ := obj["metadata"].(map[string]any)
	if md == nil || fields.anyShared(obj) {
		return marshalYAML(Labelled(obj, topology), fields)
	}
	// As Labelled sets them: labels that are not a map are replaced.
	labels, _ := md["labels"].(map[string]any)
	var l labelledObject // one allocation for the three levels
	l.labelsOver = [2]field{{LabelManagedBy, "meshc"}, {LabelTopology, topology}}
	l.labels = overlaid{m: labels, over: l.labelsOver[:]}
	l.metaOver = [1]field{{"labels", &l.labels}}
	l.meta = overlaid{m: md, over: l.metaOver[:]}
	l.objOver = [1]field{{"metadata", &l.meta}}
	l.obj = overlaid{m: obj, over: l.objOver[:]}
	return marshalFresh(&l.obj, fields)
}

// labelledObject is an object as marshalLabelled writes it: its metadata
// and labels overlaid.
type labelledObject struct {
	obj, meta, labels overlaid
	objOver, metaOver [1]field
	labelsOver        [2]field
}

// Kustomization is a kustomization.yaml listing resources. It is built as
// a map, like every object, for the one fast YAML writer; tests decode
// each one strictly into kustomize's types.Kustomization.
func Kustomization(resources []string) map[string]any {
	list := make([]any, len(resources))
	for i, r := range resources {
		list[i] = r
	}
	return map[string]any{
		"apiVersion": types.KustomizationVersion,
		"kind":       types.KustomizationKind,
		"resources":  list,
	}
}

func putYAML(tree Tree, p string, v any) error {
	data, err := MarshalYAML(v)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	tree[p] = data
	return nil
}

// FileName is an object's file name inside its layer:
// [<namespace>/]<kind>-<name>.yaml, lower case.
func FileName(obj emit.Object) (string, error) {
	kind, _ := obj["kind"].(string)
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	if kind == "" || name == "" {
		return "", fmt.Errorf("object without kind or name: %v", obj)
	}
	file := strings.ToLower(kind) + "-" + name + ".yaml"
	if ns != "" {
		return path.Join(ns, file), nil
	}
	return file, nil
}
