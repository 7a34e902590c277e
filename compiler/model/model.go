// Package model holds the topology as plain Go types: what the loader decodes
// once from CUE, with defaults resolved. Every later stage (semantic checks,
// planning, emitting) reads these types and never sees CUE.
//
// Import direction: model imports only diag, release and the standard
// library.
package model

import (
	"slices"
	"strconv"
	"strings"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/release"
)

// APIVersion and Kind identify a topology document.
const (
	APIVersion = "meshc.dev/v1alpha1"
	Kind       = "Topology"
)

// Installer is an installer target: what installs the control planes.
type Installer string

// Installer targets.
const (
	InstallerSail     Installer = "sail"
	InstallerIstioctl Installer = "istioctl"
	InstallerRendered Installer = "rendered"
	InstallerHelm     Installer = "helm"
)

// Platform is the Kubernetes distribution a cluster runs.
type Platform string

// Platforms.
const (
	PlatformKubernetes Platform = "kubernetes"
	PlatformOpenShift  Platform = "openshift"
)

// DefaultRevision is the revision name of Istio's unnamed default revision.
const DefaultRevision = "default"

// MTLSNone asks for no mesh-wide PeerAuthentication.
const MTLSNone = "NONE"

// Topology is a decoded topology document.
type Topology struct {
	APIVersion string              `json:"apiVersion"`
	Kind       string              `json:"kind"`
	Metadata   Metadata            `json:"metadata"`
	Defaults   Defaults            `json:"defaults"`
	Networks   map[string]Network  `json:"networks"`
	Clusters   map[string]*Cluster `json:"clusters"`
	Meshes     map[string]*Mesh    `json:"meshes"`
	Tenants    map[string]*Tenant  `json:"tenants"`
	Delivery   *Delivery           `json:"delivery"`

	// Source locates topology paths in the input files; nil when the
	// topology was built in memory.
	Source Source `json:"-"`

	// index is built by ResolveDefaults: lookups that every stage repeats
	// per cluster, which would be quadratic at fleet scale otherwise.
	index index
	// defaulted holds the paths of the fields ResolveDefaults filled.
	defaulted map[string]bool
}

type index struct {
	controlPlanes []*ControlPlane            // ordered by mesh, then name
	byCluster     map[string][]*ControlPlane // serving each cluster, same order
}

// Delivery says where the output is committed, for Argo CD and Flux.
type Delivery struct {
	RepoURL  string        `json:"repoURL"`
	Revision string        `json:"revision"`
	Path     string        `json:"path"`
	ArgoCD   *ArgoCDConfig `json:"argocd"`
	Flux     *FluxConfig   `json:"flux"`
}

// ArgoCDConfig configures the Argo CD objects meshc emits.
type ArgoCDConfig struct {
	Namespace   string `json:"namespace"`
	Project     string `json:"project"`
	Mode        string `json:"mode"`
	Destination string `json:"destination"`
}

// FluxConfig configures the Flux objects meshc emits.
type FluxConfig struct {
	GitRepository string `json:"gitRepository"`
	Namespace     string `json:"namespace"`
	Interval      string `json:"interval"`
}

// Metadata names the topology.
type Metadata struct {
	Name string `json:"name"`
}

// Defaults apply where a mesh or control plane says nothing.
type Defaults struct {
	Istio     IstioDefaults `json:"istio"`
	Installer Installer     `json:"installer"`
	Helm      HelmDefaults  `json:"helm"`
	Sail      SailDefaults  `json:"sail"`
}

// SailDefaults say which Sail operator release the sail target's CRs are
// for: it decides which Istio releases will be installed at all.
type SailDefaults struct {
	// Operator is the operator's release ("1.30" or "1.30.3"); empty means
	// the newest meshc knows (release.DefaultSailOperator).
	Operator string `json:"operator"`
}

// HelmDefaults say where Istio's charts are published, for the helm target.
type HelmDefaults struct {
	Repository string `json:"repository"`
}

