package compiler_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/delivery"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
)

// TestApplyOrderTable checks the order as written down: every role has a
// layer and its prerequisites, and each prerequisite's layer comes strictly
// earlier, in its own cluster or another (the order is the same in every
// cluster, which is what makes waiting across clusters converge).
func TestApplyOrderTable(t *testing.T) {
	for _, r := range emit.Roles {
		needs, ok := emit.Prerequisites[r]
		if !ok {
			t.Errorf("role %s has no prerequisites entry", r)
		}
		for _, n := range needs {
			if n.Role.Layer().Wave >= r.Layer().Wave {
				t.Errorf("role %s (layer %s, wave %d) needs %s (layer %s, wave %d), which does not come earlier: %s",
					r, r.Layer().Dir, r.Layer().Wave, n.Role, n.Role.Layer().Dir, n.Role.Layer().Wave, n.Why)
			}
		}
	}
	if len(emit.Prerequisites) != len(emit.Roles) {
		t.Errorf("%d roles, %d prerequisite entries", len(emit.Roles), len(emit.Prerequisites))
	}
	for i := 1; i < len(emit.Layers); i++ {
		if emit.Layers[i].Wave < emit.Layers[i-1].Wave {
			t.Errorf("layer %s (wave %d) listed after %s (wave %d)", emit.Layers[i].Dir, emit.Layers[i].Wave, emit.Layers[i-1].Dir, emit.Layers[i-1].Wave)
		}
	}
}

// TestApplyOrder checks every object of every example and target against
// the table: it sits in its role's layer and carries that layer's sync
// wave, and each cluster's Flux Kustomizations chain its layers in wave
// order.
func TestApplyOrder(t *testing.T) {
	for name, path := range examples(t) {
		for _, target := range emit.Targets {
			t.Run(name+"/"+string(target), func(t *testing.T) {
				topo, err := compiler.Validate(path)
				if err != nil {
					t.Fatal(err)
				}
				if topo.Delivery == nil {
					topo.Delivery = &model.Delivery{RepoURL: "https://git.example.com/mesh.git", Path: "deploy"}
				}
				if topo.Delivery.Flux == nil {
					topo.Delivery.Flux = &model.FluxConfig{GitRepository: "mesh"}
				}
				topo.ResolveDefaults()
				res, err := compiler.CompileTopology(topo, compiler.Options{Target: target, Delivery: []string{delivery.Flux}})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range res.Output.Clusters {
					for _, r := range c.Resources {
						id := fmt.Sprintf("%s: %v %v", c.Name, r.Object["kind"], r.Object["metadata"].(map[string]any)["name"])
						if r.Role == "" {
							t.Errorf("%s has no role", id)
							continue
						}
						if r.Layer.Wave != r.Role.Layer().Wave {
							t.Errorf("%s (role %s) is in layer %s (wave %d), its role's is %s (wave %d)",
								id, r.Role, r.Layer.Dir, r.Layer.Wave, r.Role.Layer().Dir, r.Role.Layer().Wave)
						}
						ann, _ := r.Object["metadata"].(map[string]any)["annotations"].(map[string]any)
						if w := ann[emit.AnnotationSyncWave]; w != strconv.Itoa(r.Layer.Wave) {
							t.Errorf("%s carries sync wave %v, its layer %s is wave %d", id, w, r.Layer.Dir, r.Layer.Wave)
						}
					}
					checkFluxChain(t, res.Tree, c)
				}
			})
		}
	}
}

// checkFluxChain follows a cluster's Flux Kustomizations from the first
// layer along dependsOn: every layer with objects appears once, in wave
// order.
func checkFluxChain(t *testing.T, tree map[string][]byte, c *emit.Cluster) {
	t.Helper()
	type ks struct {
		layer     string
		dependsOn string
	}
	byName := map[string]ks{}
	var first string
	for p, data := range tree {
		if !strings.HasPrefix(p, "delivery/flux/"+c.Name+"/kustomization-") {
			continue
		}
		var o struct {
			Metadata struct{ Name string }
			Spec     struct {
				Path      string
				DependsOn []struct{ Name string } `json:"dependsOn"`
			}
		}
		if err := yaml.Unmarshal(data, &o); err != nil {
			t.Fatal(err)
		}
		k := ks{layer: o.Spec.Path[strings.LastIndex(o.Spec.Path, "/")+1:]}
		if len(o.Spec.DependsOn) > 0 {
			k.dependsOn = o.Spec.DependsOn[0].Name
		} else {
			first = o.Metadata.Name
		}
		byName[o.Metadata.Name] = k
	}
	next := map[string]string{}
	for name, k := range byName {
		next[k.dependsOn] = name
	}
	wave := map[string]int{}
	for _, l := range emit.Layers {
		wave[l.Dir] = l.Wave
	}
	var chain []string
	last := -1
	for name := first; name != ""; name = next[name] {
		l := byName[name].layer
		if wave[l] < last {
			t.Errorf("%s: Flux applies layer %s (wave %d) after wave %d", c.Name, l, wave[l], last)
		}
		last = wave[l]
		chain = append(chain, l)
	}
	var want []string
	for _, l := range emit.Layers {
		for _, r := range c.Resources {
			if r.Layer.Dir == l.Dir {
				want = append(want, l.Dir)
				break
			}
		}
	}
	if !slices.Equal(chain, want) {
		t.Errorf("%s: Flux chain %v, want the layers with objects %v", c.Name, chain, want)
	}
}

