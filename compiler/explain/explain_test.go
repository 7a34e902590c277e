package explain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/explain"
)

const topologies = "../../topologies/"

// compile compiles an example topology for target ("" for its default).
func compile(t *testing.T, name string, target emit.Target) explain.Input {
	t.Helper()
	file := topologies + name
	res, err := compiler.Compile(file, compiler.Options{Target: target})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return explain.Input{Topology: res.Topology, Plan: res.Plan, Output: res.Output, Tree: res.Tree, Source: src}
}

// lineOf is the 1-based number of the first line of an example topology
// containing text after the first line containing after ("" for the top):
// expected positions are found in the file, not written down, so that the
// examples can change around them.
func lineOf(t *testing.T, name, after, text string) int {
	t.Helper()
	data, err := os.ReadFile(topologies + name)
	if err != nil {
		t.Fatal(err)
	}
	seen := after == ""
	for i, l := range strings.Split(string(data), "\n") {
		if !seen {
			seen = strings.Contains(l, after)
			continue
		}
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("%s: no line %q after %q", name, text, after)
	return 0
}

// hasRef reports whether refs hold path at line (any line when 0).
func hasRef(refs []explain.Ref, path string, line int) bool {
	return slices.ContainsFunc(refs, func(r explain.Ref) bool {
		return r.Path == path && (line == 0 || r.Line == line)
	})
}

func label(t *testing.T, ls []explain.Label, key string) explain.Label {
	t.Helper()
	for _, l := range ls {
		if l.Key == key {
			return l
		}
	}
	t.Fatalf("no label %s in %v", key, ls)
	return explain.Label{}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		topology string
		target   emit.Target
		what     string
		check    func(t *testing.T, a *explain.Answer)
	}{
		{"multiple-control-planes.yaml", "", "namespace/cluster1/app-ns-1", func(t *testing.T, a *explain.Answer) {
			n := a.Namespace
			if a.Kind != explain.KindNamespace || n.Role != "tenant" || n.Tenant != "usergroup-1-apps" || n.ControlPlane != "usergroup-1" || n.Revision != "usergroup-1" {
				t.Fatalf("got %+v", n)
			}
			tenantLine := lineOf(t, "multiple-control-planes.yaml", "usergroup-1-apps:", "namespaces: [app-ns-1]")
			if n.Why[0].Subject != "tenant usergroup-1-apps" || !hasRef(n.Why[0].Sources, "tenants.usergroup-1-apps.namespaces[0]", tenantLine) {
				t.Errorf("why: %+v, want tenant usergroup-1-apps at line %d", n.Why[0], tenantLine)
			}
			if got := n.Why[0].Sources[0].Text; got != "namespaces: [app-ns-1]" {
				t.Errorf("quoted line %q", got)
			}
			rev := label(t, n.Labels, "istio.io/rev")
			if rev.Value != "usergroup-1" || !strings.Contains(rev.Why, "control plane usergroup-1") ||
				!hasRef(rev.Sources, "meshes.usergroup-1.controlPlanes.usergroup-1.revision", 0) || !rev.Sources[0].Default {
				t.Errorf("istio.io/rev: %+v", rev)
			}
			disc := label(t, n.Labels, "usergroup")
			if !strings.Contains(disc.Why, "discovery label of mesh usergroup-1") ||
				!hasRef(disc.Sources, "meshes.usergroup-1.discoveryLabel.usergroup", lineOf(t, "multiple-control-planes.yaml", "", "usergroup: usergroup-1")) {
				t.Errorf("usergroup label: %+v", disc)
			}
		}},
		// An ambient tenant's namespace carries no istio.io/rev: it is
		// enrolled by istio.io/dataplane-mode and served through ztunnel.
		{"ambient.yaml", "", "namespace/cluster1/shop", func(t *testing.T, a *explain.Answer) {
			n := a.Namespace
			if n.Tenant != "shop" || n.ControlPlane != "main" || n.Revision != "" || n.DataPlaneMode != "ambient" {
				t.Fatalf("got %+v", n)
			}
			var text strings.Builder
			if err := a.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), "tenant: shop, served by control plane main through ztunnel (istio.io/dataplane-mode=ambient)") ||
				strings.Contains(text.String(), "istio.io/rev=") {
				t.Errorf("text:\n%s", text.String())
			}
		}},
		{"multiple-control-planes.yaml", "", "namespace/cluster1/usergroup-2", func(t *testing.T, a *explain.Answer) {
			n := a.Namespace
			if n.Role != "system" || !strings.Contains(n.Why[0].Why, "system namespace of control plane usergroup-2 of mesh usergroup-2") {
				t.Errorf("why: %+v", n.Why)
			}
			if len(n.Policies) != 1 || n.Policies[0].Subject != "PeerAuthentication usergroup-2/usergroup-2-peerauth (STRICT)" ||
				!hasRef(n.Policies[0].Sources, "meshes.usergroup-2.mtls", 0) {
				t.Errorf("policies: %+v", n.Policies)
			}
		}},
		{"multi-primary.yaml", emit.Rendered, "cluster1/customresourcedefinition/gateways.networking.istio.io", func(t *testing.T, a *explain.Answer) {
			// A CRD serves every control plane of its cluster: it names none.
			o := a.Object
			if o.Source != nil || !o.InBundle || !strings.Contains(o.Rule, "CustomResourceDefinitions") || !strings.Contains(o.Rule, "every control plane") {
				t.Errorf("got %+v (source %+v)", o, o.Source)
			}
		}},
		{"multiple-control-planes.yaml", "", "cluster1/istiooperator/usergroup-1", func(t *testing.T, a *explain.Answer) {
			o := a.Object
			if a.Target != "istioctl" || o.InBundle || o.File != "clusters/cluster1/istioctl/usergroup-1.yaml" || o.Wave != nil ||
				o.Source.Path != "meshes.usergroup-1.controlPlanes.usergroup-1" || !strings.Contains(o.Rule, "istioctl") {
				t.Errorf("got %+v", o)
			}
		}},
		{"canary-upgrade.cue", "", "namespace/prod-eu-1/ledger", func(t *testing.T, a *explain.Answer) {
			n := a.Namespace
			if n.ControlPlane != "canary" || n.Revision != "next" {
				t.Fatalf("got %+v", n)
			}
			rev := label(t, n.Labels, "istio.io/rev")
			if !strings.Contains(rev.Why, "tenant ledger asks for revision next: a revision tag of control plane canary") ||
				!hasRef(rev.Sources, "tenants.ledger.revision", lineOf(t, "canary-upgrade.cue", "ledger: {", `revision: "next"`)) ||
				!hasRef(rev.Sources, "meshes.payments.controlPlanes.canary.tags[0]", lineOf(t, "canary-upgrade.cue", "canary: {", `tags: ["next"]`)) {
				t.Errorf("istio.io/rev: %+v", rev)
			}
			team := label(t, n.Labels, "team")
			if !strings.Contains(team.Why, "tenant ledger") || !hasRef(team.Sources, "tenants.ledger.labels.team", 0) {
				t.Errorf("team: %+v", team)
			}
		}},
		{"canary-upgrade.cue", "", "namespace/prod-eu-1/catalog", func(t *testing.T, a *explain.Answer) {
			n := a.Namespace
			var subjects []string
			for _, p := range n.Policies {
				subjects = append(subjects, p.Subject)
			}
			want := []string{
				"PeerAuthentication catalog/storefront-peerauth (STRICT)",
				"PeerAuthentication istio-web/web-peerauth in cluster prod-eu-1 (PERMISSIVE)",
			}
			if !slices.Equal(subjects, want) {
				t.Errorf("policies %q, want %q", subjects, want)
			}
		}},
		{"canary-upgrade.cue", "", "prod-eu-1/IstioCNI/default", func(t *testing.T, a *explain.Answer) {
			o := a.Object
			cniLine := lineOf(t, "canary-upgrade.cue", "", "cni: true")
			if o.Layer != "control-plane" || *o.Wave != 2 || !strings.Contains(o.Rule, "CNI") ||
				o.Source.Path != "clusters.prod-eu-1.cni" || o.Source.Line != cniLine || o.Source.Text != "cni: true" {
				t.Errorf("got %+v source %+v", o, o.Source)
			}
			if len(o.About) != 1 || !strings.Contains(o.About[0].Why, "cni: true") {
				t.Errorf("about: %+v", o.About)
			}
		}},
		{"canary-upgrade.cue", "", "prod-eu-1/istiorevisiontag/prod", func(t *testing.T, a *explain.Answer) {
			o := a.Object
			if o.Layer != "gateways" || *o.Wave != 6 || o.Source.Path != "meshes.payments.controlPlanes.stable.tags[0]" || len(o.About) != 2 ||
				!strings.Contains(o.About[0].Why, "control plane stable") {
				t.Errorf("got %+v", o)
			}
		}},
		{"openshift-multiple-meshes.yaml", "", "cluster/ocp", func(t *testing.T, a *explain.Answer) {
			c := a.Cluster
			if !strings.Contains(c.CNI.Why, "OpenShift") || !hasRef(c.CNI.Sources, "clusters.ocp.platform", lineOf(t, "openshift-multiple-meshes.yaml", "", "platform: openshift")) {
				t.Errorf("cni: %+v", c.CNI)
			}
			if len(c.ControlPlanes) != 2 || c.ControlPlanes[0].Install != explain.InstallIstiod {
				t.Errorf("control planes: %+v", c.ControlPlanes)
			}
		}},
		{"openshift-multiple-meshes.yaml", "", "namespace/ocp/istio-cni", func(t *testing.T, a *explain.Answer) {
			if a.Namespace.Role != "cni" || !strings.Contains(a.Namespace.Why[0].Why, "OpenShift") {
				t.Errorf("got %+v", a.Namespace.Why)
			}
		}},
		{"primary-remote-two-networks.yaml", "", "cluster/remote0", func(t *testing.T, a *explain.Answer) {
			c := a.Cluster
			if c.Network.Subject != "network2" || !hasRef(c.Network.Sources, "clusters.remote0.network", lineOf(t, "primary-remote-two-networks.yaml", "remote0:", "network: network2")) {
				t.Errorf("network: %+v", c.Network)
			}
			if len(c.ControlPlanes) != 1 || c.ControlPlanes[0].Install != explain.InstallRemote || c.ControlPlanes[0].IstiodCluster != "main0" ||
				!hasRef(c.ControlPlanes[0].Sources, "meshes.mesh1.controlPlanes.primary.remotes[0]", lineOf(t, "primary-remote-two-networks.yaml", "", "remotes: [remote0]")) {
				t.Errorf("control planes: %+v", c.ControlPlanes)
			}
			if len(c.Discovers) != 0 || len(c.DiscoveredBy) != 1 || !strings.Contains(c.DiscoveredBy[0].Subject, "main0") {
				t.Errorf("discovers %+v, discovered by %+v", c.Discovers, c.DiscoveredBy)
			}
			if len(c.Gateways) != 1 || !strings.Contains(c.Gateways[0].Why, "spans networks network1 and network2") {
				t.Errorf("gateways: %+v", c.Gateways)
			}
		}},
		{"primary-remote-two-networks.yaml", "", "cluster/main0", func(t *testing.T, a *explain.Answer) {
			c := a.Cluster
			if len(c.Discovers) != 1 || !strings.Contains(c.Discovers[0].Why, "remote0 is a remote of control plane primary") {
				t.Errorf("discovers: %+v", c.Discovers)
			}
			if len(c.Trust) != 1 || !strings.Contains(c.Trust[0].Why, "mesh1-root") {
				t.Errorf("trust: %+v", c.Trust)
			}
			var layers []string
			for _, l := range c.Bundle {
				layers = append(layers, l.Layer)
			}
			if !slices.Equal(layers, []string{"namespaces", "trust", "control-plane", "remote-secrets", "gateways", "mesh-config"}) {
				t.Errorf("bundle layers %v", layers)
			}
		}},
		{"primary-remote-two-networks.yaml", "", "namespace/remote0/istio-system", func(t *testing.T, a *explain.Answer) {
			cpc := label(t, a.Namespace.Annotations, "topology.istio.io/controlPlaneClusters")
			if cpc.Value != "main0" || !hasRef(cpc.Sources, "meshes.mesh1.controlPlanes.primary.cluster", 0) {
				t.Errorf("controlPlaneClusters: %+v", cpc)
			}
			net := label(t, a.Namespace.Labels, "topology.istio.io/network")
			if net.Value != "network2" || !hasRef(net.Sources, "clusters.remote0.network", 0) {
				t.Errorf("network: %+v", net)
			}
		}},
		{"primary-remote-two-networks.yaml", "", "remote0/secret/istio-system/istio-reader-service-account-istio-remote-secret-token", func(t *testing.T, a *explain.Answer) {
			o := a.Object
			if o.Layer != "reader-tokens" || *o.Wave != 3 || o.Source.Path != "meshes.mesh1.remoteSecrets" ||
				o.Source.Line != lineOf(t, "primary-remote-two-networks.yaml", "", "remoteSecrets:") || !strings.Contains(o.Rule, "token") ||
				o.File != "clusters/remote0/reader-tokens/istio-system/secret-istio-reader-service-account-istio-remote-secret-token.yaml" {
				t.Errorf("got %+v", o)
			}
			if len(o.About) != 1 || !strings.Contains(o.About[0].Why, "istiod in main0/istio-system watches this cluster") {
				t.Errorf("about: %+v", o.About)
			}
		}},
		{"primary-remote-two-networks.yaml", "", "clusters/main0/gateways/istio-system/gateway-cross-network-gateway.yaml", func(t *testing.T, a *explain.Answer) {
			o := a.Object
			if a.Kind != explain.KindObject || o.Kind != "Gateway" || o.Name != "cross-network-gateway" || !strings.Contains(o.Rule, "15443") {
				t.Errorf("got %+v", o)
			}
		}},
		{"primary-remote-two-networks.yaml", "", "main0/istio/default", func(t *testing.T, a *explain.Answer) {
			o := a.Object
			if o.Source.Path != "meshes.mesh1.controlPlanes.primary" || o.Source.Text != "primary:" || len(o.About) != 1 ||
				!strings.Contains(o.About[0].Why, "istiod of mesh mesh1 runs here") {
				t.Errorf("got %+v", o)
			}
		}},
		{"primary-remote-two-networks.yaml", "", "out/clusters/main0/kustomization.yaml", func(t *testing.T, a *explain.Answer) {
			if a.Kind != explain.KindFile || a.File.File != "clusters/main0/kustomization.yaml" {
				t.Errorf("got %+v", a)
			}
		}},
		{"external-control-plane.yaml", "", "namespace/remote2/external-istiod", func(t *testing.T, a *explain.Answer) {
			cpc := label(t, a.Namespace.Annotations, "topology.istio.io/controlPlaneClusters")
			if cpc.Value != "remote1" || !strings.Contains(cpc.Why, "config cluster") ||
				!hasRef(cpc.Sources, "meshes.mesh1.controlPlanes.external-istiod.configCluster", lineOf(t, "external-control-plane.yaml", "", "configCluster: remote1")) {
				t.Errorf("controlPlaneClusters: %+v", cpc)
			}
		}},
		{"external-control-plane.yaml", "", "cluster/external", func(t *testing.T, a *explain.Answer) {
			c := a.Cluster
			var installs []string
			for _, cp := range c.ControlPlanes {
				installs = append(installs, cp.Name+":"+cp.Install)
			}
			if !slices.Equal(installs, []string{"external-istiod:external", "ops:istiod"}) {
				t.Errorf("installs %v", installs)
			}
			if len(c.Discovers) != 2 || !strings.Contains(c.Discovers[0].Why, "reads the mesh's configuration from cluster remote1") {
				t.Errorf("discovers: %+v", c.Discovers)
			}
		}},
		{"fleet-three-networks.yaml", "", "namespace/us-1/checkout", func(t *testing.T, a *explain.Answer) {
			// The tenant's override lives where istiod reads policy: eu-1.
			n := a.Namespace
			if len(n.Policies) != 2 || n.Policies[0].Subject != "PeerAuthentication checkout/checkout-peerauth in cluster eu-1 (STRICT)" {
				t.Errorf("policies: %+v", n.Policies)
			}
		}},
		{"fleet-three-networks.yaml", "", "namespace/eu-1/istio-shop", func(t *testing.T, a *explain.Answer) {
			if len(a.Namespace.Why) != 1 || !strings.Contains(a.Namespace.Why[0].Why, "control plane eu of mesh shop: istiod runs here") {
				t.Errorf("why: %+v", a.Namespace.Why)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.topology+"/"+tt.what, func(t *testing.T) {
			a, err := explain.Explain(compile(t, tt.topology, tt.target), tt.what)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, a)
		})
	}
}

