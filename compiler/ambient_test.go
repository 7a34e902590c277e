package compiler_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/emit"
)

// TestZtunnelAgreesWithIstiod compiles the ambient examples for the
// rendered target and reads back, from what Istio's charts rendered, the
// cluster ID and network of each cluster's istiod and of its ztunnel: they
// must be the same (ztunnel reports its workloads under them), and every
// cluster of an ambient mesh must have both. istiod's network is its
// system namespace's topology.istio.io/network label.
func TestZtunnelAgreesWithIstiod(t *testing.T) {
	for _, name := range []string{"ambient", "ambient-multicluster"} {
		t.Run(name, func(t *testing.T) {
			res, err := compiler.Compile(examples(t)[name], compiler.Options{Target: emit.Rendered})
			if err != nil {
				t.Fatal(err)
			}
			type identity struct{ cluster, network string }
			istiod, ztunnel := map[string]identity{}, map[string]identity{}
			networks := map[string]string{}
			for path, data := range res.Tree {
				if strings.HasSuffix(path, "/namespaces/namespace-istio-system.yaml") {
					var ns struct {
						Metadata struct{ Labels map[string]string }
					}
					if err := yaml.Unmarshal(data, &ns); err != nil {
						t.Fatal(err)
					}
					networks[strings.Split(path, "/")[1]] = ns.Metadata.Labels["topology.istio.io/network"]
				}
				if !strings.HasSuffix(path, ".yaml") || !strings.Contains(path, "/control-plane/") {
					continue
				}
				var obj struct {
					Kind     string
					Metadata struct{ Name string }
					Spec     struct {
						Template struct {
							Spec struct {
								Containers []struct {
									Env []struct{ Name, Value string }
								}
							}
						}
					}
				}
				if err := yaml.Unmarshal(data, &obj); err != nil || len(obj.Spec.Template.Spec.Containers) == 0 {
					continue
				}
				env := map[string]string{}
				for _, e := range obj.Spec.Template.Spec.Containers[0].Env {
					env[e.Name] = e.Value
				}
				cluster := strings.Split(path, "/")[1]
				switch {
				case obj.Kind == "Deployment" && obj.Metadata.Name == "istiod":
					istiod[cluster] = identity{env["CLUSTER_ID"], env["NETWORK"]}
					if env["PILOT_ENABLE_AMBIENT"] != "true" || env["CA_TRUSTED_NODE_ACCOUNTS"] != "ztunnel/ztunnel" {
						t.Errorf("%s: istiod is not set up for ambient: PILOT_ENABLE_AMBIENT=%q CA_TRUSTED_NODE_ACCOUNTS=%q",
							cluster, env["PILOT_ENABLE_AMBIENT"], env["CA_TRUSTED_NODE_ACCOUNTS"])
					}
					if multi := env["AMBIENT_ENABLE_MULTI_NETWORK"]; (multi == "true") != (name == "ambient-multicluster") {
						t.Errorf("%s: AMBIENT_ENABLE_MULTI_NETWORK=%q", cluster, multi)
					}
				case obj.Kind == "DaemonSet" && obj.Metadata.Name == "ztunnel":
					ztunnel[cluster] = identity{env["ISTIO_META_CLUSTER_ID"], env["NETWORK"]}
					if !strings.HasPrefix(env["XDS_ADDRESS"], "istiod.istio-system.svc:") {
						t.Errorf("%s: ztunnel's XDS_ADDRESS is %q", cluster, env["XDS_ADDRESS"])
					}
				}
			}
			if len(istiod) == 0 {
				t.Fatal("no istiod rendered")
			}
			for cluster, want := range istiod {
				want.network = networks[cluster]
				got, ok := ztunnel[cluster]
				switch {
				case !ok:
					t.Errorf("%s: no ztunnel rendered", cluster)
				case got != want:
					t.Errorf("%s: ztunnel says cluster %q network %q, istiod cluster %q network %q", cluster, got.cluster, got.network, want.cluster, want.network)
				case want.cluster != cluster:
					t.Errorf("%s: istiod's cluster ID is %q", cluster, want.cluster)
				}
			}
		})
	}
}
