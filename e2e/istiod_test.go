package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/resolve"
)

// The seeds' verification steps, against real istiods: each example of a
// seed is compiled for the rendered target with its clusters' apiServer
// fields naming API servers of its own, applied, and each control plane is
// run as the pilot-discovery process its Deployment describes. What the
// seeds check on a live cluster is then checked here.
var istiodSeeds = []struct {
	seed, example string
	// webhooks are the webhook configurations the seed shows, by cluster:
	// each must exist, and be patched by the istiod that owns it if that
	// istiod patches webhooks.
	webhooks map[string][]string
	// noInjection, when set, says why a Pod's injection cannot be checked
	// offline.
	noInjection string
}{
	{"000", "multiple-control-planes", map[string][]string{"cluster1": {
		"istio-sidecar-injector-usergroup-1-usergroup-1", "istio-sidecar-injector-usergroup-2-usergroup-2",
		"istio-validator-usergroup-1-usergroup-1", "istio-validator-usergroup-2-usergroup-2",
	}}, ""},
	{"001", "openshift-multiple-meshes", nil, ""},
	{"002", "primary-remote-two-networks", map[string][]string{"remote0": {"istio-sidecar-injector"}}, ""},
	{"003", "external-control-plane", map[string][]string{
		"remote1": {"istio-sidecar-injector-external-istiod", "istio-validator-external-istiod"},
		"remote2": {"istio-sidecar-injector-external-istiod"},
	}, "the remote clusters' webhooks call https://myhost.example.com:15017, where the ingress gateway terminates TLS with the user's myhost-example-credential: a certificate and a DNS name only a live cluster has"},
}

func TestIstiodSeeds(t *testing.T) {
	s := needSuite(t)
	ctx := context.Background()
	for _, seed := range istiodSeeds {
		t.Run(seed.seed+"/"+seed.example, func(t *testing.T) {
			start := time.Now()
			example := filepath.Join("..", "topologies", seed.example+".yaml")
			r, err := StartMeshRun(ctx, s, example, t.TempDir())
			if errors.Is(err, ErrNoInClusterConfig) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Stop()
			t.Logf("%d istiods ready in %s", len(r.Istiods), time.Since(start).Round(time.Millisecond))
			for _, st := range r.StandIns {
				t.Logf("stand-in: %s", st)
			}
			defer func() {
				if t.Failed() {
					for _, ist := range r.Istiods {
						t.Logf("%s: last lines of %s:\n%s", ist, ist.Log(), tail(ist.Log(), 40))
					}
				}
			}()
			w := newIstiodWorld(t, r)
			t.Run("remote-clusters", func(t *testing.T) { w.checkRemoteClusters(t) })
			t.Run("istio-ca-root-cert", func(t *testing.T) { w.checkRootCerts(t) })
			t.Run("webhooks", func(t *testing.T) { w.checkWebhooks(t, seed.webhooks) })
			t.Run("injection", func(t *testing.T) {
				if seed.noInjection != "" {
					t.Skip(seed.noInjection)
				}
				w.checkInjection(t)
			})
		})
	}
}

// istiodWorld is what the checks know of one run: each istiod's serving
// chain, the clusters it serves, and its discovery selectors.
type istiodWorld struct {
	r    *MeshRun
	topo *model.Topology
	// resolved holds where the compiler placed each tenant, resolved once.
	resolved *resolve.Topology
	chains   map[*Istiod][]*x509.Certificate
	serves   map[*Istiod][]string // clusters: its own, then its remotes
	cp       map[*Istiod]*model.ControlPlane
	// selectors are each istiod's discoverySelectors, from the mesh config
	// it reads (ConfigMap istio[-<revision>] in its namespace).
	selectors map[*Istiod][]labels.Selector
}

