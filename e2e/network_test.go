package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"testing"
)

// The test network joins a routed address to its local process and
// refuses any other, without ever dialling the address itself.
func TestClusterNetwork(t *testing.T) {
	backend, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	go func() {
		for {
			c, err := backend.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				fmt.Fprintf(c, "echo %s", line)
			}()
		}
	}()

	n, err := StartClusterNetwork()
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	n.Route("10.96.0.10:443", backend.Addr().String())

	connect := func(target string) (*http.Response, net.Conn) {
		t.Helper()
		c, err := net.Dial("unix", n.Socket)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "CONNECT %[1]s HTTP/1.1\r\nHost: %[1]s\r\n\r\n", target)
		resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
		if err != nil {
			t.Fatal(err)
		}
		return resp, c
	}

	resp, c := connect("10.96.0.10:443")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT to a routed address: %s", resp.Status)
	}
	fmt.Fprint(c, "hello\n")
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != "echo hello\n" {
		t.Errorf("through the network: %q, want %q", got, "echo hello\n")
	}

	resp, c = connect("istiod.example.com:15017")
	c.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("CONNECT to an address with no route: %s, want 502", resp.Status)
	}
	if !slices.Equal(n.Refused(), []string{"istiod.example.com:15017"}) {
		t.Errorf("refused %v", n.Refused())
	}
}

// A Deployment's listening flags are replaced whichever way they are
// written, and the port each named is kept as the pod's port.
func TestWithoutFlags(t *testing.T) {
	args, listen := withoutFlags(
		[]string{"--monitoringAddr=:15014", "--log_output_level=default:info", "--httpsAddr", ":15443", "--domain", "cluster.local"},
		istiodAddrFlags)
	if want := []string{"--log_output_level=default:info", "--domain", "cluster.local"}; !slices.Equal(args, want) {
		t.Errorf("args %v, want %v", args, want)
	}
	want := map[string]int32{"httpAddr": 8080, "httpsAddr": 15443, "grpcAddr": 15010, "secureGRPCAddr": 15012, "monitoringAddr": 15014}
	for f, p := range want {
		if listen[f] != p {
			t.Errorf("%s listens on %d, want %d", f, listen[f], p)
		}
	}
	if len(listen) != len(want) {
		t.Errorf("listen %v", listen)
	}
}
