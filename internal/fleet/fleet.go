// Package fleet generates large synthetic topologies for benchmarks and
// scale tests: many clusters, meshes and tenant namespaces, shaped like a
// real platform team's fleet (each cluster hosting control planes of two
// meshes, each tenant owning a handful of namespaces in one cluster).
package fleet

import (
	"fmt"
	"strings"
)

// Size is the shape of a generated fleet.
type Size struct {
	Clusters   int
	Meshes     int
	Namespaces int // tenant namespaces across the fleet
	// NamespacesPerTenant groups namespaces into tenants (default 10).
	NamespacesPerTenant int
	// Version is the Istio release of every mesh (default 1.30.3).
	Version string
}

// Fleet is the scale the benchmarks are held to: 1,000 clusters, 100 meshes
// and 10,000 namespaces.
var Fleet = Size{Clusters: 1000, Meshes: 100, Namespaces: 10000}

// ManyMeshes is a fleet of n clusters each hosting the control planes of
// two meshes of its own (a stable and a canary, or two tenants' meshes):
// 2n meshes and 10n namespaces. The number of meshes and control planes
// grows with the fleet, which Fleet's fixed 100 meshes hide.
func ManyMeshes(n int) Size {
	return Size{Clusters: n, Meshes: 2 * n, Namespaces: 10 * n}
}

// YAML renders a topology of the given size. Cluster c belongs to mesh c%M
// and mesh (c+M/2+1)%M, each in its own system namespace with disjoint
// discovery labels; with at least twice as many meshes as clusters, to
// meshes c and c+N of their own instead, and meshes left without a cluster
// are not written. Each mesh is multi-primary over networks: two of its
// clusters run control planes (exposed through east-west gateways), each
// managing half of the others as remotes; trust comes from cert-manager and
// remote secrets from External Secrets. Tenant t joins mesh t%M in one of
// its clusters.
func YAML(s Size) []byte {
	if s.NamespacesPerTenant == 0 {
		s.NamespacesPerTenant = 10
	}
	if s.Version == "" {
		s.Version = "1.30.3"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: meshc.dev/v1alpha1\nkind: Topology\nmetadata:\n  name: fleet\ndefaults:\n  istio:\n    version: %s\n  installer: sail\n", s.Version)
	b.WriteString("networks:\n")
	nets := max(1, s.Clusters/100)
	for n := range nets {
		fmt.Fprintf(&b, "  net-%d: {}\n", n)
	}
	b.WriteString("clusters:\n")
	for c := range s.Clusters {
		fmt.Fprintf(&b, "  c-%04d:\n    network: net-%d\n    apiServer: https://c-%04d.k8s.example.com:6443\n", c, c%nets, c)
		if c%10 == 0 {
			b.WriteString("    platform: openshift\n")
		}
	}
	// meshClusters[m] lists the clusters hosting a control plane of mesh m.
	meshClusters := make([][]int, s.Meshes)
	for c := range s.Clusters {
		a, b2 := c%s.Meshes, (c+s.Meshes/2+1)%s.Meshes
		if s.Meshes >= 2*s.Clusters {
			b2 = c + s.Clusters
		}
		meshClusters[a] = append(meshClusters[a], c)
		if b2 != a {
			meshClusters[b2] = append(meshClusters[b2], c)
		}
	}
	b.WriteString("meshes:\n")
	for m := range s.Meshes {
		cl := meshClusters[m]
		if len(cl) == 0 {
			continue // a mesh needs a control plane
		}
		fmt.Fprintf(&b, "  mesh-%03d:\n", m)
		if len(cl) > 1 {
			fmt.Fprintf(&b, "    trust: {mode: certManager, issuer: {name: mesh-%03d-root}}\n", m)
			b.WriteString("    remoteSecrets: {mode: externalSecrets, secretStore: {name: fleet-vault}}\n")
		}
		b.WriteString("    controlPlanes:\n")
		// Two primaries, each leading half of the mesh's other clusters.
		halves := [][]int{cl[:(len(cl)+1)/2], cl[(len(cl)+1)/2:]}
		for _, half := range halves {
			if len(half) == 0 {
				continue
			}
			primary := half[0]
			fmt.Fprintf(&b, "      cp-%04d:\n        cluster: c-%04d\n        namespace: istio-mesh-%03d\n        revision: mesh-%03d\n", primary, primary, m, m)
			if len(half) > 1 {
				b.WriteString("        remotes: [")
				for i, r := range half[1:] {
					if i > 0 {
						b.WriteString(", ")
					}
					fmt.Fprintf(&b, "c-%04d", r)
				}
				fmt.Fprintf(&b, "]\n        expose: {address: istiod.mesh-%03d.c-%04d.example.com}\n", m, primary)
			}
		}
	}
	b.WriteString("tenants:\n")
	tenants := (s.Namespaces + s.NamespacesPerTenant - 1) / s.NamespacesPerTenant
	for t := range tenants {
		m := t % s.Meshes
		cl := meshClusters[m]
		if len(cl) == 0 {
			continue
		}
		c := cl[(t/s.Meshes)%len(cl)]
		fmt.Fprintf(&b, "  tenant-%05d:\n    mesh: mesh-%03d\n    clusters: [c-%04d]\n    namespaces:\n", t, m, c)
		for n := range s.NamespacesPerTenant {
			fmt.Fprintf(&b, "    - t%05d-ns%02d\n", t, n)
		}
	}
	return []byte(b.String())
}
