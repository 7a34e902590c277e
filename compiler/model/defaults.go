package model

import "cmp"

// Defaults that do not depend on the target. They are applied in Go rather
// than in the CUE schema because most depend on context (a mesh's name, the
// fleet defaults); the schema's comments document each one.
const (
	DefaultNamespace    = "istio-system"
	DefaultTrustDomain  = "cluster.local"
	DefaultDiscoveryKey = "istio-discovery"
	DefaultMTLS         = "STRICT"
	// ZtunnelNamespace is where ztunnel runs in a cluster of an ambient
	// mesh, on every target (the Sail operator's default): its own
	// namespace, which istiod is told to trust (trustedZtunnelNamespace).
	ZtunnelNamespace = "ztunnel"
	// DefaultFluxNamespace and DefaultFluxInterval are Flux's settings
	// when the topology says none (the helm target's HelmReleases too).
	DefaultFluxNamespace = "flux-system"
	DefaultFluxInterval  = "10m"
)

// ResolveDefaults fills every field the user left to its default, and the
// Name fields from map keys, and indexes the topology for lookups. It is
// idempotent, and must run again after the topology is changed. Checks and planning run on the
// resolved topology, so they never repeat defaulting logic. Each field it
// fills is recorded (Defaulted), so that later stages can say where a value
// came from without comparing values.
func (t *Topology) ResolveDefaults() {
	if t.defaulted == nil {
		t.defaulted = map[string]bool{}
	}
	fill := func(field *string, value string, path ...any) {
		if *field == "" {
			*field = value
			t.defaulted[Path(path).String()] = true
		}
	}
	for name, c := range t.Clusters {
		c.Name = name
		if c.Platform == "" {
			c.Platform = PlatformKubernetes
			t.defaulted[Path{"clusters", name, "platform"}.String()] = true
		}
	}
	for name, m := range t.Meshes {
		m.Name = name
		fill(&m.MeshID, name, "meshes", name, "meshID")
		fill(&m.TrustDomain, DefaultTrustDomain, "meshes", name, "trustDomain")
		fill(&m.Version, t.Defaults.Istio.Version, "meshes", name, "version")
		if m.DiscoveryLabel == nil {
			m.DiscoveryLabel = map[string]string{DefaultDiscoveryKey: name}
			t.defaulted[Path{"meshes", name, "discoveryLabel"}.String()] = true
		}
		fill(&m.MTLS, DefaultMTLS, "meshes", name, "mtls")
		fill(&m.DataPlane, DataPlaneSidecar, "meshes", name, "dataplane")
		for cpName, cp := range m.ControlPlanes {
			cp.Name, cp.Mesh = cpName, name
			fill(&cp.Namespace, DefaultNamespace, "meshes", name, "controlPlanes", cpName, "namespace")
			fill(&cp.Revision, cpName, "meshes", name, "controlPlanes", cpName, "revision")
			fill(&cp.Version, m.Version, "meshes", name, "controlPlanes", cpName, "version")
		}
	}
	for name, tn := range t.Tenants {
		tn.Name = name
	}
	if t.Defaults.Helm.Repository == "" {
		t.Defaults.Helm.Repository = DefaultHelmRepository
	}
	if d := t.Delivery; d != nil {
		if d.Revision == "" {
			d.Revision = "main"
		}
		if a := d.ArgoCD; a != nil {
			def := DefaultArgoCD()
			a.Namespace = cmp.Or(a.Namespace, def.Namespace)
			a.Project = cmp.Or(a.Project, def.Project)
			a.Mode = cmp.Or(a.Mode, def.Mode)
			a.Destination = cmp.Or(a.Destination, def.Destination)
		}
		if f := d.Flux; f != nil {
			f.Namespace = cmp.Or(f.Namespace, DefaultFluxNamespace)
			f.Interval = cmp.Or(f.Interval, DefaultFluxInterval)
		}
	}
	t.buildIndex()
}

// DefaultArgoCD is the Argo CD configuration of a topology that says
// nothing of it (the schema's defaults, for a topology built in memory or
// delivered with --delivery argocd only).
func DefaultArgoCD() *ArgoCDConfig {
	return &ArgoCDConfig{Namespace: "argocd", Project: "default", Mode: "applicationSet", Destination: "name"}
}

// Defaulted reports whether the value at p took a default rather than
// being written: the source says so when it can tell (a loaded file knows
// what the user wrote, the schema's defaults included), else whether
// ResolveDefaults filled it.
func (t *Topology) Defaulted(p Path) bool {
	if w, ok := t.Source.(interface{ Written(Path) bool }); ok {
		return !w.Written(p)
	}
	return t.defaulted[p.String()]
}
