package verify

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler/crdschema"
	"meshc.dev/meshc/compiler/render"
)

func obj(t *testing.T, y string) map[string]any {
	t.Helper()
	var o map[string]any
	if err := yaml.Unmarshal([]byte(y), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestObjectCatchesWhatTheServerWouldDrop shows the checker is not a
// rubber stamp: each kind meshc emits passes when right and fails with a
// misplaced field.
func TestObjectCatchesWhatTheServerWouldDrop(t *testing.T) {
	set, err := crdschema.Default()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, good, bad, want string
	}{
		{"Namespace",
			"apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {team: a}}\n",
			"apiVersion: v1\nkind: Namespace\nmetadata: {name: a, lables: {team: a}}\n", "lables"},
		{"Deployment",
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: ns1}\nspec: {selector: {matchLabels: {app: b}}, template: {metadata: {labels: {app: b}}, spec: {containers: [{name: c, image: auto}]}}}\n",
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: ns1}\nspec: {selector: {matchLabels: {app: b}}, template: {metadata: {labels: {app: b}}, spec: {containers: [{name: c, image: auto, envv: []}]}}}\n", "envv"},
		{"Deployment with a duplicate env name",
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: ns1}\nspec: {selector: {matchLabels: {app: b}}, template: {metadata: {labels: {app: b}}, spec: {containers: [{name: c, image: auto, env: [{name: CLUSTER_ID, value: a}]}]}}}\n",
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: ns1}\nspec: {selector: {matchLabels: {app: b}}, template: {metadata: {labels: {app: b}}, spec: {containers: [{name: c, image: auto, env: [{name: CLUSTER_ID, value: a}, {name: CLUSTER_ID, value: b}]}]}}}\n", "duplicate entries for key [name=\"CLUSTER_ID\"]"},
		{"Service with a duplicate port",
			"apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: ns1}\nspec: {ports: [{name: a, port: 15012, protocol: TCP}, {name: b, port: 15017, protocol: TCP}]}\n",
			"apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: ns1}\nspec: {ports: [{name: a, port: 15012, protocol: TCP}, {name: b, port: 15012, protocol: TCP}]}\n", "duplicate entries for key"},
		{"Istio",
			"apiVersion: sailoperator.io/v1\nkind: Istio\nmetadata: {name: default}\nspec: {version: v1.28.2, namespace: istio-system, values: {global: {istioNamespace: istio-system}}}\n",
			"apiVersion: sailoperator.io/v1\nkind: Istio\nmetadata: {name: default}\nspec: {version: v1.28.2, namespace: istio-system, values: {global: {istioNamespace: other}}}\n", "istioNamespace must match"},
		{"PeerAuthentication",
			"apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: ns1}\nspec: {mtls: {mode: STRICT}}\n",
			"apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: ns1}\nspec: {mtls: {mode: STRIKT}}\n", "mode"},
		{"IstioOperator",
			"apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: a, namespace: istio-system}\nspec: {profile: minimal, values: {pilot: {env: {A: b}}, revisionTags: [prod]}}\n",
			"apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: a, namespace: istio-system}\nspec: {profile: minimal, values: {pilot: {envv: {A: b}}}}\n", "envv"},
		{"Certificate",
			"apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: cacerts, namespace: ns1}\nspec: {secretName: cacerts, isCA: true, issuerRef: {name: root, kind: ClusterIssuer}}\n",
			"apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: cacerts, namespace: ns1}\nspec: {secretName: cacerts, isCA: true, issuer: {name: root}}\n", "issuer"},
		{"ExternalSecret",
			"apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: s, namespace: ns1}\nspec: {secretStoreRef: {name: v, kind: ClusterSecretStore}, target: {name: s}, data: [{secretKey: token, remoteRef: {key: k}}]}\n",
			"apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: s, namespace: ns1}\nspec: {secretStoreRef: {name: v, kind: Vault}, target: {name: s}, data: [{secretKey: token, remoteRef: {key: k}}]}\n", "store"},
		{"Flux Kustomization",
			"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: k, namespace: flux-system}\nspec: {interval: 10m, path: ./x, prune: true, sourceRef: {kind: GitRepository, name: g}}\n",
			"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: k, namespace: flux-system}\nspec: {interval: 10m, path: ./x, prune: true, sourceRef: {kind: GitRepository, name: g}, dependson: []}\n", "dependson"},
		{"HelmRelease",
			"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: h, namespace: flux-system}\nspec: {interval: 10m, chart: {spec: {chart: istiod, sourceRef: {kind: HelmRepository, name: istio}}}}\n",
			"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: h, namespace: flux-system}\nspec: {interval: 10m, chart: {spec: {chart: istiod, sourceRef: {kind: HelmRepository, name: istio}}}, valuez: {}}\n", "valuez"},
		{"Argo CD Application",
			"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a, namespace: argocd}\nspec: {project: default, source: {repoURL: r, path: p}, destination: {name: c}}\n",
			"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a, namespace: argocd}\nspec: {project: default, source: {repoURL: r, path: p}, destination: {name: c, server: s}}\n", "exactly one"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := Object(set, obj(t, tc.good)); err != nil {
				t.Fatalf("valid object refused: %v", err)
			}
			err := Object(set, obj(t, tc.bad))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("invalid object: err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if err := Object(set, obj(t, "apiVersion: example.com/v1\nkind: Unknown\nmetadata: {name: a}\n")); err == nil {
		t.Error("an object of an unknown kind passed")
	}
}

// TestBundlesCatchBrokenKustomizations: a bundle listing a missing file, or
// two objects of one identity, does not build.
func TestBundlesCatchBrokenKustomizations(t *testing.T) {
	ns := "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
	good := render.Tree{
		"clusters/c/kustomization.yaml":            []byte("resources: [namespaces]\n"),
		"clusters/c/namespaces/kustomization.yaml": []byte("resources: [a.yaml]\n"),
		"clusters/c/namespaces/a.yaml":             []byte(ns),
	}
	if err := Bundles(good); err != nil {
		t.Fatalf("good tree: %v", err)
	}
	missing := render.Tree{
		"clusters/c/kustomization.yaml":            []byte("resources: [namespaces]\n"),
		"clusters/c/namespaces/kustomization.yaml": []byte("resources: [a.yaml, b.yaml]\n"),
		"clusters/c/namespaces/a.yaml":             []byte(ns),
	}
	if err := Bundles(missing); err == nil {
		t.Error("a kustomization listing a missing file built")
	}
	dup := render.Tree{
		"clusters/c/kustomization.yaml": []byte("resources: [a.yaml, b.yaml]\n"),
		"clusters/c/a.yaml":             []byte(ns),
		"clusters/c/b.yaml":             []byte(ns),
	}
	if err := Bundles(dup); err == nil {
		t.Error("two objects of one identity built")
	}
}
