// Package e2e proves meshc's bundles against the real consumers: a real etcd
// and kube-apiserver (built from the Go module proxy by build-binaries.sh),
// Istio's released charts rendered by Helm 3 through kustomize, the apply
// order Argo CD and Flux follow, and real istiod (pilot-discovery) processes
// running the seeds' verification steps. Nothing here is used by meshc
// itself. README.md lists what the suites stand in for.
//
// Every server listens on 127.0.0.1 only (the test network's proxy on a
// Unix socket).
package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// Binaries are the programs the suite runs.
type Binaries struct {
	Etcd, APIServer, Helm string
	Pilot                 string // pilot-discovery: istiod
}

// Etcd is one etcd member serving every API server of the suite; each API
// server keeps its objects under its own prefix, so several "clusters" share
// one process.
type Etcd struct {
	URL string
	cmd *exec.Cmd
}

// StartEtcd starts etcd with its data in dir.
func StartEtcd(bin, dir string) (*Etcd, error) {
	client, peer, err := freePorts2()
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", client)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
	cmd := exec.Command(bin,
		"--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", url, "--advertise-client-urls", url,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "default="+peerURL,
		"--quota-backend-bytes", strconv.Itoa(4<<30),
		"--unsafe-no-fsync", // a test store: durability buys nothing here
	)
	log, err := os.Create(filepath.Join(dir, "etcd.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e := &Etcd{URL: url, cmd: cmd}
	if err := waitHTTP(url+"/health", nil, 60*time.Second); err != nil {
		e.Stop()
		return nil, fmt.Errorf("etcd did not become healthy: %w\nlast lines of %s:\n%s", err, log.Name(), tail(log.Name(), 20))
	}
	return e, nil
}

// Stop ends etcd.
func (e *Etcd) Stop() { stop(e.cmd) }

// APIServer is one kube-apiserver: one "cluster" of a topology.
type APIServer struct {
	Name    string
	URL     string // https://127.0.0.1:PORT
	Config  *rest.Config
	Network *ClusterNetwork // where its webhook calls go; nil: nowhere
	cmd     *exec.Cmd
	log     string
}

// credentials are shared by every API server of a suite: one CA that signs
// their serving certificates, one admin token, one service-account key.
type credentials struct {
	caPEM                   []byte
	caCert                  *x509.Certificate
	caKey                   *ecdsa.PrivateKey
	token                   string
	caFile, tokenFile       string
	saKey, saPub            string
	servingCert, servingKey string
}

func newCredentials(dir string) (*credentials, error) {
	c := &credentials{token: "meshc-e2e-admin-token"}
	var err error
	if c.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "meshc-e2e-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &c.caKey.PublicKey, c.caKey)
	if err != nil {
		return nil, err
	}
	if c.caCert, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	c.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	c.caFile = filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(c.caFile, c.caPEM, 0o600); err != nil {
		return nil, err
	}

	// The serving certificate names 127.0.0.1 and localhost: every API
	// server of the suite presents the same one.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serving := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}
	der, err = x509.CreateCertificate(rand.Reader, serving, c.caCert, &key.PublicKey, c.caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	c.servingCert = filepath.Join(dir, "serving.crt")
	c.servingKey = filepath.Join(dir, "serving.key")
	if err := os.WriteFile(c.servingCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.servingKey, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}

	// The service-account signing pair (the API server refuses to start
	// without one, even though nothing here issues tokens).
	sa, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	c.saKey = filepath.Join(dir, "sa.key")
	c.saPub = filepath.Join(dir, "sa.pub")
	pub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.saKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(sa)}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.saPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		return nil, err
	}
	c.tokenFile = filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(c.tokenFile, []byte(c.token+",admin,admin,system:masters\n"), 0o600); err != nil {
		return nil, err
	}
	return c, nil
}

// StartAPIServer starts a kube-apiserver keeping its objects in etcd under
// /<name>, and waits until it is ready.
// With a network, the server's calls into its cluster (webhooks) go
// through it, by cluster IP or DNS name as a real API server dials them;
// without one, it resolves webhook Services through their EndpointSlices
// (aggregator routing), of which a bundle has none, so a webhook call
// fails fast instead of dialling a cluster IP.
func startAPIServer(bin, dir, name string, etcd *Etcd, creds *credentials, network *ClusterNetwork) (*APIServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	routing := []string{"--enable-aggregator-routing=true"}
	if network != nil {
		egress, err := network.egressConfig(dir, name)
		if err != nil {
			return nil, err
		}
		routing = []string{"--egress-selector-config-file", egress}
	}
	logPath := filepath.Join(dir, "kube-apiserver-"+name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	certDir := filepath.Join(dir, "certs-"+name)
	cmd := exec.Command(bin,
		"--etcd-servers", etcd.URL,
		"--etcd-prefix", "/"+name,
		"--bind-address", "127.0.0.1",
		"--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(port),
		"--cert-dir", certDir,
		"--tls-cert-file", creds.servingCert,
		"--tls-private-key-file", creds.servingKey,
		"--client-ca-file", creds.caFile,
		"--token-auth-file", creds.tokenFile,
		"--service-account-key-file", creds.saPub,
		"--service-account-signing-key-file", creds.saKey,
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range", "10.96.0.0/16",
		"--authorization-mode", "AlwaysAllow",
		"--endpoint-reconciler-type", "none",
	)
	cmd.Args = append(cmd.Args, routing...)
	cmd.Stdout, cmd.Stderr = log, log
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &APIServer{
		Name:    name,
		URL:     fmt.Sprintf("https://127.0.0.1:%d", port),
		cmd:     cmd,
		log:     logPath,
		Network: network,
	}
	s.Config = &rest.Config{
		Host:            s.URL,
		BearerToken:     creds.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: creds.caPEM},
		QPS:             -1, // no client-side throttling: the server is ours
		Timeout:         60 * time.Second,
	}
	if err := waitHTTP(s.URL+"/readyz", s.Config, 180*time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("kube-apiserver %s not ready: %w\nlast lines of %s:\n%s", name, err, logPath, tail(logPath, 20))
	}
	return s, nil
}

// Stop ends the API server (and its network).
func (s *APIServer) Stop() {
	stop(s.cmd)
	if s.Network != nil {
		s.Network.Close()
	}
}

func stop(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// waitHTTP polls url until it answers 200 or the time is up.
func waitHTTP(url string, cfg *rest.Config, within time.Duration) error {
	client := http.DefaultClient
	if cfg != nil {
		rt, err := rest.TransportFor(cfg)
		if err != nil {
			return err
		}
		client = &http.Client{Transport: rt, Timeout: 5 * time.Second}
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("%s: %s", resp.Status, body.String())
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// tail returns the last n lines of a log, for an error that a log explains.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freePorts2() (int, int, error) {
	a, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer a.Close()
	b, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer b.Close()
	return a.Addr().(*net.TCPAddr).Port, b.Addr().(*net.TCPAddr).Port, nil
}