func TestExplainUnknown(t *testing.T) {
	tests := []struct {
		topology, what string
		reason         string
		suggestions    []string
	}{
		{"primary-remote-two-networks.yaml", "cluster/mian0", `has no cluster "mian0"`, []string{"cluster/main0"}},
		{"primary-remote-two-networks.yaml", "namespace/main0/samples", `no namespace "samples" in cluster main0`, []string{"namespace/main0/sample"}},
		{"primary-remote-two-networks.yaml", "main0/istio/defualt", "cluster main0 has no Istio defualt", []string{"main0/istio/default"}},
		{"primary-remote-two-networks.yaml", "main0/bogus/x", "no object of kind bogus", nil},
		{"primary-remote-two-networks.yaml", "clusters/main0/namespaces/namespace-sampel.yaml", "no file", []string{"clusters/main0/namespaces/namespace-sample.yaml"}},
		{"primary-remote-two-networks.yaml", "hello", "not a form meshc explains", nil},
		{"canary-upgrade.cue", "prod-eu-1/peerauthentication/storefront-peerauth", "name the namespace too",
			[]string{"prod-eu-1/peerauthentication/catalog/storefront-peerauth", "prod-eu-1/peerauthentication/storefront/storefront-peerauth"}},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			_, err := explain.Explain(compile(t, tt.topology, ""), tt.what)
			var nf *explain.NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("got %v, want a NotFoundError", err)
			}
			if !strings.Contains(nf.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", nf.Reason, tt.reason)
			}
			if tt.suggestions != nil && !slices.Equal(nf.Suggestions, tt.suggestions) {
				t.Errorf("suggestions %q, want %q", nf.Suggestions, tt.suggestions)
			}
		})
	}
}

