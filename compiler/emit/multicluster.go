package emit

import (
	"fmt"
	"maps"
	"strings"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
)

// LayerGateways holds east-west gateways and istiod's exposure: they need
// istiod (gateway injection) and come before mesh configuration.
var LayerGateways = Layer{Dir: "gateways", Wave: 2}

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
	m["annotations"].(map[string]any)[AnnotationSyncOptions] = "SkipDryRunOnMissingResource=true"
	return m
}

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
}

type gatewayPort struct {
	name   string
	number int
}

func (g injectedGateway) resources() []Resource {
	wave := LayerGateways.Wave
	podLabels := maps.Clone(g.labels)
	podLabels["sidecar.istio.io/inject"] = "true"
	podLabels[plan.LabelRev] = g.revision
	container := map[string]any{"name": "istio-proxy", "image": "auto"}
	if len(g.env) > 0 {
		container["env"] = g.env
	}
	var ports []any
	for _, p := range g.ports {
		ports = append(ports, map[string]any{"name": p.name, "port": p.number, "targetPort": p.number, "protocol": "TCP"})
	}
	return []Resource{
		{LayerGateways, Object{
			"apiVersion": "v1", "kind": "ServiceAccount",
			"metadata": meta(g.name, g.namespace, wave, g.source, g.labels),
		}},
		{LayerGateways, Object{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
			"metadata": meta(g.name+"-sds", g.namespace, wave, g.source, g.labels),
			"rules": []any{map[string]any{
				"apiGroups": []any{""}, "resources": []any{"secrets"}, "verbs": []any{"get", "watch", "list"},
			}},
		}},
		{LayerGateways, Object{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
			"metadata": meta(g.name+"-sds", g.namespace, wave, g.source, g.labels),
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": g.name + "-sds"},
			"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": g.name}},
		}},
		{LayerGateways, Object{
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
		{LayerGateways, Object{
			"apiVersion": "v1", "kind": "Service",
			"metadata": meta(g.name, g.namespace, wave, g.source, g.labels),
			"spec": map[string]any{
				"type":     "LoadBalancer",
				"selector": anyMap(g.selector),
				"ports":    ports,
			},
		}},
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
		ports:    []gatewayPort{{"status-port", 15021}, {"tls", 15443}, {"tls-istiod", 15012}, {"tls-webhook", 15017}},
		source:   gw.Source,
	}
	if gw.Network != "" {
		g.env = []any{map[string]any{"name": "ISTIO_META_REQUESTED_NETWORK_VIEW", "value": gw.Network}}
	}
	return g
}

