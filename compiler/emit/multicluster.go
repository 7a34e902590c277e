package emit

import (
	"cmp"
	"fmt"
	"maps"
	"strings"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
)

// Labels and names of the east-west gateway, as Istio's samples and the
// Sail operator's docs spell them.
const (
	eastWestName       = "istio-eastwestgateway"
	eastWestSelector   = "eastwestgateway"
	crossNetworkName   = "cross-network-gateway"
	istiodGatewayName  = "istiod-gateway"
	externalSecretsAPI = "external-secrets.io/v1"
	pushSecretAPI      = "external-secrets.io/v1alpha1"
	certManagerAPI     = "cert-manager.io/v1"
	// ManualStepsFile, in a cluster's folder, says what to create by hand
	// when a mesh's secrets are in manual mode.
	ManualStepsFile = "MANUAL-STEPS.md"
)

func eastWestLabels(network string) map[string]string {
	l := map[string]string{"istio": eastWestSelector, "app": eastWestName}
	if network != "" {
		l[plan.LabelNetwork] = network
	}
	return l
}

// istioMeta is meta for an Istio networking object: like PeerAuthentication,
// its CRD comes with istiod, so Argo CD's dry run on a first sync must not
// require it.
func istioMeta(name, namespace string, wave int, source model.Path) map[string]any {
	m := meta(name, namespace, wave, source, nil)
	m["annotations"].(map[string]any)[AnnotationSyncOptions] = skipDryRun
	return m
}

// skipDryRun lets Argo CD apply an object whose CRD an earlier wave of the
// same sync installs.
const skipDryRun = "SkipDryRunOnMissingResource=true"

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// injectedGateway is a gateway deployed the way the Sail operator's docs
// deploy them: a Deployment whose pod template asks the revision's injector
// for the gateway template, its ServiceAccount, a Role and RoleBinding that
// let it read its certificates' Secrets, and a LoadBalancer Service.
type injectedGateway struct {
	name, namespace, revision string
	selector                  map[string]string // istio and app labels
	labels                    map[string]string // on every object (selector and more)
	env                       []any
	ports                     []gatewayPort
	source                    model.Path
	// role says who injects it: an istiod of its own cluster, or one
	// elsewhere through a remote install.
	role Role
	// service shapes its Service when it carries istiod's address.
	service *model.ExposeService
	// realises is the plan's gateway (Resource.For).
	realises any
}