// TestExplainEverything explains every cluster, namespace, object and file
// of every example for every target: each has an answer, every object a
// rule from the table and something in the plan behind it, every label a
// reason, every source a position, and the output is the same twice.
func TestExplainEverything(t *testing.T) {
	files, err := filepath.Glob(topologies + "*")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		for _, target := range emit.Targets {
			name := filepath.Base(file)
			t.Run(name+"/"+string(target), func(t *testing.T) {
				in := compile(t, name, target)
				var whats []string
				for _, pc := range in.Plan.Clusters {
					whats = append(whats, "cluster/"+pc.Name)
					for _, ns := range pc.Namespaces {
						whats = append(whats, "namespace/"+pc.Name+"/"+ns.Name)
					}
				}
				whats = append(whats, in.Tree.Paths()...)
				for _, what := range whats {
					a, err := explain.Explain(in, what)
					if err != nil {
						t.Errorf("%s: %v", what, err)
						continue
					}
					checkAnswer(t, what, a)
					var first, second bytes.Buffer
					if err := a.WriteText(&first); err != nil {
						t.Fatal(err)
					}
					b, _ := explain.Explain(in, what)
					_ = b.WriteText(&second)
					if first.String() != second.String() {
						t.Errorf("%s: two different answers", what)
					}
					if _, err := json.Marshal(a); err != nil {
						t.Errorf("%s: %v", what, err)
					}
				}
			})
		}
	}
}

