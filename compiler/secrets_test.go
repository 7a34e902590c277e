package compiler_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"text/template"

	"k8s.io/client-go/tools/clientcmd"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
)

// store is what External Secrets providers keep when every value is
// written and read with an explicit property: a map of properties per key
// (Vault KV, and the JSON secrets of AWS, GCP and Azure). A value pushed
// without a property, or read without one, has no defined place in it.
type store map[string]map[string]string

// tokenSecretData is what Kubernetes puts in a cluster's token Secret.
func tokenSecretData(cluster string) map[string]string {
	return map[string]string{
		"token":     "token-of-" + cluster,
		"ca.crt":    "-----BEGIN CERTIFICATE-----\nCA OF " + strings.ToUpper(cluster) + "\n-----END CERTIFICATE-----\n",
		"namespace": "istio-system",
	}
}

// esoTemplate renders an ExternalSecret template value as External
// Secrets' template engine v2 does: Go templates over the fetched data,
// with (among sprig's functions) b64enc.
func esoTemplate(t *testing.T, text string, data map[string]string) string {
	t.Helper()
	tmpl, err := template.New("").Option("missingkey=error").Funcs(template.FuncMap{
		"b64enc": func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	}).Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRemoteSecretsRoundTrip carries every reader token of the External
// Secrets examples through a store, for each kind of store the topology
// may name, with and without the clusters' caBundle: what each PushSecret
// writes (with an explicit property) is what each ExternalSecret reads,
// and the remote secret it templates is a kubeconfig client-go loads, with
// the discovered cluster's server, token and CA.
func TestRemoteSecretsRoundTrip(t *testing.T) {
	for _, example := range []string{"primary-remote-two-networks", "fleet-three-networks", "external-control-plane", "multi-primary"} {
		for _, kind := range []string{"ClusterSecretStore", "SecretStore"} {
			for _, withCA := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%s/caBundle=%v", example, kind, withCA), func(t *testing.T) {
					topo, err := compiler.Validate(examples(t)[example])
					if err != nil {
						t.Fatal(err)
					}
					used := false
					for _, m := range topo.Meshes {
						if rs := m.RemoteSecrets; rs != nil && rs.SecretStore != nil {
							rs.SecretStore.Kind = kind
							used = true
						}
					}
					if !used {
						t.Skip("no External Secrets remote secrets")
					}
					if !withCA {
						for _, c := range topo.Clusters {
							c.CABundle = ""
						}
					}
					res, err := compiler.CompileTopology(topo, compiler.Options{Target: emit.Sail})
					if err != nil {
						t.Fatal(err)
					}
					roundTrip(t, topo, res, kind)
				})
			}
		}
	}
}

func roundTrip(t *testing.T, topo *model.Topology, res *compiler.Result, kind string) {
	s := store{}
	for _, c := range res.Output.Clusters {
		for _, r := range c.Resources {
			if r.Object["kind"] != "PushSecret" {
				continue
			}
			spec := r.Object["spec"].(map[string]any)
			for _, ref := range spec["secretStoreRefs"].([]any) {
				if ref.(map[string]any)["kind"] != kind {
					t.Errorf("%s: PushSecret pushes to a %v, the topology names a %s", c.Name, ref.(map[string]any)["kind"], kind)
				}
			}
			from := tokenSecretData(c.Name)
			for _, d := range spec["data"].([]any) {
				match := d.(map[string]any)["match"].(map[string]any)
				ref := match["remoteRef"].(map[string]any)
				key, prop := ref["remoteKey"].(string), ref["property"]
				if prop == nil || prop == "" {
					t.Errorf("%s: PushSecret writes %s without a property", c.Name, key)
					continue
				}
				value, ok := from[match["secretKey"].(string)]
				if !ok {
					t.Errorf("%s: PushSecret pushes %v, which a token Secret does not hold", c.Name, match["secretKey"])
				}
				if s[key] == nil {
					s[key] = map[string]string{}
				}
				s[key][prop.(string)] = value
			}
		}
	}
	secrets := 0
	for _, c := range res.Output.Clusters {
		for _, r := range c.Resources {
			md := r.Object["metadata"].(map[string]any)
			if r.Object["kind"] != "ExternalSecret" || md["name"] == "cacerts" {
				continue
			}
			secrets++
			spec := r.Object["spec"].(map[string]any)
			if spec["secretStoreRef"].(map[string]any)["kind"] != kind {
				t.Errorf("%s: ExternalSecret reads a %v, the topology names a %s", c.Name, spec["secretStoreRef"].(map[string]any)["kind"], kind)
			}
			data := map[string]string{}
			for _, d := range spec["data"].([]any) {
				d := d.(map[string]any)
				ref := d["remoteRef"].(map[string]any)
				key, prop := ref["key"].(string), ref["property"]
				if prop == nil || prop == "" {
					t.Errorf("%s: ExternalSecret reads %s without a property: it would get the whole map", c.Name, key)
					continue
				}
				v, ok := s[key][prop.(string)]
				if !ok {
					t.Errorf("%s: ExternalSecret reads %s property %v, which nothing pushes", c.Name, key, prop)
				}
				data[d["secretKey"].(string)] = v
			}
			tmpl := spec["target"].(map[string]any)["template"].(map[string]any)
			discovered := tmpl["metadata"].(map[string]any)["annotations"].(map[string]any)["networking.istio.io/cluster"]
			for _, text := range tmpl["data"].(map[string]any) {
				kubeconfig := esoTemplate(t, text.(string), data)
				checkKubeconfig(t, topo, kubeconfig, c.Name, md["name"].(string))
			}
			_ = discovered
		}
	}
	if secrets == 0 {
		t.Error("no remote secret built")
	}
}

