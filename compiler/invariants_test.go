package compiler_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/render"
	"meshc.dev/meshc/compiler/verify"
)

// installedControlPlane is what a bundle says about one istiod, whichever
// target carried it.
type installedControlPlane struct {
	revision  string
	namespace string
	version   string
	selectors []map[string]any
	tags      []string
	values    map[string]any
	remote    bool // the remote profile: istiod runs elsewhere
}

// TestBundleInvariants reads every example's bundles as a cluster would get
// them (built with krusty, plus istioctl's files) and checks the promises
// of the multiple-control-plane model: each tenant namespace is selected by
// exactly one control plane's discovery selectors and injects from a
// revision that control plane serves; each system namespace is seen by its
// own control plane; one IstioCNI per cluster at most; the
// ENABLE_ENHANCED_RESOURCE_SCOPING flag exactly where the version needs it;
// a STRICT-or-declared PeerAuthentication in every root namespace.
func TestBundleInvariants(t *testing.T) {
	for name, path := range examples(t) {
		// The rendered target's control planes are the charts' objects:
		// TestTargetsAgree holds them to the Sail target's identity.
		for _, target := range []emit.Target{emit.Sail, emit.Istioctl} {
			t.Run(name+"/"+string(target), func(t *testing.T) {
				res, err := compiler.Compile(path, compiler.Options{Target: target})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range res.Plan.Clusters {
					built, err := verify.Build(res.Tree, render.ClusterDir(c.Name))
					if err != nil {
						t.Fatal(err)
					}
					var objects []map[string]any
					for _, r := range built.Resources() {
						m, err := r.Map()
						if err != nil {
							t.Fatal(err)
						}
						objects = append(objects, m)
					}
					checkCluster(t, c.Name, target, objects, controlPlanesOf(t, target, objects, res.Tree, c.Name))
				}
			})
		}
	}
}

func controlPlanesOf(t *testing.T, target emit.Target, objects []map[string]any, tree render.Tree, cluster string) []*installedControlPlane {
	var out []*installedControlPlane
	byName := map[string]*installedControlPlane{}
	switch target {
	case emit.Sail:
		for _, o := range objects {
			if o["kind"] != "Istio" {
				continue
			}
			spec := o["spec"].(map[string]any)
			values, _ := spec["values"].(map[string]any)
			cp := &installedControlPlane{
				revision:  name(o),
				namespace: spec["namespace"].(string),
				version:   strings.TrimPrefix(spec["version"].(string), "v"),
				values:    values,
				remote:    spec["profile"] == "remote",
			}
			if mc, ok := values["meshConfig"].(map[string]any); ok {
				cp.selectors = selectorList(mc["discoverySelectors"])
			}
			byName[cp.revision] = cp
			out = append(out, cp)
		}
		for _, o := range objects {
			if o["kind"] == "IstioRevisionTag" {
				ref := o["spec"].(map[string]any)["targetRef"].(map[string]any)
				byName[ref["name"].(string)].tags = append(byName[ref["name"].(string)].tags, name(o))
			}
		}
	case emit.Istioctl:
		prefix := render.ClusterDir(cluster) + "/" + emit.IstioctlDir + "/"
		for _, p := range tree.Paths() {
			if !strings.HasPrefix(p, prefix) || !strings.HasSuffix(p, ".yaml") {
				continue
			}
			var iop map[string]any
			if err := yaml.Unmarshal(tree[p], &iop); err != nil {
				t.Fatal(err)
			}
			spec := iop["spec"].(map[string]any)
			values := spec["values"].(map[string]any)
			rev, _ := spec["revision"].(string)
			if rev == "" {
				rev = "default"
			}
			cp := &installedControlPlane{
				revision:  rev,
				namespace: iop["metadata"].(map[string]any)["namespace"].(string),
				values:    values,
				remote:    spec["profile"] == "remote",
			}
			if mc, ok := spec["meshConfig"].(map[string]any); ok {
				cp.selectors = selectorList(mc["discoverySelectors"])
			}
			if tags, ok := values["revisionTags"].([]any); ok {
				for _, tag := range tags {
					cp.tags = append(cp.tags, tag.(string))
				}
			}
			out = append(out, cp)
		}
	}
	return out
}

