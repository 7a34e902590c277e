package e2e

import (
	"context"
	"strings"
	"testing"
)

func parse(t *testing.T, y string) Object {
	t.Helper()
	objs, err := decodeYAML(y, "test")
	if err != nil || len(objs) != 1 {
		t.Fatalf("decode: %v", err)
	}
	return objs[0]
}

// TestServerRefusesWhatItShould shows the suite is no rubber stamp: each
// defect class it exists to catch is refused (or warned of) by the real API
// server in the mode a GitOps controller uses, and the server is emptied
// afterwards.
func TestServerRefusesWhatItShould(t *testing.T) {
	s := needSuite(t)
	ctx := context.Background()
	ns := parse(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: e2e-negative}\n")
	dupEnv := parse(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: e2e-negative}
spec:
  selector: {matchLabels: {app: istiod}}
  template:
    metadata: {labels: {app: istiod}}
    spec:
      containers:
      - name: discovery
        image: pilot
        env: [{name: CLUSTER_ID, value: a}, {name: CLUSTER_ID, value: b}]
`)
	unknownField := parse(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: e2e-negative}\ndatta: {a: b}\n")
	beforeNamespace := parse(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: e2e-not-yet}\n")
	noCRD := parse(t, "apiVersion: example.meshc.dev/v1\nkind: Widget\nmetadata: {name: w, namespace: e2e-negative}\n")

	cases := []struct {
		name    string
		mode    Mode
		objects []Object
		want    string
		warning bool
	}{
		{"duplicate env key, server-side", ServerSide, []Object{ns, dupEnv}, `duplicate entries for key [name="CLUSTER_ID"]`, false},
		// A create only warns: the second entry hides the first.
		{"duplicate env key, client-side", ClientSide, []Object{ns, dupEnv}, `hides previous definition of "CLUSTER_ID"`, true},
		{"unknown field, strict", ServerSide, []Object{ns, unknownField}, `datta`, false},
		{"unknown field, client-side strict", ClientSide, []Object{ns, unknownField}, `unknown field "datta"`, false},
		{"object before its namespace", ServerSide, []Object{beforeNamespace}, `namespaces "e2e-not-yet" not found`, false},
		{"object before its CRD", ServerSide, []Object{ns, noCRD}, `is its CRD installed first?`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(s.Servers[0], "meshc-e2e-negative")
			if err != nil {
				t.Fatal(err)
			}
			c.Apply(ctx, tc.mode, tc.objects)
			found := false
			for _, f := range c.Findings() {
				if strings.Contains(f.Message, tc.want) && f.Warning == tc.warning {
					found = true
				}
			}
			if err := c.Reset(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.CheckClean(ctx); err != nil {
				t.Fatal(err)
			}
			if !found {
				kind := "rejection"
				if tc.warning {
					kind = "warning"
				}
				t.Fatalf("no %s mentioning %q", kind, tc.want)
			}
		})
	}
}