// loadBalancer is a LoadBalancer Service for ports and selector, shaped as
// the topology says (internal load balancers, reserved addresses).
func loadBalancer(metadata map[string]any, selector map[string]any, ports []any, shape *model.ExposeService) Object {
	spec := map[string]any{"type": "LoadBalancer", "selector": selector, "ports": ports}
	if shape != nil {
		for k, v := range shape.Annotations {
			metadata["annotations"].(map[string]any)[k] = v
		}
		setLoadBalancerFields(spec, shape)
	}
	return Object{"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}
}

// setLoadBalancerFields copies what the topology says of a load balancer
// into a Service spec, or the gateway chart's service values, which use
// the same field names.
func setLoadBalancerFields(spec map[string]any, shape *model.ExposeService) {
	if shape.LoadBalancerIP != "" {
		spec["loadBalancerIP"] = shape.LoadBalancerIP
	}
	if shape.LoadBalancerClass != "" {
		spec["loadBalancerClass"] = shape.LoadBalancerClass
	}
	if len(shape.LoadBalancerSourceRanges) > 0 {
		spec["loadBalancerSourceRanges"] = anyList(shape.LoadBalancerSourceRanges)
	}
}

func anyList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

type gatewayPort struct {
	name   string
	number int
	// target is the pod's port, when it is not number.
	target int
}

func (p gatewayPort) targetPort() int {
	if p.target != 0 {
		return p.target
	}
	return p.number
}

// webhookOn443 forwards port 443 to istiod's webhook port on whatever
// serves a hostname istiod is exposed at: remotes' API servers call the
// webhooks there (plan.ExternalNameWebhook). The listener behind 15017
// routes it, so nothing else changes.
var webhookOn443 = gatewayPort{"tls-webhook-443", 443, 15017}

func (g injectedGateway) resources() []Resource {
	wave := g.role.Layer().Wave
	podLabels := maps.Clone(g.labels)
	podLabels["sidecar.istio.io/inject"] = "true"
	podLabels[plan.LabelRev] = g.revision
	container := map[string]any{"name": "istio-proxy", "image": "auto"}
	if len(g.env) > 0 {
		container["env"] = g.env
	}
	var ports []any
	for _, p := range g.ports {
		ports = append(ports, map[string]any{"name": p.name, "port": p.number, "targetPort": p.targetPort(), "protocol": "TCP"})
	}
	return []Resource{
		{Layer: g.role.Layer(), Role: g.role, For: g.realises, Object: Object{
			"apiVersion": "v1", "kind": "ServiceAccount",
			"metadata": meta(g.name, g.namespace, wave, g.source, g.labels),
		}},
		{Layer: g.role.Layer(), Role: g.role, For: g.realises, Object: Object{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
			"metadata": meta(g.name+"-sds", g.namespace, wave, g.source, g.labels),
			"rules": []any{map[string]any{
				"apiGroups": []any{""}, "resources": []any{"secrets"}, "verbs": []any{"get", "watch", "list"},
			}},
		}},
		{Layer: g.role.Layer(), Role: g.role, For: g.realises, Object: Object{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
			"metadata": meta(g.name+"-sds", g.namespace, wave, g.source, g.labels),
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": g.name + "-sds"},
			"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": g.name}},
		}},
		{Layer: g.role.Layer(), Role: g.role, For: g.realises, Object: Object{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": meta(g.name, g.namespace, wave, g.source, g.labels),
			"spec": map[string]any{
				"selector": map[string]any{"matchLabels": anyMap(g.selector)},
				"template": map[string]any{
					"metadata": map[string]any{
						"annotations": map[string]any{"inject.istio.io/templates": "gateway"},
						"labels":      anyMap(podLabels),
					},
					"spec": map[string]any{
						"serviceAccountName": g.name,
						"containers":         []any{container},
					},
				},
			},
		}},
		{Layer: g.role.Layer(), Role: g.role, For: g.realises, Object: loadBalancer(meta(g.name, g.namespace, wave, g.source, g.labels), anyMap(g.selector), ports, g.service)},
	}
}

// eastWestGateway is a mesh's gateway between networks. Its Service
// carries the network label: Istio treats any Service labelled
// topology.istio.io/network as that network's gateway.
func eastWestGateway(gw *plan.EastWestGateway) injectedGateway {
	g := injectedGateway{
		name: eastWestName, namespace: gw.Namespace, revision: gw.Revision,
		selector: map[string]string{"istio": eastWestSelector, "app": eastWestName},
		labels:   eastWestLabels(gw.Network),
		ports:    []gatewayPort{{"status-port", 15021, 0}, {"tls", 15443, 0}, {"tls-istiod", 15012, 0}, {"tls-webhook", 15017, 0}},
		source:   gw.Source,
		role:     RoleLocalGateway,
		realises: gw,
	}
	if gw.WebhookOn443 {
		g.ports = append(g.ports, webhookOn443)
	}
	g.service = gw.Service
	if gw.Remote {
		g.role = RoleRemoteGateway
	}
	if gw.Network != "" {
		g.env = []any{map[string]any{"name": "ISTIO_META_REQUESTED_NETWORK_VIEW", "value": gw.Network}}
	}
	return g
}

// ambientEastWestGateway is an ambient mesh's gateway between networks:
// the Gateway istioctl's gen-eastwest-gateway.sh --ambient writes. Other
// networks' istiods take it for this network's gateway by its class, its
// network label, its HBONE listener terminating TLS and its address; the
// proxy istiod deploys for it reads its network from the label.
func ambientEastWestGateway(gw *plan.EastWestGateway) Resource {
	labels := map[string]string{plan.LabelNetwork: gw.Network}
	if gw.Revision != model.DefaultRevision {
		labels[plan.LabelRev] = gw.Revision
	}
	return istioGateway(eastWestName, gw.Namespace, gw.Source, labels, "istio-east-west", map[string]any{
		"name": "mesh", "port": 15008, "protocol": "HBONE",
		"tls": map[string]any{
			"mode":    "Terminate", // double HBONE
			"options": map[string]any{"gateway.istio.io/tls-terminate-mode": "ISTIO_MUTUAL"},
		},
	})
}

