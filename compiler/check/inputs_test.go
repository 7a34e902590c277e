package check_test

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
)

// exampleCA is a self-signed Ed25519 CA certificate, PEM then base64, as a
// kubeconfig's certificate-authority-data carries it (its key was thrown
// away).
const exampleCA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJSakNCK2FBREFnRUNBZ0VCTUFVR0F5dGxjREFyTVNrd0p3WURWUVFERXlCRFRGVlRWRVZTTVNCQlVFa2cKYzJWeWRtVnlJRU5CSUNobGVHRnRjR3hsS1RBZUZ3MHlOakF4TURFd01EQXdNREJhRncwek5qQXhNREV3TURBdwpNREJhTUNzeEtUQW5CZ05WQkFNVElFTk1WVk5VUlZJeElFRlFTU0J6WlhKMlpYSWdRMEVnS0dWNFlXMXdiR1VwCk1Db3dCUVlESzJWd0F5RUE5eWVHSmtnSC9qUS9RT2RJV2JobEtDZEU0dGN2dkxrSTRveXEyOWZ5dG5LalFqQkEKTUE0R0ExVWREd0VCL3dRRUF3SUNCREFQQmdOVkhSTUJBZjhFQlRBREFRSC9NQjBHQTFVZERnUVdCQlFZVlR3ZQpzekV6citSQ0tjMmdiLzJycmwwUjNqQUZCZ01yWlhBRFFRRDRJcVMvRDRKaGNtanBUMFROYUNueFlYYWlzL3A0Cmd5aGtSZkFoM2VyZVA0aDJyR3lQbEYwc2ZJTWJlWFpBK1hsSEFBME5XTTNXYno1OVNlYnl5UndBCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"

