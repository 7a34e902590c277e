package compiler_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/charts"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
)

// TestPrerequisites checks that every bundle says what it needs and does
// not bring: the Sail operator for Sail CRs (which carry
// SkipDryRunOnMissingResource, since it installs their CRDs), cert-manager
// and the issuer a Certificate names, External Secrets and the store its
// objects name, the DNS record of a hostname istiod is exposed at; and
// that Flux checks the cacerts Secret istiod reads before it applies the
// control planes.
func TestPrerequisites(t *testing.T) {
	for name, path := range examples(t) {
		for _, target := range emit.Targets {
			t.Run(name+"/"+string(target), func(t *testing.T) {
				res, err := compiler.Compile(path, compiler.Options{Target: target, Delivery: []string{"flux"}})
				if err != nil {
					if strings.Contains(err.Error(), "delivery") {
						res, err = compiler.Compile(path, compiler.Options{Target: target})
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				for _, c := range res.Output.Clusters {
					text := string(res.Tree["clusters/"+c.Name+"/"+emit.PrerequisitesFile])
					if text == "" {
						t.Fatalf("%s: no %s", c.Name, emit.PrerequisitesFile)
					}
					need := func(what, why string) {
						if !strings.Contains(text, what) {
							t.Errorf("%s: %s does not mention %s (%s):\n%s", c.Name, emit.PrerequisitesFile, what, why, text)
						}
					}
					for _, r := range c.Resources {
						md := r.Object["metadata"].(map[string]any)
						ann, _ := md["annotations"].(map[string]any)
						switch kind := r.Object["kind"]; {
						case r.Object["apiVersion"] == "sailoperator.io/v1":
							need("Sail operator", "a Sail CR")
							if ann[emit.AnnotationSyncOptions] != "SkipDryRunOnMissingResource=true" {
								t.Errorf("%s: %v %v without SkipDryRunOnMissingResource", c.Name, kind, md["name"])
							}
						case kind == "Certificate":
							issuer := r.Object["spec"].(map[string]any)["issuerRef"].(map[string]any)
							need("cert-manager", "a Certificate")
							need("`"+issuer["name"].(string)+"`", "the Certificate's issuer")
						case kind == "ExternalSecret" || kind == "PushSecret":
							spec := r.Object["spec"].(map[string]any)
							ref, _ := spec["secretStoreRef"].(map[string]any)
							if refs, ok := spec["secretStoreRefs"].([]any); ok {
								ref = refs[0].(map[string]any)
							}
							need("External Secrets", "an External Secrets object")
							need(ref["kind"].(string)+" `"+ref["name"].(string)+"`", "the store it names")
						}
					}
					for _, pc := range res.Plan.Clusters {
						if pc.Name != c.Name {
							continue
						}
						for _, x := range pc.IstiodExposures {
							if plan.ExternalNameWebhook(x.ControlPlane) || x.ControlPlane.Expose.TLS != nil {
								need("DNS record `"+x.Address+"`", "the hostname istiod is exposed at")
							}
							if tls := x.ControlPlane.Expose.TLS; tls != nil {
								need("`"+tls.CredentialName+"`", "the TLS credential of istiod's hostname")
							}
						}
						for _, x := range pc.CACerts {
							if x.Trust.Mode == model.TrustManual {
								need(emit.ManualStepsFile, "cacerts created by hand")
							}
						}
						if len(pc.CACerts) > 0 && res.Tree["delivery/flux/"+c.Name+"/kustomization.yaml"] != nil {
							checkCACertsGate(t, res, c.Name, pc)
						}
					}
				}
			})
		}
	}
}

// checkCACertsGate checks that the Flux Kustomization applied just before
// the control planes waits for every cacerts Secret of the cluster.
func checkCACertsGate(t *testing.T, res *compiler.Result, cluster string, pc *plan.Cluster) {
	t.Helper()
	checked := map[string]bool{}
	controlPlane := ""
	for p, data := range res.Tree {
		if !strings.HasPrefix(p, "delivery/flux/"+cluster+"/kustomization-") {
			continue
		}
		var o struct {
			Metadata struct{ Name string }
			Spec     struct {
				Path         string
				Wait         bool
				DependsOn    []struct{ Name string } `json:"dependsOn"`
				HealthChecks []struct {
					Kind, Name, Namespace string
				} `json:"healthChecks"`
			}
		}
		if err := yaml.Unmarshal(data, &o); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(o.Spec.Path, "/control-plane") || strings.HasSuffix(o.Spec.Path, "/helm-releases") {
			controlPlane = o.Spec.DependsOn[0].Name
		}
		for _, h := range o.Spec.HealthChecks {
			if h.Kind == "Secret" && h.Name == plan.CACertsSecret {
				checked[o.Metadata.Name+"/"+h.Namespace] = true
			}
		}
	}
	if controlPlane == "" {
		return // istioctl: the control planes are not Flux's
	}
	for _, x := range pc.CACerts {
		if !checked[controlPlane+"/"+x.Namespace] {
			t.Errorf("%s: Flux applies the control planes after %s without checking Secret %s/%s", cluster, controlPlane, x.Namespace, plan.CACertsSecret)
		}
	}
}

// TestExposeService checks that expose.service shapes the Service that
// carries istiod's address in every target: istiod's own load balancer,
// and the east-west gateway (for the helm target, as Istio's gateway chart
// renders it from the values meshc gives).
func TestExposeService(t *testing.T) {
	shape := &model.ExposeService{
		Annotations:       map[string]string{"networking.gke.io/load-balancer-type": "Internal"},
		LoadBalancerIP:    "10.0.0.77",
		LoadBalancerClass: "example.com/internal",
	}
	for _, via := range []string{model.ExposeLoadBalancer, model.ExposeEastWest} {
		for _, target := range emit.Targets {
			t.Run(via+"/"+string(target), func(t *testing.T) {
				topo, err := compiler.Validate(examples(t)["primary-remote-two-networks"])
				if err != nil {
					t.Fatal(err)
				}
				x := topo.Meshes["mesh1"].ControlPlanes["primary"].Expose
				x.Via, x.Service = via, shape
				res, err := compiler.CompileTopology(topo, compiler.Options{Target: target})
				if err != nil {
					t.Fatal(err)
				}
				svcName := "istio-eastwestgateway"
				if via == model.ExposeLoadBalancer {
					svcName = "istiod-remote"
				}
				svc := findService(t, res, "main0", svcName)
				if svc == nil {
					t.Fatalf("no Service %s in main0", svcName)
				}
				md, spec := svc["metadata"].(map[string]any), svc["spec"].(map[string]any)
				ann, _ := md["annotations"].(map[string]any)
				if ann["networking.gke.io/load-balancer-type"] != "Internal" || spec["loadBalancerIP"] != "10.0.0.77" ||
					spec["loadBalancerClass"] != "example.com/internal" || spec["type"] != "LoadBalancer" {
					t.Errorf("Service %s: annotations %v, spec %v", svcName, ann, spec)
				}
				// The remote's gateway carries no address: it is not shaped.
				if via == model.ExposeEastWest {
					if remote := findService(t, res, "remote0", "istio-eastwestgateway"); remote == nil || remote["spec"].(map[string]any)["loadBalancerIP"] != nil {
						t.Errorf("remote0's gateway Service: %v", remote)
					}
				}
			})
		}
	}
}

// findService returns a Service of a cluster's bundle, or for the helm
// target the Service Istio's gateway chart renders for a release of that
// name.
func findService(t *testing.T, res *compiler.Result, cluster, svcName string) map[string]any {
	t.Helper()
	for _, c := range res.Output.Clusters {
		if c.Name != cluster {
			continue
		}
		for _, r := range c.Resources {
			if r.Object["kind"] == "Service" && name(r.Object) == svcName {
				return r.Object
			}
		}
		for _, entries := range c.HelmCharts {
			for _, e := range entries {
				e := e.(map[string]any)
				if e["name"] != "gateway" || e["releaseName"] != svcName {
					continue
				}
				set, err := charts.NewLibrary("").Release(e["version"].(string))
				if err != nil {
					t.Fatal(err)
				}
				objs, err := set.Render(charts.Gateway, svcName, e["namespace"].(string), e["valuesInline"].(map[string]any))
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range objs {
					if o["kind"] == "Service" {
						return o
					}
				}
			}
		}
	}
	return nil
}