// crossNetworkGateway opens the mesh's services to other networks.
func crossNetworkGateway(gw *plan.EastWestGateway) []Resource {
	wave := LayerGateways.Wave
	var out []Resource
	if gw.CrossNetwork {
		// Services of the mesh reachable from other networks, mTLS kept
		// end to end (the gateway routes by SNI).
		out = append(out, Resource{Layer: LayerGateways, Role: RoleExposure, Object: Object{
			"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
			"metadata": istioMeta(crossNetworkName, gw.Namespace, wave, gw.Source),
			"spec": map[string]any{
				"selector": map[string]any{"istio": eastWestSelector},
				"servers": []any{map[string]any{
					"port":  map[string]any{"number": 15443, "name": "tls", "protocol": "TLS"},
					"tls":   map[string]any{"mode": "AUTO_PASSTHROUGH"},
					"hosts": []any{"*.local"},
				}},
			},
		}})
	}
	return out
}

// ingressGateway deploys the hosting cluster's ingress gateway that
// exposes external control planes (status, xDS and webhook ports), injected
// by the hosting cluster's own control plane.
func ingressGateway(gw *plan.IngressGateway) injectedGateway {
	const name = "istio-ingressgateway"
	selector := map[string]string{"istio": "ingressgateway", "app": name}
	g := injectedGateway{
		name: name, namespace: gw.Namespace, revision: gw.Revision,
		selector: selector, labels: maps.Clone(selector),
		ports:  []gatewayPort{{"status-port", 15021, 0}, {"tls-xds", 15012, 0}, {"tls-webhook", 15017, 0}},
		source: gw.Source, role: RoleLocalGateway, realises: gw,
	}
	if gw.WebhookOn443 {
		g.ports = append(g.ports, webhookOn443)
	}
	g.service = gw.Service
	return g
}

// externalExposure routes the hosting cluster's ingress gateway to an
// external istiod: TLS terminated for its hostname with a DestinationRule
// re-encrypting to istiod, or, for an IP address, passed through by SNI.
func externalExposure(x *plan.IstiodExposure) []Resource {
	cp := x.ControlPlane
	svc := istiodServiceName(cp)
	fqdn := svc + "." + cp.Namespace + ".svc.cluster.local"
	base := "external-" + svc
	wave := LayerGateways.Wave
	dest := func(port int) []any {
		return []any{map[string]any{"destination": map[string]any{"host": fqdn, "port": map[string]any{"number": port}}}}
	}
	if x.ControlPlane.Expose.TLS != nil {
		server := func(n int, name string) map[string]any {
			return map[string]any{
				"port":  map[string]any{"number": n, "name": name, "protocol": "HTTPS"},
				"tls":   map[string]any{"mode": "SIMPLE", "credentialName": cp.Expose.TLS.CredentialName},
				"hosts": []any{x.Address},
			}
		}
		return append(gatewayRoutes(base, x, []any{server(15012, "https-xds"), server(15017, "https-webhook")}, x.Address,
			"http", []any{
				map[string]any{"match": []any{map[string]any{"port": 15012}}, "route": dest(15012)},
				map[string]any{"match": []any{map[string]any{"port": 15017}}, "route": dest(443)},
			}),
			Resource{Layer: LayerGateways, Role: RoleExposure, Object: Object{
				"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
				"metadata": istioMeta(base+"-dr", cp.Namespace, wave, x.Source),
				"spec": map[string]any{
					"host": fqdn,
					"trafficPolicy": map[string]any{"portLevelSettings": []any{
						map[string]any{
							"port":           map[string]any{"number": 15012},
							"tls":            map[string]any{"mode": "SIMPLE"},
							"connectionPool": map[string]any{"http": map[string]any{"h2UpgradePolicy": "UPGRADE"}},
						},
						map[string]any{"port": map[string]any{"number": 443}, "tls": map[string]any{"mode": "SIMPLE"}},
					}},
				},
			}})
	}
	server := func(n int, name string) map[string]any {
		return map[string]any{
			"port":  map[string]any{"number": n, "name": name, "protocol": "TLS"},
			"tls":   map[string]any{"mode": "PASSTHROUGH"},
			"hosts": []any{"*"},
		}
	}
	route := func(port, target int) map[string]any {
		return map[string]any{
			"match": []any{map[string]any{"port": port, "sniHosts": []any{"*"}}},
			"route": dest(target),
		}
	}
	return gatewayRoutes(base, x, []any{server(15012, "tls-xds"), server(15017, "tls-webhook")}, "*",
		"tls", []any{route(15012, 15012), route(15017, 443)})
}

