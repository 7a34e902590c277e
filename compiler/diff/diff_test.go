package diff

import (
	"bytes"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler/render"
)

func tree(files map[string]string) render.Tree {
	t := render.Tree{}
	for k, v := range files {
		t[k] = []byte(v)
	}
	return t
}

const ns = `apiVersion: v1
kind: Namespace
metadata:
  name: app
  labels:
    istio.io/rev: stable
    team: a
`

func TestObjectsMatchedByIdentityNotFile(t *testing.T) {
	// Same object, another file name, other key order and formatting.
	moved := "kind: Namespace\napiVersion: v1\nmetadata: {labels: {team: a, istio.io/rev: stable}, name: app}\n"
	d, err := Trees(tree(map[string]string{"clusters/c1/namespaces/a.yaml": ns}),
		tree(map[string]string{"clusters/c1/x/b.yaml": moved}))
	if err != nil {
		t.Fatal(err)
	}
	if !d.Empty() {
		t.Fatalf("formatting and file names showed up as changes: %+v", d)
	}
}

func TestAddedRemovedChanged(t *testing.T) {
	changed := strings.Replace(ns, "istio.io/rev: stable", "istio.io/rev: canary", 1)
	gone := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: old\n"
	added := "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: p\n  namespace: app\nspec:\n  mtls:\n    mode: STRICT\n"
	d, err := Trees(
		tree(map[string]string{"clusters/c1/a.yaml": ns, "clusters/c1/old.yaml": gone, "clusters/c1/kustomization.yaml": "resources: [a.yaml, old.yaml]\n"}),
		tree(map[string]string{"clusters/c1/a.yaml": changed, "clusters/c1/p.yaml": added, "clusters/c1/kustomization.yaml": "resources: [a.yaml, p.yaml]\n"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Clusters) != 1 || d.Clusters[0].Name != "c1" {
		t.Fatalf("clusters: %+v", d.Clusters)
	}
	var got []string
	for _, o := range d.Clusters[0].Objects {
		got = append(got, string(o.Status)+" "+o.ID)
	}
	want := "changed Namespace/app\nremoved Namespace/old\nadded PeerAuthentication/app/p"
	if strings.Join(got, "\n") != want {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	c := d.Clusters[0].Objects[0].Changes
	if len(c) != 1 || c[0].Path != `metadata.labels["istio.io/rev"]` || c[0].Old != "stable" || c[0].New != "canary" {
		t.Fatalf("changes: %+v", c)
	}
}

func TestSecretDataMasked(t *testing.T) {
	secret := func(token string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: n\ndata:\n  token: " + token + "\nstringData:\n  config: " + token + "\n"
	}
	d, err := Trees(tree(map[string]string{"clusters/c/s.yaml": secret("b2xk")}), tree(map[string]string{"clusters/c/s.yaml": secret("bmV3")}))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := d.Text(&out, false); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "b2xk") || strings.Contains(out.String(), "bmV3") || !strings.Contains(out.String(), "data.token: (masked) → (masked)") {
		t.Fatalf("secret not masked:\n%s", out.String())
	}
	// A whole payload appearing is masked too.
	d, err = Trees(tree(map[string]string{"clusters/c/s.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"}),
		tree(map[string]string{"clusters/c/s.yaml": secret("c2VjcmV0")}))
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	_ = d.Markdown(&out, MarkdownOptions{Title: "t"})
	if strings.Contains(out.String(), "c2VjcmV0") {
		t.Fatalf("secret leaked:\n%s", out.String())
	}
}

func TestListsMatchedByName(t *testing.T) {
	svc := func(ports string) string {
		return "apiVersion: v1\nkind: Service\nmetadata: {name: gw, namespace: n}\nspec:\n  ports:\n" + ports
	}
	a := svc("  - {name: status, port: 15021}\n  - {name: tls, port: 15443}\n")
	b := svc("  - {name: extra, port: 1}\n  - {name: status, port: 15021}\n  - {name: tls, port: 15443}\n")
	d, err := Trees(tree(map[string]string{"clusters/c/s.yaml": a}), tree(map[string]string{"clusters/c/s.yaml": b}))
	if err != nil {
		t.Fatal(err)
	}
	c := d.Clusters[0].Objects[0].Changes
	if len(c) != 1 || c[0].Path != "spec.ports[extra]" || c[0].Old != nil {
		t.Fatalf("inserting a port showed as: %+v", c)
	}
}

func TestMarkdownAndText(t *testing.T) {
	d, err := Trees(tree(map[string]string{"clusters/c1/a.yaml": ns}), tree(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := d.Markdown(&md, MarkdownOptions{Title: "meshc diff", Marker: "<!-- meshc-diff: t -->", Graph: []byte("flowchart LR\n  a --> b\n")}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!-- meshc-diff: t -->\n### meshc diff", "| `c1` | 0 | 0 | 1 |", "<details><summary><code>c1</code>", "```diff\n- Namespace/app", "```mermaid\nflowchart LR"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	var txt bytes.Buffer
	_ = d.Text(&txt, true)
	if !strings.Contains(txt.String(), "\x1b[31m-\x1b[0m Namespace/app") {
		t.Errorf("no colour when asked:\n%q", txt.String())
	}
	txt.Reset()
	_ = (&Result{}).Text(&txt, false)
	if txt.String() != "no changes\n" {
		t.Errorf("empty diff: %q", txt.String())
	}
}

func TestSameObjectInTwoDeliveryFolders(t *testing.T) {
	k := "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: layer, namespace: flux-system}\nspec: {path: ./a}\n"
	old := tree(map[string]string{"delivery/flux/c1/k.yaml": k, "delivery/flux/c2/k.yaml": k})
	changed := strings.Replace(k, "./a", "./b", 1)
	d, err := Trees(old, tree(map[string]string{"delivery/flux/c1/k.yaml": k, "delivery/flux/c2/k.yaml": changed}))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Other) != 1 || d.Other[0].ID != "delivery/flux/c2: Kustomization/flux-system/layer" || d.Other[0].Status != Changed {
		t.Fatalf("other: %+v", d.Other)
	}
}
