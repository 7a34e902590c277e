package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestLineDiff(t *testing.T) {
	for _, tt := range []struct {
		old, new string
		want     string
	}{
		{"a\nb\nc\n", "a\nb\nc\n", ""},
		// A line changed in the middle of many: context around it only.
		{"1\n2\n3\n4\n5\n6\n7\n", "1\n2\n3\nfour\n5\n6\n7\n", "@@ -2,5 +2,5 @@|  2|  3|- 4|+ four|  5|  6"},
		// Reordered lines are a change (a set comparison saw none).
		{"step 1\nstep 2\n", "step 2\nstep 1\n", "@@ -1,2 +1,2 @@|- step 1|  step 2|+ step 1"},
		// Added at the end, to an empty text.
		{"a\n", "a\nb\n", "@@ -1,1 +1,2 @@|  a|+ b"},
		{"", "x\n", "@@ -0,0 +1,1 @@|+ x"},
		{"x\n", "", "@@ -1,1 +0,0 @@|- x"},
		// Two changes far apart are two hunks.
		{"a\n1\n2\n3\n4\n5\n6\nb\n", "A\n1\n2\n3\n4\n5\n6\nB\n", "@@ -1,3 +1,3 @@|- a|+ A|  1|  2|@@ -6,3 +6,3 @@|  5|  6|- b|+ B"},
	} {
		var got []string
		for _, l := range lineDiff(tt.old, tt.new) {
			if l.Op == "@" {
				got = append(got, l.Text)
			} else {
				got = append(got, l.Op+" "+l.Text)
			}
		}
		if strings.Join(got, "|") != tt.want {
			t.Errorf("lineDiff(%q, %q) =\n%q\nwant\n%q", tt.old, tt.new, strings.Join(got, "|"), tt.want)
		}
	}
}

// TestTextFileReorderedLines: an install README whose steps swapped places
// is a change, shown line by line in order.
func TestTextFileReorderedLines(t *testing.T) {
	old := "# Install\n\n1. kubectl apply -k namespaces\n2. istioctl install -f blue.yaml\n"
	new := "# Install\n\n1. istioctl install -f blue.yaml\n2. kubectl apply -k namespaces\n"
	d, err := Trees(tree(map[string]string{"clusters/c1/istioctl/README.md": old}), tree(map[string]string{"clusters/c1/istioctl/README.md": new}))
	if err != nil {
		t.Fatal(err)
	}
	if d.Empty() {
		t.Fatal("reordered steps show as no changes")
	}
	var txt bytes.Buffer
	if err := d.Text(&txt, false); err != nil {
		t.Fatal(err)
	}
	want := `cluster c1: 0 added, 1 changed, 0 removed
  ~ clusters/c1/istioctl/README.md  (clusters/c1/istioctl/README.md)
      @@ -1,4 +1,4 @@
        # Install
        
      - 1. kubectl apply -k namespaces
      - 2. istioctl install -f blue.yaml
      + 1. istioctl install -f blue.yaml
      + 2. kubectl apply -k namespaces
`
	if txt.String() != want {
		t.Errorf("text:\n%s\nwant\n%s", txt.String(), want)
	}
}

// TestMultilineStringLineByLine: a values file held in a string shows the
// lines that changed, not two blobs.
func TestMultilineStringLineByLine(t *testing.T) {
	cm := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: values, namespace: istio-system}\ndata:\n  values.yaml: |\n    global:\n      hub: docker.io/istio\n      tag: " + v + "\n    pilot:\n      replicas: 2\n"
	}
	d, err := Trees(tree(map[string]string{"clusters/c1/cm.yaml": cm("1.28.2")}), tree(map[string]string{"clusters/c1/cm.yaml": cm("1.28.3")}))
	if err != nil {
		t.Fatal(err)
	}
	o := d.Clusters[0].Objects[0]
	if len(o.Changes) != 1 || o.Changes[0].Path != "data[\"values.yaml\"]" || o.Changes[0].Old != nil || o.Changes[0].New != nil {
		t.Fatalf("changes: %+v", o.Changes)
	}
	var md bytes.Buffer
	if err := d.Markdown(&md, MarkdownOptions{Title: "t"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"!   data[\"values.yaml\"]:\n@@ -1,5 +1,5 @@\n", "-        tag: 1.28.2\n", "+        tag: 1.28.3\n", "         hub: docker.io/istio\n"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if strings.Contains(md.String(), "replicas: 2\\n") {
		t.Errorf("markdown shows the whole blob:\n%s", md.String())
	}
}

// TestJSONIdentity: tools find an object by group, kind, namespace, name.
func TestJSONIdentity(t *testing.T) {
	pa := "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: app}\nspec: {mtls: {mode: STRICT}}\n"
	d, err := Trees(tree(map[string]string{"clusters/c1/n.yaml": ns}), tree(map[string]string{"clusters/c1/p.yaml": pa}))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`{"id":"PeerAuthentication/app/p","group":"security.istio.io","kind":"PeerAuthentication","namespace":"app","name":"p","file":"clusters/c1/p.yaml","status":"added"}`,
		`{"id":"Namespace/app","kind":"Namespace","name":"app","file":"clusters/c1/n.yaml","status":"removed"}`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("JSON lacks %s:\n%s", want, data)
		}
	}
}

