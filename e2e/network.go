package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// ClusterNetwork stands in for the network an API server's calls into its
// cluster travel: to a webhook Service's cluster IP (kube-proxy and the pod
// network behind it) or to a DNS name outside the cluster (DNS, load
// balancers, gateways). It is an HTTP CONNECT proxy on a Unix socket to
// which the API server's egress selector sends that traffic (the API
// server speaks HTTP CONNECT over TCP only with TLS); it connects each
// address it was told of to the local process serving it and refuses every
// other, so nothing is ever sent to the address itself.
type ClusterNetwork struct {
	Socket string

	dir string
	ln  net.Listener
	srv *http.Server

	mu      sync.Mutex
	routes  map[string]string // "host:port" → "127.0.0.1:port"
	refused []string
}

// StartClusterNetwork starts an empty network.
func StartClusterNetwork() (*ClusterNetwork, error) {
	// A short folder of its own: a socket's path has at most 107 bytes.
	dir, err := os.MkdirTemp("", "meshc-net-")
	if err != nil {
		return nil, err
	}
	socket := filepath.Join(dir, "proxy.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	n := &ClusterNetwork{Socket: socket, dir: dir, ln: ln, routes: map[string]string{}}
	n.srv = &http.Server{Handler: n}
	go func() { _ = n.srv.Serve(ln) }()
	return n, nil
}

// Route connects an address of the cluster (host:port) to a local one.
func (n *ClusterNetwork) Route(from, to string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.routes[from] = to
}

// Refused lists the addresses the API server asked for that lead nowhere.
func (n *ClusterNetwork) Refused() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.refused)
}

// Close stops the network.
func (n *ClusterNetwork) Close() {
	_ = n.srv.Close()
	_ = os.RemoveAll(n.dir)
}

// ServeHTTP answers CONNECT host:port by joining the connection to the
// local address routed to it.
func (n *ClusterNetwork) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	n.mu.Lock()
	to, ok := n.routes[r.Host]
	if !ok {
		n.refused = append(n.refused, r.Host)
	}
	n.mu.Unlock()
	if !ok {
		http.Error(w, "no route to "+r.Host+" in the test's cluster network", http.StatusBadGateway)
		return
	}
	upstream, err := net.Dial("tcp", to)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		upstream.Close()
		http.Error(w, "cannot hijack", http.StatusInternalServerError)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		conn.Close()
		upstream.Close()
		return
	}
	go func() {
		// Bytes the client sent after the CONNECT request, then the rest.
		if n := buf.Reader.Buffered(); n > 0 {
			b, _ := buf.Reader.Peek(n)
			_, _ = upstream.Write(b)
		}
		_, _ = io.Copy(upstream, conn)
		upstream.Close()
	}()
	go func() {
		_, _ = io.Copy(conn, upstream)
		conn.Close()
	}()
}

// egressConfig writes the API server's egress selector configuration:
// traffic to the cluster (webhook Services) and to the control plane's
// network (webhook URLs) goes through the network's proxy.
func (n *ClusterNetwork) egressConfig(dir, name string) (string, error) {
	path := filepath.Join(dir, "egress-"+name+".yaml")
	conf := fmt.Sprintf(`apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: %[1]s
- name: controlplane
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: %[1]s
`, n.Socket)
	return path, os.WriteFile(path, []byte(conf), 0o600)
}