// gatewayRoutes is the hosting cluster's ingress Gateway <base>-gw with
// servers, and the VirtualService <base>-vs routing host through it.
func gatewayRoutes(base string, x *plan.IstiodExposure, servers []any, host, routeKind string, routes []any) []Resource {
	ns, wave := x.ControlPlane.Namespace, LayerGateways.Wave
	return []Resource{
		{Layer: LayerGateways, Role: RoleExposure, Object: Object{
			"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
			"metadata": istioMeta(base+"-gw", ns, wave, x.Source),
			"spec": map[string]any{
				"selector": map[string]any{"istio": "ingressgateway"},
				"servers":  servers,
			},
		}},
		{Layer: LayerGateways, Role: RoleExposure, Object: Object{
			"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
			"metadata": istioMeta(base+"-vs", ns, wave, x.Source),
			"spec": map[string]any{
				"hosts":    []any{host},
				"gateways": []any{base + "-gw"},
				routeKind:  routes,
			},
		}},
	}
}

// istiodServiceName is istiod's Service for a revision.
func istiodServiceName(cp *model.ControlPlane) string {
	if cp.IsDefaultRevision() {
		return "istiod"
	}
	return "istiod-" + cp.Revision
}

// istiodExposure makes istiod reachable from remote clusters on 15012 (xDS,
// CA) and 15017 (webhooks): through the east-west gateway with TLS
// passthrough, routed by the SNI remotes use for this revision, or by a
// LoadBalancer Service of its own.
func istiodExposure(x *plan.IstiodExposure, gatewayDone map[string]bool) []Resource {
	cp := x.ControlPlane
	svc := istiodServiceName(cp)
	host := svc + "." + cp.Namespace + ".svc"
	wave := LayerGateways.Wave
	if x.Via == model.ExposeIngress {
		return externalExposure(x)
	}
	if x.Via == model.ExposeLoadBalancer {
		ports := []any{
			map[string]any{"name": "tls-istiod", "port": 15012, "targetPort": 15012, "protocol": "TCP"},
			map[string]any{"name": "tls-webhook", "port": 15017, "targetPort": 15017, "protocol": "TCP"},
		}
		if x.WebhookOn443 {
			ports = append(ports, map[string]any{"name": webhookOn443.name, "port": webhookOn443.number, "targetPort": webhookOn443.target, "protocol": "TCP"})
		}
		return []Resource{at(RoleExposure, loadBalancer(
			meta(svc+"-remote", cp.Namespace, wave, x.Source, map[string]string{"app": "istiod", plan.LabelRev: cp.Revision}),
			map[string]any{"app": "istiod", plan.LabelRev: cp.Revision}, ports, cp.Expose.Service))}
	}
	var out []Resource
	if !gatewayDone[cp.Namespace] {
		gatewayDone[cp.Namespace] = true
		server := func(n int, name string) map[string]any {
			return map[string]any{
				"port":  map[string]any{"number": n, "name": name, "protocol": "TLS"},
				"tls":   map[string]any{"mode": "PASSTHROUGH"},
				"hosts": []any{"*"},
			}
		}
		out = append(out, Resource{Layer: LayerGateways, Role: RoleExposure, Object: Object{
			"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
			"metadata": istioMeta(istiodGatewayName, cp.Namespace, wave, x.Source),
			"spec": map[string]any{
				"selector": map[string]any{"istio": eastWestSelector},
				"servers":  []any{server(15012, "tls-istiod"), server(15017, "tls-istiodwebhook")},
			},
		}})
	}
	route := func(port, target int) map[string]any {
		return map[string]any{
			"match": []any{map[string]any{"port": port, "sniHosts": []any{host}}},
			"route": []any{map[string]any{"destination": map[string]any{
				"host": host + ".cluster.local", "port": map[string]any{"number": target},
			}}},
		}
	}
	out = append(out, Resource{Layer: LayerGateways, Role: RoleExposure, Object: Object{
		"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
		"metadata": istioMeta(svc+"-vs", cp.Namespace, wave, x.Source),
		"spec": map[string]any{
			"hosts":    []any{host},
			"gateways": []any{istiodGatewayName},
			"tls":      []any{route(15012, 15012), route(15017, 443)},
		},
	}})
	return out
}

