package check

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/secret"
)

// inputs checks values meshc copies into the output as they are, which
// would otherwise fail only at runtime, in a cluster: an API server URL,
// a CA bundle, an address remotes dial, a trust domain.
func (c *checker) inputs() {
	t := c.t
	for _, name := range model.SortedKeys(t.Clusters) {
		cl := t.Clusters[name]
		base := model.Path{"clusters", name}
		if cl.APIServer != "" {
			c.apiServer(base.Child("apiServer"), cl.APIServer)
		}
		if cl.CABundle != "" {
			c.caBundle(base.Child("caBundle"), cl.CABundle)
		}
		if cl.TLSServerName != "" && !isHost(cl.TLSServerName) {
			c.report(diag.InvalidValue, base.Child("tlsServerName"),
				"give the DNS name the API server's certificate is issued for, e.g. api.cluster1.example.com",
				"tlsServerName %s is not a DNS name", diag.Quote(cl.TLSServerName))
		}
	}
	for _, mname := range model.SortedKeys(t.Meshes) {
		mesh := t.Meshes[mname]
		if td := mesh.TrustDomain; td != "" && !validTrustDomain(td) {
			c.report(diag.InvalidValue, model.Path{"meshes", mname, "trustDomain"},
				"write a DNS name of lower case labels, e.g. example.com (Istio refuses any other)",
				"trust domain %s is not one Istio accepts", diag.Quote(td))
		}
		for _, cpName := range model.SortedKeys(mesh.ControlPlanes) {
			cp := mesh.ControlPlanes[cpName]
			if cp.Expose != nil && cp.Expose.Address != "" {
				c.address(model.Path{"meshes", mname, "controlPlanes", cpName, "expose", "address"}, cp.Expose.Address)
			}
		}
	}
}

// apiServer checks the URL written as a remote secret's server: istiod
// dials it, so it needs a host, and a kubeconfig carries no credentials
// in it.
func (c *checker) apiServer(path model.Path, raw string) {
	const hint = "write https://<host>[:<port>], e.g. https://api.cluster1.example.com:6443"
	u, err := url.Parse(raw)
	switch {
	case strings.ContainsAny(raw, " \t\r\n"):
		c.report(diag.InvalidValue, path, hint, "apiServer %s holds white space", diag.Quote(raw))
	case err != nil:
		c.report(diag.InvalidValue, path, hint, "apiServer %s is not a URL: %s", diag.Quote(raw), urlError(err))
	case u.User != nil:
		c.report(diag.Secret, path, "remove the user and password: remote secrets carry a token, and the output is committed to Git",
			"apiServer %s holds credentials", diag.Quote(u.Redacted()))
	case u.Hostname() == "":
		c.report(diag.InvalidValue, path, hint, "apiServer %s has no host", diag.Quote(raw))
	case !isHost(u.Hostname()):
		c.report(diag.InvalidValue, path, hint, "apiServer %s: host %s is neither a DNS name nor an IP address", diag.Quote(raw), diag.Quote(u.Hostname()))
	case u.RawQuery != "" || u.Fragment != "":
		c.report(diag.InvalidValue, path, hint, "apiServer %s has a query or fragment, which a kubeconfig's server cannot", diag.Quote(raw))
	}
}

func urlError(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}

// address checks expose.address: a bare host meshc writes as
// remotePilotAddress and joins with ports itself.
func (c *checker) address(path model.Path, addr string) {
	switch {
	case strings.Contains(addr, "://"):
		u, _ := url.Parse(addr)
		hint := "write the host alone"
		if u != nil && u.Hostname() != "" {
			hint = fmt.Sprintf("write the host alone: address: %s", u.Hostname())
		}
		c.report(diag.InvalidValue, path, hint+" (meshc adds the ports, 15012 and 15017)",
			"address %s is a URL; remotes dial a hostname or IP address", diag.Quote(addr))
	case strings.Contains(addr, ":") && net.ParseIP(addr) == nil:
		host, _, _ := net.SplitHostPort(addr)
		hint := "write the host alone (meshc adds the ports, 15012 and 15017)"
		if host != "" {
			hint = fmt.Sprintf("write the host alone: address: %s (meshc adds the ports, 15012 and 15017)", host)
		}
		c.report(diag.InvalidValue, path, hint, "address %s has a port; remotes dial a hostname or IP address", diag.Quote(addr))
	case !isHost(addr):
		c.report(diag.InvalidValue, path, "write the DNS name or IP address remotes dial, e.g. istiod.example.com",
			"address %s is neither a DNS name nor an IP address", diag.Quote(addr))
	}
}

// isHost tells whether s is a DNS name (DNS-1123 subdomain) or an IP.
func isHost(s string) bool {
	return net.ParseIP(s) != nil || len(validation.IsDNS1123Subdomain(s)) == 0
}

// validTrustDomain is Istio's own rule (pkg/config/validation/agent
// ValidateTrustDomain): dot-separated DNS-1123 labels, a trailing dot
// allowed.
func validTrustDomain(domain string) bool {
	parts := strings.Split(domain, ".")
	for i, label := range parts {
		if i == len(parts)-1 && label == "" && i > 0 {
			return true
		}
		if len(validation.IsDNS1123Label(label)) > 0 {
			return false
		}
	}
	return true
}

// caBundle checks certificate-authority-data: base64 of one or more PEM
// certificates, nothing else. It is copied into a kubeconfig in the
// output (and so into Git): a key there is a leak, a raw PEM or garbage
// a remote secret istiod cannot use.
func (c *checker) caBundle(path model.Path, value string) {
	const hint = "give the CA certificate PEM base64-encoded, as a kubeconfig's certificate-authority-data: base64 -w0 ca.crt"
	if secret.Contains(value) {
		c.report(diag.Secret, path,
			"remove the key: caBundle is the API server's CA certificate only, public; keep keys in a secret store",
			"caBundle holds a private key; the output is committed to Git, so no key may reach it")
		return
	}
	if strings.Contains(value, "-----BEGIN") {
		c.report(diag.InvalidValue, path, hint, "caBundle is PEM as it is, not base64-encoded")
		return
	}
	data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(value), ""))
	if err != nil {
		c.report(diag.InvalidValue, path, hint, "caBundle %s is not base64: %v", diag.Quote(value), err)
		return
	}
	if secret.Contains(string(data)) {
		c.report(diag.Secret, path,
			"remove the key: caBundle is the API server's CA certificate only, public; keep keys in a secret store",
			"caBundle holds a private key; the output is committed to Git, so no key may reach it")
		return
	}
	n := 0
	for rest := data; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if n == 0 {
				c.report(diag.InvalidValue, path, hint, "caBundle decodes to no PEM certificate")
			} else if len(bytes.TrimSpace(rest)) > 0 {
				c.report(diag.InvalidValue, path, hint, "caBundle decodes to PEM certificates followed by other data")
			}
			return
		}
		if block.Type != "CERTIFICATE" {
			c.report(diag.InvalidValue, path, hint, "caBundle holds a PEM %s, not a CERTIFICATE", diag.Quote(block.Type))
			return
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			c.report(diag.InvalidValue, path, hint, "caBundle's certificate %d cannot be read: %v", n+1, err)
			return
		}
	}
}