func newIstiodWorld(t *testing.T, r *MeshRun) *istiodWorld {
	t.Helper()
	w := &istiodWorld{
		r: r, topo: r.Bundle.Topology, resolved: resolve.Resolve(r.Bundle.Topology),
		chains: map[*Istiod][]*x509.Certificate{}, serves: map[*Istiod][]string{},
		cp: map[*Istiod]*model.ControlPlane{}, selectors: map[*Istiod][]labels.Selector{},
	}
	ctx := context.Background()
	for _, ist := range r.Istiods {
		for _, cp := range w.topo.ControlPlanes() {
			if cp.Cluster == ist.Cluster && cp.Namespace == ist.Namespace && cp.Revision == ist.Revision {
				w.cp[ist] = cp
			}
		}
		cp := w.cp[ist]
		if cp == nil {
			t.Fatalf("%s is no control plane of the topology", ist)
		}
		w.serves[ist] = servedClusters(cp)
		chain, err := servingChain(ist)
		if err != nil {
			t.Fatalf("%s: %v", ist, err)
		}
		w.chains[ist] = chain
		meshConfig, err := w.meshConfig(ctx, ist)
		if err != nil {
			t.Fatalf("%s: its mesh config: %v", ist, err)
		}
		var mesh struct {
			DiscoverySelectors []metav1.LabelSelector `json:"discoverySelectors"`
		}
		if err := yaml.Unmarshal(meshConfig, &mesh); err != nil {
			t.Fatalf("%s: mesh config: %v", ist, err)
		}
		for _, ls := range mesh.DiscoverySelectors {
			sel, err := metav1.LabelSelectorAsSelector(&ls)
			if err != nil {
				t.Fatalf("%s: discovery selector: %v", ist, err)
			}
			w.selectors[ist] = append(w.selectors[ist], sel)
		}
	}
	return w
}

// meshConfig is the mesh config the istiod reads, where pilot-discovery
// looks for it: the file its pod mounts (./etc/istio/config/mesh), else
// the ConfigMap istio[-<revision>] of its namespace in its config cluster.
func (w *istiodWorld) meshConfig(ctx context.Context, ist *Istiod) ([]byte, error) {
	if data, err := os.ReadFile(filepath.Join(ist.Root, "etc", "istio", "config", "mesh")); err == nil {
		return data, nil
	}
	name := "istio"
	if ist.Revision != "" && ist.Revision != "default" {
		name += "-" + ist.Revision
	}
	cm, err := w.r.Kube[w.serves[ist][0]].CoreV1().ConfigMaps(ist.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return []byte(cm.Data["mesh"]), nil
}

// servedClusters are the clusters a control plane's istiod works on: its
// config cluster first (the one it runs in, unless it is external), then
// its remotes.
func servedClusters(cp *model.ControlPlane) []string {
	first := cp.Cluster
	if cp.ConfigCluster != "" {
		first = cp.ConfigCluster
	}
	out := []string{first}
	for _, r := range cp.Remotes {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// servingChain is the certificate chain istiod presents on its webhook
// port: what the API server and proxies verify with the root it hands out.
func servingChain(ist *Istiod) ([]*x509.Certificate, error) {
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ist.Ports[15017]), &tls.Config{InsecureSkipVerify: true}) // read, not trusted: verified against each root below
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates, nil
}

// trusts reports whether the PEM roots verify istiod's serving chain.
func (w *istiodWorld) trusts(rootsPEM []byte, ist *Istiod) bool {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootsPEM) {
		return false
	}
	chain := w.chains[ist]
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}

// ignoredNamespaces are the namespaces istiod never writes into
// (Kubernetes' own).
var ignoredNamespaces = sets.New("kube-system", "kube-public", "kube-node-lease", "local-path-storage")

// selects reports whether the istiod's discovery selectors match a
// namespace (no selectors: every namespace).
func (w *istiodWorld) selects(ist *Istiod, ns *corev1.Namespace) bool {
	if ignoredNamespaces.Has(ns.Name) {
		return false
	}
	if len(w.selectors[ist]) == 0 {
		return true
	}
	return slices.ContainsFunc(w.selectors[ist], func(s labels.Selector) bool { return s.Matches(labels.Set(ns.Labels)) })
}

// istiodFor is the istiod that serves tenant namespaces of tn in cluster.
func (w *istiodWorld) istiodFor(t *testing.T, tn *model.Tenant, cluster string) *Istiod {
	t.Helper()
	p := w.resolved.Placement(tn, cluster)
	if p == nil || p.ControlPlane == nil {
		var candidates int
		if p != nil {
			candidates = len(p.Candidates)
		}
		t.Fatalf("tenant %s in %s: no single control plane (%d candidates)", tn.Name, cluster, candidates)
	}
	for ist, cp := range w.cp {
		if cp == p.ControlPlane {
			return ist
		}
	}
	t.Fatalf("tenant %s in %s: control plane %s runs no istiod", tn.Name, cluster, p.ControlPlane.Name)
	return nil
}

