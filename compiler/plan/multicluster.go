package plan

import (
	"cmp"
	"net/netip"
	"slices"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/resolve"
)

// EastWestGateway is a mesh's gateway between networks in one cluster:
// deployed by gateway injection from the revision that serves the cluster.
type EastWestGateway struct {
	Namespace string
	Mesh      string
	Network   string
	Revision  string
	// CrossNetwork is set when the mesh spans networks: the gateway then
	// passes service traffic through (cross-network-gateway on 15443).
	CrossNetwork bool
	// Remote is set when the gateway is injected through a remote
	// install, by an istiod in another cluster.
	Remote bool
	// WebhookOn443 is set when remotes call istiod's webhooks through this
	// gateway on port 443 (see ExternalNameWebhook).
	WebhookOn443 bool
	// Service shapes the gateway's Service when it carries istiod's address.
	Service *model.ExposeService
	Source  model.Path
	// Ambient is set for an ambient mesh: the gateway is then a Gateway
	// API Gateway of class istio-east-west, which istiod deploys, passing
	// double-HBONE on 15008 (it cannot expose istiod).
	Ambient bool
	// Why says why the gateway exists, and Exposes is, for
	// EastWestForExposure, the control plane whose exposure it is for.
	Why     EastWestReason
	Exposes *model.ControlPlane
}

// EastWestReason says why a cluster runs a mesh's east-west gateway.
type EastWestReason string

// East-west gateway reasons.
const (
	EastWestForNetworks EastWestReason = "networks" // the mesh spans networks
	EastWestWritten     EastWestReason = "written"  // the mesh sets eastWestGateways: true
	EastWestForExposure EastWestReason = "exposure" // it exposes istiod to remotes
)

// IstiodExposure makes a control plane reachable from its remotes.
type IstiodExposure struct {
	ControlPlane *model.ControlPlane
	Via          string
	Address      string
	// Ingress is the hosting cluster's ingress gateway that carries it,
	// for via ingressGateway.
	Ingress *IngressGateway
	// WebhookOn443: see ExternalNameWebhook.
	WebhookOn443 bool
	Source       model.Path
}

// ExternalNameWebhook reports whether remotes of cp call its webhooks on
// port 443 of its address. With a hostname remotePilotAddress (no TLS
// terminated for it), Istio's chart makes the remote's istiod Service an
// ExternalName for that hostname and points the webhooks at the Service's
// port 443; the API server then dials <hostname>:443, whatever the
// Service's targetPort says. Whatever serves the address must listen
// there and forward to istiod's webhook port, 15017. With an IP address,
// the chart writes an EndpointSlice, and Kubernetes maps 443 to 15017.
func ExternalNameWebhook(cp *model.ControlPlane) bool {
	if cp.Expose == nil || cp.Expose.TLS != nil || cp.Expose.Address == "" {
		return false
	}
	_, err := netip.ParseAddr(cp.Expose.Address)
	return err != nil
}

// IngressGateway exposes external control planes from their hosting
// cluster, injected by the hosting cluster's own control plane.
type IngressGateway struct {
	Namespace string
	Revision  string
	// WebhookOn443 is set when remotes call istiod's webhooks through this
	// gateway on port 443 (see ExternalNameWebhook).
	WebhookOn443 bool
	// Service shapes the gateway's Service, which carries istiod's address.
	Service *model.ExposeService
	Source  model.Path
	// Exposes are the external control planes it exposes, in plan order.
	Exposes []*model.ControlPlane
}

// RemoteSecret gives the control planes in Namespace the credentials of
// cluster Discovered. Config is set for an external control plane's config
// cluster: the kubeconfig istiod reads its configuration through.
type RemoteSecret struct {
	Config bool
	// ServiceAccount is whose token the discovered cluster provides.
	ServiceAccount string
	Namespace      string
	// ReaderNamespace is where the discovered cluster's reader token is.
	ReaderNamespace string
	Mesh            string
	Discovered      *model.Cluster
	Mode            string
	Store           *model.SecretStore
	Source          model.Path
	// Why says why the control planes discover the cluster, and Origin is
	// the line behind it (resolve.Discovery).
	Why    string
	Origin resolve.Origin
}

// ReaderToken is the token of a ServiceAccount of the install in
// Namespace, which control planes in other clusters use to watch this one:
// the reader, or istiod's own for an external control plane's config
// cluster.
type ReaderToken struct {
	Namespace      string
	ServiceAccount string
	Mesh           string
	Cluster        string
	Mode           string
	Store          *model.SecretStore
	Source         model.Path
}

