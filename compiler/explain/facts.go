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

func (c ControlPlane) fact() Fact {
	return Fact{Subject: "control plane " + c.Name + " (" + c.Install + ")", Why: c.Why, Sources: c.Sources}
}

func (x *explainer) controlPlane(cluster string, cp *plan.ControlPlane) ControlPlane {
	out := ControlPlane{
		Name: cp.Name, Mesh: cp.Mesh, Install: string(cp.Install), Revision: cp.Revision, Tags: cp.Tags,
		Version: cp.Version.String(), Namespace: cp.Namespace, Profile: cp.Profile, IstiodCluster: cp.Cluster,
		Sources: x.refs(cp.InstallOrigin.Path),
	}
	ident := fmt.Sprintf("revision %s, Istio %s, namespace %s", cp.Revision, out.Version, cp.Namespace)
	if len(cp.Tags) > 0 {
		ident += ", tags " + strings.Join(cp.Tags, ", ")
	}
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

// cniFact explains the cluster's CNI agent, or its absence, by the plan's
// reason for it (CNI.Why).
func (x *explainer) cniFact(pc *plan.Cluster) Fact {
	cni := pc.CNI
	if cni == nil {
		why := "no Istio CNI agent: the cluster is plain Kubernetes without cni: true, and no control plane serving it injects for the CNI agent"
		if x.topo.Clusters[pc.Name].NeedsCNI() {
			why = "no Istio CNI agent although the cluster asks for one: no control plane runs or is installed here"
		}
		return Fact{Subject: "none", Why: why, Sources: x.refs(model.Path{"clusters", pc.Name})}
	}
	var why string
	switch cni.Why {
	case plan.CNIForPlatform:
		why = "the cluster is OpenShift, which always runs the Istio CNI agent (pods may not have NET_ADMIN)"
	case plan.CNIForFlag:
		why = "the cluster sets cni: true"
	case plan.CNIForAmbient:
		why = "the cluster runs an ambient mesh: the agent redirects its pods' traffic to ztunnel"
	case plan.CNIForControlPlane:
		why = fmt.Sprintf("control plane %s serves this cluster and injects sidecars for the CNI agent, because cluster(s) %s of its data plane need it",
			cni.For.Name, joinNames(cni.NeededBy))
	}
	if cni.Ambient && cni.Why != plan.CNIForAmbient {
		why += ", in ambient mode for the cluster's ambient mesh"
	}
	why += fmt.Sprintf("; one agent in namespace %s, Istio %s (the newest of the cluster's control planes)", cni.Namespace, cni.Version)
	if x.in.Output.Target == model.InstallerIstioctl {
		why += fmt.Sprintf(", installed with control plane %s's IstioOperator", cni.Owner.Name)
	}
	return Fact{Subject: "IstioCNI in " + cni.Namespace, Why: why, Sources: x.refs(append([]model.Path{cni.Source}, cni.NeededByOrigins...)...)}
}

// meshFact says how the cluster belongs to a mesh.
func (x *explainer) meshFact(m plan.ClusterMesh) Fact {
	why := fmt.Sprintf("a data-plane cluster of mesh %s (mesh ID %s, trust domain %s)", m.Name, m.MeshID, m.TrustDomain)
	if !m.DataPlane {
		why = fmt.Sprintf("hosts control plane %s of mesh %s, outside its data plane (mesh ID %s)", joinNames(m.Hosts), m.Name, m.MeshID)
	}
	switch {
	case len(m.Networks) > 1:
		why += "; the mesh spans networks " + joinNames(m.Networks)
	case len(m.Clusters) > 1:
		why += "; its clusters are " + joinNames(m.Clusters)
	}
	return Fact{Subject: m.Name, Why: why, Sources: x.refs(model.Path{"meshes", m.Name})}
}

// namespaceSummary is one line on a namespace, for a cluster's list.
func (x *explainer) namespaceSummary(ns *plan.Namespace) Fact {
	f := Fact{Subject: ns.Name, Sources: x.refs(ns.Source)}
	switch ns.Role {
	case plan.RoleSystem:
		cps := mapped(ns.ControlPlanes, func(cp *plan.ControlPlane) string { return cp.Name })
		f.Why = fmt.Sprintf("system namespace of control plane %s (mesh %s)", joinNames(cps), ns.Mesh)
	case plan.RoleCNI:
		f.Why = "namespace of the Istio CNI agent"
	case plan.RoleZtunnel:
		f.Why = fmt.Sprintf("namespace of ztunnel (ambient mesh %s)", ns.Mesh)
	default:
		f.Why = fmt.Sprintf("namespace of tenant %s (mesh %s)", ns.Tenant, ns.Mesh)
		if ns.OverrideFor != nil {
			f.Why += ", holding its mTLS override for istiod here"
		}
	}
	return f
}

// discoversFact explains one remote secret of cluster pc.
func (x *explainer) discoversFact(pc *plan.Cluster, r *plan.RemoteSecret) Fact {
	what, secret := "watches", r.SecretName()
	if r.Config {
		what = "reads the mesh's configuration from"
	}
	how := fmt.Sprintf("%s in %s is created by hand (remoteSecrets mode manual: clusters/%s/MANUAL-STEPS.md)", secret, r.Namespace, pc.Name)
	if r.Mode == model.SecretsExternalSecret && r.Store != nil {
		how = fmt.Sprintf("an ExternalSecret builds %s in %s from the topology and the store %s", secret, r.Namespace, r.Store.Name)
	}
	return Fact{
		Subject: fmt.Sprintf("remote secret for cluster %s (mesh %s)", r.Discovered.Name, r.Mesh),
		Why: fmt.Sprintf("istiod in %s %s cluster %s with the token of %s there; %s; %s",
			r.Namespace, what, r.Discovered.Name, r.ServiceAccount, r.Why, how),
		Sources: x.refs(r.Origin.Path, r.Source),
	}
}

func (x *explainer) discoveredByFact(d plan.Discovery) Fact {
	r := d.Secret
	format := "istiod in %s/%s watches this cluster through its Secret %s, with the token of %s here (Secret %s in %s); %s"
	if r.Config {
		format = "the external istiod in %s/%s reads the mesh's configuration from this cluster through its Secret %s, with istiod's own token %s here (Secret %s in %s); %s"
	}
	why := fmt.Sprintf(format, d.By, r.Namespace, r.SecretName(), r.ServiceAccount, plan.TokenSecretName(r.ServiceAccount), r.ReaderNamespace, r.Why)
	if r.Mode == model.SecretsExternalSecret {
		why += "; a PushSecret carries the token to the store"
	}
	return Fact{Subject: fmt.Sprintf("token for cluster %s (mesh %s)", d.By, r.Mesh), Why: why, Sources: x.refs(r.Origin.Path, r.Source)}
}

// trustFact explains a cluster's intermediate CA.
func (x *explainer) trustFact(c *plan.CACert) Fact {
	how := "created by hand (trust mode manual: MANUAL-STEPS.md)"
	switch c.Trust.Mode {
	case model.TrustCertManager:
		how = "a cert-manager Certificate issued by " + c.Trust.Issuer.Name
	case model.TrustExternalSecrets:
		how = "an ExternalSecret from the store " + c.Trust.SecretStore.Name
	}
	return Fact{
		Subject: fmt.Sprintf("cacerts in %s (mesh %s)", c.Namespace, c.Mesh),
		Why: fmt.Sprintf("istiod here signs workload certificates with an intermediate CA under mesh %s's shared root of trust, so that its clusters (%s) trust each other; %s",
			c.Mesh, joinNames(x.facts.Mesh(c.Mesh).Clusters), how),
		Sources: x.refs(c.Source),
	}
}

// eastWestFact explains an east-west gateway by the plan's reason for it.
func (x *explainer) eastWestFact(gw *plan.EastWestGateway) Fact {
	m := x.facts.Mesh(gw.Mesh)
	src := x.refs(gw.Source)
	why := fmt.Sprintf("mesh %s spans networks %s", gw.Mesh, joinNames(m.Networks))
	switch gw.Why {
	case plan.EastWestForExposure:
		why = fmt.Sprintf("it exposes istiod to the remotes of control plane %s (expose.via eastWestGateway)", gw.Exposes.Name)
	case plan.EastWestWritten:
		why = fmt.Sprintf("mesh %s sets eastWestGateways: true", gw.Mesh)
		src = x.refs(m.EastWestOrigin.Path)
	}
	desc := "injected by revision " + gw.Revision
	if gw.Network != "" {
		desc += ", network " + gw.Network
	}
	if gw.CrossNetwork {
		desc += ", cross-network passthrough on 15443"
	}
	return Fact{Subject: "east-west gateway istio-eastwestgateway in " + gw.Namespace, Why: fmt.Sprintf("%s (%s)", why, desc), Sources: src}
}

// ingressFact explains the hosting cluster's ingress gateway, by the
// control planes the plan exposes through it.
func (x *explainer) ingressFact(gw *plan.IngressGateway) Fact {
	return Fact{
		Subject: "ingress gateway istio-ingressgateway in " + gw.Namespace,
		Why: fmt.Sprintf("it exposes external control plane %s to its remotes (expose.via ingressGateway), injected by this cluster's own revision %s",
			joinNames(mapped(gw.Exposes, func(cp *model.ControlPlane) string { return cp.Name })), gw.Revision),
		Sources: x.refs(gw.Source),
	}
}

// exposureFact explains how a control plane is reached from its remotes.
func (x *explainer) exposureFact(e *plan.IstiodExposure) Fact {
	cp := e.ControlPlane
	how := map[string]string{
		model.ExposeEastWest:     "through the east-west gateway (istiod-gateway, TLS passthrough by SNI on 15012 and 15017)",
		model.ExposeLoadBalancer: "through a LoadBalancer Service of its own on 15012 and 15017",
		model.ExposeIngress:      "through the ingress gateway, TLS passed through",
	}[e.Via]
	if e.Via == model.ExposeIngress && cp.Expose.TLS != nil {
		how = "through the ingress gateway, TLS terminated with credential " + cp.Expose.TLS.CredentialName
	}
	if e.Address != "" {
		how = "at " + e.Address + " " + how
	}
	return Fact{Subject: "istiod of control plane " + cp.Name, Why: fmt.Sprintf("its remotes %s reach it %s", joinNames(cp.Remotes), how), Sources: x.refs(e.Source)}
}

// policyFact explains a PeerAuthentication of cluster pc: a mesh's
// mesh-wide mTLS or a tenant's override of it.
func (x *explainer) policyFact(pc *plan.Cluster, pa *plan.PeerAuth) Fact {
	f := Fact{Subject: fmt.Sprintf("PeerAuthentication %s/%s (%s)", pa.Namespace, pa.Name, pa.Mode), Sources: x.refs(pa.Source)}
	if pa.Tenant == "" {
		f.Why = fmt.Sprintf("mesh-wide mTLS of mesh %s: %s is the root namespace of its control plane here, and istiod reads policy in this cluster", pa.Mesh, pa.Namespace)
		return f
	}
	f.Why = fmt.Sprintf("tenant %s overrides mesh %s's mTLS mode (%s) in its namespaces", pa.Tenant, pa.Mesh, x.topo.Meshes[pa.Mesh].MTLS)
	if ns := namespaceIn(pc, pa.Namespace); ns != nil && ns.OverrideFor != nil {
		f.Why += "; it lives here because istiod here reads policy for the tenant's namespaces in its remote clusters"
	}
	return f
}

// namespaceIn is pc's namespace called name, or nil.
func namespaceIn(pc *plan.Cluster, name string) *plan.Namespace {
	if i := slices.IndexFunc(pc.Namespaces, func(ns *plan.Namespace) bool { return ns.Name == name }); i >= 0 {
		return pc.Namespaces[i]
	}
	return nil
}
