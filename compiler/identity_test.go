package compiler_test

import (
	"fmt"
	"maps"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/charts"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
	"meshc.dev/meshc/compiler/render"
)

// installCreated renders, with Istio's base chart, what a target's
// installers create in a cluster beyond its bundle, as each installer runs
// that chart: the Sail operator for the Istio CR of the revision named
// default only; istioctl for every IstioOperator whose profile enables the
// base component; the helm target's base chart entry. The rendered
// target's bundle holds the base chart's objects itself.
// istioctlRelease finds the istioctl release an IstioOperator file's
// header names.
var istioctlRelease = regexp.MustCompile(`(?m)^# Install with istioctl ([0-9.]+):`)

func installCreated(t *testing.T, target emit.Target, tree render.Tree, cluster string) []map[string]any {
	t.Helper()
	lib := charts.NewLibrary("")
	renderBase := func(version string, values map[string]any, namespace string) []map[string]any {
		set, err := lib.Release(strings.TrimPrefix(version, "v"))
		if err != nil {
			t.Fatal(err)
		}
		objs, err := set.Render(charts.Base, "istio-base", namespace, values)
		if err != nil {
			t.Fatal(err)
		}
		return objs
	}
	var out []map[string]any
	for _, p := range tree.Paths() {
		if !strings.HasPrefix(p, render.ClusterDir(cluster)+"/") || !strings.HasSuffix(p, ".yaml") {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal(tree[p], &obj); err != nil {
			t.Fatal(err)
		}
		spec, _ := obj["spec"].(map[string]any)
		switch {
		case target == emit.Sail && obj["kind"] == "Istio" && name(obj) == model.DefaultRevision:
			ns := spec["namespace"].(string)
			out = append(out, renderBase(spec["version"].(string), map[string]any{"global": map[string]any{"istioNamespace": ns}}, ns)...)
		case target == emit.Istioctl && obj["kind"] == "IstioOperator" && spec["profile"] != "empty":
			values := spec["values"].(map[string]any)
			// istioctl installs its own release's charts; the file's
			// header names the release.
			m := istioctlRelease.FindSubmatch(tree[p])
			if m == nil {
				t.Fatalf("%s names no istioctl release", p)
			}
			out = append(out, renderBase(string(m[1]), map[string]any{"global": values["global"]}, namespace(obj))...)
		case target == emit.Helm && obj["kind"] == "Kustomization":
			list, _ := obj["helmCharts"].([]any)
			for _, c := range list {
				c := c.(map[string]any)
				if c["name"] == "base" {
					out = append(out, renderBase(c["version"].(string), maps.Clone(c["valuesInline"].(map[string]any)), c["namespace"].(string))...)
				}
			}
		}
	}
	return out
}

// TestReaderIdentity checks, for every example and target, that every
// token Secret a bundle asks Kubernetes to fill names a ServiceAccount that
// exists exactly once among the bundle's objects and what the installers
// create (one owner), in the token's namespace. For the rendered target,
// whose bundle holds the charts' own objects, it also checks that a
// ClusterRoleBinding grants that ServiceAccount a role.
func TestReaderIdentity(t *testing.T) {
	for example, path := range examples(t) {
		for _, target := range emit.Targets {
			t.Run(example+"/"+string(target), func(t *testing.T) {
				res, err := compiler.Compile(path, compiler.Options{Target: target})
				if err != nil {
					t.Fatal(err)
				}
				for i, c := range res.Plan.Clusters {
					if len(c.ReaderTokens) == 0 {
						continue
					}
					// The bundle's objects as emitted (TestExamplesVerify
					// builds the same bundles with kustomize).
					var objects []map[string]any
					for _, r := range res.Output.Clusters[i].Resources {
						objects = append(objects, r.Object)
					}
					objects = append(objects, installCreated(t, target, res.Tree, c.Name)...)
					accounts := map[string]int{}
					bound := map[string]bool{}
					for _, o := range objects {
						switch o["kind"] {
						case "ServiceAccount":
							accounts[namespace(o)+"/"+name(o)]++
						case "ClusterRoleBinding":
							for _, s := range o["subjects"].([]any) {
								s := s.(map[string]any)
								if s["kind"] == "ServiceAccount" {
									bound[fmt.Sprint(s["namespace"], "/", s["name"])] = true
								}
							}
						}
					}
					for _, o := range objects {
						if o["kind"] != "Secret" || o["type"] != "kubernetes.io/service-account-token" {
							continue
						}
						sa := namespace(o) + "/" + o["metadata"].(map[string]any)["annotations"].(map[string]any)["kubernetes.io/service-account.name"].(string)
						if !strings.HasSuffix(sa, "/"+plan.ReaderServiceAccount) {
							continue // istiod's own account, created by the config cluster's install
						}
						if n := accounts[sa]; n != 1 {
							t.Errorf("%s: token Secret %s names ServiceAccount %s, which %d objects create", c.Name, name(o), sa, n)
						}
						if target == emit.Rendered && !bound[sa] {
							t.Errorf("%s: no ClusterRoleBinding grants %s a role", c.Name, sa)
						}
					}
				}
			})
		}
	}
}

// TestWebhookReachesIstiod renders, with Istio's istiod chart, every remote
// install with the values meshc computes, and follows its injection
// webhook to istiod the way the API server does. With a hostname address
// the chart makes the remote's istiod Service an ExternalName and the
// webhook calls that Service's port 443: the API server then dials the
// hostname on 443, so whatever serves the address in the control plane's
// cluster must forward 443 to istiod's webhook port, 15017 (the port its
// exposure routes, or istiod's own).
func TestWebhookReachesIstiod(t *testing.T) {
	lib := charts.NewLibrary("")
	checked := 0
	for example, path := range examples(t) {
		res, err := compiler.Compile(path, compiler.Options{Target: emit.Sail})
		if err != nil {
			t.Fatal(err)
		}
		clusters := map[string]*plan.Cluster{}
		for _, c := range res.Plan.Clusters {
			clusters[c.Name] = c
		}
		for _, c := range res.Plan.Clusters {
			for _, cp := range c.ControlPlanes {
				if !cp.Remote {
					continue
				}
				values := plan.IstiodChartValues(cp.Values)
				values["profile"] = plan.ProfileRemote
				if !cp.IsDefaultRevision() {
					values["revision"] = cp.Revision
				}
				set, err := lib.Release(cp.Version.String())
				if err != nil {
					t.Fatal(err)
				}
				objs, err := set.Render(charts.Istiod, "istiod", cp.Namespace, values)
				if err != nil {
					t.Fatal(err)
				}
				byKind := map[string]map[string]any{}
				for _, o := range objs {
					byKind[o["kind"].(string)+"/"+name(o)] = o
				}
				hook := byKind["MutatingWebhookConfiguration/"+plan.InjectorWebhookName(cp.ControlPlane)]
				if hook == nil {
					t.Fatalf("%s/%s: no injection webhook", example, c.Name)
				}
				ref, _ := hook["webhooks"].([]any)[0].(map[string]any)["clientConfig"].(map[string]any)["service"].(map[string]any)
				if ref == nil {
					continue // a URL on a hostname with TLS terminated at the gateway
				}
				svc := byKind["Service/"+ref["name"].(string)]
				if svc == nil {
					t.Fatalf("%s/%s: webhook calls Service %v, which the chart does not render", example, c.Name, ref["name"])
				}
				spec := svc["spec"].(map[string]any)
				if spec["type"] != "ExternalName" {
					continue // an IP address: the chart's EndpointSlice maps the port
				}
				if spec["externalName"] != cp.Expose.Address || !plan.ExternalNameWebhook(cp.ControlPlane) {
					t.Errorf("%s/%s: ExternalName %v for address %s", example, c.Name, spec["externalName"], cp.Expose.Address)
				}
				port := int(ref["port"].(float64))
				exposer := clusters[cp.Cluster]
				carrier := addressService(t, res, exposer, cp.ControlPlane)
				if carrier == nil {
					t.Errorf("%s: nothing in %s serves %s", example, cp.Cluster, cp.Expose.Address)
					continue
				}
				if !forwards(carrier, port, 15017) {
					t.Errorf("%s/%s: the API server dials %s:%d; Service %s/%s in %s does not forward %d to 15017: %v",
						example, c.Name, cp.Expose.Address, port, namespace(carrier), carrier["metadata"].(map[string]any)["name"], cp.Cluster, port, carrier["spec"].(map[string]any)["ports"])
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Error("no example has a remote calling its webhook through an ExternalName")
	}
}

// addressService is the LoadBalancer Service that carries a control
// plane's address in its cluster's bundle.
func addressService(t *testing.T, res *compiler.Result, c *plan.Cluster, cp *model.ControlPlane) map[string]any {
	t.Helper()
	svcName, ns := "istio-eastwestgateway", ""
	switch cp.Expose.Via {
	case model.ExposeLoadBalancer:
		svcName, ns = plan.IstiodServiceAccount(cp)+"-remote", cp.Namespace
	case model.ExposeIngress:
		svcName = "istio-ingressgateway"
		ns = res.Plan.Facts.Hosting(cp).Namespace
	default:
		for _, g := range c.EastWestGateways {
			if g.Mesh == cp.Mesh {
				ns = g.Namespace
			}
		}
	}
	for _, oc := range res.Output.Clusters {
		if oc.Name != c.Name {
			continue
		}
		for _, r := range oc.Resources {
			if r.Object["kind"] == "Service" && name(r.Object) == svcName && namespace(r.Object) == ns {
				return r.Object
			}
		}
	}
	return nil
}

func forwards(svc map[string]any, port, target int) bool {
	for _, p := range svc["spec"].(map[string]any)["ports"].([]any) {
		p := p.(map[string]any)
		if fmt.Sprint(p["port"]) == fmt.Sprint(port) && fmt.Sprint(p["targetPort"]) == fmt.Sprint(target) {
			return true
		}
	}
	return false
}