// checkKubeconfig loads a remote secret's kubeconfig as istiod does and
// checks it against the cluster it names: server, CA (the topology's
// caBundle, else the token Secret's ca.crt) and token.
func checkKubeconfig(t *testing.T, topo *model.Topology, kubeconfig, where, secret string) {
	t.Helper()
	cfg, err := clientcmd.Load([]byte(kubeconfig))
	if err != nil {
		t.Fatalf("%s/%s: kubeconfig does not load: %v\n%s", where, secret, err, kubeconfig)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil {
		t.Fatalf("%s/%s: no current context", where, secret)
	}
	cl := topo.Clusters[ctx.Cluster]
	cluster, user := cfg.Clusters[ctx.Cluster], cfg.AuthInfos[ctx.AuthInfo]
	if cl == nil || cluster == nil || user == nil {
		t.Fatalf("%s/%s: kubeconfig names cluster %q, not in the topology or the file", where, secret, ctx.Cluster)
	}
	if cluster.Server != cl.APIServer {
		t.Errorf("%s/%s: server %q, want %q", where, secret, cluster.Server, cl.APIServer)
	}
	want := tokenSecretData(cl.Name)
	wantCA := want["ca.crt"]
	if cl.CABundle != "" {
		b, _ := base64.StdEncoding.DecodeString(cl.CABundle)
		wantCA = string(b)
	}
	if string(cluster.CertificateAuthorityData) != wantCA {
		t.Errorf("%s/%s: certificate-authority-data %q, want %q", where, secret, cluster.CertificateAuthorityData, wantCA)
	}
	if user.Token != want["token"] {
		t.Errorf("%s/%s: token %q, want %q", where, secret, user.Token, want["token"])
	}
}

// TestManualRemoteSecrets runs MANUAL-STEPS.md's commands in thought: the
// variables they read from the discovered cluster's token Secret, put
// into the kubeconfig they write, give one client-go loads with that
// cluster's server, token and CA, with and without caBundle.
func TestManualRemoteSecrets(t *testing.T) {
	assign := regexp.MustCompile(`(?m)^(\w+)=\$\(kubectl --context (\S+) .* jsonpath='\{\.data\.([^}]+)\}'( \| base64 -d)?\)$`)
	heredoc := regexp.MustCompile(`(?s)cat > kubeconfig-\S+ <<EOF\n(.*?)EOF\n`)
	for _, withCA := range []bool{true, false} {
		t.Run(fmt.Sprintf("caBundle=%v", withCA), func(t *testing.T) {
			topo, err := compiler.Validate(examples(t)["primary-remote-one-network"])
			if err != nil {
				t.Fatal(err)
			}
			if !withCA {
				for _, c := range topo.Clusters {
					c.CABundle = ""
				}
			}
			res, err := compiler.CompileTopology(topo, compiler.Options{Target: emit.Istioctl})
			if err != nil {
				t.Fatal(err)
			}
			steps := string(res.Tree["clusters/main0/"+emit.ManualStepsFile])
			if steps == "" {
				t.Fatal("no manual steps")
			}
			vars := map[string]string{}
			for _, m := range assign.FindAllStringSubmatch(steps, -1) {
				data := tokenSecretData(m[2])
				key := strings.ReplaceAll(m[3], `\.`, ".")
				v := base64.StdEncoding.EncodeToString([]byte(data[key])) // as jsonpath prints Secret data
				if m[4] != "" {
					v = data[key]
				}
				vars[m[1]] = v
			}
			docs := heredoc.FindAllStringSubmatch(steps, -1)
			if len(docs) == 0 {
				t.Fatalf("no kubeconfig in:\n%s", steps)
			}
			for _, d := range docs {
				kubeconfig := regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(d[1], func(v string) string {
					val, ok := vars[v[2:len(v)-1]]
					if !ok {
						t.Errorf("kubeconfig uses %s, which the steps never set", v)
					}
					return val
				})
				checkKubeconfig(t, topo, kubeconfig, "main0", "manual")
			}
		})
	}
}
