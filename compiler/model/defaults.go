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
)

// ResolveDefaults fills every field the user left to its default, and the
// Name fields from map keys, and indexes the topology for lookups. It is
// idempotent, and must run again after the topology is changed. Checks and planning run on the
// resolved topology, so they never repeat defaulting logic.
func (t *Topology) ResolveDefaults() {
	for name, c := range t.Clusters {
		c.Name = name
		if c.Platform == "" {
			c.Platform = PlatformKubernetes
		}
	}
	for name, m := range t.Meshes {
		m.Name = name
		if m.MeshID == "" {
			m.MeshID = name
		}
		if m.TrustDomain == "" {
			m.TrustDomain = DefaultTrustDomain
		}
		if m.Version == "" {
			m.Version = t.Defaults.Istio.Version
		}
		if m.DiscoveryLabel == nil {
			m.DiscoveryLabel = map[string]string{DefaultDiscoveryKey: name}
		}
		if m.MTLS == "" {
			m.MTLS = DefaultMTLS
		}
		for cpName, cp := range m.ControlPlanes {
			cp.Name, cp.Mesh = cpName, name
			if cp.Namespace == "" {
				cp.Namespace = DefaultNamespace
			}
			if cp.Revision == "" {
				cp.Revision = cpName
			}
			if cp.Version == "" {
				cp.Version = m.Version
			}
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
			a.Namespace = cmp.Or(a.Namespace, "argocd")
			a.Project = cmp.Or(a.Project, "default")
			a.Mode = cmp.Or(a.Mode, "applicationSet")
			a.Destination = cmp.Or(a.Destination, "name")
		}
		if f := d.Flux; f != nil {
			f.Namespace = cmp.Or(f.Namespace, "flux-system")
			f.Interval = cmp.Or(f.Interval, "10m")
		}
	}
	t.buildIndex()
}