// fleet returns trees of n clusters whose Istio version changes, and,
// in every cluster but the same way, one namespace per cluster when
// distinct is set (so clusters do not group).
func fleet(n int, distinct bool) (old, new map[string]string) {
	old, new = map[string]string{}, map[string]string{}
	for i := range n {
		c := fmt.Sprintf("cluster-%04d", i)
		istio := "apiVersion: sailoperator.io/v1\nkind: Istio\nmetadata: {name: default}\nspec: {version: v1.28.2, namespace: istio-system}\n"
		old["clusters/"+c+"/control-plane/istio-default.yaml"] = istio
		new["clusters/"+c+"/control-plane/istio-default.yaml"] = strings.Replace(istio, "v1.28.2", "v1.28.3", 1)
		if distinct {
			for j := range i % 7 {
				new[fmt.Sprintf("clusters/%s/namespaces/namespace-%s-app-%d.yaml", c, c, j)] = fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s-app-%d}\n", c, j)
			}
		}
	}
	return old, new
}

// TestMarkdownFitsAComment: a fleet's review fits one comment, largest
// changes first, saying what was cut.
func TestMarkdownFitsAComment(t *testing.T) {
	old, new := fleet(1000, true)
	d, err := Trees(tree(old), tree(new))
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := d.Markdown(&md, MarkdownOptions{Title: "t", Marker: "<!-- m -->", Rerun: "meshc diff t.yaml"}); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	if len(out) > CommentLimit {
		t.Fatalf("%d bytes, more than a comment holds", len(out))
	}
	if !strings.HasPrefix(out, "<!-- m -->\n### t\n") {
		t.Errorf("no marker line first:\n%.200s", out)
	}
	if !strings.Contains(out, "**1000 clusters changed**: 2997 added, 1000 changed, 0 removed objects in all.") {
		t.Errorf("no totals:\n%.600s", out)
	}
	// Clusters with 6 new namespaces (i%7 == 6) are the largest: first.
	first := strings.Index(out, "| 142 clusters: `cluster-0006`, `cluster-0013`, `cluster-0020` and 139 more | 6 | 1 | 0 |")
	if first < 0 || first > strings.Index(out, "| 143 clusters: `cluster-0000`, `cluster-0007`, `cluster-0014` and 140 more | 0 | 1 | 0 |") {
		t.Errorf("largest changes are not first:\n%.1500s", out)
	}
	if !strings.Contains(out, "`meshc diff t.yaml` shows everything.") && !strings.Contains(out, "<code>cluster-0000</code>") {
		t.Errorf("neither every section nor a note of what was cut:\n%s", out[len(out)-800:])
	}

	// With a small limit the cut is said.
	md.Reset()
	if err := d.Markdown(&md, MarkdownOptions{Title: "t", Limit: 4000, Rerun: "meshc diff t.yaml"}); err != nil {
		t.Fatal(err)
	}
	if md.Len() > 4000 || !strings.Contains(md.String(), "Cut to fit a pull-request comment (4000 characters)") || !strings.Contains(md.String(), "`meshc diff t.yaml` shows everything.") {
		t.Errorf("%d bytes, no note of the cut:\n%s", md.Len(), md.String())
	}

	// One version bump across every cluster is one section.
	old, new = fleet(1000, false)
	if d, err = Trees(tree(old), tree(new)); err != nil {
		t.Fatal(err)
	}
	md.Reset()
	if err := d.Markdown(&md, MarkdownOptions{Title: "t"}); err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(md.String(), "<details>"); c != 1 || !strings.Contains(md.String(), "| 1000 clusters: `cluster-0000`, `cluster-0001`, `cluster-0002` and 997 more | 0 | 1 | 0 |") ||
		!strings.Contains(md.String(), "<summary><code>cluster-0000</code> and 999 more clusters with the same changes: 0 added, 1 changed, 0 removed</summary>") ||
		strings.Contains(md.String(), "Cut to fit") || !strings.Contains(md.String(), "+   spec.version: v1.28.3") {
		t.Errorf("%d sections:\n%s", c, md.String())
	}
}
