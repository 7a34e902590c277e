// Package check runs meshc's semantic rules over a decoded topology: the
// things a schema cannot say, such as references between entities, two
// control planes claiming one namespace, or an Istio release meshc does not
// support. Every rule reports diagnostics with a stable code, the topology
// path, the position in the user's file and a hint; all problems are
// reported at once.
//
// Check judges facts; it derives none that another stage needs: those come
// from package resolve, with their origins (where a version was written,
// which meshes span clusters, who discovers whom, where tenants land).
//
// Import direction: check imports resolve, model, diag, release and crdschema.
package check

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/util/validation"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/resolve"
)

// Topology resolves t and runs every rule; see Resolved.
func Topology(t *model.Topology) diag.List { return Resolved(resolve.Resolve(t)) }

// Resolved runs every rule over a resolved topology and returns the
// problems found, sorted.
func Resolved(r *resolve.Topology) diag.List {
	t := r.Model
	clusters := func(c *checker) {
		for _, name := range model.SortedKeys(t.Clusters) {
			c.cluster(name)
		}
	}
	rules := []func(*checker){
		(*checker).names,
		(*checker).references,
		(*checker).versions,
		(*checker).profiles,
		(*checker).ambient,
		(*checker).labels,
		(*checker).inputs,
		clusters,
		(*checker).tenants,
		(*checker).multicluster,
		(*checker).values,
		(*checker).valuesForRelease,
		(*checker).tlsServerNames,
	}
	// The rules only read the resolved facts and report: they run side by
	// side, each into a checker of its own, and their reports are joined
	// in this order, so the stable sort below sees what running them one
	// after the other gives.
	checkers := make([]checker, len(rules))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, rule := range rules {
		g.Go(func() error {
			checkers[i] = checker{t: t, r: r}
			rule(&checkers[i])
			return nil
		})
	}
	_ = g.Wait() // a rule reports, it does not fail
	c := &checker{t: t, r: r}
	for _, rc := range checkers {
		c.out = append(c.out, rc.out...)
	}
	c.out.Sort()
	// A rule that runs per cluster or per pair of control planes can find
	// one problem several times (a mesh's canary overlapping another mesh,
	// a tenant in two clusters claiming kube-system): report it once.
	c.out = slices.CompactFunc(c.out, func(a, b diag.Diagnostic) bool {
		return a.Code == b.Code && a.Path == b.Path && a.Pos == b.Pos &&
			a.Message == b.Message && a.Hint == b.Hint && slices.Equal(a.Related, b.Related)
	})
	return c.out
}

type checker struct {
	t   *model.Topology
	r   *resolve.Topology
	out diag.List
}

func (c *checker) report(code diag.Code, path model.Path, hint, format string, args ...any) *diag.Diagnostic {
	c.out = append(c.out, diag.Diagnostic{
		Code:    code,
		Path:    path.String(),
		Pos:     c.t.Pos(path),
		Message: fmt.Sprintf(format, args...),
		Hint:    hint,
	})
	return &c.out[len(c.out)-1]
}

// warn reports a risk rather than a certain failure.
func (c *checker) warn(code diag.Code, path model.Path, hint, format string, args ...any) *diag.Diagnostic {
	d := c.report(code, path, hint, format, args...)
	d.Severity = diag.Warning
	return d
}

func (c *checker) related(d *diag.Diagnostic, path model.Path) {
	d.Related = append(d.Related, diag.Related{Path: path.String(), Pos: c.t.Pos(path)})
}

// names checks that every entity key is a DNS-1123 label: keys become
// Kubernetes object names, label values and cluster IDs.
func (c *checker) names() {
	check := func(kind string, keys []string, prefix ...any) {
		for _, k := range keys {
			if errs := validation.IsDNS1123Label(k); len(errs) > 0 {
				c.report(diag.InvalidName, model.Path(prefix).Child(k),
					"use lower case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters",
					"%s name %s is not a DNS-1123 label", kind, diag.Quote(k))
			}
		}
	}
	t := c.t
	// Names meshc derives from others must stay within Kubernetes' limits:
	// istiod's Service istiod-<revision> (and istiod-<revision>-remote
	// behind a load balancer) is a DNS-1035 label; Flux Kustomizations are
	// named <topology>-<layer> and Argo CD applications meshc-<cluster>,
	// both written into label values by their controllers.
	for _, cp := range t.ControlPlanes() {
		limit, why := 63-len("istiod-"), "istiod's Service istiod-<revision>"
		if cp.Expose != nil && cp.Expose.Via == model.ExposeLoadBalancer {
			limit, why = 63-len("istiod--remote"), "its load balancer Service istiod-<revision>-remote"
		}
		if len(cp.Revision) > limit {
			c.report(diag.InvalidName, cp.Path().Child("revision"),
				fmt.Sprintf("use a revision of at most %d characters", limit),
				"revision %q is too long for %s (at most 63 characters)", cp.Revision, why)
		}
	}
	if d := t.Delivery; d != nil {
		if d.Flux != nil && len(t.Metadata.Name) > 63-len("-control-plane") {
			c.report(diag.InvalidName, model.Path{"metadata", "name"},
				fmt.Sprintf("use a topology name of at most %d characters", 63-len("-control-plane")),
				"topology name %q is too long for Flux Kustomizations named <topology>-<layer> (label values are at most 63 characters)", t.Metadata.Name)
		}
		if d.ArgoCD != nil {
			for _, name := range model.SortedKeys(t.Clusters) {
				if len("meshc-"+name) > 63 {
					c.report(diag.InvalidName, model.Path{"clusters", name},
						"use a cluster name of at most 57 characters",
						"cluster name %q is too long for its Argo CD application meshc-<cluster> (label values are at most 63 characters)", name)
				}
			}
		}
	}
	check("network", model.SortedKeys(t.Networks), "networks")
	check("cluster", model.SortedKeys(t.Clusters), "clusters")
	check("mesh", model.SortedKeys(t.Meshes), "meshes")
	check("tenant", model.SortedKeys(t.Tenants), "tenants")
	for _, m := range model.SortedKeys(t.Meshes) {
		check("control plane", model.SortedKeys(t.Meshes[m].ControlPlanes), "meshes", m, "controlPlanes")
	}
}

