package model

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
