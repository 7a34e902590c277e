package emit

// The apply order, written down as data. Every object meshc emits plays one
// role; each role has prerequisites: roles whose objects must be in place
// (and ready) before its own can become ready, in the same cluster or in
// another one. A role's layer is its place in the order: its folder, Flux
// Kustomization and Argo CD sync wave. TestApplyOrder checks that every
// prerequisite's layer comes strictly earlier, and that every emitted
// object sits in its role's layer.
//
// The order is the same in every cluster, which is what keeps clusters
// that wait on each other from deadlocking: a cluster stuck at layer n
// waits only for objects of layers before n elsewhere, which that cluster
// reaches without waiting for anything at layer n or later. Argo CD does
// not pass a wave until its objects are healthy, and Flux chains layers
// with dependsOn and wait, so an object placed too early blocks its whole
// cluster: on a remote, an east-west gateway applied before the secrets
// that let the primary's istiod reach the remote never gets its pods
// injected, and the secrets after it are never applied.

// Role is what an object does for a mesh to come up.
type Role string

// The roles, in apply order.
const (
	RoleNamespace Role = "namespace" // Namespaces, labelled for their mesh
	// RoleTrust is a cluster's intermediate CA (cacerts): istiod reads it
	// only when it starts, so it must exist first.
	RoleTrust Role = "trust"
	// RoleReaderIdentity is the reader ServiceAccount, where no Istio
	// install creates it.
	RoleReaderIdentity Role = "reader-identity"
	// RoleControlPlane is an install in its own cluster, or a remote
	// install (remote profile): istiod, its webhooks and CRDs, the CNI
	// agent. A remote install needs nothing from its primary to apply.
	RoleControlPlane Role = "control-plane"
	// RoleReaderToken is the token Secret of a ServiceAccount other
	// clusters' istiods read this one with, and the PushSecret carrying it
	// to the store. Kubernetes fills (and keeps) the token only when its
	// ServiceAccount exists, and binds it to what the install's
	// ClusterRoleBinding grants.
	RoleReaderToken Role = "reader-token"
	// RoleRemoteSecret is istiod's secret for a cluster it discovers (or an
	// external istiod's istio-kubeconfig), built from the token pushed from
	// that cluster.
	RoleRemoteSecret Role = "remote-secret"
	// RoleExternalControlPlane is an external istiod: it mounts
	// istio-kubeconfig optionally, and without it client-go falls back to
	// the hosting cluster, so the kubeconfig must come first.
	RoleExternalControlPlane Role = "external-control-plane"
	// RoleRevisionTag points at a control plane, which must exist.
	RoleRevisionTag Role = "revision-tag"
	// RoleExposure routes remotes to istiod (Gateway, VirtualService,
	// DestinationRule, a LoadBalancer Service): it needs Istio's CRDs and
	// the istiod it routes to.
	RoleExposure Role = "exposure"
	// RoleLocalGateway is a gateway injected by an istiod of its own
	// cluster (east-west on a primary, the ingress gateway of a hosting
	// cluster).
	RoleLocalGateway Role = "local-gateway"
	// RoleRemoteGateway is a gateway injected through a remote install:
	// its pods start only once the primary's istiod holds this cluster's
	// remote secret (it then patches the injector's caBundle and writes
	// istio-ca-root-cert here) and is reachable through its exposure.
	RoleRemoteGateway Role = "remote-gateway"
	// RoleMeshConfig is mesh policy (PeerAuthentication): it needs the CRDs
	// istiod's install brings.
	RoleMeshConfig Role = "mesh-config"
)

// Need is one prerequisite of a role. Elsewhere marks a prerequisite in
// another cluster (the primary's, the discovered cluster's).
type Need struct {
	Role      Role
	Elsewhere bool
	Why       string
}