// checkRemoteClusters: each primary registers every remote cluster of its
// control plane, from the remote secret the bundle's machinery produced,
// and has synced it (istiod's /debug/clusterz).
func (w *istiodWorld) checkRemoteClusters(t *testing.T) {
	found := false
	for ist, clusters := range w.serves {
		for _, remote := range clusters[1:] {
			found = true
			var last string
			err := wait.PollUntilContextTimeout(context.Background(), time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
				resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/clusterz", ist.Ports[8080]))
				if err != nil {
					last = err.Error()
					return false, nil
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				last = string(body)
				var clusters []struct {
					ID         string `json:"id"`
					SecretName string `json:"secretName"`
					SyncStatus string `json:"syncStatus"`
				}
				if err := json.Unmarshal(body, &clusters); err != nil {
					return false, nil
				}
				for _, c := range clusters {
					if c.ID == remote && strings.EqualFold(c.SyncStatus, "synced") && c.SecretName != "" {
						return true, nil
					}
				}
				return false, nil
			})
			if err != nil {
				t.Errorf("%s has not registered and synced remote cluster %s: %v; /debug/clusterz: %s", ist, remote, err, last)
			} else {
				t.Logf("%s registered and synced remote cluster %s", ist, remote)
			}
		}
	}
	if !found {
		t.Skip("no control plane of this example has remote clusters")
	}
}

// checkRootCerts: in every cluster, each istiod writes istio-ca-root-cert
// (with its own root) into exactly the namespaces its discovery selectors
// match there, and no others; every tenant namespace is matched by the
// istiod of its mesh and by no other.
func (w *istiodWorld) checkRootCerts(t *testing.T) {
	ctx := context.Background()
	for cluster, kube := range w.r.Kube {
		namespaces, err := kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		owner := map[string]*Istiod{} // namespace → the istiod that selects it
		for ist, clusters := range w.serves {
			if !slices.Contains(clusters, cluster) {
				continue
			}
			for i := range namespaces.Items {
				ns := &namespaces.Items[i]
				if !w.selects(ist, ns) {
					continue
				}
				if other := owner[ns.Name]; other != nil {
					t.Errorf("%s: namespace %s is selected by both %s and %s", cluster, ns.Name, other, ist)
				}
				owner[ns.Name] = ist
			}
		}
		// Every tenant namespace, by the istiod of its mesh.
		for _, tn := range w.topo.Tenants {
			if !slices.Contains(w.resolved.TenantClusters(tn), cluster) {
				continue
			}
			want := w.istiodFor(t, tn, cluster)
			for _, ns := range tn.Namespaces {
				if owner[ns] != want {
					t.Errorf("%s: tenant %s's namespace %s is selected by %v, not by %s", cluster, tn.Name, ns, owner[ns], want)
				}
			}
		}
		if len(owner) == 0 {
			t.Errorf("%s: no istiod selects any namespace", cluster)
			continue
		}

		// Wait until each selected namespace holds its istiod's root...
		var missing []string
		err = wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			missing = nil
			for ns, ist := range owner {
				cm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, "istio-ca-root-cert", metav1.GetOptions{})
				switch {
				case err != nil:
					missing = append(missing, ns+" (none; want "+ist.String()+"'s)")
				case !w.trusts([]byte(cm.Data["root-cert.pem"]), ist):
					missing = append(missing, ns+" (a root that does not verify "+ist.String()+")")
				}
			}
			return len(missing) == 0, nil
		})
		if err != nil {
			slices.Sort(missing)
			t.Errorf("%s: istio-ca-root-cert not the root of the istiod that selects the namespace: %s", cluster, strings.Join(missing, ", "))
			continue
		}
		// ...then, after istiod has had time to write where it should not,
		// that no other namespace holds one.
		time.Sleep(3 * time.Second)
		for _, ns := range namespaces.Items {
			if owner[ns.Name] != nil {
				continue
			}
			_, err := kube.CoreV1().ConfigMaps(ns.Name).Get(ctx, "istio-ca-root-cert", metav1.GetOptions{})
			if err == nil {
				t.Errorf("%s: namespace %s, selected by no istiod, holds istio-ca-root-cert", cluster, ns.Name)
			} else if !apierrors.IsNotFound(err) {
				t.Error(err)
			}
		}
		selected := make([]string, 0, len(owner))
		for ns, ist := range owner {
			selected = append(selected, ns+"←"+ist.Namespace+"/"+ist.Deployment)
		}
		slices.Sort(selected)
		t.Logf("%s: istio-ca-root-cert in %s", cluster, strings.Join(selected, ", "))
	}
}

