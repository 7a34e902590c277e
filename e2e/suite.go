package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Suite is an etcd and one API server per cluster slot, each holding the
// CRDs and namespaces that meshc's bundles take as given (the GitOps
// controllers, cert-manager, External Secrets, the Sail operator), and
// nothing else between bundles.
type Suite struct {
	Dir       string
	Bin       Binaries
	Testdata  string // e2e/testdata
	IstioCRDs string // schema/crds: Istio's and the Sail operator's CRDs

	etcd    *Etcd
	Servers []*APIServer
	creds   *credentials

	mu        sync.Mutex
	istioCRDs bool // whether Istio's own CRDs are installed as prerequisites
	baseline  [][]string
}

// Prerequisite namespaces: where Argo CD and Flux run.
var prerequisiteNamespaces = []string{"argocd", "flux-system"}

// StartSuite starts etcd and n API servers and installs the prerequisites.
func StartSuite(ctx context.Context, dir string, bin Binaries, testdata, istioCRDs string, n int) (*Suite, error) {
	s := &Suite{Dir: dir, Bin: bin, Testdata: testdata, IstioCRDs: istioCRDs}
	var err error
	if s.creds, err = newCredentials(dir); err != nil {
		return nil, err
	}
	if s.etcd, err = StartEtcd(bin.Etcd, dir); err != nil {
		return nil, err
	}
	// API servers start one after another: each spends its first seconds
	// on CPU, and the machine may have only two cores.
	for i := range n {
		srv, err := startAPIServer(bin.APIServer, dir, fmt.Sprintf("cluster%d", i), s.etcd, s.creds, nil)
		if err != nil {
			s.Stop()
			return nil, err
		}
		s.Servers = append(s.Servers, srv)
	}
	prereqs, err := s.prerequisites()
	if err != nil {
		s.Stop()
		return nil, err
	}
	for _, srv := range s.Servers {
		c, err := NewClient(srv, "meshc-e2e-prerequisites")
		if err != nil {
			s.Stop()
			return nil, err
		}
		c.Apply(ctx, ServerSide, prereqs)
		if f := c.Findings(); len(f) > 0 {
			s.Stop()
			return nil, fmt.Errorf("installing prerequisites on %s: %v", srv.Name, f)
		}
		c.Forget()
		held, err := c.Contents(ctx)
		if err != nil {
			s.Stop()
			return nil, err
		}
		s.baseline = append(s.baseline, held)
	}
	return s, nil
}

// prerequisites are every CRD of the ecosystem meshc's output is applied
// with, the Sail operator's CRDs, and the controllers' namespaces.
func (s *Suite) prerequisites() ([]Object, error) {
	var out []Object
	for _, ns := range prerequisiteNamespaces {
		out = append(out, Object{Unstructured: &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns},
		}}, Source: "prerequisite"})
	}
	eco, err := ReadObjects(filepath.Join(s.Testdata, "crds-ecosystem"), "prerequisite")
	if err != nil {
		return nil, err
	}
	out = append(out, eco...)
	sail, err := s.crdsOf("sailoperator.io_")
	if err != nil {
		return nil, err
	}
	return append(out, sail...), nil
}

// crdsOf reads the CRDs in schema/crds whose file names start with prefix.
func (s *Suite) crdsOf(prefix string, not ...string) ([]Object, error) {
	entries, err := os.ReadDir(s.IstioCRDs)
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || slices.ContainsFunc(not, func(n string) bool { return strings.HasPrefix(name, n) }) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.IstioCRDs, name))
		if err != nil {
			return nil, err
		}
		objs, err := decodeYAML(string(data), "prerequisite")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// WithIstioCRDs installs Istio's CRDs on every server as a prerequisite
// (want) or removes them (!want). Istio's installers create them: the Sail
// operator and istioctl before anything of a bundle is applied, so the sail
// and istioctl targets' bundles take them as given; the helm and rendered
// targets' bundles carry them (Istio's base chart) and must apply them in
// the right order themselves.
func (s *Suite) WithIstioCRDs(ctx context.Context, want bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.istioCRDs == want {
		return nil
	}
	crds, err := s.crdsOf("", "sailoperator.io_")
	if err != nil {
		return err
	}
	var errs []error
	for i, srv := range s.Servers {
		c, err := NewClient(srv, "istio-installer")
		if err != nil {
			return err
		}
		c.Apply(ctx, ServerSide, crds)
		if f := c.Findings(); len(f) > 0 {
			return fmt.Errorf("installing Istio's CRDs on %s: %v", srv.Name, f)
		}
		if !want {
			if err := c.Reset(ctx); err != nil {
				errs = append(errs, err)
			}
		} else {
			c.Forget()
		}
		if s.baseline[i], err = c.Contents(ctx); err != nil {
			return err
		}
	}
	s.istioCRDs = want
	return errors.Join(errs...)
}

// CheckClean fails unless every server holds exactly its baseline
// namespaces and CRDs: what one bundle left would hide the next one's
// ordering defects.
func (s *Suite) CheckClean(ctx context.Context) error {
	for i, srv := range s.Servers {
		c, err := NewClient(srv, "meshc-e2e-check")
		if err != nil {
			return err
		}
		now, err := c.Contents(ctx)
		if err != nil {
			return err
		}
		if !slices.Equal(now, s.baseline[i]) {
			return fmt.Errorf("%s was not emptied: has %v, expected %v", srv.Name, now, s.baseline[i])
		}
	}
	return nil
}

// Stop ends every process.
func (s *Suite) Stop() {
	for _, srv := range s.Servers {
		srv.Stop()
	}
	if s.etcd != nil {
		s.etcd.Stop()
	}
}

// StartServers starts one more API server per name on the suite's etcd
// (each keeps its objects under its own prefix, so names must be new to
// the suite), each with a ClusterNetwork of its own for its webhook calls,
// and installs the prerequisites on each. The caller stops them.
func (s *Suite) StartServers(ctx context.Context, names []string) ([]*APIServer, error) {
	prereqs, err := s.prerequisites()
	if err != nil {
		return nil, err
	}
	var out []*APIServer
	stopAll := func() {
		for _, srv := range out {
			srv.Stop()
		}
	}
	for _, name := range names {
		network, err := StartClusterNetwork()
		if err != nil {
			stopAll()
			return nil, err
		}
		srv, err := startAPIServer(s.Bin.APIServer, s.Dir, name, s.etcd, s.creds, network)
		if err != nil {
			network.Close()
			stopAll()
			return nil, err
		}
		out = append(out, srv)
		c, err := NewClient(srv, "meshc-e2e-prerequisites")
		if err != nil {
			stopAll()
			return nil, err
		}
		c.Apply(ctx, ServerSide, prereqs)
		if f := c.Findings(); len(f) > 0 {
			stopAll()
			return nil, fmt.Errorf("installing prerequisites on %s: %v", srv.Name, f)
		}
	}
	return out, nil
}

// CA is the PEM of the CA that signed every API server's serving
// certificate: what a kubeconfig's certificate-authority-data holds, and
// the ca.crt Kubernetes puts beside a service-account token.
func (s *Suite) CA() []byte { return s.creds.caPEM }
