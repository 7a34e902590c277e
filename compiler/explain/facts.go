package explain

import (
	"fmt"
	"slices"
	"strings"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
	"meshc.dev/meshc/compiler/resolve"
)

// Facts about the plan's entities, shared by cluster, namespace and object
// answers so that each says the same thing the same way.

// Install kinds of a control plane in a cluster (resolve.InstallKind).
const (
	InstallIstiod   = string(resolve.InstallIstiod)
	InstallRemote   = string(resolve.InstallRemote)
	InstallExternal = string(resolve.InstallExternal)
)

// ControlPlane is a control plane installed in a cluster.
type ControlPlane struct {
	Name      string   `json:"name"`
	Mesh      string   `json:"mesh"`
	Install   string   `json:"install"`
	Revision  string   `json:"revision"`
	Tags      []string `json:"tags,omitempty"`
	Version   string   `json:"version"`
	Namespace string   `json:"namespace"`
	Profile   string   `json:"profile,omitempty"`
	// IstiodCluster is where istiod runs (this cluster unless Install is
	// remote).
	IstiodCluster string `json:"istiodCluster"`
	Why           string `json:"why"`
	Sources       []Ref  `json:"sources,omitempty"`
}

func (x *explainer) controlPlane(cluster string, cp *plan.ControlPlane) ControlPlane {
	out := ControlPlane{
		Name: cp.Name, Mesh: cp.Mesh, Install: string(cp.Install), Revision: cp.Revision, Tags: cp.Tags,
		Version: cp.Version.String(), Namespace: cp.Namespace, Profile: cp.Profile, IstiodCluster: cp.Cluster,
	}
	ident := fmt.Sprintf("revision %s, Istio %s, namespace %s", cp.Revision, out.Version, cp.Namespace)
	if len(cp.Tags) > 0 {
		ident += ", tags " + strings.Join(cp.Tags, ", ")
	}
	out.Sources = x.refs(cp.InstallOrigin.Path)
	switch cp.Install {
	case resolve.InstallRemote:
		out.Why = fmt.Sprintf("remote-profile install of control plane %s of mesh %s (%s): %s is one of its remotes, and istiod runs in cluster %s",
			cp.Name, cp.Mesh, ident, cluster, cp.Cluster)
		if cp.External {
			out.Why += fmt.Sprintf(" (external, cluster ID %s)", cp.ClusterID())
		}
	case resolve.InstallExternal:
		out.Why = fmt.Sprintf("external istiod of mesh %s hosted here (%s): it serves clusters %s and reads the mesh's configuration from %s",
			cp.Mesh, ident, joinNames(cp.Remotes), cp.ConfigCluster)
		out.Sources = append(out.Sources, x.ref(cp.Path().Child("external")))
	default:
		out.Why = fmt.Sprintf("istiod of mesh %s runs here (%s)", cp.Mesh, ident)
		if len(cp.Remotes) > 0 {
			out.Why += "; it also manages remotes " + joinNames(cp.Remotes)
		}
	}
	return out
}

// tagFact explains one revision tag.
func (x *explainer) tagFact(cp *plan.ControlPlane, i int) Fact {
	return Fact{
		Subject: "tag " + cp.Tags[i],
		Why: fmt.Sprintf("revision tag %s of control plane %s (mesh %s) points at revision %s; namespaces labelled istio.io/rev=%s join it",
			cp.Tags[i], cp.Name, cp.Mesh, cp.Revision, cp.Tags[i]),
		Sources: x.refs(cp.Path().Child("tags", i)),
	}
}

// ztunnelFact explains the cluster's ztunnel.
func (x *explainer) ztunnelFact(pc *plan.Cluster) Fact {
	z := pc.Ztunnel
	if z == nil {
		return Fact{Subject: "no ztunnel", Why: "no ambient mesh runs in the cluster"}
	}
	return Fact{
		Subject: "ztunnel",
		Why: fmt.Sprintf("mesh %s's data plane is ambient: one ztunnel in namespace %s, Istio %s, connected to control plane %s (revision %s)",
			z.Mesh, z.Namespace, z.Version, z.ControlPlane.Name, z.ControlPlane.Revision),
		Sources: x.refs(z.Source, z.ControlPlane.Path()),
	}
}

