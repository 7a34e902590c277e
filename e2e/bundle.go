package e2e

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
)

// KubeVersion is the Kubernetes release the suite runs, and so the one
// charts are rendered for.
const KubeVersion = "v1.37.2"

// chartDirs maps an Istio chart's name to its folder in a release's charts
// (compiler/charts/released/<version>/, the charts meshc embeds).
var chartDirs = map[string]string{
	"base": "base", "istiod": "istiod", "cni": "istio-cni", "gateway": "gateway", "ztunnel": "ztunnel",
}

// Bundle is one example compiled for one target, with delivery objects for
// both Argo CD and Flux, laid out on disk as its Git repository would hold it.
type Bundle struct {
	Example  string
	Target   emit.Target
	Root     string // the repository's root on disk
	Path     string // delivery.path: the output folder inside the repository
	Clusters []string
	Files    int
	Topology *model.Topology // as compiled, defaults resolved
}

// Compile compiles the example at topologyPath for target into a fresh
// folder under dir. An example that says nothing of delivery gets the
// Git repository and Flux source a user would add for it.
func Compile(topologyPath string, target emit.Target, dir string) (*Bundle, error) {
	return CompileVariant(topologyPath, target, dir, nil)
}

// CompileVariant is Compile with the validated topology changed by vary
// first (nil: unchanged), for a variant such as one whose clusters'
// apiServer fields name the suite's own API servers.
func CompileVariant(topologyPath string, target emit.Target, dir string, vary func(*model.Topology)) (*Bundle, error) {
	t, err := compiler.Validate(topologyPath)
	if err != nil {
		return nil, err
	}
	if vary != nil {
		vary(t)
	}
	if t.Delivery == nil {
		t.Delivery = &model.Delivery{RepoURL: "https://git.example.com/platform/mesh.git", Path: "deploy/mesh"}
	}
	if t.Delivery.Flux == nil {
		t.Delivery.Flux = &model.FluxConfig{GitRepository: "platform-mesh"}
	}
	if t.Delivery.ArgoCD == nil {
		t.Delivery.ArgoCD = &model.ArgoCDConfig{}
	}
	t.ResolveDefaults()
	res, err := compiler.CompileTopology(t, compiler.Options{Target: target, Delivery: []string{"argocd", "flux"}})
	if err != nil {
		return nil, err
	}
	b := &Bundle{
		Example:  strings.TrimSuffix(filepath.Base(topologyPath), filepath.Ext(topologyPath)),
		Target:   res.Target,
		Root:     dir,
		Path:     path.Clean(t.Delivery.Path),
		Topology: t,
	}
	for _, c := range res.Output.Clusters {
		b.Clusters = append(b.Clusters, c.Name)
	}
	for p, data := range res.Tree {
		file := filepath.Join(dir, filepath.FromSlash(b.Path), filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			return nil, err
		}
		b.Files++
	}
	return b, nil
}

// Dir is the folder of a slash path inside the output.
func (b *Bundle) Dir(p string) string {
	return filepath.Join(b.Root, filepath.FromSlash(b.Path), filepath.FromSlash(p))
}

// Kustomizer builds kustomizations as Argo CD and Flux do, with Helm 3 for
// helmCharts (Argo CD's kustomize --enable-helm) and Istio's released
// charts standing in for the chart repository.
type Kustomizer struct {
	Helm   string // the helm binary
	Charts string // compiler/charts/released

	mu    sync.Mutex
	built map[string][]Object // by folder: each delivery of a bundle builds the same ones
}

