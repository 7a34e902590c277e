package explain

import (
	"fmt"
	"slices"
	"strings"

	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
)

// ClusterAnswer explains a cluster's bundle.
type ClusterAnswer struct {
	Name          string         `json:"name"`
	Network       Fact           `json:"network"`
	Platform      Fact           `json:"platform"`
	ControlPlanes []ControlPlane `json:"controlPlanes,omitempty"`
	Meshes        []Fact         `json:"meshes,omitempty"`
	Namespaces    []Fact         `json:"namespaces,omitempty"`
	Bundle        []LayerCount   `json:"bundle,omitempty"`
	// Files are kept beside the bundle, not applied by it.
	Files        []string `json:"files,omitempty"`
	CNI          Fact     `json:"cni"`
	Discovers    []Fact   `json:"discovers,omitempty"`
	DiscoveredBy []Fact   `json:"discoveredBy,omitempty"`
	Trust        []Fact   `json:"trust,omitempty"`
	Gateways     []Fact   `json:"gateways,omitempty"`
}

// LayerCount is what one layer of a bundle holds.
type LayerCount struct {
	Layer string      `json:"layer"`
	Wave  int         `json:"wave"`
	Kinds []KindCount `json:"kinds"`
}

// KindCount counts the objects of one kind.
type KindCount struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

func (x *explainer) cluster(a *Answer, name string) (*Answer, error) {
	cl, pc := x.topo.Clusters[name], x.plans[name]
	if cl == nil || pc == nil {
		clusters, _, _ := x.names()
		return nil, x.notFound(a.What, fmt.Sprintf("topology %s has no cluster %q", x.topo.Metadata.Name, name), a.What, clusters)
	}
	c := &ClusterAnswer{Name: name, Bundle: x.bundle(name), CNI: x.cniFact(pc),
		Namespaces:   mapped(pc.Namespaces, x.namespaceSummary),
		Discovers:    mapped(pc.RemoteSecrets, func(r *plan.RemoteSecret) Fact { return x.discoversFact(pc, r) }),
		DiscoveredBy: mapped(pc.DiscoveredBy, x.discoveredByFact),
		Trust:        mapped(pc.CACerts, x.trustFact),
		Gateways: slices.Concat(mapped(pc.EastWestGateways, x.eastWestFact),
			mapped(pc.IngressGateways, x.ingressFact),
			mapped(pc.IstiodExposures, x.exposureFact)),
		Network:  Fact{Subject: "none", Why: "the cluster names no network", Sources: x.refs(model.Path{"clusters", name})},
		Platform: Fact{Subject: string(cl.Platform), Why: "the cluster's platform", Sources: x.refs(model.Path{"clusters", name, "platform"})},
	}
	if cl.Network != "" {
		c.Network = Fact{Subject: cl.Network, Why: "the cluster's L3 network: it labels the cluster's system namespaces and east-west gateways topology.istio.io/network",
			Sources: x.refs(model.Path{"clusters", name, "network"}, model.Path{"networks", cl.Network})}
	}
	if c.Platform.Sources[0].Default {
		c.Platform.Why = "the default platform"
	}
	for _, cp := range pc.ControlPlanes {
		c.ControlPlanes = append(c.ControlPlanes, x.controlPlane(name, cp))
	}
	c.Meshes = mapped(pc.Meshes, x.meshFact)
	for _, ec := range x.in.Output.Clusters {
		for _, f := range ec.Files {
			if ec.Name == name {
				c.Files = append(c.Files, f.Path)
			}
		}
	}
	slices.Sort(c.Files)
	a.Kind, a.Cluster = KindCluster, c
	return a, nil
}

// bundle counts a cluster's objects by layer and kind.
func (x *explainer) bundle(cluster string) []LayerCount {
	var out []LayerCount
	for _, l := range emit.Layers {
		counts := map[string]int{}
		for _, o := range x.objects[cluster] {
			if o.Layer != nil && o.Layer.Dir == l.Dir {
				counts[o.Kind]++
			}
		}
		if len(counts) == 0 {
			continue
		}
		lc := LayerCount{Layer: l.Dir, Wave: l.Wave}
		for _, k := range model.SortedKeys(counts) {
			lc.Kinds = append(lc.Kinds, KindCount{Kind: k, Count: counts[k]})
		}
		out = append(out, lc)
	}
	return out
}

func (lc LayerCount) String() string {
	parts := make([]string, 0, len(lc.Kinds))
	for _, k := range lc.Kinds {
		parts = append(parts, fmt.Sprintf("%d %s", k.Count, k.Kind))
	}
	return strings.Join(parts, ", ")
}

// mapped is f of each of xs, or nil when xs is empty.
func mapped[T, U any](xs []T, f func(T) U) (out []U) {
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}