// cniFact explains the cluster's CNI agent, or its absence.
func (x *explainer) cniFact(pc *plan.Cluster) Fact {
	cl := x.topo.Clusters[pc.Name]
	if pc.CNI == nil {
		why := "no Istio CNI agent: the cluster is plain Kubernetes without cni: true, and no control plane serving it injects for the CNI agent"
		if cl.NeedsCNI() {
			why = "no Istio CNI agent although the cluster asks for one: no control plane runs or is installed here"
		}
		return Fact{Subject: "none", Why: why, Sources: x.refs(model.Path{"clusters", pc.Name})}
	}
	cni := pc.CNI
	var why string
	var extra []model.Path
	switch {
	case cl.Platform == model.PlatformOpenShift:
		why = "the cluster is OpenShift, which always runs the Istio CNI agent (pods may not have NET_ADMIN)"
	case cl.CNI:
		why = "the cluster sets cni: true"
	case cni.Ambient:
		why = "the cluster runs an ambient mesh: the agent redirects its pods' traffic to ztunnel"
	default:
		owner := x.controlPlaneAt(cni.Source)
		why = fmt.Sprintf("control plane %s serves this cluster and injects sidecars for the CNI agent, because cluster(s) %s of its data plane need it",
			owner.Name, joinNames(cni.NeededBy))
		for _, c := range cni.NeededBy {
			if x.topo.Clusters[c].CNI {
				extra = append(extra, model.Path{"clusters", c, "cni"})
			} else {
				extra = append(extra, model.Path{"clusters", c, "platform"})
			}
		}
	}
	if cni.Ambient && (cl.CNI || cl.Platform == model.PlatformOpenShift) {
		why += ", in ambient mode for the cluster's ambient mesh"
	}
	why += fmt.Sprintf("; one agent in namespace %s, Istio %s (the newest of the cluster's control planes)", cni.Namespace, cni.Version)
	if x.in.Output.Target == "istioctl" {
		why += fmt.Sprintf(", installed with control plane %s's IstioOperator", cni.Owner.Name)
	}
	return Fact{Subject: "IstioCNI in " + cni.Namespace, Why: why, Sources: x.refs(append([]model.Path{cni.Source}, extra...)...)}
}

// meshFact says how the cluster belongs to a mesh.
func (x *explainer) meshFact(cluster string, m *resolve.Mesh) Fact {
	inDataPlane := slices.Contains(m.Clusters, cluster)
	nets := m.Networks
	var hosted []string
	for _, name := range model.SortedKeys(m.ControlPlanes) {
		if cp := m.ControlPlanes[name]; cp.Cluster == cluster {
			hosted = append(hosted, name)
		}
	}
	why := fmt.Sprintf("a data-plane cluster of mesh %s (mesh ID %s, trust domain %s)", m.Name, m.MeshID, m.TrustDomain)
	if !inDataPlane {
		why = fmt.Sprintf("hosts control plane %s of mesh %s, outside its data plane (mesh ID %s)", joinNames(hosted), m.Name, m.MeshID)
	}
	switch {
	case len(nets) > 1:
		why += "; the mesh spans networks " + joinNames(nets)
	case len(m.Clusters) > 1:
		why += "; its clusters are " + joinNames(m.Clusters)
	}
	return Fact{Subject: m.Name, Why: why, Sources: x.refs(model.Path{"meshes", m.Name})}
}

// namespaceSummary is one line on a namespace, for a cluster's list.
func (x *explainer) namespaceSummary(cluster string, ns *plan.Namespace) Fact {
	f := Fact{Subject: ns.Name, Sources: x.refs(ns.Source)}
	switch ns.Role {
	case plan.RoleSystem:
		var cps []string
		for _, cp := range x.plans[cluster].ControlPlanes {
			if cp.Namespace == ns.Name {
				cps = append(cps, cp.Name)
			}
		}
		f.Why = fmt.Sprintf("system namespace of control plane %s (mesh %s)", joinNames(cps), ns.Mesh)
	case plan.RoleCNI:
		f.Why = "namespace of the Istio CNI agent"
	case plan.RoleZtunnel:
		f.Why = fmt.Sprintf("namespace of ztunnel (ambient mesh %s)", ns.Mesh)
	default:
		tn := x.tenantOf(ns)
		f.Why = fmt.Sprintf("namespace of tenant %s (mesh %s)", tn, ns.Mesh)
		if t := x.topo.Tenants[tn]; t != nil && !slices.Contains(x.facts.TenantClusters(t), cluster) {
			f.Why += ", holding its mTLS override for istiod here"
		}
	}
	return f
}