// Prerequisites says what each role needs before its objects can become
// ready. It is the reason for the order of Layers, not derived from it.
var Prerequisites = map[Role][]Need{
	RoleNamespace: nil,
	RoleTrust:     {{RoleNamespace, false, "the Certificate or ExternalSecret lives in istiod's namespace"}},
	RoleReaderIdentity: {
		{RoleNamespace, false, "the ServiceAccount lives in the mesh's system namespace"},
	},
	RoleControlPlane: {
		{RoleNamespace, false, "istiod's namespace carries the mesh's labels"},
		{RoleTrust, false, "istiod reads cacerts once, when it starts; without it, it signs with a self-signed root"},
	},
	RoleReaderToken: {
		{RoleReaderIdentity, false, "the token controller deletes a token Secret whose ServiceAccount does not exist"},
		{RoleControlPlane, false, "the install creates the ServiceAccount (where meshc does not) and its ClusterRoleBinding"},
	},
	RoleRemoteSecret: {
		{RoleReaderToken, true, "the remote secret is built from the token pushed from the discovered cluster"},
		{RoleNamespace, false, "the secret lives in istiod's namespace"},
	},
	RoleExternalControlPlane: {
		{RoleRemoteSecret, false, "istio-kubeconfig must exist when the external istiod starts"},
		{RoleTrust, false, "istiod reads cacerts once, when it starts"},
		{RoleReaderToken, true, "istio-kubeconfig carries istiod's token from the config cluster"},
	},
	RoleRevisionTag: {
		{RoleControlPlane, false, "a tag points at an installed revision"},
		{RoleExternalControlPlane, false, "a tag may point at an external control plane"},
	},
	RoleExposure: {
		{RoleControlPlane, false, "Gateway and VirtualService need Istio's CRDs"},
		{RoleExternalControlPlane, false, "the exposure routes to the external istiod"},
	},
	RoleLocalGateway: {
		{RoleControlPlane, false, "the gateway's pods are injected by istiod here"},
		{RoleTrust, false, "the gateway's certificate chains to the mesh's root"},
	},
	RoleRemoteGateway: {
		{RoleControlPlane, false, "the remote install brings the injection webhook"},
		{RoleReaderToken, false, "the primary's istiod reaches this cluster with this token"},
		{RoleRemoteSecret, true, "the primary's istiod patches the injector's caBundle and writes istio-ca-root-cert once it holds this cluster's remote secret"},
		{RoleExternalControlPlane, true, "an external istiod injects the gateway"},
		{RoleExposure, true, "the injector is reached through the primary's exposure"},
		{RoleLocalGateway, true, "the primary's east-west or ingress gateway serves that exposure"},
	},
	RoleMeshConfig: {
		{RoleControlPlane, false, "PeerAuthentication's CRD comes with the install"},
		{RoleExternalControlPlane, false, "an external istiod's config cluster holds the mesh's policy"},
	},
}

// Layer returns the layer a role's objects are applied in.
func (r Role) Layer() Layer {
	switch r {
	case RoleNamespace:
		return LayerNamespaces
	case RoleTrust, RoleReaderIdentity:
		return LayerTrust
	case RoleControlPlane:
		return LayerControlPlane
	case RoleReaderToken:
		return LayerReaderTokens
	case RoleRemoteSecret:
		return LayerRemoteSecrets
	case RoleExternalControlPlane:
		return LayerExternalControlPlane
	case RoleRevisionTag, RoleExposure, RoleLocalGateway:
		return LayerGateways
	case RoleRemoteGateway:
		return LayerRemoteGateways
	case RoleMeshConfig:
		return LayerMeshConfig
	}
	panic("emit: role without a layer: " + string(r))
}

// Roles lists every role, in apply order.
var Roles = []Role{
	RoleNamespace, RoleTrust, RoleReaderIdentity, RoleControlPlane, RoleReaderToken, RoleRemoteSecret,
	RoleExternalControlPlane, RoleRevisionTag, RoleExposure, RoleLocalGateway, RoleRemoteGateway, RoleMeshConfig,
}

// at places an object of role r.
func at(r Role, obj Object) Resource { return Resource{Layer: r.Layer(), Role: r, Object: obj} }