// CACert is a cluster's intermediate CA (the cacerts Secret) under the
// mesh's shared root.
type CACert struct {
	Namespace   string
	Mesh        string
	Cluster     string
	TrustDomain string
	Trust       *model.Trust
	Source      model.Path
}

// Names of the objects istiod and istioctl expect.
const (
	ReaderServiceAccount = "istio-reader-service-account"
	CACertsSecret        = "cacerts"
	// ConfigSecret is the kubeconfig an external istiod reads its
	// configuration through, under the key ConfigSecretKey.
	ConfigSecret    = "istio-kubeconfig"
	ConfigSecretKey = "config"
)

// TokenSecretName is the Secret holding a ServiceAccount's token, named as
// istioctl create-remote-secret names it.
func TokenSecretName(serviceAccount string) string {
	return serviceAccount + "-istio-remote-secret-token"
}

// RemoteSecretName is the Secret istiod reads another cluster's
// credentials from.
func RemoteSecretName(cluster string) string { return "istio-remote-secret-" + cluster }

// SecretName is the name of r's Secret, and DataKey the key of its
// kubeconfig.
func (r *RemoteSecret) SecretName() string {
	if r.Config {
		return ConfigSecret
	}
	return RemoteSecretName(r.Discovered.Name)
}

// DataKey is the key of the kubeconfig in r's Secret.
func (r *RemoteSecret) DataKey() string {
	if r.Config {
		return ConfigSecretKey
	}
	return r.Discovered.Name
}

// IstiodServiceAccount is istiod's ServiceAccount for a revision.
func IstiodServiceAccount(cp *model.ControlPlane) string {
	if cp.IsDefaultRevision() {
		return "istiod"
	}
	return "istiod-" + cp.Revision
}

