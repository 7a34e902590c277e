package compiler_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/charts"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/render"
)

// identityOf is what an install says of itself, in whatever form a target
// writes it.
type identityOf struct {
	MeshID, ClusterName, Network, RemotePilotAddress string
	Selectors                                        string
}

func fromValues(values, meshConfig map[string]any) identityOf {
	global, _ := values["global"].(map[string]any)
	mc, _ := global["multiCluster"].(map[string]any)
	str := func(v any) string {
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	}
	sel, _ := json.Marshal(meshConfig["discoverySelectors"])
	if meshConfig["discoverySelectors"] == nil {
		sel = nil
	}
	return identityOf{
		MeshID: str(global["meshID"]), ClusterName: str(mc["clusterName"]), Network: str(global["network"]),
		RemotePilotAddress: str(global["remotePilotAddress"]), Selectors: string(sel),
	}
}

// installs extracts cluster → revision → identity from a compiled tree.
func installs(t *testing.T, target emit.Target, tree render.Tree) map[string]map[string]identityOf {
	out := map[string]map[string]identityOf{}
	put := func(cluster, rev string, id identityOf) {
		if out[cluster] == nil {
			out[cluster] = map[string]identityOf{}
		}
		if _, dup := out[cluster][rev]; dup {
			t.Fatalf("%s: two installs of revision %s in %s", target, rev, cluster)
		}
		out[cluster][rev] = id
	}
	// cluster/revision → istiod's mesh config and env, for releases whose
	// chart records no values.
	meshes, envs := map[string]map[string]any{}, map[string]map[string]string{}
	for _, p := range tree.Paths() {
		parts := strings.Split(p, "/")
		if len(parts) < 3 || parts[0] != "clusters" || !strings.HasSuffix(p, ".yaml") {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal(tree[p], &obj); err != nil {
			t.Fatal(err)
		}
		spec, _ := obj["spec"].(map[string]any)
		md, _ := obj["metadata"].(map[string]any)
		switch {
		case target == emit.Sail && obj["kind"] == "Istio":
			values, _ := spec["values"].(map[string]any)
			mc, _ := values["meshConfig"].(map[string]any)
			put(parts[1], md["name"].(string), fromValues(values, mc))
		case target == emit.Istioctl && obj["kind"] == "IstioOperator":
			values, _ := spec["values"].(map[string]any)
			mc, _ := spec["meshConfig"].(map[string]any)
			rev, _ := spec["revision"].(string)
			if rev == "" {
				rev = "default"
			}
			put(parts[1], rev, fromValues(values, mc))
		case target == emit.Helm && obj["kind"] == "Kustomization":
			// The Argo CD form: kustomize helmCharts with inline values,
			// each of which must render with Istio's chart.
			list, _ := obj["helmCharts"].([]any)
			for _, c := range list {
				c := c.(map[string]any)
				values, _ := c["valuesInline"].(map[string]any)
				chart := map[string]string{"base": charts.Base, "istiod": charts.Istiod, "cni": charts.CNI, "gateway": charts.Gateway, "ztunnel": charts.Ztunnel}[c["name"].(string)]
				if chart == "" {
					t.Fatalf("%s: unknown chart %v", p, c["name"])
				}
				set, err := charts.NewLibrary("").Release(c["version"].(string))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := set.Render(chart, c["releaseName"].(string), c["namespace"].(string), values); err != nil {
					t.Errorf("%s: %s does not render: %v", p, c["releaseName"], err)
				}
				if c["name"] != "istiod" {
					continue
				}
				mc, _ := values["meshConfig"].(map[string]any)
				rev, _ := values["revision"].(string)
				if rev == "" {
					rev = "default"
				}
				put(parts[1], rev, fromValues(values, mc))
			}
		case target == emit.Rendered && obj["kind"] == "ConfigMap" && strings.HasPrefix(md["name"].(string), "values"):
			// The istiod chart records the values it rendered with.
			var values map[string]any
			data := obj["data"].(map[string]any)["merged-values"].(string)
			if err := json.Unmarshal([]byte(data), &values); err != nil {
				t.Fatal(err)
			}
			mc, _ := values["meshConfig"].(map[string]any)
			rev, _ := values["revision"].(string)
			if rev == "" {
				rev = "default"
			}
			put(parts[1], rev, fromValues(values, mc))
		case target == emit.Rendered && obj["kind"] == "ConfigMap" && md["labels"].(map[string]any)["istio.io/rev"] != nil &&
			obj["data"].(map[string]any)["mesh"] != nil:
			// Releases before 1.25 record no values ConfigMap: read the
			// identity back from the mesh config and istiod's env.
			var mesh map[string]any
			if err := yaml.Unmarshal([]byte(obj["data"].(map[string]any)["mesh"].(string)), &mesh); err != nil {
				t.Fatal(err)
			}
			rev := md["labels"].(map[string]any)["istio.io/rev"].(string)
			meshes[parts[1]+"/"+rev] = mesh
		case target == emit.Rendered && obj["kind"] == "Deployment" && strings.HasPrefix(md["name"].(string), "istiod"):
			env := map[string]string{}
			containers := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
			for _, e := range containers[0].(map[string]any)["env"].([]any) {
				e := e.(map[string]any)
				if v, ok := e["value"].(string); ok {
					env[e["name"].(string)] = v
				}
			}
			envs[parts[1]+"/"+env["REVISION"]] = env
		}
	}
	if target == emit.Rendered {
		for key, env := range envs {
			cluster, rev, _ := strings.Cut(key, "/")
			if _, ok := out[cluster][rev]; ok {
				continue
			}
			mesh := meshes[key]
			defaults, _ := mesh["defaultConfig"].(map[string]any)
			sel, _ := json.Marshal(mesh["discoverySelectors"])
			if mesh["discoverySelectors"] == nil {
				sel = nil
			}
			id := identityOf{ClusterName: env["CLUSTER_ID"], Network: env["NETWORK"], Selectors: string(sel)}
			if m, ok := defaults["meshId"].(string); ok {
				id.MeshID = m
			}
			put(cluster, rev, id)
		}
	}
	return out
}

// TestTargetsAgree compiles every example for every target and checks they
// install the same control planes with the same identity and scoping:
// revision, meshID, clusterName, network, discovery selectors and remote
// pilot address. For the rendered target these are read from what Istio's
// charts actually rendered; for the helm target from the helmCharts values,
// each of which is rendered with Istio's chart.
func TestTargetsAgree(t *testing.T) {
	for name, path := range examples(t) {
		t.Run(name, func(t *testing.T) {
			var want map[string]map[string]identityOf
			for _, target := range emit.Targets {
				res, err := compiler.Compile(path, compiler.Options{Target: target})
				if err != nil {
					t.Fatal(err)
				}
				got := installs(t, target, res.Tree)
				if len(got) == 0 {
					t.Fatalf("%s: no installs found", target)
				}
				if want == nil {
					want = got
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s disagrees with %s:\n got: %+v\nwant: %+v", target, emit.Targets[0], got, want)
				}
			}
		})
	}
}