// storeRef points External Secrets at the mesh's store.
func storeRef(s *model.SecretStore) map[string]any {
	return map[string]any{"name": s.Name, "kind": s.Kind}
}

func storeKey(s *model.SecretStore, parts ...string) string {
	return strings.Join(append([]string{s.KeyPrefix}, parts...), "/")
}

// Properties of a reader token's entry in the store. Every value meshc
// pushes or reads has an explicit property, on both sides: pushed without
// one, a value must be a JSON map on some providers (Vault), and read
// without one, it comes back as the whole map.
const (
	TokenProperty = "token"
	// CAProperty carries the discovered cluster's API server CA, from the
	// token Secret's ca.crt, for a topology that gives no caBundle.
	CAProperty = "ca.crt"
)

// TokenStoreKey is where the token of serviceAccount in cluster is kept in
// the store (with TokenProperty and CAProperty).
func TokenStoreKey(s *model.SecretStore, mesh, cluster, serviceAccount string) string {
	return storeKey(s, mesh, cluster, serviceAccount+"-token")
}

// readerToken asks Kubernetes for a long-lived token of a ServiceAccount
// other clusters' istiods read this one with; with External Secrets, a
// PushSecret carries it, and the API server's CA that Kubernetes puts
// beside it (ca.crt), to the store. The token never passes through Git.
func readerToken(r *plan.ReaderToken) []Resource {
	wave := LayerReaderTokens.Wave
	m := meta(plan.TokenSecretName(r.ServiceAccount), r.Namespace, wave, r.Source, nil)
	m["annotations"].(map[string]any)["kubernetes.io/service-account.name"] = r.ServiceAccount
	out := []Resource{at(RoleReaderToken, Object{
		"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
		"metadata": m,
	})}
	if r.Mode == model.SecretsExternalSecret {
		key := TokenStoreKey(r.Store, r.Mesh, r.Cluster, r.ServiceAccount)
		var data []any
		for _, p := range []string{TokenProperty, CAProperty} {
			data = append(data, map[string]any{"match": map[string]any{
				"secretKey": p,
				"remoteRef": map[string]any{"remoteKey": key, "property": p},
			}})
		}
		out = append(out, at(RoleReaderToken, Object{
			"apiVersion": pushSecretAPI, "kind": "PushSecret",
			"metadata": meta(r.ServiceAccount+"-token", r.Namespace, wave, r.Source, nil),
			"spec": map[string]any{
				"refreshInterval": "1h",
				"secretStoreRefs": []any{storeRef(r.Store)},
				"selector":        map[string]any{"secret": map[string]any{"name": plan.TokenSecretName(r.ServiceAccount)}},
				"data":            data,
			},
		}))
	}
	return out
}