// DefaultHelmRepository is where Istio publishes its charts, every
// release's (see package release).
const DefaultHelmRepository = release.ChartRepository

// GatewayAPIVersion is the Gateway API release an ambient mesh's clusters
// need (standard channel; see package release).
const GatewayAPIVersion = release.GatewayAPI

// IstioDefaults are fleet-wide Istio settings.
type IstioDefaults struct {
	Version string `json:"version"`
}

// Network is an L3 network; its members are the clusters that name it.
type Network struct{}

// Cluster is one Kubernetes cluster; it gets its own bundle.
type Cluster struct {
	Name          string   `json:"-"`
	Network       string   `json:"network"`
	Platform      Platform `json:"platform"`
	CNI           bool     `json:"cni"`
	APIServer     string   `json:"apiServer"`
	CABundle      string   `json:"caBundle"`
	TLSServerName string   `json:"tlsServerName"`
	PodCIDRs      []string `json:"podCIDRs"`
	ServiceCIDRs  []string `json:"serviceCIDRs"`
}

// NeedsCNI reports whether the cluster runs the Istio CNI node agent.
func (c *Cluster) NeedsCNI() bool { return c.CNI || c.Platform == PlatformOpenShift }

// Mesh is one Istio mesh.
type Mesh struct {
	Name           string                   `json:"-"`
	MeshID         string                   `json:"meshID"`
	TrustDomain    string                   `json:"trustDomain"`
	Version        string                   `json:"version"`
	DiscoveryLabel map[string]string        `json:"discoveryLabel"`
	MTLS           string                   `json:"mtls"`
	ControlPlanes  map[string]*ControlPlane `json:"controlPlanes"`
	Trust          *Trust                   `json:"trust"`
	RemoteSecrets  *RemoteSecrets           `json:"remoteSecrets"`
	// EastWestGateways is nil when the user left it to meshc (on when the
	// mesh spans networks).
	EastWestGateways *bool `json:"eastWestGateways"`
	// DataPlane is sidecar or ambient.
	DataPlane string `json:"dataplane"`
}

// Data plane modes, and where a tenant's waypoint goes.
const (
	DataPlaneSidecar       = "sidecar"
	DataPlaneAmbient       = "ambient"
	WaypointNamespace      = "namespace"
	WaypointServiceAccount = "serviceAccount"
)

// TrustMode is how a mesh's clusters get their intermediate CAs under one
// root of trust.
type TrustMode string

// Trust modes.
const (
	TrustCertManager     TrustMode = "certManager"
	TrustExternalSecrets TrustMode = "externalSecrets"
	TrustManual          TrustMode = "manual"
)

// Remote-secret modes.
const (
	SecretsExternalSecret = "externalSecrets"
	SecretsManual         = "manual"
)

// Trust is how a mesh's clusters share one root of trust.
type Trust struct {
	Mode        TrustMode    `json:"mode"`
	Issuer      *Issuer      `json:"issuer"`
	SecretStore *SecretStore `json:"secretStore"`
}

// Issuer is a cert-manager issuer.
type Issuer struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// RemoteSecrets is how control planes get other clusters' credentials.
type RemoteSecrets struct {
	Mode        string       `json:"mode"`
	SecretStore *SecretStore `json:"secretStore"`
}

// SecretStore is an External Secrets store.
type SecretStore struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	KeyPrefix string `json:"keyPrefix"`
}

// Expose says how remote clusters reach a control plane.
type Expose struct {
	Via     string         `json:"via"`
	Address string         `json:"address"`
	TLS     *ExposeTLS     `json:"tls"`
	Service *ExposeService `json:"service"`
}

// ExposeService shapes the LoadBalancer Service that carries istiod's
// address: internal load balancers, reserved addresses, classes.
type ExposeService struct {
	Annotations              map[string]string `json:"annotations"`
	LoadBalancerIP           string            `json:"loadBalancerIP"`
	LoadBalancerClass        string            `json:"loadBalancerClass"`
	LoadBalancerSourceRanges []string          `json:"loadBalancerSourceRanges"`
}