// testKeyPEM is a private key made for the test: what must never pass.
func testKeyPEM(t *testing.T) []byte {
	t.Helper()
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestInputsCopiedIntoTheOutput(t *testing.T) {
	key := testKeyPEM(t)
	caPEM, err := base64.StdEncoding.DecodeString(exampleCA)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	tests := []struct {
		name   string
		mutate func(*model.Topology)
		want   []want
	}{
		{"a CA certificate is fine", func(t *model.Topology) { t.Clusters["c1"].CABundle = exampleCA }, nil},
		{"two CA certificates are fine", func(t *model.Topology) {
			t.Clusters["c1"].CABundle = b64(append(append([]byte{}, caPEM...), caPEM...))
		}, nil},
		{"a private key in caBundle", func(t *model.Topology) { t.Clusters["c1"].CABundle = b64(key) },
			[]want{w(diag.Secret, "clusters.c1.caBundle", "holds a private key")}},
		{"a private key behind the CA", func(t *model.Topology) {
			t.Clusters["c1"].CABundle = b64(append(append([]byte{}, caPEM...), key...))
		}, []want{w(diag.Secret, "clusters.c1.caBundle", "holds a private key")}},
		{"a raw private key in caBundle", func(t *model.Topology) { t.Clusters["c1"].CABundle = string(key) },
			[]want{w(diag.Secret, "clusters.c1.caBundle", "holds a private key")}},
		{"raw PEM", func(t *model.Topology) { t.Clusters["c1"].CABundle = string(caPEM) },
			[]want{w(diag.InvalidValue, "clusters.c1.caBundle", "PEM as it is, not base64").withHint("base64 -w0 ca.crt")}},
		{"garbage", func(t *model.Topology) { t.Clusters["c1"].CABundle = "not base64 at all!" },
			[]want{w(diag.InvalidValue, "clusters.c1.caBundle", "is not base64")}},
		{"base64 of no PEM", func(t *model.Topology) { t.Clusters["c1"].CABundle = b64([]byte("CLUSTER1-CA")) },
			[]want{w(diag.InvalidValue, "clusters.c1.caBundle", "decodes to no PEM certificate")}},
		{"a public key is no certificate", func(t *model.Topology) {
			t.Clusters["c1"].CABundle = b64(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}))
		}, []want{w(diag.InvalidValue, "clusters.c1.caBundle", `a PEM "PUBLIC KEY", not a CERTIFICATE`)}},
		{"a broken certificate", func(t *model.Topology) {
			t.Clusters["c1"].CABundle = b64(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2}}))
		}, []want{w(diag.InvalidValue, "clusters.c1.caBundle", "certificate 1 cannot be read")}},
		{"trailing data", func(t *model.Topology) {
			t.Clusters["c1"].CABundle = b64(append(append([]byte{}, caPEM...), "junk"...))
		}, []want{w(diag.InvalidValue, "clusters.c1.caBundle", "followed by other data")}},

		{"apiServer without host", func(t *model.Topology) { t.Clusters["c1"].APIServer = "https://" },
			[]want{w(diag.InvalidValue, "clusters.c1.apiServer", "has no host")}},
		{"apiServer without host but a port", func(t *model.Topology) { t.Clusters["c1"].APIServer = "https://:6443" },
			[]want{w(diag.InvalidValue, "clusters.c1.apiServer", "has no host")}},
		{"apiServer with spaces", func(t *model.Topology) { t.Clusters["c1"].APIServer = "https://c1.example.com :6443" },
			[]want{w(diag.InvalidValue, "clusters.c1.apiServer", "white space")}},
		{"apiServer with credentials", func(t *model.Topology) { t.Clusters["c1"].APIServer = "https://admin:hunter2@c1.example.com" },
			[]want{w(diag.Secret, "clusters.c1.apiServer", "holds credentials")}},
		{"apiServer with a bad host", func(t *model.Topology) { t.Clusters["c1"].APIServer = "https://C1_host" },
			[]want{w(diag.InvalidValue, "clusters.c1.apiServer", "neither a DNS name nor an IP")}},
		{"apiServer on an IPv6 address", func(t *model.Topology) { t.Clusters["c1"].APIServer = "https://[fd00::1]:6443" }, nil},
		{"apiServer with a path", func(t *model.Topology) { t.Clusters["c1"].APIServer = "https://proxy.example.com/k8s/c1" }, nil},
		{"tlsServerName not a name", func(t *model.Topology) { t.Clusters["c1"].TLSServerName = "https://c1" },
			[]want{w(diag.InvalidValue, "clusters.c1.tlsServerName", "not a DNS name")}},

		{"address as a URL", func(t *model.Topology) {
			cp(t, "m1", "cp1").Expose = &model.Expose{Via: model.ExposeLoadBalancer, Address: "https://istiod.example.com"}
		}, []want{w(diag.InvalidValue, "meshes.m1.controlPlanes.cp1.expose.address", "is a URL").withHint("address: istiod.example.com")}},
		{"address with a port", func(t *model.Topology) {
			cp(t, "m1", "cp1").Expose = &model.Expose{Via: model.ExposeLoadBalancer, Address: "istiod.example.com:15012"}
		}, []want{w(diag.InvalidValue, "meshes.m1.controlPlanes.cp1.expose.address", "has a port").withHint("address: istiod.example.com")}},
		{"address with spaces", func(t *model.Topology) {
			cp(t, "m1", "cp1").Expose = &model.Expose{Via: model.ExposeLoadBalancer, Address: "istiod example"}
		}, []want{w(diag.InvalidValue, "meshes.m1.controlPlanes.cp1.expose.address", "neither a DNS name nor an IP")}},
		{"address as an IP", func(t *model.Topology) {
			cp(t, "m1", "cp1").Expose = &model.Expose{Via: model.ExposeLoadBalancer, Address: "10.0.0.7"}
		}, nil},
		{"address as an IPv6 address", func(t *model.Topology) {
			cp(t, "m1", "cp1").Expose = &model.Expose{Via: model.ExposeLoadBalancer, Address: "fd00::7"}
		}, nil},

		{"trust domain in upper case", func(t *model.Topology) { t.Meshes["m1"].TrustDomain = "Example.com" },
			[]want{w(diag.InvalidValue, "meshes.m1.trustDomain", `"Example.com" is not one Istio accepts`)}},
		{"trust domain with a slash", func(t *model.Topology) { t.Meshes["m1"].TrustDomain = "spiffe://example.com" },
			[]want{w(diag.InvalidValue, "meshes.m1.trustDomain", "not one Istio accepts")}},
		{"trust domain with an empty label", func(t *model.Topology) { t.Meshes["m1"].TrustDomain = "example..com" },
			[]want{w(diag.InvalidValue, "meshes.m1.trustDomain", "not one Istio accepts")}},
		{"trust domain with a trailing dot", func(t *model.Topology) { t.Meshes["m1"].TrustDomain = "example.com." }, nil},
		{"a huge trust domain is quoted cut", func(t *model.Topology) { t.Meshes["m1"].TrustDomain = strings.Repeat("X", 1<<20) },
			[]want{w(diag.InvalidValue, "meshes.m1.trustDomain", "(1048576 bytes in all)")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := base()
			tt.mutate(topo)
			assertDiags(t, run(t, topo), tt.want)
		})
	}
}
