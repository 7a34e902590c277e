package compiler_test

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/crdschema"
	"meshc.dev/meshc/compiler/plan"
	"meshc.dev/meshc/compiler/verify"
)

// loadChart reads one of Istio's released charts of a release, as meshc
// embeds them (charts/released/<version>/<chart>).
func loadChart(t *testing.T, version, dir string) *chart.Chart {
	t.Helper()
	var files []*loader.BufferedFile
	released := os.DirFS(filepath.Join("charts", "released", version))
	err := fs.WalkDir(released, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(released, p)
		if err != nil {
			return err
		}
		files = append(files, &loader.BufferedFile{Name: strings.TrimPrefix(p, dir+"/"), Data: data})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := loader.LoadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// renderChart renders a chart with values, as helm template would, and returns
// every object it produces.
func renderChart(t *testing.T, c *chart.Chart, namespace string, values map[string]any) []map[string]any {
	t.Helper()
	vals, err := chartutil.ToRenderValues(c, values, chartutil.ReleaseOptions{
		Name: "istio", Namespace: namespace, IsInstall: true,
	}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Render(c, vals)
	if err != nil {
		t.Fatalf("rendering %s: %v", c.Name(), err)
	}
	var out []map[string]any
	for name, content := range files {
		if path.Ext(name) != ".yaml" || strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		for _, doc := range strings.Split(content, "\n---") {
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if obj["kind"] != nil {
				out = append(out, obj)
			}
		}
	}
	return out
}

// TestValuesRenderWithUpstreamCharts renders every control plane and remote
// install of every example with Istio's own charts (base and istiod, the
// released charts of its own release), with the values meshc computes, and
// checks what the charts make of them: identity, scoping, injection and
// discovery wiring, and that every built-in object they render decodes
// strictly. (Who creates the reader ServiceAccount differs by installer:
// TestReaderIdentity.)
func TestValuesRenderWithUpstreamCharts(t *testing.T) {
	set, err := crdschema.Default()
	if err != nil {
		t.Fatal(err)
	}
	for name, path := range examples(t) {
		res, err := compiler.Compile(path, compiler.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Plan.Clusters {
			for _, cp := range c.ControlPlanes {
				t.Run(name+"/"+c.Name+"/"+cp.Name, func(t *testing.T) {
					istiod := loadChart(t, cp.Version.String(), "istiod")
					base := loadChart(t, cp.Version.String(), "base")
					values := plan.IstiodChartValues(cp.Values)
					if !cp.IsDefaultRevision() {
						values["revision"] = cp.Revision
					}
					if cp.Remote {
						values["profile"] = plan.ProfileRemote
					}
					// An install is the istiod chart, with the base chart
					// beside it (CRDs) as istioctl installs them.
					objects := renderChart(t, istiod, cp.Namespace, values)
					baseValues := map[string]any{"global": values["global"]}
					for _, k := range []string{"profile", "base", "revision"} {
						if v, ok := values[k]; ok {
							baseValues[k] = v
						}
					}
					objects = append(objects, renderChart(t, base, cp.Namespace, baseValues)...)
					byKindName := map[string]map[string]any{}
					for _, o := range objects {
						md, _ := o["metadata"].(map[string]any)
						byKindName[o["kind"].(string)+"/"+md["name"].(string)] = o
						if err := verify.Object(set, o); err != nil && !strings.Contains(err.Error(), "no schema known") {
							t.Errorf("%v %v: %v", o["kind"], md["name"], err)
						}
					}
					istiodName := "istiod"
					if !cp.IsDefaultRevision() {
						istiodName += "-" + cp.Revision
					}
					switch {
					case cp.Remote:
						checkRemoteRender(t, cp, c.Name, byKindName)
						// An external control plane reads its config cluster
						// with istiod's own account there.
						if cp.External && cp.ConfigCluster == c.Name && byKindName["ServiceAccount/"+plan.IstiodServiceAccount(cp.ControlPlane)] == nil {
							t.Errorf("the config cluster's install does not create ServiceAccount %s", plan.IstiodServiceAccount(cp.ControlPlane))
						}
					default:
						deploy := byKindName["Deployment/"+istiodName]
						if deploy == nil {
							t.Fatalf("no Deployment %s", istiodName)
						}
						env := containerEnv(deploy)
						clusterID := c.Name
						if cp.External {
							clusterID = cp.ConfigCluster
							if env["EXTERNAL_ISTIOD"] != "true" {
								t.Errorf("external istiod without EXTERNAL_ISTIOD: %v", env)
							}
						}
						if len(cp.Remotes) > 0 && env["EXTERNAL_ISTIOD"] != "true" {
							// Only a leading istiod writes istio-ca-root-cert
							// into its remotes and patches their webhooks.
							t.Errorf("istiod with remotes without EXTERNAL_ISTIOD: %v", env)
						}
						if env["CLUSTER_ID"] != clusterID {
							t.Errorf("CLUSTER_ID = %q, want %q", env["CLUSTER_ID"], clusterID)
						}
						mesh := byKindName["ConfigMap/istio"]
						if mesh == nil && !cp.IsDefaultRevision() {
							mesh = byKindName["ConfigMap/istio-"+cp.Revision]
						}
						if mesh == nil {
							t.Fatal("no mesh ConfigMap")
						}
						cfg := mesh["data"].(map[string]any)["mesh"].(string)
						for k, v := range cp.DiscoverySelectors {
							if !strings.Contains(cfg, k+": "+v) {
								t.Errorf("mesh config lacks discovery selector %s: %s:\n%s", k, v, cfg)
							}
						}
					}
				})
			}
		}
	}
}

// checkRemoteRender checks a remote install: its injection webhook calls
// the control plane (by URL, or through the istiod Service the chart
// points at remotePilotAddress), with the cluster's own injection path.
func checkRemoteRender(t *testing.T, cp *plan.ControlPlane, cluster string, objects map[string]map[string]any) {
	t.Helper()
	hook := objects["MutatingWebhookConfiguration/"+plan.InjectorWebhookName(cp.ControlPlane)]
	if hook == nil {
		var names []string
		for k := range objects {
			names = append(names, k)
		}
		t.Fatalf("no injection webhook %s among %v", plan.InjectorWebhookName(cp.ControlPlane), names)
	}
	client := hook["webhooks"].([]any)[0].(map[string]any)["clientConfig"].(map[string]any)
	want := "/inject/cluster/" + cluster
	switch {
	case client["url"] != nil:
		if !strings.Contains(client["url"].(string), want) {
			t.Errorf("injection URL %v lacks %s", client["url"], want)
		}
	case client["service"] != nil:
		p, _ := client["service"].(map[string]any)["path"].(string)
		if !strings.HasPrefix(p, want) {
			t.Errorf("injection path %q lacks %s", p, want)
		}
		global := cp.Values["global"].(map[string]any)
		if global["remotePilotAddress"] == nil {
			t.Errorf("injection through a Service without remotePilotAddress")
		}
	default:
		t.Errorf("injection webhook without url or service: %v", client)
	}
}

func containerEnv(deploy map[string]any) map[string]string {
	env := map[string]string{}
	spec := deploy["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	for _, c := range spec["containers"].([]any) {
		for _, e := range c.(map[string]any)["env"].([]any) {
			e := e.(map[string]any)
			if v, ok := e["value"].(string); ok {
				env[e["name"].(string)] = v
			}
		}
	}
	return env
}