// Build runs kustomize on dir. helmCharts entries are rendered from the
// released charts of the version they name, which are put where kustomize
// keeps what it pulls (<dir>/charts/<name>-<version>/<name>), so nothing is
// fetched; a version with no charts here is an error.
func (k *Kustomizer) Build(dir, source string) ([]Object, error) {
	k.mu.Lock()
	cached, ok := k.built[dir]
	k.mu.Unlock()
	if ok {
		return cached, nil
	}
	opts := krusty.MakeDefaultOptions()
	// Every kustomization below dir (a cluster's bundle includes its layers').
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "kustomization.yaml" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var kust types.Kustomization
		if err := yaml.UnmarshalStrict(data, &kust); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, hc := range kust.HelmCharts {
			if err := k.seedChart(filepath.Dir(p), hc.Name, hc.Version); err != nil {
				return err
			}
			opts.PluginConfig.HelmConfig = types.HelmConfig{Enabled: true, Command: k.Helm, KubeVersion: KubeVersion}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	resources, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", source, err)
	}
	var out []Object
	for _, r := range resources.Resources() {
		// Through JSON, so that numbers are int64 or float64 as in every
		// object client-go decodes.
		data, err := r.MarshalJSON()
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := utiljson.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		out = append(out, Object{Unstructured: &unstructured.Unstructured{Object: m}, Source: source})
	}
	k.mu.Lock()
	if k.built == nil {
		k.built = map[string][]Object{}
	}
	k.built[dir] = out
	k.mu.Unlock()
	return out, nil
}

// FromChart names the Istio chart an object was rendered from, if any:
// the chart's own label, or for Istio's CRDs (which carry none) the base
// chart, the only one that holds them.
func FromChart(o Object) (string, bool) {
	if o.Chart != "" {
		return o.Chart, true
	}
	if c := o.GetLabels()["helm.sh/chart"]; c != "" {
		return c, true
	}
	if key, ok := crdKey(o); ok && strings.HasSuffix(strings.SplitN(key, "/", 2)[0], "istio.io") {
		return "base", true
	}
	return "", false
}

func (k *Kustomizer) seedChart(dir, name, version string) error {
	chartDir, ok := chartDirs[name]
	if !ok {
		return fmt.Errorf("helmCharts names chart %q, which is not one of Istio's", name)
	}
	from := filepath.Join(k.Charts, version, chartDir)
	if _, err := os.Stat(filepath.Join(from, "Chart.yaml")); err != nil {
		return fmt.Errorf("no released charts of Istio %s in %s: add them (see compiler/charts/released/SOURCES.md)", version, k.Charts)
	}
	return copyTree(from, filepath.Join(dir, "charts", name+"-"+version, name))
}

// HelmRelease renders what Flux's helm-controller would install for a
// HelmRelease: its chart at the pinned version, from the released charts,
// with the release's values, sorted in Helm's install order.
func (k *Kustomizer) HelmRelease(hr Object) ([]Object, error) {
	chartName, _, _ := unstructured.NestedString(hr.Object, "spec", "chart", "spec", "chart")
	version, _, _ := unstructured.NestedString(hr.Object, "spec", "chart", "spec", "version")
	release, _, _ := unstructured.NestedString(hr.Object, "spec", "releaseName")
	namespace, _, _ := unstructured.NestedString(hr.Object, "spec", "targetNamespace")
	values, _, _ := unstructured.NestedMap(hr.Object, "spec", "values")
	if release == "" {
		release = hr.GetName()
	}
	if namespace == "" {
		namespace = hr.GetNamespace()
	}
	chartDir, ok := chartDirs[chartName]
	if !ok {
		return nil, fmt.Errorf("%s: chart %q is not one of Istio's", hr.ID(), chartName)
	}
	ch, err := loader.Load(filepath.Join(k.Charts, version, chartDir))
	if err != nil {
		return nil, fmt.Errorf("%s: no released chart %s %s: %w", hr.ID(), chartName, version, err)
	}
	// What helm install renders: the chart's templates with the release's
	// values for this Kubernetes release, sorted in Helm's install order
	// (hooks apart; Istio's charts have none).
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: KubeVersion, Major: "1", Minor: "37"}
	vals, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{
		Name: release, Namespace: namespace, IsInstall: true,
	}, caps)
	if err != nil {
		return nil, fmt.Errorf("%s: values: %w", hr.ID(), err)
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return nil, fmt.Errorf("%s: rendering chart %s: %w", hr.ID(), chartName, err)
	}
	for name := range files {
		if path.Ext(name) != ".yaml" || strings.Contains(name, "/tests/") {
			delete(files, name)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", hr.ID(), err)
	}
	if len(hooks) > 0 {
		return nil, fmt.Errorf("%s: chart %s has hooks, which the suite does not run", hr.ID(), chartName)
	}
	var objects []Object
	for _, m := range manifests {
		objs, err := decodeYAML(m.Content, "HelmRelease "+hr.GetNamespace()+"/"+hr.GetName())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
		for i := range objs {
			objs[i].Chart = chartName + "-" + version
		}
		objects = append(objects, objs...)
	}
	// Helm sets the release namespace on namespaced objects that name none.
	for _, o := range objects {
		if o.GetNamespace() == "" && !clusterScoped[o.GetKind()] {
			o.SetNamespace(namespace)
		}
	}
	return objects, nil
}

