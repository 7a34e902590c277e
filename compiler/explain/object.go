package explain

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
	"meshc.dev/meshc/compiler/render"
)

// ObjectAnswer explains one emitted object (or an istioctl IstioOperator
// file).
type ObjectAnswer struct {
	Cluster    string `json:"cluster"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// File is the object's file in the output folder.
	File string `json:"file"`
	// InBundle is false for files kept beside the bundle (istioctl).
	InBundle bool   `json:"inBundle"`
	Layer    string `json:"layer,omitempty"`
	Wave     *int   `json:"wave,omitempty"`
	// Source is the topology path of the object's meshc.dev/source
	// annotation, located and quoted.
	Source *Ref `json:"source,omitempty"`
	// Rule is why meshc emits objects like this one.
	Rule string `json:"rule"`
	// About is what in the plan this object realises.
	About []Fact `json:"about,omitempty"`
}

// FileAnswer explains a rendered file that is not an object:
// kustomizations, the istioctl README, MANUAL-STEPS.md.
type FileAnswer struct {
	Cluster string `json:"cluster"`
	File    string `json:"file"`
	Rule    string `json:"rule"`
	About   []Fact `json:"about,omitempty"`
}

// rules say why meshc emits objects like one, by what the object realises
// in the plan (ruleFor's key: the type of emit.Resource.For), and by its
// kind (key/Kind) where one plan element brings several objects.
var rules = map[string]string{
	"*plan.Namespace":                                    "meshc creates and labels every namespace a control plane, a tenant or the Istio CNI agent needs, so that it exists with its discovery, revision and network labels before anything is installed in it.",
	"*plan.ControlPlane/Istio":                           "A Sail operator Istio CR installs one control plane in each cluster it serves — istiod where it runs, the remote profile in its remotes — named after the control plane's revision.",
	"emit.RevisionTag":                                   "A revision tag gives a control plane's revision a stable name (istio.io/rev=<tag>), so namespaces move between revisions when the tag moves; it is applied in the gateways layer, after every control plane it may point at.",
	"*plan.CNI":                                          "The Istio CNI node agent runs once per cluster (named default, as Sail requires) when the cluster is OpenShift, sets cni: true, or is served by a control plane that injects for the CNI agent.",
	"*plan.ControlPlane/IstioOperator":                   "With the istioctl target, each control plane install in a cluster is an IstioOperator file beside the bundle, applied by istioctl install in the order istioctl/README.md gives, not by the bundle.",
	"*plan.PeerAuth":                                     "A mesh's mTLS mode becomes a selector-less PeerAuthentication in its control plane's root namespace, in the cluster where istiod reads policy.",
	"*plan.PeerAuth tenant":                              "A tenant's mtls overrides its mesh's mode with a namespace-wide PeerAuthentication in each of its namespaces, in the cluster where istiod reads policy.",
	"*plan.CACert/Certificate":                           "With trust mode certManager, every cluster running a control plane of a mesh spanning clusters gets its intermediate CA (the cacerts Secret istiod reads) from the mesh's root issuer, before istiod starts.",
	"*plan.CACert":                                       "With trust mode externalSecrets, every cluster running a control plane of a mesh spanning clusters pulls its intermediate CA files (the cacerts Secret istiod reads) from the mesh's secret store, before istiod starts.",
	"*plan.RemoteSecret config":                          "An external istiod reads its mesh's configuration from its config cluster through the istio-kubeconfig Secret; with remoteSecrets mode externalSecrets this builds it from the topology (server, CA) and istiod's token pushed from that cluster.",
	"*plan.RemoteSecret":                                 "istiod discovers another cluster of its mesh through a remote secret; with remoteSecrets mode externalSecrets this builds it from the topology (server, CA) and the reader token pushed from that cluster.",
	"*plan.ReaderToken/ServiceAccount":                   "Control planes in other clusters watch this one as istio-reader-service-account; where no Istio install creates it (Sail installs Istio's base chart only for the revision named default; the helm and rendered targets once per cluster), meshc does, in the trust layer before its token, so that it has one owner. Its ClusterRole and ClusterRoleBinding come with every istiod install.",
	"*plan.ReaderToken":                                  "A control plane in another cluster watches this one with the token of a ServiceAccount the Istio install (or meshc) creates here; Kubernetes fills this token Secret, and its ca.crt, so no token passes through Git.",
	"*plan.ReaderToken/PushSecret":                       "With remoteSecrets mode externalSecrets, the token Secret Kubernetes fills here is pushed to the mesh's secret store, where the discovering cluster's ExternalSecret reads it.",
	"*plan.EastWestGateway/Gateway":                      "When a mesh spans networks, its east-west gateway passes service traffic from other networks through on port 15443 (AUTO_PASSTHROUGH for *.local), keeping mTLS end to end.",
	"*plan.EastWestGateway":                              "An east-west gateway joins a mesh's clusters across networks, or exposes istiod to remotes: an injected Deployment, its ServiceAccount, a Role and RoleBinding for its certificates, and a LoadBalancer Service labelled with the cluster's network (15021, 15443, 15012, 15017).",
	"*plan.IngressGateway":                               "The hosting cluster of an external control plane runs an ingress gateway injected by its own control plane, exposing the external istiod on 15021, 15012 and 15017: an injected Deployment, its ServiceAccount, a Role and RoleBinding, and a LoadBalancer Service.",
	"*plan.IstiodExposure eastWestGateway/Gateway":       "A control plane whose remotes reach it via eastWestGateway is exposed through the east-west gateway on 15012 (xDS, CA) and 15017 (webhooks), TLS passed through and routed by SNI.",
	"*plan.IstiodExposure eastWestGateway":               "Routes the SNI name of a revision's istiod from istiod-gateway to istiod (15012, and 15017 to the webhook port), so that remotes reach it through the east-west gateway.",
	"*plan.IstiodExposure loadBalancer":                  "A control plane exposed via loadBalancer gets a LoadBalancer Service of its own on 15012 and 15017 for its remotes.",
	"*plan.IstiodExposure ingressGateway/Gateway":        "An external control plane exposed via ingressGateway is reached through the hosting cluster's ingress gateway on 15012 and 15017, TLS terminated for its hostname or passed through for an IP address.",
	"*plan.IstiodExposure ingressGateway/VirtualService": "Routes the hosting cluster's ingress gateway to the external istiod (15012, and 15017 to its webhook port).",
	"*plan.IstiodExposure ingressGateway":                "Re-encrypts traffic from the ingress gateway to the external istiod after TLS is terminated for its hostname.",
	"*plan.EastWestGateway ambient":                      "An ambient mesh spanning networks gets, in each of its clusters, a Gateway of class istio-east-west (HBONE on 15008, TLS terminated for double HBONE), labelled with the cluster's network, which istiod deploys; the other networks' ztunnels and waypoints reach this network's workloads through it.",
	"*plan.Ztunnel":                                      "A cluster running an ambient mesh runs ztunnel once (named default, as Sail requires), connected to the mesh's istiod there, with the cluster name and network istiod's values carry.",
	"*plan.Waypoint":                                     "An ambient tenant with waypoint: namespace gets a Gateway of class istio-waypoint named waypoint in each of its namespaces, which istiod deploys; the namespace's istio.io/use-waypoint label points its services at it.",
	"*plan.Cluster/CustomResourceDefinition":             "Istio's CustomResourceDefinitions come with the rendered target's base chart, at the newest Istio release among the cluster's control planes; they serve every control plane of the cluster, so they name none as their source.",
	"*plan.ControlPlane":                                 "Part of a control plane's install, for the control plane its source names: Istio's own manifests for it, written into the bundle.",
}

// ruleFor says why meshc emits objects like o: by what it realises (its
// Go type, and what tells its kinds apart).
func ruleFor(o *objRec) string {
	key := fmt.Sprintf("%T", o.For)
	switch f := o.For.(type) {
	case *plan.PeerAuth:
		key += map[bool]string{true: " tenant"}[f.Tenant != ""]
	case *plan.RemoteSecret:
		key += map[bool]string{true: " config"}[f.Config]
	case *plan.IstiodExposure:
		key += " " + f.Via
	case *plan.EastWestGateway:
		key += map[bool]string{true: " ambient"}[f.Ambient]
	}
	if r, ok := rules[key+"/"+o.Kind]; ok {
		return r
	}
	if r, ok := rules[key]; ok {
		return r
	}
	return "Emitted for the topology path in its meshc.dev/source annotation."
}

func (x *explainer) object(a *Answer, parts []string) (*Answer, error) {
	cluster, asked := parts[0], parts[len(parts)-1]
	if len(parts) == 4 {
		asked = parts[2] + "/" + parts[3]
	}
	var ofKind, found []*objRec
	var kinds, same []string
	for _, o := range x.objects[cluster] {
		kinds = append(kinds, o.Kind)
		if strings.EqualFold(o.Kind, parts[1]) {
			ofKind, same = append(ofKind, o), append(same, o.id())
			if o.Namespace+"/"+o.Name == asked || len(parts) == 3 && o.Name == asked {
				found = append(found, o)
			}
		}
	}
	_, _, ids := x.names()
	slices.Sort(kinds)
	switch {
	case x.plans[cluster] == nil:
		return nil, x.notFound(a.What, fmt.Sprintf("topology %s has no cluster %q", x.topo.Metadata.Name, cluster), a.What, ids)
	case len(ofKind) == 0:
		return nil, x.notFound(a.What, fmt.Sprintf("cluster %s has no object of kind %s (it has %s)", cluster, parts[1], strings.Join(slices.Compact(kinds), ", ")), a.What, ids)
	case len(found) == 0:
		return nil, x.notFound(a.What, fmt.Sprintf("cluster %s has no %s %s", cluster, ofKind[0].Kind, asked), strings.ToLower(a.What), same)
	case len(found) > 1:
		return nil, &NotFoundError{What: a.What, Suggestions: mapped(found, (*objRec).id),
			Reason: fmt.Sprintf("cluster %s has %d objects %s %s: name the namespace too", cluster, len(found), found[0].Kind, parts[2])}
	}
	return x.objectAnswer(a, found[0]), nil
}

func (x *explainer) objectAnswer(a *Answer, o *objRec) *Answer {
	ans := &ObjectAnswer{Cluster: o.Cluster, APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, File: o.File, InBundle: o.Layer != nil}
	var src model.Path
	if cp, ok := o.For.(*plan.ControlPlane); ok && o.Layer == nil {
		src = cp.Path()
	} else if o.Layer != nil {
		ans.Layer = o.Layer.Dir
		md, _ := o.Object["metadata"].(map[string]any)
		annotations, _ := md["annotations"].(map[string]any)
		if w, err := strconv.Atoi(fmt.Sprint(annotations[emit.AnnotationSyncWave])); err == nil {
			ans.Wave = &w
		}
		if s, ok := annotations[plan.AnnotationSource].(string); ok {
			src, _ = model.ParsePath(s)
		}
	}
	if src != nil {
		r := x.ref(src)
		ans.Source = &r
	}
	ans.Rule, ans.About = ruleFor(o), x.objectAbout(o, src)
	a.Kind, a.Object = KindObject, ans
	return a
}

// objectAbout says what in the plan an object realises (emit says which).
func (x *explainer) objectAbout(o *objRec, src model.Path) []Fact {
	pc := x.plans[o.Cluster]
	var out []Fact
	switch f := o.For.(type) {
	case *plan.Namespace:
		out = x.namespaceWhy(pc, f)
	case *plan.Cluster: // Istio's CRDs, which serve every control plane there
		for _, cp := range f.ControlPlanes {
			out = append(out, x.controlPlane(o.Cluster, cp).fact())
		}
	case *plan.ControlPlane:
		out = append(out, x.controlPlane(o.Cluster, f).fact())
	case emit.RevisionTag:
		cp, tag := f.ControlPlane, f.ControlPlane.Tags[f.Index]
		out = append(out, Fact{Subject: "tag " + tag,
			Why: fmt.Sprintf("revision tag %s of control plane %s (mesh %s) points at revision %s; namespaces labelled istio.io/rev=%s join it",
				tag, cp.Name, cp.Mesh, cp.Revision, tag),
			Sources: x.refs(cp.Path().Child("tags", f.Index))}, x.controlPlane(o.Cluster, cp).fact())
	case *plan.CNI:
		out = append(out, x.cniFact(pc))
	case *plan.Ztunnel:
		out = append(out, x.ztunnelFact(pc))
	case *plan.Waypoint:
		out = append(out, Fact{Subject: "tenant " + f.Tenant,
			Why:     fmt.Sprintf("tenant %s is ambient and asks for a waypoint per namespace; %s is one of its namespaces", f.Tenant, f.Namespace),
			Sources: x.refs(f.Source)})
	case *plan.PeerAuth:
		out = append(out, x.policyFact(pc, f))
	case *plan.CACert:
		out = append(out, x.trustFact(f))
	case *plan.RemoteSecret:
		out = append(out, x.discoversFact(pc, f))
	case *plan.ReaderToken:
		// The control planes elsewhere that read this token.
		for _, d := range pc.DiscoveredBy {
			if d.Secret.ReaderNamespace == f.Namespace && d.Secret.ServiceAccount == f.ServiceAccount {
				out = append(out, x.discoveredByFact(d))
			}
		}
	case *plan.EastWestGateway:
		out = append(out, x.eastWestFact(f))
	case *plan.IngressGateway:
		out = append(out, x.ingressFact(f))
	case *plan.IstiodExposure:
		// istiod-gateway serves every control plane of its namespace
		// exposed through the east-west gateway.
		for _, e := range pc.IstiodExposures {
			if e == f || o.Kind == "Gateway" && f.Via == model.ExposeEastWest && e.Via == f.Via && e.ControlPlane.Namespace == f.ControlPlane.Namespace {
				out = append(out, x.exposureFact(e))
			}
		}
	}
	if len(out) == 0 && src != nil {
		out = append(out, Fact{Subject: src.String(), Why: "the topology path the object comes from", Sources: x.refs(src)})
	}
	return out
}

// fileRules say why meshc writes a file that is not an object, by its
// path in the cluster's folder.
var fileRules = map[string]string{
	"kustomization.yaml":                     "The cluster's bundle: a kustomization listing its layers in apply order (namespaces, trust, control-plane, reader-tokens, remote-secrets, external-control-plane, gateways, remote-gateways, mesh-config: each after what it needs), each a kustomization of its own; point one Argo CD Application, or one Flux Kustomization per layer, at it.",
	path.Join(emit.IstioctlDir, "README.md"): "With the istioctl target, the order in which to apply the bundle's layers and the IstioOperator files, each install in its place (an external istiod after its istio-kubeconfig).",
	emit.PrerequisitesFile:                   "What must be in place before the cluster's bundle is applied: the operator or tools of its target, the controllers, issuers and stores its objects name, DNS records and credentials its exposure assumes; and its layers' apply order.",
	emit.ManualStepsFile:                     "The secrets this cluster needs that the topology leaves to a person (mode manual): meshc never writes a token or a key.",
}

// file explains a rendered file: an object's, or a kustomization or
// document meshc writes beside them.
func (x *explainer) file(a *Answer, file string) (*Answer, error) {
	for _, c := range model.SortedKeys(x.objects) {
		for _, o := range x.objects[c] {
			if o.File == file {
				return x.objectAnswer(a, o), nil
			}
		}
	}
	if _, ok := x.in.Tree[file]; !ok {
		return nil, x.notFound(a.What, fmt.Sprintf("no file %s in the bundles of topology %s (target %s)", file, x.topo.Metadata.Name, x.in.Output.Target), file, x.in.Tree.Paths())
	}
	parts := strings.Split(file, "/")
	if len(parts) < 3 || parts[0] != "clusters" {
		a.Kind, a.File = KindFile, &FileAnswer{File: file, Rule: "A file meshc writes outside the clusters' bundles."}
		return a, nil
	}
	cluster, rel := parts[1], strings.Join(parts[2:], "/")
	pc := x.plans[cluster]
	f := &FileAnswer{Cluster: cluster, File: file, Rule: fileRules[rel]}
	for _, l := range emit.Layers {
		if len(parts) == 4 && parts[3] == "kustomization.yaml" && l.Dir == parts[2] {
			f.Rule = fmt.Sprintf("The %s layer (sync wave %d): a kustomization listing the layer's files explicitly, sorted, so that Flux can chain one Kustomization per layer with dependsOn.", l.Dir, l.Wave)
		}
	}
	switch rel {
	case path.Join(emit.IstioctlDir, "README.md"):
		for _, cp := range pc.ControlPlanes {
			f.About = append(f.About, x.controlPlane(cluster, cp).fact())
		}
	case emit.ManualStepsFile:
		for _, r := range pc.RemoteSecrets {
			if r.Mode == model.SecretsManual {
				f.About = append(f.About, x.discoversFact(pc, r))
			}
		}
		for _, ca := range pc.CACerts {
			if ca.Trust.Mode == model.TrustManual {
				f.About = append(f.About, x.trustFact(ca))
			}
		}
	}
	if f.Rule == "" {
		f.Rule = "A file meshc writes in " + render.ClusterDir(cluster) + "."
	}
	a.Kind, a.File = KindFile, f
	return a, nil
}