func oneOf(keys []string) string {
	if len(keys) == 0 {
		return "none is defined yet"
	}
	return "use one of: " + strings.Join(keys, ", ")
}

// defineOr hints at defining the missing entity or using an existing one.
func defineOr(definition string, keys []string) string {
	if len(keys) == 0 {
		return "define " + definition
	}
	return "define " + definition + " or use one of: " + strings.Join(keys, ", ")
}

// references checks that every name refers to an entity that exists.
func (c *checker) references() {
	t := c.t
	networks := model.SortedKeys(t.Networks)
	clusters := model.SortedKeys(t.Clusters)
	for _, name := range clusters {
		cl := t.Clusters[name]
		if cl.Network != "" && !slices.Contains(networks, cl.Network) {
			c.report(diag.UndefinedNetwork, model.Path{"clusters", name, "network"},
				defineOr(fmt.Sprintf("networks.%s: {}", cl.Network), networks),
				"network %q is not defined", cl.Network)
		}
	}
	for _, cp := range t.ControlPlanes() {
		if _, ok := t.Clusters[cp.Cluster]; !ok {
			c.report(diag.UndefinedCluster, cp.Path().Child("cluster"),
				defineOr("clusters."+cp.Cluster, clusters),
				"cluster %q is not defined", cp.Cluster)
		}
		for i, r := range cp.Remotes {
			if _, ok := t.Clusters[r]; !ok {
				c.report(diag.UndefinedCluster, cp.Path().Child("remotes", i),
					defineOr("clusters."+r, clusters), "cluster %q is not defined", r)
			}
		}
	}
	for _, name := range model.SortedKeys(t.Tenants) {
		tn := t.Tenants[name]
		base := model.Path{"tenants", name}
		mesh, ok := t.Meshes[tn.Mesh]
		if !ok {
			c.report(diag.UndefinedMesh, base.Child("mesh"),
				oneOf(model.SortedKeys(t.Meshes)), "mesh %q is not defined", tn.Mesh)
		} else if tn.ControlPlane != "" {
			if _, ok := mesh.ControlPlanes[tn.ControlPlane]; !ok {
				c.report(diag.UndefinedControlPlane, base.Child("controlPlane"),
					fmt.Sprintf("mesh %s has these control planes: %s", tn.Mesh, strings.Join(model.SortedKeys(mesh.ControlPlanes), ", ")),
					"control plane %q is not defined in mesh %q", tn.ControlPlane, tn.Mesh)
			}
		}
		for i, cl := range tn.Clusters {
			if _, ok := t.Clusters[cl]; !ok {
				c.report(diag.UndefinedCluster, base.Child("clusters", i),
					defineOr("clusters."+cl, clusters),
					"cluster %q is not defined", cl)
			}
		}
	}
}

// labels checks label maps the user writes: they end up on Namespaces and
// in discovery selectors, where the API server would reject them.
func (c *checker) labels() {
	check := func(labels map[string]string, path model.Path) {
		for _, k := range model.SortedKeys(labels) {
			for _, e := range validation.IsQualifiedName(k) {
				c.report(diag.InvalidValue, path.Child(k), "label keys are [prefix/]name, e.g. example.com/team", "invalid label key %s: %s", diag.Quote(k), firstSentence(e))
			}
			for _, e := range validation.IsValidLabelValue(labels[k]) {
				c.report(diag.InvalidValue, path.Child(k), "label values are at most 63 characters of letters, digits, '-', '_' and '.'", "invalid label value %s: %s", diag.Quote(labels[k]), firstSentence(e))
			}
		}
	}
	for _, m := range model.SortedKeys(c.t.Meshes) {
		check(c.t.Meshes[m].DiscoveryLabel, model.Path{"meshes", m, "discoveryLabel"})
	}
	for _, tn := range model.SortedKeys(c.t.Tenants) {
		check(c.t.Tenants[tn].Labels, model.Path{"tenants", tn, "labels"})
	}
}

// firstSentence keeps apimachinery's rule and drops its examples and regex.
func firstSentence(msg string) string {
	if before, _, ok := strings.Cut(msg, " (e.g."); ok {
		return before
	}
	return msg
}