func checkCluster(t *testing.T, cluster string, target emit.Target, objects []map[string]any, cps []*installedControlPlane) {
	if len(cps) == 0 {
		t.Fatalf("cluster %s: no control plane installed", cluster)
	}
	roots, systemNamespaces := map[string]bool{}, map[string]bool{}
	for _, cp := range cps {
		if !isExternal(cp) {
			// An external istiod watches nothing in its hosting cluster;
			// its namespace there is the hosting mesh's to see.
			systemNamespaces[cp.namespace] = true
		}
		global := cp.values["global"].(map[string]any)
		if global["istioNamespace"] != cp.namespace {
			t.Errorf("%s: global.istioNamespace %v != %s", cp.revision, global, cp.namespace)
		}
		if isExternal(cp) {
			// An external istiod's cluster ID is its config cluster's
			// (the chart sets CLUSTER_ID from clusterName; setting it again
			// in pilot.env would be a duplicate env entry); its root
			// namespace and policy live there.
			env := cp.values["pilot"].(map[string]any)["env"].(map[string]any)
			if _, dup := env["CLUSTER_ID"]; dup || global["multiCluster"].(map[string]any)["clusterName"] == cluster {
				t.Errorf("external istiod %s: pilot.env CLUSTER_ID %v, clusterName %v (want the config cluster's, from clusterName only)", cp.revision, env["CLUSTER_ID"], global["multiCluster"])
			}
			continue
		}
		if global["multiCluster"].(map[string]any)["clusterName"] != cluster {
			t.Errorf("%s: clusterName %v, want %s", cp.revision, global["multiCluster"], cluster)
		}
		if cp.remote {
			// A remote points at its istiod and injects through it: by URL
			// when TLS is terminated for a hostname, else by address and path.
			remote := cp.values["istiodRemote"].(map[string]any)
			path, _ := remote["injectionPath"].(string)
			url, _ := remote["injectionURL"].(string)
			byPath := global["remotePilotAddress"] != nil && strings.HasPrefix(path, "/inject/cluster/"+cluster)
			byURL := strings.HasPrefix(url, "https://") && strings.Contains(url, ":15017/inject/cluster/"+cluster)
			if byPath == byURL {
				t.Errorf("remote install %s in %s: remotePilotAddress %v, injectionPath %q, injectionURL %q", cp.revision, cluster, global["remotePilotAddress"], path, url)
			}
			if global["configCluster"] == true {
				roots[cp.namespace] = true // the config cluster holds the mesh's policy
			}
			continue
		}
		roots[cp.namespace] = true
		pilot, _ := cp.values["pilot"].(map[string]any)
		env, _ := pilot["env"].(map[string]any)
		_, hasFlag := env["ENABLE_ENHANCED_RESOURCE_SCOPING"]
		if target == emit.Sail {
			needs := strings.HasPrefix(cp.version, "1.22.") || strings.HasPrefix(cp.version, "1.23.") || strings.HasPrefix(cp.version, "1.24.")
			if hasFlag != needs {
				t.Errorf("%s on Istio %s: ENABLE_ENHANCED_RESOURCE_SCOPING set = %v, want %v", cp.revision, cp.version, hasFlag, needs)
			}
		}
	}
	cnis, peerAuthNamespaces := 0, map[string]bool{}
	for _, o := range objects {
		switch o["kind"] {
		case "Secret":
			// Nothing secret ever lands in output.
			if o["data"] != nil || o["stringData"] != nil {
				t.Errorf("Secret %s/%s carries data", namespace(o), name(o))
			}
		case "ExternalSecret":
			tmpl, _ := o["spec"].(map[string]any)["target"].(map[string]any)["template"].(map[string]any)
			if strings.HasPrefix(name(o), "istio-remote-secret-") {
				md := tmpl["metadata"].(map[string]any)
				if md["labels"].(map[string]any)["istio/multiCluster"] != "true" ||
					md["annotations"].(map[string]any)["networking.istio.io/cluster"] != strings.TrimPrefix(name(o), "istio-remote-secret-") {
					t.Errorf("remote secret %s lacks istiod's label or cluster annotation", name(o))
				}
			}
		case "IstioCNI":
			cnis++
		case "PeerAuthentication":
			peerAuthNamespaces[namespace(o)] = true
			mode := o["spec"].(map[string]any)["mtls"].(map[string]any)["mode"]
			if mode != "STRICT" && mode != "PERMISSIVE" && mode != "DISABLE" {
				t.Errorf("PeerAuthentication %s/%s: mode %v", namespace(o), name(o), mode)
			}
		}
		if md := o["metadata"].(map[string]any); md["labels"].(map[string]any)["app.kubernetes.io/managed-by"] != "meshc" {
			t.Errorf("%v %s: no managed-by label", o["kind"], name(o))
		}
	}
	if cnis > 1 {
		t.Errorf("cluster %s: %d IstioCNI objects, want at most one", cluster, cnis)
	}
	for root := range roots {
		if !peerAuthNamespaces[root] {
			t.Errorf("cluster %s: no PeerAuthentication in root namespace %s", cluster, root)
		}
	}
	for _, o := range objects {
		if o["kind"] != "Namespace" {
			continue
		}
		labels := o["metadata"].(map[string]any)["labels"].(map[string]any)
		var seers []*installedControlPlane
		for _, cp := range cps {
			if selects(cp.selectors, labels) {
				seers = append(seers, cp)
			}
		}
		rev, injected := labels["istio.io/rev"].(string)
		if systemNamespaces[name(o)] {
			if injected {
				t.Errorf("system namespace %s has istio.io/rev", name(o))
			}
			found := false
			for _, cp := range seers {
				found = found || cp.namespace == name(o)
			}
			if !found {
				t.Errorf("system namespace %s is not seen by its own control plane", name(o))
			}
			continue
		}
		if !injected {
			continue // the CNI namespace
		}
		// Control planes of one mesh (stable and canary) see the same
		// namespaces; the revision label picks the one that injects.
		var serving []*installedControlPlane
		for _, cp := range seers {
			if cp.revision == rev || contains(cp.tags, rev) {
				serving = append(serving, cp)
			}
		}
		if len(serving) != 1 {
			t.Errorf("namespace %s (istio.io/rev=%s): served by %d control planes, want 1", name(o), rev, len(serving))
		}
	}
}

func selectorList(v any) []map[string]any {
	var out []map[string]any
	list, _ := v.([]any)
	for _, s := range list {
		out = append(out, s.(map[string]any)["matchLabels"].(map[string]any))
	}
	return out
}

// selects reports whether any selector matches labels; no selectors select
// every namespace.
func selects(selectors []map[string]any, labels map[string]any) bool {
	if len(selectors) == 0 {
		return true
	}
	for _, sel := range selectors {
		ok := true
		for k, v := range sel {
			ok = ok && labels[k] == v
		}
		if ok {
			return true
		}
	}
	return false
}

func name(o map[string]any) string {
	n, _ := o["metadata"].(map[string]any)["name"].(string)
	return n
}

func namespace(o map[string]any) string {
	n, _ := o["metadata"].(map[string]any)["namespace"].(string)
	return n
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// isExternal tells an external istiod (its cluster ID set to its config
// cluster's) from a primary leading remotes (externalIstiod too).
func isExternal(cp *installedControlPlane) bool {
	pilot, _ := cp.values["pilot"].(map[string]any)
	env, _ := pilot["env"].(map[string]any)
	return env["EXTERNAL_ISTIOD"] == "true"
}