// tenantOf is the tenant whose namespaces list ns (ns.Source is
// tenants.<t>.namespaces[i]).
func (x *explainer) tenantOf(ns *plan.Namespace) string {
	if len(ns.Source) >= 2 && ns.Source[0] == "tenants" {
		s, _ := ns.Source[1].(string)
		return s
	}
	return ""
}

func (x *explainer) secretsHow(mode string, store *model.SecretStore, secret, namespace, cluster string) string {
	if mode == model.SecretsExternalSecret && store != nil {
		return fmt.Sprintf("an ExternalSecret builds %s in %s from the topology and the store %s", secret, namespace, store.Name)
	}
	return fmt.Sprintf("%s in %s is created by hand (remoteSecrets mode manual: clusters/%s/MANUAL-STEPS.md)", secret, namespace, cluster)
}

// discoversFact explains one remote secret of cluster pc.
func (x *explainer) discoversFact(pc *plan.Cluster, r *plan.RemoteSecret) Fact {
	cause, refs := r.Why, x.refs(r.Origin.Path)
	what := "watches"
	if r.Config {
		what = "reads the mesh's configuration from"
	}
	why := fmt.Sprintf("istiod in %s %s cluster %s with the token of %s there; %s; %s",
		r.Namespace, what, r.Discovered.Name, r.ServiceAccount, cause,
		x.secretsHow(r.Mode, r.Store, r.SecretName(), r.Namespace, pc.Name))
	refs = append(refs, x.ref(r.Source))
	return Fact{Subject: fmt.Sprintf("remote secret for cluster %s (mesh %s)", r.Discovered.Name, r.Mesh), Why: why, Sources: refs}
}

// discoveredBy lists the clusters whose control planes read cluster's
// credentials, and the token each reads.
func (x *explainer) discoveredBy(cluster string) []discovery {
	var out []discovery
	for _, pc := range x.in.Plan.Clusters {
		for _, r := range pc.RemoteSecrets {
			if r.Discovered.Name == cluster {
				out = append(out, discovery{by: pc, secret: r})
			}
		}
	}
	return out
}

type discovery struct {
	by     *plan.Cluster
	secret *plan.RemoteSecret
}

func (x *explainer) discoveredByFact(cluster string, d discovery) Fact {
	r := d.secret
	cause, refs := r.Why, x.refs(r.Origin.Path)
	why := fmt.Sprintf("istiod in %s/%s watches this cluster through its Secret %s, with the token of %s here (Secret %s in %s); %s",
		d.by.Name, r.Namespace, r.SecretName(), r.ServiceAccount, plan.TokenSecretName(r.ServiceAccount), r.ReaderNamespace, cause)
	if r.Config {
		why = fmt.Sprintf("the external istiod in %s/%s reads the mesh's configuration from this cluster through its Secret %s, with istiod's own token %s here (Secret %s in %s); %s",
			d.by.Name, r.Namespace, r.SecretName(), r.ServiceAccount, plan.TokenSecretName(r.ServiceAccount), r.ReaderNamespace, cause)
	}
	if r.Mode == model.SecretsExternalSecret {
		why += "; a PushSecret carries the token to the store"
	}
	refs = append(refs, x.ref(r.Source))
	return Fact{Subject: fmt.Sprintf("token for cluster %s (mesh %s)", d.by.Name, r.Mesh), Why: why, Sources: refs}
}

// trustFact explains a cluster's intermediate CA.
func (x *explainer) trustFact(c *plan.CACert) Fact {
	var how string
	switch c.Trust.Mode {
	case model.TrustCertManager:
		how = "a cert-manager Certificate issued by " + c.Trust.Issuer.Name
	case model.TrustExternalSecrets:
		how = "an ExternalSecret from the store " + c.Trust.SecretStore.Name
	default:
		how = "created by hand (trust mode manual: MANUAL-STEPS.md)"
	}
	return Fact{
		Subject: fmt.Sprintf("cacerts in %s (mesh %s)", c.Namespace, c.Mesh),
		Why: fmt.Sprintf("istiod here signs workload certificates with an intermediate CA under mesh %s's shared root of trust, so that its clusters (%s) trust each other; %s",
			c.Mesh, joinNames(x.facts.Mesh(c.Mesh).Clusters), how),
		Sources: x.refs(c.Source),
	}
}