// ExposeTLS terminates TLS for istiod's address at the ingress gateway.
type ExposeTLS struct {
	CredentialName string `json:"credentialName"`
}

// Ways to expose istiod.
const (
	ExposeEastWest     = "eastWestGateway"
	ExposeLoadBalancer = "loadBalancer"
	ExposeIngress      = "ingressGateway"
)

// ControlPlane is one istiod deployment of a mesh.
type ControlPlane struct {
	Name          string         `json:"-"`
	Mesh          string         `json:"-"`
	Cluster       string         `json:"cluster"`
	Namespace     string         `json:"namespace"`
	Revision      string         `json:"revision"`
	Version       string         `json:"version"`
	Profile       string         `json:"profile"`
	Tags          []string       `json:"tags"`
	Remotes       []string       `json:"remotes"`
	Expose        *Expose        `json:"expose"`
	External      bool           `json:"external"`
	ConfigCluster string         `json:"configCluster"`
	Values        map[string]any `json:"values"`
}

// ServesCluster reports whether the control plane serves workloads in
// cluster: its own (unless it is external), or one of its remotes.
func (cp *ControlPlane) ServesCluster(cluster string) bool {
	return cp.Cluster == cluster && !cp.External || slices.Contains(cp.Remotes, cluster)
}

// ClusterID is istiod's cluster ID (CLUSTER_ID): its own cluster's name,
// or for an external control plane its config cluster's. Remotes name it
// in topology.istio.io/controlPlaneClusters.
func (cp *ControlPlane) ClusterID() string {
	if cp.External {
		return cp.ConfigCluster
	}
	return cp.Cluster
}

// DataPlaneClusters are the clusters whose workloads the control plane
// serves.
func (cp *ControlPlane) DataPlaneClusters() []string {
	if cp.External {
		return cp.Remotes
	}
	return append([]string{cp.Cluster}, cp.Remotes...)
}

// Path is the control plane's topology path.
func (cp *ControlPlane) Path() Path {
	return Path{"meshes", cp.Mesh, "controlPlanes", cp.Name}
}

// IsDefaultRevision reports whether the control plane is Istio's default
// revision (unnamed; istiod without a suffix).
func (cp *ControlPlane) IsDefaultRevision() bool { return cp.Revision == DefaultRevision }

// Serves reports whether rev is the control plane's revision or one of its tags.
func (cp *ControlPlane) Serves(rev string) bool {
	return rev == cp.Revision || slices.Contains(cp.Tags, rev)
}

// Tenant is a group of application namespaces that join one mesh.
type Tenant struct {
	Name         string            `json:"-"`
	Mesh         string            `json:"mesh"`
	ControlPlane string            `json:"controlPlane"`
	Revision     string            `json:"revision"`
	Clusters     []string          `json:"clusters"`
	Namespaces   []string          `json:"namespaces"`
	Labels       map[string]string `json:"labels"`
	MTLS         string            `json:"mtls"`
	// DataPlane overrides the mesh's data plane; empty means the mesh's.
	DataPlane string `json:"dataplane"`
	// Waypoint is where the tenant's waypoint goes; empty for none.
	Waypoint string `json:"waypoint"`
}

// Path is a topology path: map keys (string) and list indexes (int).
type Path []any

// String renders a path the way users write it: meshes.m.controlPlanes.cp,
// with list indexes in brackets and keys that are not plain names quoted.
func (p Path) String() string {
	var b strings.Builder
	b.Grow(16 * len(p))
	for i, s := range p {
		writeSegment(&b, i, s)
	}
	return b.String()
}

// ChildString is the String of a path of n segments written s, extended
// by seg: a walk naming every node of a tree writes each name once, not
// each node's whole path again.
func ChildString(s string, n int, seg any) string {
	var b strings.Builder
	b.Grow(len(s) + 24)
	b.WriteString(s)
	writeSegment(&b, n, seg)
	return b.String()
}

