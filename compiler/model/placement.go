package model

import "slices"

// ControlPlanesIn returns the control planes of mesh serving cluster
// (running there, or managing it as a remote), ordered by name.
func (t *Topology) ControlPlanesIn(mesh, cluster string) []*ControlPlane {
	var out []*ControlPlane
	for _, cp := range t.index.byCluster[cluster] {
		if cp.Mesh == mesh && cp.ServesCluster(cluster) {
			out = append(out, cp)
		}
	}
	return out
}

// ControlPlanesOfCluster returns every control plane serving cluster:
// running there, or installed there in the remote profile because the
// cluster is one of its remotes. Ordered by mesh then name; the slice is
// shared, callers must not modify it.
func (t *Topology) ControlPlanesOfCluster(cluster string) []*ControlPlane {
	return t.index.byCluster[cluster]
}

// Placement is where a tenant's namespaces land in one cluster: the control
// plane that serves them and the istio.io/rev value they carry.
type Placement struct {
	Cluster      string
	ControlPlane *ControlPlane
	Revision     string
}

// PlaceTenant picks the control plane serving tenant tn in cluster. It
// returns the candidates when the choice is not unique (none, or several),
// for the checks to report; the planner only calls it on checked input.
func (t *Topology) PlaceTenant(tn *Tenant, cluster string) (Placement, []*ControlPlane) {
	candidates := t.ControlPlanesIn(tn.Mesh, cluster)
	if tn.ControlPlane != "" {
		candidates = slices.DeleteFunc(candidates, func(cp *ControlPlane) bool { return cp.Name != tn.ControlPlane })
	} else if tn.Revision != "" && len(candidates) > 1 {
		// A revision or tag names the control plane when the mesh runs
		// several in the cluster (stable and canary).
		candidates = slices.DeleteFunc(candidates, func(cp *ControlPlane) bool { return !cp.Serves(tn.Revision) })
	}
	if len(candidates) != 1 {
		return Placement{Cluster: cluster}, candidates
	}
	cp := candidates[0]
	rev := tn.Revision
	if rev == "" {
		rev = cp.Revision
	}
	return Placement{Cluster: cluster, ControlPlane: cp, Revision: rev}, candidates
}