// readerOwnedByInstall reports whether target's install of the cluster
// creates the reader ServiceAccount in namespace: Istio's base chart
// creates it in its global.istioNamespace, and installers run that chart
// differently. The Sail operator installs it only for the revision named
// default; istioctl with every install whose profile enables the base
// component (all but empty); the helm and rendered targets once per
// cluster, in the first install's namespace (see releases).
func readerOwnedByInstall(target Target, c *plan.Cluster, namespace string) bool {
	switch target {
	case Helm, Rendered:
		return len(c.ControlPlanes) > 0 && c.ControlPlanes[0].Namespace == namespace
	}
	for _, cp := range c.ControlPlanes {
		if cp.Namespace != namespace {
			continue
		}
		switch {
		case target == Sail && cp.IsDefaultRevision():
			return true
		case target == Istioctl && istioctlProfile(cp) != "empty":
			return true
		}
	}
	return false
}

// readerIdentities creates the reader ServiceAccount where a reader token
// names it and no install creates it, so that it has one owner. Its
// ClusterRole and ClusterRoleBinding come with every istiod install,
// remote profile included, whatever the revision.
func readerIdentities(c *plan.Cluster, target Target) []Resource {
	var out []Resource
	done := map[string]bool{}
	for _, r := range c.ReaderTokens {
		if r.ServiceAccount != plan.ReaderServiceAccount || done[r.Namespace] || readerOwnedByInstall(target, c, r.Namespace) {
			continue
		}
		done[r.Namespace] = true
		out = append(out, at(RoleReaderIdentity, Object{
			"apiVersion": "v1", "kind": "ServiceAccount",
			"metadata": meta(r.ServiceAccount, r.Namespace, LayerTrust.Wave, r.Source,
				map[string]string{"app": "istio-reader", "app.kubernetes.io/name": "istio-reader"}),
		}).realising(r))
	}
	return out
}

// Kubeconfig is the kubeconfig of a remote secret, with the token left as
// a placeholder for whoever fills it (an External Secrets template, or a
// person), and so is the CA (base64 PEM) unless the topology gives the
// cluster's caBundle: without certificate-authority-data, istiod would not
// trust the API server's certificate.
func Kubeconfig(cl *model.Cluster, token, caData string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Config\nclusters:\n- name: %s\n  cluster:\n    server: %s\n", cl.Name, cl.APIServer)
	fmt.Fprintf(&b, "    certificate-authority-data: %s\n", cmp.Or(cl.CABundle, caData))
	if cl.TLSServerName != "" {
		fmt.Fprintf(&b, "    tls-server-name: %s\n", cl.TLSServerName)
	}
	fmt.Fprintf(&b, "contexts:\n- name: %s\n  context:\n    cluster: %s\n    user: %s\ncurrent-context: %s\n", cl.Name, cl.Name, cl.Name, cl.Name)
	fmt.Fprintf(&b, "users:\n- name: %s\n  user:\n    token: %s\n", cl.Name, token)
	return b.String()
}

// Template fields of a remote secret's ExternalSecret: the values read
// from the store, as its template sees them.
const (
	tokenField = "token"
	caField    = "ca"
)

// remoteSecret is, with External Secrets, the ExternalSecret that builds
// istiod's remote secret for a discovered cluster from the topology (server,
// and CA when it gives one) and the store (the token, and the CA the
// discovered cluster pushed beside it otherwise). In manual mode nothing is
// emitted: MANUAL-STEPS.md says what to create.
func remoteSecret(r *plan.RemoteSecret) []Resource {
	if r.Mode != model.SecretsExternalSecret {
		return nil
	}
	name := r.SecretName()
	key := TokenStoreKey(r.Store, r.Mesh, r.Discovered.Name, r.ServiceAccount)
	data := []any{map[string]any{
		"secretKey": tokenField,
		"remoteRef": map[string]any{"key": key, "property": TokenProperty},
	}}
	if r.Discovered.CABundle == "" {
		data = append(data, map[string]any{
			"secretKey": caField,
			"remoteRef": map[string]any{"key": key, "property": CAProperty},
		})
	}
	return []Resource{at(RoleRemoteSecret, Object{
		"apiVersion": externalSecretsAPI, "kind": "ExternalSecret",
		"metadata": meta(name, r.Namespace, LayerRemoteSecrets.Wave, r.Source, nil),
		"spec": map[string]any{
			"refreshInterval": "1h",
			"secretStoreRef":  storeRef(r.Store),
			"target": map[string]any{
				"name":           name,
				"creationPolicy": "Owner",
				"template": map[string]any{
					"engineVersion": "v2",
					"type":          "Opaque",
					"metadata": map[string]any{
						"labels":      map[string]any{"istio/multiCluster": "true"},
						"annotations": map[string]any{"networking.istio.io/cluster": r.Discovered.Name},
					},
					"data": map[string]any{r.DataKey(): Kubeconfig(r.Discovered, "{{ ."+tokenField+" }}", "{{ ."+caField+" | b64enc }}")},
				},
			},
			"data": data,
		},
	})}
}