// eastWestFact explains an east-west gateway.
func (x *explainer) eastWestFact(gw *plan.EastWestGateway) Fact {
	m := x.facts.Mesh(gw.Mesh)
	userSaid := m.EastWestOrigin.Rule == "" // eastWestGateways written
	var why string
	switch {
	case len(gw.Source) > 2:
		why = fmt.Sprintf("it exposes istiod to the remotes of control plane %s (expose.via eastWestGateway)", gw.Source[3])
	case userSaid:
		why = fmt.Sprintf("mesh %s sets eastWestGateways: true", gw.Mesh)
	default:
		why = fmt.Sprintf("mesh %s spans networks %s", gw.Mesh, joinNames(m.Networks))
	}
	subject := "east-west gateway istio-eastwestgateway in " + gw.Namespace
	desc := "injected by revision " + gw.Revision
	if gw.Network != "" {
		desc += ", network " + gw.Network
	}
	if gw.CrossNetwork {
		desc += ", cross-network passthrough on 15443"
	}
	src := []Ref{x.ref(gw.Source)}
	if userSaid && len(gw.Source) == 2 {
		src = x.refs(m.EastWestOrigin.Path)
	}
	return Fact{Subject: subject, Why: fmt.Sprintf("%s (%s)", why, desc), Sources: src}
}

// ingressFact explains the hosting cluster's ingress gateway.
func (x *explainer) ingressFact(pc *plan.Cluster, gw *plan.IngressGateway) Fact {
	var exposed []string
	for _, e := range pc.IstiodExposures {
		if e.Via == model.ExposeIngress {
			exposed = append(exposed, e.ControlPlane.Name)
		}
	}
	return Fact{
		Subject: "ingress gateway istio-ingressgateway in " + gw.Namespace,
		Why: fmt.Sprintf("it exposes external control plane %s to its remotes (expose.via ingressGateway), injected by this cluster's own revision %s",
			joinNames(exposed), gw.Revision),
		Sources: x.refs(gw.Source),
	}
}

// exposureFact explains how a control plane is reached from its remotes.
func (x *explainer) exposureFact(e *plan.IstiodExposure) Fact {
	cp := e.ControlPlane
	var how string
	switch e.Via {
	case model.ExposeEastWest:
		how = "through the east-west gateway (istiod-gateway, TLS passthrough by SNI on 15012 and 15017)"
	case model.ExposeLoadBalancer:
		how = "through a LoadBalancer Service of its own on 15012 and 15017"
	case model.ExposeIngress:
		how = "through the ingress gateway"
		if cp.Expose.TLS != nil {
			how += ", TLS terminated with credential " + cp.Expose.TLS.CredentialName
		} else {
			how += ", TLS passed through"
		}
	}
	addr := ""
	if e.Address != "" {
		addr = " at " + e.Address
	}
	return Fact{
		Subject: "istiod of control plane " + cp.Name,
		Why:     fmt.Sprintf("its remotes %s reach it%s %s", joinNames(cp.Remotes), addr, how),
		Sources: x.refs(e.Source),
	}
}

// policyFact explains a PeerAuthentication.
func (x *explainer) policyFact(pc *plan.Cluster, pa *plan.PeerAuth) Fact {
	f := Fact{Subject: fmt.Sprintf("PeerAuthentication %s/%s (%s)", pa.Namespace, pa.Name, pa.Mode), Sources: x.refs(pa.Source)}
	kind, _ := pa.Source[0].(string)
	owner, _ := pa.Source[1].(string)
	if kind == "meshes" {
		f.Why = fmt.Sprintf("mesh-wide mTLS of mesh %s: %s is the root namespace of its control plane here, and istiod reads policy in this cluster", owner, pa.Namespace)
		return f
	}
	tn := x.topo.Tenants[owner]
	f.Why = fmt.Sprintf("tenant %s overrides mesh %s's mTLS mode (%s) in its namespaces", owner, tn.Mesh, x.topo.Meshes[tn.Mesh].MTLS)
	if !slices.Contains(x.facts.TenantClusters(tn), pc.Name) {
		f.Why += "; it lives here because istiod here reads policy for the tenant's namespaces in its remote clusters"
	}
	return f
}

// controlPlaneAt is the control plane at (or under) topology path p:
// meshes.<m>.controlPlanes.<cp>...; nil when p is not under one.
func (x *explainer) controlPlaneAt(p model.Path) *model.ControlPlane {
	if len(p) < 4 || p[0] != "meshes" || p[2] != "controlPlanes" {
		return nil
	}
	mesh, _ := p[1].(string)
	name, _ := p[3].(string)
	if m := x.topo.Meshes[mesh]; m != nil {
		return m.ControlPlanes[name]
	}
	return nil
}