// checkWebhooks: each istiod patches the caBundle of its own injector
// webhooks (label istio.io/rev: its revision) in every cluster it serves
// and of its validator webhooks in its config cluster, with its own root;
// the webhook configurations the seed names exist and are so patched. An
// istiod whose Deployment turns patching off (INJECTION_ or
// VALIDATION_WEBHOOK_CONFIG_NAME empty, as for an external istiod behind
// a gateway's TLS) must leave them as they are.
func (w *istiodWorld) checkWebhooks(t *testing.T, named map[string][]string) {
	ctx := context.Background()
	good := map[string]sets.Set[string]{} // cluster → configurations as they should be
	for ist, clusters := range w.serves {
		patches := func(env string) bool {
			v, set := ist.Env[env]
			return !set || v != ""
		}
		injector, validator := patches("INJECTION_WEBHOOK_CONFIG_NAME"), patches("VALIDATION_WEBHOOK_CONFIG_NAME")
		for i, cluster := range clusters {
			kube := w.r.Kube[cluster]
			sel := metav1.ListOptions{LabelSelector: "istio.io/rev=" + ist.Revision}
			var unpatched, seen, left []string
			check := func(name string, hooks [][]byte, patching bool) {
				seen = append(seen, name)
				if !patching {
					left = append(left, name)
					return
				}
				for _, b := range hooks {
					if !w.trusts(b, ist) {
						unpatched = append(unpatched, name)
						return
					}
				}
			}
			err := wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
				unpatched, seen, left = nil, nil, nil
				mutating, err := kube.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, sel)
				if err != nil {
					return false, err
				}
				for _, c := range mutating.Items {
					var hooks [][]byte
					for _, wh := range c.Webhooks {
						hooks = append(hooks, wh.ClientConfig.CABundle)
					}
					check(c.Name, hooks, injector)
				}
				if i == 0 {
					validating, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().List(ctx, sel)
					if err != nil {
						return false, err
					}
					for _, c := range validating.Items {
						var hooks [][]byte
						for _, wh := range c.Webhooks {
							hooks = append(hooks, wh.ClientConfig.CABundle)
						}
						check(c.Name, hooks, validator)
					}
				}
				return len(unpatched) == 0, nil
			})
			if err != nil {
				t.Errorf("%s: %s has not patched the caBundle of %s", cluster, ist, strings.Join(unpatched, ", "))
			}
			if len(seen) == 0 {
				t.Errorf("%s: no webhook configuration is labelled for %s", cluster, ist)
			}
			if good[cluster] == nil {
				good[cluster] = sets.New[string]()
			}
			if err == nil {
				good[cluster].Insert(seen...)
			}
			if done := slices.DeleteFunc(slices.Clone(seen), func(n string) bool { return slices.Contains(left, n) }); len(done) > 0 {
				t.Logf("%s: %s patched %s", cluster, ist, strings.Join(done, ", "))
			}
			if len(left) > 0 {
				t.Logf("%s: %s leaves %s as the bundle wrote them, as its Deployment says (INJECTION_WEBHOOK_CONFIG_NAME=%q, VALIDATION_WEBHOOK_CONFIG_NAME=%q)",
					cluster, ist, strings.Join(left, ", "), ist.Env["INJECTION_WEBHOOK_CONFIG_NAME"], ist.Env["VALIDATION_WEBHOOK_CONFIG_NAME"])
			}
		}
	}
	for cluster, names := range named {
		for _, n := range names {
			if !good[cluster].Has(n) {
				t.Errorf("%s: webhook configuration %s, which the seed shows, is missing or not patched by its istiod (as they should be: %v)", cluster, n, sets.List(good[cluster]))
			}
		}
	}
}

