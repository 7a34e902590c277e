// Package charts renders Istio's upstream Helm charts (base, istiod,
// istio-cni, gateway) offline, for the rendered target, each release with
// its own released charts (releases.go: embedded, pulled into the chart
// cache, or in a folder the user points at). Embedded is the development
// snapshot of the Go module istio.io/istio/manifests, kept for tests.
//
// Import direction: charts imports helm and the Istio manifests only.
package charts

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"istio.io/istio/manifests"
	"k8s.io/apimachinery/pkg/runtime"
)

// The charts meshc renders, by their folder under a manifests charts/.
const (
	Base    = "base"
	Istiod  = "istio-control/istio-discovery"
	CNI     = "istio-cni"
	Gateway = "gateway"
	// Ztunnel is the ambient data plane's node proxy. A release's folder
	// may lack it (charts fetched before meshc rendered it): only an
	// ambient mesh needs it, and rendering then says it is missing.
	Ztunnel = "ztunnel"
)

// Set is a loaded set of Istio charts. It is safe for concurrent use.
// Identical work is done once: each shape of release renders once (see
// shape.go), and each distinct text a template prints is parsed once (the
// base chart's CRDs are a megabyte of YAML).
type Set struct {
	// Source says where the charts come from, for messages.
	Source string
	charts map[string]*chart.Chart

	mu            sync.Mutex
	shapes        map[[sha256.Size]byte]*shape
	parses        map[[sha256.Size]byte]*parse
	chartLiterals map[*chart.Chart]map[string]bool
	// fullShapes counts the shapes whose guard found a difference.
	fullShapes int
}

var (
	embeddedOnce sync.Once
	embedded     *Set
	embeddedErr  error
)

// Embedded returns the charts of the istio.io/istio/manifests module.
func Embedded() (*Set, error) {
	embeddedOnce.Do(func() {
		embedded, embeddedErr = Load(manifests.FS, "istio.io/istio/manifests (embedded)")
	})
	return embedded, embeddedErr
}

// Load reads the charts from fsys, laid out as an Istio release's
// manifests/ folder (charts/base, ...) or its manifests/charts/ folder.
func Load(fsys fs.FS, source string) (*Set, error) {
	root := "charts"
	if _, err := fs.Stat(fsys, path.Join(root, Base, "Chart.yaml")); err != nil {
		root = "."
	}
	s := newSet(source)
	for _, name := range []string{Base, Istiod, CNI, Gateway, Ztunnel} {
		dir := path.Join(root, name)
		if _, err := fs.Stat(fsys, path.Join(dir, "Chart.yaml")); name == Ztunnel && err != nil {
			continue
		}
		c, err := loadChart(fsys, dir)
		if err != nil {
			return nil, fmt.Errorf("%s: chart %s: %w", source, name, err)
		}
		s.charts[name] = c
	}
	return s, nil
}

// missing says that the set lacks a chart, and how to get it: only the
// ztunnel chart may be absent (charts fetched before meshc rendered it).
func (s *Set) missing(name string) error {
	return fmt.Errorf("%s has no chart %s: fetch the release's charts again (meshc charts pull VERSION), or add the chart's folder from the release's manifests/charts", s.Source, name)
}

func newSet(source string) *Set {
	return &Set{
		Source: source, charts: map[string]*chart.Chart{},
		shapes:        map[[sha256.Size]byte]*shape{},
		parses:        map[[sha256.Size]byte]*parse{},
		chartLiterals: map[*chart.Chart]map[string]bool{},
	}
}

func loadChart(fsys fs.FS, dir string) (*chart.Chart, error) {
	var files []*loader.BufferedFile
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, &loader.BufferedFile{Name: strings.TrimPrefix(p, dir+"/"), Data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return loader.LoadFiles(files)
}

// Render renders chart name as release in namespace with values, as helm
// template would, and returns its objects in a stable order (by template
// file, then position in it).
//
// Each object's metadata is the caller's to change; what lies beside it
// (spec, data, ...) may be shared with the objects of other releases and
// must not be changed.
func (s *Set) Render(name, release, namespace string, values map[string]any) ([]map[string]any, error) {
	return s.renderShaped("", name, release, namespace, values)
}

// RenderWithout is Render, leaving out the objects of kind without: what
// the caller would drop need not be read. The base chart prints its
// megabyte of CRDs verbatim when its CRD templates are off, and a release
// of it that renders the rest wants none of them.
//
// A document is left unread only when its first lines say, beyond doubt,
// that it is of that kind (see ofKind); any other is read, and left out
// if it is.
func (s *Set) RenderWithout(without, name, release, namespace string, values map[string]any) ([]map[string]any, error) {
	if without == "" {
		return nil, fmt.Errorf("rendering chart %s without objects of no kind", name)
	}
	return s.renderShaped(without, name, release, namespace, values)
}

// render renders a release in full, into objects of its own.
func (s *Set) render(name, release, namespace string, values map[string]any) ([]map[string]any, error) {
	return s.renderWithout("", name, release, namespace, values)
}

// renderWithout is render, leaving out the objects of kind without,
// unless it is empty (see RenderWithout).
func (s *Set) renderWithout(without, name, release, namespace string, values map[string]any) ([]map[string]any, error) {
	c := s.charts[name]
	if c == nil {
		return nil, s.missing(name)
	}
	vals, err := chartutil.ToRenderValues(c, values, chartutil.ReleaseOptions{
		Name: release, Namespace: namespace, IsInstall: true,
	}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(c, vals)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", name, err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []map[string]any
	for _, n := range names {
		if path.Ext(n) != ".yaml" {
			continue
		}
		objs, err := s.parsed(files[n], without)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		for _, obj := range objs {
			if without != "" && obj["kind"] == without {
				continue
			}
			obj = runtime.DeepCopyJSON(obj) // the parse is shared
			if md, ok := obj["metadata"].(map[string]any); ok && md["namespace"] == nil && namespaced(obj) {
				// helm install puts namespaced objects without one in the
				// release namespace; the bundle says so explicitly.
				md["namespace"] = namespace
			}
			out = append(out, obj)
		}
	}
	return out, nil
}

// clusterScoped kinds are the ones Istio's charts render without a
// namespace on purpose.
var clusterScoped = map[string]bool{
	"CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
	"Namespace": true, "PriorityClass": true, "StorageClass": true,
}

func namespaced(obj map[string]any) bool {
	kind, _ := obj["kind"].(string)
	return !clusterScoped[kind]
}