// clusterScoped lists the cluster-scoped kinds Istio's charts render.
var clusterScoped = map[string]bool{
	"Namespace": true, "CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
}

// ReadObjects decodes every YAML file of dir (recursively, sorted).
func ReadObjects(dir, source string) ([]Object, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []Object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		objs, err := decodeYAML(string(data), source)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

func decodeYAML(doc, source string) ([]Object, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(doc)), 4096)
	var out []Object
	for {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, Object{Unstructured: &unstructured.Unstructured{Object: m}, Source: source})
	}
}

func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
}

func unstructuredString(o Object, fields ...string) (string, bool, error) {
	return unstructured.NestedString(o.Object, fields...)
}

// Layer is one Flux Kustomization of a cluster's delivery: the folder it
// applies and the Kustomizations it waits for.
type Layer struct {
	Name      string
	Path      string // repository-relative, as spec.path says
	DependsOn []string
}

// FluxLayers reads a cluster's Flux Kustomizations and orders them so that
// each comes after everything it depends on (declared order among equals).
func FluxLayers(objects []Object) ([]Layer, error) {
	var layers []Layer
	for _, o := range objects {
		if o.GetKind() != "Kustomization" {
			continue
		}
		l := Layer{Name: o.GetName()}
		l.Path, _, _ = unstructured.NestedString(o.Object, "spec", "path")
		deps, _, _ := unstructured.NestedSlice(o.Object, "spec", "dependsOn")
		for _, d := range deps {
			m, _ := d.(map[string]any)
			name, _ := m["name"].(string)
			l.DependsOn = append(l.DependsOn, name)
		}
		layers = append(layers, l)
	}
	var ordered []Layer
	done := map[string]bool{}
	for len(ordered) < len(layers) {
		progressed := false
		for _, l := range layers {
			if done[l.Name] {
				continue
			}
			ready := true
			for _, d := range l.DependsOn {
				if !done[d] {
					ready = false
				}
			}
			if ready {
				ordered, done[l.Name], progressed = append(ordered, l), true, true
			}
		}
		if !progressed {
			var stuck []string
			for _, l := range layers {
				if !done[l.Name] {
					stuck = append(stuck, fmt.Sprintf("%s (needs %v)", l.Name, l.DependsOn))
				}
			}
			return nil, fmt.Errorf("Flux Kustomizations never become ready: %s", strings.Join(stuck, ", "))
		}
	}
	return ordered, nil
}

// OutputPath turns a Flux spec.path (repository-relative) into a path
// inside the output folder.
func (b *Bundle) OutputPath(repoPath string) (string, error) {
	p := path.Clean(strings.TrimPrefix(repoPath, "./"))
	rel, ok := strings.CutPrefix(p, b.Path+"/")
	if !ok {
		return "", fmt.Errorf("Flux path %s is outside the output folder %s", repoPath, b.Path)
	}
	return rel, nil
}
