package emit

import (
	"fmt"
	"slices"
	"strings"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
)

// PrerequisitesFile, in a cluster's folder, lists what must be in place
// before its bundle is applied: controllers whose CRDs the bundle uses,
// issuers and stores it names, DNS records and credentials it assumes.
const PrerequisitesFile = "PREREQUISITES.md"

// prerequisites says what the cluster's bundle needs and does not bring.
func prerequisites(bundle *Cluster, c *plan.Cluster, target Target, opts Options) File {
	var items []string
	add := func(format string, args ...any) {
		item := fmt.Sprintf(format, args...)
		if !slices.Contains(items, item) {
			items = append(items, item)
		}
	}
	// Releases are left out: they are in the objects, and a version bump
	// should not show up here in a diff.
	if len(c.ControlPlanes) > 0 {
		switch target {
		case Sail:
			crds := "`sailoperator.io/v1`: `Istio`, `IstioRevisionTag`, `IstioCNI`"
			if c.Ztunnel != nil {
				crds += "; `" + opts.ztunnelAPIVersion + "`: `ZTunnel`"
			}
			add("The Sail operator %s (or OpenShift Service Mesh 3 on it), the release the bundle is compiled for (`defaults.sail.operator`): it installs only the Istio releases it lists, and meshc checked each `spec.version` here against that list. With its CRDs (%s). Its CRs carry `SkipDryRunOnMissingResource`, so Argo CD may install the operator in the same sync, in an earlier wave.", opts.SailOperator, crds)
		case Istioctl:
			add("`istioctl` of each release the files in `istioctl/` install (their headers say which); `istioctl/README.md` gives the order of the installs and the bundle's layers.")
		case Helm:
			add("Istio's chart repository `%s` reachable from Argo CD's repo server or Flux's source-controller (`defaults.helm.repository`). Argo CD: kustomize's `--enable-helm` in `kustomize.buildOptions`. Flux: source-controller and helm-controller.", opts.HelmRepository)
		case Rendered:
			add("Nothing for the control planes: Istio's CRDs and every install are rendered into the bundle.")
		}
	}
	if c.Ztunnel != nil || len(c.Waypoints) > 0 {
		// Istio does not ship them (its base chart has none), and its
		// waypoints and ambient east-west gateways are Gateway API
		// Gateways; v1.5.0 serves every version Istio 1.24 to 1.30 reads.
		add("The Gateway API CRDs %s, standard channel (`kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/%s/standard-install.yaml`): the ambient mesh's waypoints and east-west gateways are `gateway.networking.k8s.io/v1` `Gateway`s, and meshc checked them against these CRDs.",
			model.GatewayAPIVersion, model.GatewayAPIVersion)
	}
	for _, x := range c.CACerts {
		switch x.Trust.Mode {
		case model.TrustCertManager:
			add("cert-manager (`cert-manager.io/v1`) and the %s `%s` that signs mesh %s's root: it issues the intermediate `%s` in `%s` before istiod starts.",
				x.Trust.Issuer.Kind, x.Trust.Issuer.Name, x.Mesh, plan.CACertsSecret, x.Namespace)
		case model.TrustExternalSecrets:
			add("External Secrets (`external-secrets.io/v1`) and the %s `%s`%s, holding mesh %s's intermediate for this cluster at `%s` (properties `ca-cert.pem`, `ca-key.pem`, `root-cert.pem`, `cert-chain.pem`).",
				x.Trust.SecretStore.Kind, x.Trust.SecretStore.Name, storeWhere(x.Trust.SecretStore, x.Namespace), x.Mesh, storeKey(x.Trust.SecretStore, x.Mesh, x.Cluster, "cacerts"))
		case model.TrustManual:
			add("The Secret `%s` in `%s` (mesh %s's intermediate), created by hand before istiod starts: see %s.", plan.CACertsSecret, x.Namespace, x.Mesh, ManualStepsFile)
		}
	}
	for _, r := range c.ReaderTokens {
		if r.Mode == model.SecretsExternalSecret {
			add("External Secrets' `PushSecret` (`external-secrets.io/v1alpha1`) and the %s `%s`%s, writable: this cluster pushes its reader token there.",
				r.Store.Kind, r.Store.Name, storeWhere(r.Store, r.Namespace))
		}
	}
	for _, r := range c.RemoteSecrets {
		switch r.Mode {
		case model.SecretsExternalSecret:
			add("External Secrets (`external-secrets.io/v1`) and the %s `%s`%s: remote secrets are built from the tokens other clusters push there.",
				r.Store.Kind, r.Store.Name, storeWhere(r.Store, r.Namespace))
		case model.SecretsManual:
			add("The remote secrets istiod reads other clusters with, created by hand: see %s.", ManualStepsFile)
		}
		add("Cluster %s's API server reachable from this cluster at `%s`.", r.Discovered.Name, r.Discovered.APIServer)
	}
	for _, x := range c.IstiodExposures {
		if x.Address == "" {
			continue
		}
		what := "the east-west gateway's"
		switch x.Via {
		case model.ExposeLoadBalancer:
			what = "the `" + istiodServiceName(x.ControlPlane) + "-remote` Service's"
		case model.ExposeIngress:
			what = "the ingress gateway's"
		}
		if plan.ExternalNameWebhook(x.ControlPlane) || x.ControlPlane.Expose.TLS != nil {
			add("A DNS record `%s` for %s load balancer address, resolvable from every remote of control plane %s.", x.Address, what, x.ControlPlane.Name)
		} else {
			add("%s load balancer at the address `%s`, reserved beforehand (set `expose.service.loadBalancerIP` or the cloud's annotation).", capitalise(what), x.Address)
		}
		if tls := x.ControlPlane.Expose.TLS; tls != nil {
			add("The TLS Secret `%s` in the ingress gateway's namespace, a certificate for `%s`.", tls.CredentialName, x.Address)
		}
	}
	if len(c.EastWestGateways)+len(c.IngressGateways)+len(c.IstiodExposures) > 0 {
		add("A load balancer implementation for Services of type LoadBalancer; without annotations most clouds make them public (see `expose.service`).")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Prerequisites of cluster %s\n\n", c.Name)
	if len(items) == 0 {
		b.WriteString("None: every object of this bundle is a built-in Kubernetes kind.\n")
	} else {
		b.WriteString("Before applying this bundle, have in place:\n\n")
		for _, it := range items {
			b.WriteString("- " + it + "\n")
		}
	}
	var layers []string
	for _, l := range bundleLayers(bundle) {
		layers = append(layers, fmt.Sprintf("`%s` (wave %d)", l.Dir, l.Wave))
	}
	fmt.Fprintf(&b, "\nThe bundle's layers apply in this order (its folders, Argo CD sync waves, Flux `dependsOn`): %s. "+
		"A layer may wait on another cluster's earlier layers: a remote's gateways start once the istiod leading it holds the remote's secret.\n",
		strings.Join(layers, ", "))
	return File{Path: PrerequisitesFile, Data: []byte(b.String())}
}

// storeWhere says where a namespaced SecretStore must be.
func storeWhere(s *model.SecretStore, namespace string) string {
	if s.Kind == "SecretStore" {
		return " in namespace `" + namespace + "`"
	}
	return ""
}

func capitalise(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// bundleLayers are the layers of a cluster's bundle, in apply order.
func bundleLayers(c *Cluster) []Layer {
	present := map[string]bool{}
	for _, r := range c.Resources {
		present[r.Layer.Dir] = true
	}
	for dir := range c.HelmCharts {
		present[dir] = len(c.HelmCharts[dir]) > 0 || present[dir]
	}
	var out []Layer
	for _, l := range Layers {
		if present[l.Dir] && !l.Detached {
			out = append(out, l)
		}
	}
	return out
}