// waveOf finds an object in a compiled fleet and returns its sync wave.
func waveOf(t *testing.T, res *compiler.Result, cluster, kind, name string) int {
	t.Helper()
	for _, c := range res.Output.Clusters {
		if c.Name != cluster {
			continue
		}
		for _, r := range c.Resources {
			if r.Object["kind"] == kind && r.Object["metadata"].(map[string]any)["name"] == name {
				return r.Layer.Wave
			}
		}
	}
	t.Fatalf("no %s %s in cluster %s", kind, name, cluster)
	return 0
}

// TestRemoteComesUp pins the order of seed 002 on two networks across its
// clusters: the remote pushes its reader token, the primary builds the
// remote secret from it, and only then does anything wait for injection
// through the remote install (which needs that secret in the primary).
// Before, the remote's east-west gateway came first and blocked the rest.
func TestRemoteComesUp(t *testing.T) {
	for _, target := range emit.Targets {
		t.Run(string(target), func(t *testing.T) {
			res, err := compiler.Compile("../topologies/primary-remote-two-networks.yaml", compiler.Options{Target: target})
			if err != nil {
				t.Fatal(err)
			}
			token := waveOf(t, res, "remote0", "Secret", "istio-reader-service-account-istio-remote-secret-token")
			push := waveOf(t, res, "remote0", "PushSecret", "istio-reader-service-account-token")
			secret := waveOf(t, res, "main0", "ExternalSecret", "istio-remote-secret-remote0")
			gatewayKind, gatewayName := "Deployment", "istio-eastwestgateway"
			if target == emit.Helm {
				gatewayKind = "HelmRelease"
			}
			remoteGateway := waveOf(t, res, "remote0", gatewayKind, gatewayName)
			primaryGateway := waveOf(t, res, "main0", gatewayKind, gatewayName)
			exposure := waveOf(t, res, "main0", "VirtualService", "istiod-vs")
			if !(token <= push && push < secret && secret < remoteGateway && primaryGateway < remoteGateway && exposure < remoteGateway) {
				t.Errorf("waves: remote0 token %d, push %d; main0 remote secret %d, gateway %d, exposure %d; remote0 gateway %d",
					token, push, secret, primaryGateway, exposure, remoteGateway)
			}
		})
	}
}

// TestExternalIstiodAfterKubeconfig pins seed 003's order: the config
// cluster's install creates istiod's ServiceAccount, its token is pushed,
// the hosting cluster builds istio-kubeconfig from it, and only then does
// the external istiod start (it mounts the secret optionally and would
// otherwise serve its hosting cluster as its config cluster).
func TestExternalIstiodAfterKubeconfig(t *testing.T) {
	for _, target := range emit.Targets {
		t.Run(string(target), func(t *testing.T) {
			res, err := compiler.Compile("../topologies/external-control-plane.yaml", compiler.Options{Target: target})
			if err != nil {
				t.Fatal(err)
			}
			push := waveOf(t, res, "remote1", "PushSecret", "istiod-token")
			kubeconfig := waveOf(t, res, "external", "ExternalSecret", "istio-kubeconfig")
			var istiod int
			switch target {
			case emit.Sail:
				istiod = waveOf(t, res, "external", "Istio", "default")
			case emit.Helm:
				istiod = waveOf(t, res, "external", "HelmRelease", "istiod")
			case emit.Rendered:
				istiod = waveOf(t, res, "external", "Deployment", "istiod")
			case emit.Istioctl:
				readme := string(res.Tree["clusters/external/istioctl/README.md"])
				at := strings.Index(readme, "kubectl apply -k remote-secrets")
				install := strings.Index(readme, " install -y -f istioctl/default.yaml")
				if at < 0 || install < at {
					t.Errorf("istioctl README installs the external istiod before istio-kubeconfig:\n%s", readme)
				}
				return
			}
			if !(push < kubeconfig && kubeconfig < istiod) {
				t.Errorf("waves: remote1 token push %d; external istio-kubeconfig %d, istiod %d", push, kubeconfig, istiod)
			}
		})
	}
}

// TestArgoCDRetries: a wave may wait on another cluster, which Argo CD does
// not order, so a failed sync must be retried; without retry, automated
// sync never tries the same revision again and the cluster stays stuck.
func TestArgoCDRetries(t *testing.T) {
	res, err := compiler.Compile("../topologies/primary-remote-two-networks.yaml", compiler.Options{Delivery: []string{delivery.ArgoCD}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range res.Output.Documents {
		if d.Object["kind"] != "ApplicationSet" {
			continue
		}
		found = true
		spec := d.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
		retry, _ := spec["syncPolicy"].(map[string]any)["retry"].(map[string]any)
		if limit, _ := retry["limit"].(int); retry == nil || limit >= 0 {
			t.Errorf("syncPolicy.retry %v: want retries without limit", retry)
		}
	}
	if !found {
		t.Fatal("no ApplicationSet")
	}
}