// multicluster plans the machinery of meshes spanning clusters for cl.
func multicluster(r *resolve.Topology, cl *model.Cluster, c *Cluster) {
	t := r.Model
	// The clusters the control planes here discover, by mesh.
	discoveries := map[string][]*resolve.Discovery{}
	for _, d := range r.Discoveries(cl.Name) {
		discoveries[d.Mesh] = append(discoveries[d.Mesh], d)
	}
	// The installs here come ordered by mesh: walk them mesh by mesh,
	// rather than every mesh of the fleet for every cluster.
	serving := t.ControlPlanesOfCluster(cl.Name)
	for start := 0; start < len(serving); {
		mname := serving[start].Mesh
		end := start
		for end < len(serving) && serving[end].Mesh == mname {
			end++
		}
		mine := serving[start:end] // this mesh's installs here, local or remote
		start = end
		mesh := t.Meshes[mname]
		facts := r.Mesh(mname)
		first := mine[0]
		// The gateways run with the cluster's default revision of the mesh
		// (the default revision, or the one the default tag points at)
		// when it has one: a canary beside it must not carry them.
		gatewayCP := first
		for _, cp := range mine {
			if cp.IsDefaultRevision() || slices.Contains(cp.Tags, model.DefaultRevision) {
				gatewayCP = cp
				break
			}
		}
		inDataPlane := slices.Contains(facts.Clusters, cl.Name)
		webhookOn443 := false
		// The first control plane (by name) exposed through the east-west
		// gateway that shapes its Service wins.
		var ewService *model.ExposeService
		var exposed *model.ControlPlane // the first exposed through the east-west gateway
		for _, cp := range mine {
			if cp.Cluster == cl.Name && len(cp.Remotes) > 0 && cp.Expose != nil {
				on443 := ExternalNameWebhook(cp)
				var ingress *IngressGateway
				if cp.Expose.Via == model.ExposeIngress {
					if host := r.Hosting(cp); host != nil {
						g := ingressIn(c, host.Namespace)
						if g == nil {
							g = &IngressGateway{Namespace: host.Namespace, Revision: host.Revision, Source: cp.Path().Child("expose")}
							c.IngressGateways = append(c.IngressGateways, g)
						}
						g.WebhookOn443 = g.WebhookOn443 || on443
						g.Service = cmp.Or(g.Service, cp.Expose.Service)
						g.Exposes = append(g.Exposes, cp)
						ingress = g
					}
				}
				c.IstiodExposures = append(c.IstiodExposures, &IstiodExposure{
					ControlPlane: cp, Via: cp.Expose.Via, Address: cp.Expose.Address, WebhookOn443: on443, Ingress: ingress,
					Source: cp.Path().Child("expose"),
				})
				if cp.Expose.Via == model.ExposeEastWest {
					exposed = cmp.Or(exposed, cp)
					webhookOn443 = webhookOn443 || on443
					ewService = cmp.Or(ewService, cp.Expose.Service)
				}
			}
		}
		exposesHere := exposed != nil
		if inDataPlane && facts.EastWest || exposesHere {
			source, why, exposes := model.Path{"meshes", mname}, EastWestForNetworks, (*model.ControlPlane)(nil)
			switch {
			case exposesHere && !facts.EastWest:
				source, why, exposes = exposed.Path().Child("expose"), EastWestForExposure, exposed
			case facts.EastWestOrigin.Rule == "":
				why = EastWestWritten
			}
			c.EastWestGateways = append(c.EastWestGateways, &EastWestGateway{
				Namespace: gatewayCP.Namespace, Mesh: mname, Network: cl.Network, Revision: gatewayCP.Revision,
				CrossNetwork: facts.MultiNetwork && facts.EastWest, Remote: gatewayCP.Cluster != cl.Name,
				WebhookOn443: webhookOn443, Service: ewService, Source: source, Ambient: facts.Ambient,
				Why: why, Exposes: exposes,
			})
		}

		// Secrets and trust matter once a control plane watches a cluster
		// other than its own: a mesh over several clusters, or any mesh
		// with an external control plane.
		if !facts.MultiCluster {
			continue
		}
		mode, store := model.SecretsManual, (*model.SecretStore)(nil)
		if rs := mesh.RemoteSecrets; rs != nil {
			mode, store = rs.Mode, rs.SecretStore
		}
		secretsSource := model.Path{"meshes", mname, "remoteSecrets"}
		// A remote secret for each cluster the control planes here
		// discover (resolve says which, and why).
		for _, d := range discoveries[mname] {
			sa := ReaderServiceAccount
			if d.Config {
				sa = IstiodServiceAccount(d.ControlPlane)
			}
			c.RemoteSecrets = append(c.RemoteSecrets, &RemoteSecret{
				Config: d.Config, ServiceAccount: sa,
				Namespace: d.Namespace, ReaderNamespace: readerNamespace(t, mname, d.Discovered),
				Mesh: mname, Discovered: t.Clusters[d.Discovered],
				Mode: mode, Store: store, Source: secretsSource,
				Why: d.Why, Origin: d.Origin,
			})
		}
		seen := map[[2]string]bool{}
		for _, cp := range mine {
			if cp.Cluster != cl.Name {
				continue
			}
			if mesh.Trust != nil && !seen[[2]string{cp.Namespace, "#ca"}] {
				seen[[2]string{cp.Namespace, "#ca"}] = true
				c.CACerts = append(c.CACerts, &CACert{
					Namespace: cp.Namespace, Mesh: mname, Cluster: cl.Name, TrustDomain: mesh.TrustDomain,
					Trust: mesh.Trust, Source: model.Path{"meshes", mname, "trust"},
				})
			}
		}
		// Control planes elsewhere watch this cluster with a token: an
		// external control plane reads its config cluster with istiod's own
		// account there, every other one with the reader's.
		if inDataPlane {
			needReader := false
			for _, cp := range mesh.ControlPlaneList() {
				switch {
				case cp.Cluster == cl.Name:
				case cp.External && cp.ConfigCluster == cl.Name:
					c.ReaderTokens = append(c.ReaderTokens, &ReaderToken{
						Namespace: first.Namespace, ServiceAccount: IstiodServiceAccount(cp), Mesh: mname, Cluster: cl.Name,
						Mode: mode, Store: store, Source: secretsSource,
					})
				default:
					needReader = true
				}
			}
			if needReader {
				c.ReaderTokens = append(c.ReaderTokens, &ReaderToken{
					Namespace: first.Namespace, ServiceAccount: ReaderServiceAccount, Mesh: mname, Cluster: cl.Name,
					Mode: mode, Store: store, Source: secretsSource,
				})
			}
		}
	}
	slices.SortStableFunc(c.RemoteSecrets, func(a, b *RemoteSecret) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Discovered.Name, b.Discovered.Name))
	})
}

// readerNamespace is the system namespace of mesh's first install in
// cluster, where its reader token is created.
func readerNamespace(t *model.Topology, mesh, cluster string) string {
	for _, cp := range t.ControlPlanesOfCluster(cluster) {
		if cp.Mesh == mesh {
			return cp.Namespace
		}
	}
	return model.DefaultNamespace
}

func ingressIn(c *Cluster, namespace string) *IngressGateway {
	for _, g := range c.IngressGateways {
		if g.Namespace == namespace {
			return g
		}
	}
	return nil
}