// checkInjection: a Pod created in each tenant namespace of each cluster
// is injected, through the webhook the API server calls, by the istiod of
// its mesh (its injection counter moves, no other's does), with a
// discovery address that leads to that istiod.
func (w *istiodWorld) checkInjection(t *testing.T) {
	ctx := context.Background()
	for _, tn := range w.topo.Tenants {
		for _, cluster := range w.resolved.TenantClusters(tn) {
			want := w.istiodFor(t, tn, cluster)
			kube := w.r.Kube[cluster]
			for _, ns := range tn.Namespaces {
				// Stand-in: the ServiceAccount controller's "default".
				_, err := kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
				if err != nil && !apierrors.IsAlreadyExists(err) {
					t.Fatal(err)
				}
				before := w.injections(t)
				pod := &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Name: "meshc-e2e-app", Labels: map[string]string{"app": "meshc-e2e-app"}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
				}
				got, err := kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
				if err != nil {
					t.Errorf("%s: creating a Pod in %s: %v", cluster, ns, err)
					continue
				}
				after := w.injections(t)
				for ist := range before {
					delta := after[ist] - before[ist]
					if ist == want && delta != 1 {
						t.Errorf("%s: Pod in %s: %s counted %v injections, want 1", cluster, ns, ist, delta)
					}
					if ist != want && delta != 0 {
						t.Errorf("%s: Pod in %s was injected by %s, not by %s", cluster, ns, ist, want)
					}
				}
				addr, err := discoveryAddress(got)
				if err != nil {
					t.Errorf("%s: Pod in %s: %v", cluster, ns, err)
				} else {
					host, _, _ := strings.Cut(addr, ":")
					if ist := w.r.Routes[cluster][host]; ist != want {
						t.Errorf("%s: Pod in %s: discovery address %s leads to %v, not to %s", cluster, ns, addr, ist, want)
					} else {
						t.Logf("%s: Pod in %s injected by %s, discovery address %s", cluster, ns, want, addr)
					}
				}
				if err := kube.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))}); err != nil {
					t.Error(err)
				}
			}
		}
	}
}

func (w *istiodWorld) injections(t *testing.T) map[*Istiod]float64 {
	t.Helper()
	out := map[*Istiod]float64{}
	for _, ist := range w.r.Istiods {
		v, err := ist.Metric("sidecar_injection_success_total")
		if err != nil {
			t.Fatalf("%s: %v", ist, err)
		}
		out[ist] = v
	}
	return out
}

// defaultDiscoveryAddress is the proxy's own default, DiscoveryAddress of
// Istio's mesh.DefaultProxyConfig (importing that package would pull
// Envoy's API into meshc's go.mod).
const defaultDiscoveryAddress = "istiod.istio-system.svc:15012"

// discoveryAddress is the discovery address the injected proxy was given
// (its PROXY_CONFIG), or the default the proxy falls back to.
func discoveryAddress(pod *corev1.Pod) (string, error) {
	all := append(slices.Clone(pod.Spec.InitContainers), pod.Spec.Containers...)
	i := slices.IndexFunc(all, func(c corev1.Container) bool { return c.Name == "istio-proxy" })
	if i < 0 {
		return "", fmt.Errorf("not injected: no istio-proxy container")
	}
	for _, e := range all[i].Env {
		if e.Name != "PROXY_CONFIG" {
			continue
		}
		var pc struct {
			DiscoveryAddress string `json:"discoveryAddress"`
		}
		if err := json.Unmarshal([]byte(e.Value), &pc); err != nil {
			return "", fmt.Errorf("PROXY_CONFIG: %w", err)
		}
		if pc.DiscoveryAddress == "" {
			// The injector leaves out what equals the proxy's default,
			// which the proxy then uses.
			return defaultDiscoveryAddress, nil
		}
		return pc.DiscoveryAddress, nil
	}
	return defaultDiscoveryAddress, nil
}