// writeSegment writes seg, the i-th segment of a path, as String shows it.
func writeSegment(b *strings.Builder, i int, seg any) {
	switch s := seg.(type) {
	case int:
		var digits [20]byte
		b.WriteByte('[')
		b.Write(strconv.AppendInt(digits[:0], int64(s), 10))
		b.WriteByte(']')
	case string:
		if !plainKey(s) {
			b.WriteByte('[')
			b.WriteString(strconv.Quote(s))
			b.WriteByte(']')
			return
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
}

// Child returns p extended by segs, without aliasing p.
func (p Path) Child(segs ...any) Path {
	return append(slices.Clip(p), segs...)
}

func plainKey(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Source locates a topology path in the input. For a path the user did not
// write (a default), it returns the position of the nearest written ancestor.
type Source interface {
	Pos(Path) diag.Pos
}

// Pos locates path in the topology's source; the zero Pos when unknown.
func (t *Topology) Pos(p Path) diag.Pos {
	if t.Source == nil {
		return diag.Pos{}
	}
	return t.Source.Pos(p)
}

// SortedKeys returns a map's keys in order; all iteration that shapes output
// goes through it so output never depends on map order.
func SortedKeys[V any](m map[string]V) []string {
	// Made at its size: a fleet's maps hold thousands of keys, and
	// slices.Sorted(maps.Keys(m)) grows its slice to them.
	if len(m) == 0 {
		return nil // as slices.Sorted gives
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ControlPlanes returns every control plane of the topology, ordered by mesh
// then name. The slice is shared: callers must not modify it.
func (t *Topology) ControlPlanes() []*ControlPlane {
	return t.index.controlPlanes
}

func (t *Topology) buildIndex() {
	t.index = index{byCluster: map[string][]*ControlPlane{}}
	for _, m := range SortedKeys(t.Meshes) {
		mesh := t.Meshes[m]
		for _, c := range SortedKeys(mesh.ControlPlanes) {
			cp := mesh.ControlPlanes[c]
			t.index.controlPlanes = append(t.index.controlPlanes, cp)
			t.index.byCluster[cp.Cluster] = append(t.index.byCluster[cp.Cluster], cp)
			for _, r := range slices.Compact(slices.Sorted(slices.Values(cp.Remotes))) {
				if r != cp.Cluster {
					t.index.byCluster[r] = append(t.index.byCluster[r], cp)
				}
			}
		}
	}
}

// ControlPlaneList returns the mesh's control planes ordered by name.
func (m *Mesh) ControlPlaneList() []*ControlPlane {
	out := make([]*ControlPlane, 0, len(m.ControlPlanes))
	for _, name := range SortedKeys(m.ControlPlanes) {
		out = append(out, m.ControlPlanes[name])
	}
	return out
}

// Clusters returns the clusters a mesh's workloads run in: where its
// control planes run (unless external) and their remotes, sorted.
func (m *Mesh) Clusters() []string {
	var out []string
	for _, cp := range m.ControlPlanes {
		out = append(out, cp.DataPlaneClusters()...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// PrimaryClusters returns the clusters where the mesh's control planes run
// (hosting clusters of external ones included): each is a CA of its own.
func (m *Mesh) PrimaryClusters() []string {
	var out []string
	for _, cp := range m.ControlPlanes {
		out = append(out, cp.Cluster)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// MeshNetworks returns the networks of the mesh's clusters, sorted ("" for
// a cluster without one).
func (t *Topology) MeshNetworks(m *Mesh) []string {
	var out []string
	for _, c := range m.Clusters() {
		if cl := t.Clusters[c]; cl != nil {
			out = append(out, cl.Network)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// MultiNetwork reports whether a mesh spans more than one network.
func (t *Topology) MultiNetwork(m *Mesh) bool { return len(t.MeshNetworks(m)) > 1 }

// WantsEastWest reports whether the mesh's clusters get east-west
// gateways: as the user says, else when the mesh spans networks.
func (t *Topology) WantsEastWest(m *Mesh) bool {
	if m.EastWestGateways != nil {
		return *m.EastWestGateways
	}
	return t.MultiNetwork(m)
}