func checkAnswer(t *testing.T, what string, a *explain.Answer) {
	t.Helper()
	refs := func(rs []explain.Ref) {
		for _, r := range rs {
			if r.Line == 0 || r.Text == "" {
				t.Errorf("%s: source %s has no position or text: %+v", what, r.Path, r)
			}
		}
	}
	switch a.Kind {
	case explain.KindNamespace:
		for _, l := range append(slices.Clone(a.Namespace.Labels), a.Namespace.Annotations...) {
			if strings.HasPrefix(l.Why, "not ") {
				t.Errorf("%s: %s=%s: %s", what, l.Key, l.Value, l.Why)
			}
			refs(l.Sources)
		}
		if len(a.Namespace.Why) == 0 {
			t.Errorf("%s: no reason", what)
		}
	case explain.KindObject:
		o := a.Object
		if strings.HasPrefix(o.Rule, "Emitted for") {
			t.Errorf("%s: no rule for %s %s", what, o.Kind, o.Name)
		}
		// Istio's CRDs alone name no source: they serve every control
		// plane of their cluster, and About lists them.
		if (o.Source == nil && o.Kind != "CustomResourceDefinition") || len(o.About) == 0 || strings.HasPrefix(o.About[0].Why, "the topology path the object comes from") {
			t.Errorf("%s: nothing in the plan explains %s %s: %+v", what, o.Kind, o.Name, o.About)
		}
		if o.Source != nil {
			refs([]explain.Ref{*o.Source})
		}
		for _, f := range o.About {
			refs(f.Sources)
		}
	case explain.KindCluster:
		for _, cp := range a.Cluster.ControlPlanes {
			refs(cp.Sources)
		}
	}
}