// caCert provides a cluster's intermediate CA before istiod starts: a
// cert-manager Certificate issued by the mesh's root issuer (Istio reads
// tls.crt, tls.key and ca.crt from cacerts), or an ExternalSecret pulling
// the four plug-in CA files. Manual mode emits nothing.
func caCert(x *plan.CACert) []Resource {
	wave := LayerTrust.Wave
	switch x.Trust.Mode {
	case model.TrustCertManager:
		return []Resource{at(RoleTrust, Object{
			"apiVersion": certManagerAPI, "kind": "Certificate",
			"metadata": meta(plan.CACertsSecret, x.Namespace, wave, x.Source, nil),
			"spec": map[string]any{
				"secretName": plan.CACertsSecret,
				"isCA":       true,
				"commonName": fmt.Sprintf("%s intermediate CA for mesh %s", x.Cluster, x.Mesh),
				"subject":    map[string]any{"organizations": []any{x.TrustDomain}},
				"duration":   "8760h",
				"privateKey": map[string]any{"algorithm": "RSA", "size": 4096, "rotationPolicy": "Always"},
				"usages":     []any{"digital signature", "key encipherment", "cert sign", "crl sign"},
				"issuerRef": map[string]any{
					"name": x.Trust.Issuer.Name, "kind": x.Trust.Issuer.Kind, "group": "cert-manager.io",
				},
			},
		})}
	case model.TrustExternalSecrets:
		var data []any
		for _, key := range []string{"ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem"} {
			data = append(data, map[string]any{
				"secretKey": key,
				"remoteRef": map[string]any{"key": storeKey(x.Trust.SecretStore, x.Mesh, x.Cluster, "cacerts"), "property": key},
			})
		}
		return []Resource{at(RoleTrust, Object{
			"apiVersion": externalSecretsAPI, "kind": "ExternalSecret",
			"metadata": meta(plan.CACertsSecret, x.Namespace, wave, x.Source, nil),
			"spec": map[string]any{
				"refreshInterval": "1h",
				"secretStoreRef":  storeRef(x.Trust.SecretStore),
				"target":          map[string]any{"name": plan.CACertsSecret, "creationPolicy": "Owner"},
				"data":            data,
			},
		})}
	}
	return nil
}

// multiclusterResources emits the cluster's multicluster machinery, and
// the gateways it needs for the target to deploy as it does: as objects,
// or as releases of Istio's gateway chart.
func multiclusterResources(c *plan.Cluster) ([]Resource, []injectedGateway) {
	var out []Resource
	var gateways []injectedGateway
	for _, x := range c.CACerts {
		out = append(out, allRealising(x, caCert(x))...)
	}
	for _, gw := range c.EastWestGateways {
		if gw.Ambient {
			out = append(out, ambientEastWestGateway(gw).realising(gw))
			continue
		}
		gateways = append(gateways, eastWestGateway(gw))
		out = append(out, allRealising(gw, crossNetworkGateway(gw))...)
	}
	for _, gw := range c.IngressGateways {
		gateways = append(gateways, ingressGateway(gw))
	}
	gatewayDone := map[string]bool{}
	for _, x := range c.IstiodExposures {
		out = append(out, allRealising(x, istiodExposure(x, gatewayDone))...)
	}
	for _, r := range c.ReaderTokens {
		out = append(out, allRealising(r, readerToken(r))...)
	}
	for _, r := range c.RemoteSecrets {
		out = append(out, allRealising(r, remoteSecret(r))...)
	}
	return out, gateways
}