// crossNetworkGateway opens the mesh's services to other networks.
func crossNetworkGateway(gw *plan.EastWestGateway) []Resource {
	wave := LayerGateways.Wave
	var out []Resource
	if gw.CrossNetwork {
		// Services of the mesh reachable from other networks, mTLS kept
		// end to end (the gateway routes by SNI).
		out = append(out, Resource{LayerGateways, Object{
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
	return injectedGateway{
		name: name, namespace: gw.Namespace, revision: gw.Revision,
		selector: selector, labels: maps.Clone(selector),
		ports:  []gatewayPort{{"status-port", 15021}, {"tls-xds", 15012}, {"tls-webhook", 15017}},
		source: gw.Source,
	}
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
			Resource{LayerGateways, Object{
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
		{LayerGateways, Object{
			"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
			"metadata": istioMeta(base+"-gw", ns, wave, x.Source),
			"spec": map[string]any{
				"selector": map[string]any{"istio": "ingressgateway"},
				"servers":  servers,
			},
		}},
		{LayerGateways, Object{
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
		return []Resource{{LayerGateways, Object{
			"apiVersion": "v1", "kind": "Service",
			"metadata": meta(svc+"-remote", cp.Namespace, wave, x.Source, map[string]string{"app": "istiod", plan.LabelRev: cp.Revision}),
			"spec": map[string]any{
				"type":     "LoadBalancer",
				"selector": map[string]any{"app": "istiod", plan.LabelRev: cp.Revision},
				"ports": []any{
					map[string]any{"name": "tls-istiod", "port": 15012, "targetPort": 15012, "protocol": "TCP"},
					map[string]any{"name": "tls-webhook", "port": 15017, "targetPort": 15017, "protocol": "TCP"},
				},
			},
		}}}
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
		out = append(out, Resource{LayerGateways, Object{
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
	out = append(out, Resource{LayerGateways, Object{
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

// readerToken asks Kubernetes for a long-lived token of the reader
// ServiceAccount that the Istio install creates; with External Secrets, a
// PushSecret carries it to the store. The token never passes through Git.
func readerToken(r *plan.ReaderToken) []Resource {
	wave := LayerMeshConfig.Wave
	m := meta(plan.TokenSecretName(r.ServiceAccount), r.Namespace, wave, r.Source, nil)
	m["annotations"].(map[string]any)["kubernetes.io/service-account.name"] = r.ServiceAccount
	out := []Resource{{LayerMeshConfig, Object{
		"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
		"metadata": m,
	}}}
	if r.Mode == model.SecretsExternalSecret {
		out = append(out, Resource{LayerMeshConfig, Object{
			"apiVersion": pushSecretAPI, "kind": "PushSecret",
			"metadata": meta(r.ServiceAccount+"-token", r.Namespace, wave, r.Source, nil),
			"spec": map[string]any{
				"refreshInterval": "1h",
				"secretStoreRefs": []any{storeRef(r.Store)},
				"selector":        map[string]any{"secret": map[string]any{"name": plan.TokenSecretName(r.ServiceAccount)}},
				"data": []any{map[string]any{"match": map[string]any{
					"secretKey": "token",
					"remoteRef": map[string]any{"remoteKey": storeKey(r.Store, r.Mesh, r.Cluster, r.ServiceAccount+"-token")},
				}}},
			},
		}})
	}
	return out
}

// Kubeconfig is the kubeconfig of a remote secret, with the token left as
// a placeholder for whoever fills it (an External Secrets template, or a
// person).
func Kubeconfig(cl *model.Cluster, token string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Config\nclusters:\n- name: %s\n  cluster:\n    server: %s\n", cl.Name, cl.APIServer)
	if cl.CABundle != "" {
		fmt.Fprintf(&b, "    certificate-authority-data: %s\n", cl.CABundle)
	}
	if cl.TLSServerName != "" {
		fmt.Fprintf(&b, "    tls-server-name: %s\n", cl.TLSServerName)
	}
	fmt.Fprintf(&b, "contexts:\n- name: %s\n  context:\n    cluster: %s\n    user: %s\ncurrent-context: %s\n", cl.Name, cl.Name, cl.Name, cl.Name)
	fmt.Fprintf(&b, "users:\n- name: %s\n  user:\n    token: %s\n", cl.Name, token)
	return b.String()
}

// remoteSecret is, with External Secrets, the ExternalSecret that builds
// istiod's remote secret for a discovered cluster from the topology (server
// and CA) and the store (the token). In manual mode nothing is emitted:
// MANUAL-STEPS.md says what to create.
func remoteSecret(r *plan.RemoteSecret) []Resource {
	if r.Mode != model.SecretsExternalSecret {
		return nil
	}
	name := r.SecretName()
	return []Resource{{LayerMeshConfig, Object{
		"apiVersion": externalSecretsAPI, "kind": "ExternalSecret",
		"metadata": meta(name, r.Namespace, LayerMeshConfig.Wave, r.Source, nil),
		"spec": map[string]any{
			"refreshInterval": "1h",
			"secretStoreRef":  storeRef(r.Store),
			"target": map[string]any{
				"name":           name,
				"creationPolicy": "Owner",
				"template": map[string]any{
					"type": "Opaque",
					"metadata": map[string]any{
						"labels":      map[string]any{"istio/multiCluster": "true"},
						"annotations": map[string]any{"networking.istio.io/cluster": r.Discovered.Name},
					},
					"data": map[string]any{r.DataKey(): Kubeconfig(r.Discovered, "{{ .token }}")},
				},
			},
			"data": []any{map[string]any{
				"secretKey": "token",
				"remoteRef": map[string]any{"key": storeKey(r.Store, r.Mesh, r.Discovered.Name, r.ServiceAccount+"-token")},
			}},
		},
	}}}
}

// caCert provides a cluster's intermediate CA before istiod starts: a
// cert-manager Certificate issued by the mesh's root issuer (Istio reads
// tls.crt, tls.key and ca.crt from cacerts), or an ExternalSecret pulling
// the four plug-in CA files. Manual mode emits nothing.
func caCert(x *plan.CACert) []Resource {
	wave := LayerNamespaces.Wave
	switch x.Trust.Mode {
	case model.TrustCertManager:
		return []Resource{{LayerNamespaces, Object{
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
		}}}
	case model.TrustExternalSecrets:
		var data []any
		for _, key := range []string{"ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem"} {
			data = append(data, map[string]any{
				"secretKey": key,
				"remoteRef": map[string]any{"key": storeKey(x.Trust.SecretStore, x.Mesh, x.Cluster, "cacerts"), "property": key},
			})
		}
		return []Resource{{LayerNamespaces, Object{
			"apiVersion": externalSecretsAPI, "kind": "ExternalSecret",
			"metadata": meta(plan.CACertsSecret, x.Namespace, wave, x.Source, nil),
			"spec": map[string]any{
				"refreshInterval": "1h",
				"secretStoreRef":  storeRef(x.Trust.SecretStore),
				"target":          map[string]any{"name": plan.CACertsSecret, "creationPolicy": "Owner"},
				"data":            data,
			},
		}}}
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
		out = append(out, caCert(x)...)
	}
	for _, gw := range c.EastWestGateways {
		gateways = append(gateways, eastWestGateway(gw))
		out = append(out, crossNetworkGateway(gw)...)
	}
	for _, gw := range c.IngressGateways {
		gateways = append(gateways, ingressGateway(gw))
	}
	gatewayDone := map[string]bool{}
	for _, x := range c.IstiodExposures {
		out = append(out, istiodExposure(x, gatewayDone)...)
	}
	for _, r := range c.ReaderTokens {
		out = append(out, readerToken(r)...)
	}
	for _, r := range c.RemoteSecrets {
		out = append(out, remoteSecret(r)...)
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
		fmt.Fprintf(&b, "cat > kubeconfig-%s <<EOF\n%sEOF\n", r.Discovered.Name, Kubeconfig(r.Discovered, "${TOKEN}"))
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