// manualSteps writes what an operator must create by hand for the secrets
// meshc cannot hold: remote secrets and intermediates in manual mode.
func manualSteps(c *plan.Cluster) *File {
	var b strings.Builder
	for _, r := range c.RemoteSecrets {
		if r.Mode != model.SecretsManual {
			continue
		}
		name, token := r.SecretName(), plan.TokenSecretName(r.ServiceAccount)
		what := "discovers cluster " + r.Discovered.Name
		if r.Config {
			what = "reads the mesh's configuration from cluster " + r.Discovered.Name
		}
		fmt.Fprintf(&b, "## Remote secret for cluster %s (mesh %s)\n\n", r.Discovered.Name, r.Mesh)
		fmt.Fprintf(&b, "istiod in namespace %s %s with the token of ServiceAccount\n", r.Namespace, what)
		fmt.Fprintf(&b, "%s there; that cluster's bundle creates the token Secret\n%s. Read it there, then create the secret here:\n\n", r.ServiceAccount, token)
		fmt.Fprintf(&b, "```sh\nTOKEN=$(kubectl --context %s -n %s get secret %s -o jsonpath='{.data.token}' | base64 -d)\n",
			r.Discovered.Name, r.ReaderNamespace, token)
		if r.Discovered.CABundle == "" {
			// The API server's CA, as Kubernetes put it beside the token
			// (already base64).
			fmt.Fprintf(&b, "CA=$(kubectl --context %s -n %s get secret %s -o jsonpath='{.data.ca\\.crt}')\n",
				r.Discovered.Name, r.ReaderNamespace, token)
		}
		fmt.Fprintf(&b, "cat > kubeconfig-%s <<EOF\n%sEOF\n", r.Discovered.Name, Kubeconfig(r.Discovered, "${TOKEN}", "${CA}"))
		fmt.Fprintf(&b, "kubectl --context %s -n %s create secret generic %s --from-file=%s=kubeconfig-%s\n",
			c.Name, r.Namespace, name, r.DataKey(), r.Discovered.Name)
		fmt.Fprintf(&b, "kubectl --context %s -n %s label secret %s istio/multiCluster=true\n", c.Name, r.Namespace, name)
		fmt.Fprintf(&b, "kubectl --context %s -n %s annotate secret %s networking.istio.io/cluster=%s\n", c.Name, r.Namespace, name, r.Discovered.Name)
		fmt.Fprintf(&b, "rm kubeconfig-%s\n```\n\n", r.Discovered.Name)
	}
	for _, x := range c.CACerts {
		if x.Trust.Mode != model.TrustManual {
			continue
		}
		fmt.Fprintf(&b, "## Intermediate CA for mesh %s\n\n", x.Mesh)
		fmt.Fprintf(&b, "Before istiod starts, create the plug-in CA Secret %s in namespace %s from an\n", plan.CACertsSecret, x.Namespace)
		fmt.Fprintf(&b, "intermediate signed by the mesh's root (one intermediate per cluster, one root per mesh;\nnever Istio's sample certificates):\n\n")
		fmt.Fprintf(&b, "```sh\nkubectl --context %s -n %s create secret generic %s \\\n  --from-file=ca-cert.pem --from-file=ca-key.pem --from-file=root-cert.pem --from-file=cert-chain.pem\n```\n\n",
			c.Name, x.Namespace, plan.CACertsSecret)
	}
	if b.Len() == 0 {
		return nil
	}
	return &File{Path: ManualStepsFile, Data: []byte(fmt.Sprintf(
		"# Manual steps for cluster %s\n\nmeshc never writes a token or a key. These are the secrets this cluster needs\nthat the topology leaves to you (mode: manual).\n\n%s", c.Name, b.String()))}
}
