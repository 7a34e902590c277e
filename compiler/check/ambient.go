package check

import (
	"fmt"
	"slices"
	"strings"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/release"
)

// isAmbientProfile reports whether p is one of Istio's ambient profiles.
func isAmbientProfile(p string) bool { return p == "ambient" || p == "openshift-ambient" }

// profiles checks that a profile the user names agrees with the mesh's
// data plane: resolve gives an ambient mesh's control planes the ambient
// profile, so another one there, or an ambient profile on a sidecar mesh
// (which would install ztunnel for namespaces still labelled for
// sidecars), is a contradiction.
func (c *checker) profiles() {
	for _, cp := range c.t.ControlPlanes() {
		m := c.r.Mesh(cp.Mesh)
		if m == nil || cp.Profile == "" {
			continue
		}
		path := cp.Path().Child("profile")
		switch want := c.r.Profile(cp).Name; {
		case m.Ambient && cp.Profile != want:
			d := c.report(diag.AmbientProfile, path,
				fmt.Sprintf("remove profile: meshc gives the control planes of an ambient mesh the %s profile", want),
				"profile %q contradicts mesh %q's ambient data plane", cp.Profile, cp.Mesh)
			c.related(d, m.DataPlaneOrigin.Path)
		case !m.Ambient && isAmbientProfile(cp.Profile):
			c.report(diag.AmbientProfile, path,
				fmt.Sprintf("set meshes.%s.dataplane: ambient and remove profile: meshc then installs ztunnel and labels the mesh's namespaces for ambient", cp.Mesh),
				"profile %q asks for the ambient data plane, but mesh %q's data plane is sidecar", cp.Profile, cp.Mesh)
		}
	}
}

// ambient checks what upstream supports of the ambient data plane, per
// release (the release table's Ambient facts) and per topology: ambient
// needs 1.24; across clusters only multi-primary (alpha 1.27, beta from
// 1.29 on several networks), never with a remote or an external control
// plane; one ztunnel per cluster, so one ambient mesh per cluster; tenants
// and waypoints that ztunnel can serve.
func (c *checker) ambient() {
	t := c.t
	alpha, beta := release.AmbientMultiClusterMinimum()
	reported := map[string]bool{}
	for _, cp := range t.ControlPlanes() {
		m := c.r.Mesh(cp.Mesh)
		if m == nil || !m.Ambient {
			continue
		}
		switch {
		case cp.External:
			d := c.report(diag.AmbientTopology, cp.Path().Child("external"),
				"run a control plane in every cluster of the mesh (multi-primary), or keep this mesh on sidecars",
				"mesh %q is ambient, but control plane %q is external: Istio supports ambient across clusters only as multi-primary", cp.Mesh, cp.Name)
			c.related(d, m.DataPlaneOrigin.Path)
		case len(cp.Remotes) > 0:
			d := c.report(diag.AmbientTopology, cp.Path().Child("remotes"),
				"give each remote a control plane of its own (multi-primary), or keep this mesh on sidecars",
				"mesh %q is ambient, but control plane %q has remotes: Istio does not support ambient with primary-remote (\"configurations with one or more remote clusters will not work correctly\")", cp.Mesh, cp.Name)
			c.related(d, m.DataPlaneOrigin.Path)
		}
		v := c.r.Version(cp)
		if v.Err != nil {
			continue
		}
		if _, known := release.Lookup(v.Parsed); !known {
			continue // refused as an unknown release
		}
		path := c.versionSource(cp)
		key := path.String()
		amb := v.Parsed.AmbientSupport()
		switch {
		case !amb.SingleCluster:
			if !reported[key] {
				d := c.report(diag.AmbientRelease, path,
					fmt.Sprintf("use Istio %s or later for mesh %s (ambient is generally available from %s)", release.AmbientMinimum().Line(), cp.Mesh, release.AmbientMinimum().Line()),
					"Istio %s has no ambient data plane, which mesh %q asks for", v.Parsed, cp.Mesh)
				c.related(d, m.DataPlaneOrigin.Path)
			}
		case m.MultiCluster && amb.MultiCluster == release.Unsupported:
			if !reported[key] {
				d := c.report(diag.AmbientRelease, path,
					fmt.Sprintf("use Istio %s or later (ambient across clusters is alpha from %s, beta from %s), or keep mesh %s on sidecars", beta.Line(), alpha.Line(), beta.Line(), cp.Mesh),
					"Istio %s does not support ambient across clusters, which mesh %q spans (%s)", v.Parsed, cp.Mesh, strings.Join(m.Clusters, ", "))
				c.related(d, m.DataPlaneOrigin.Path)
			}
		case m.MultiCluster && amb.MultiCluster == release.Alpha:
			if !reported[key] {
				c.warn(diag.AmbientAlpha, path,
					fmt.Sprintf("use Istio %s or later, where ambient across networks is beta", beta.Line()),
					"ambient across clusters is alpha in Istio %s (mesh %q)", v.Parsed.Line(), cp.Mesh)
			}
		}
		reported[key] = true
	}
	for _, name := range model.SortedKeys(t.Meshes) {
		m := c.r.Mesh(name)
		if m.Ambient && m.MultiCluster && !m.MultiNetwork && !m.External && !slices.ContainsFunc(m.ControlPlaneList(), func(cp *model.ControlPlane) bool { return len(cp.Remotes) > 0 }) {
			c.warn(diag.AmbientAlpha, m.DataPlaneOrigin.Path,
				"put the mesh's clusters on networks of their own (clusters.<name>.network): upstream supports ambient across clusters on several networks",
				"mesh %q is ambient across clusters on one network, which upstream calls alpha (\"untested, and may be broken\")", name)
		}
	}
	for _, cl := range model.SortedKeys(t.Clusters) {
		meshes := c.r.AmbientMeshesIn(cl)
		for _, other := range meshes[min(1, len(meshes)):] {
			d := c.report(diag.SharedZtunnel, c.r.Mesh(other).DataPlaneOrigin.Path,
				fmt.Sprintf("keep one ambient mesh per cluster: move mesh %s's control plane to another cluster, or keep it on sidecars", other),
				"meshes %q and %q are both ambient in cluster %q, which runs one ztunnel and one CNI agent for all its pods (istio/istio#55440)", meshes[0], other, cl)
			c.related(d, c.r.Mesh(meshes[0]).DataPlaneOrigin.Path)
		}
	}
	c.ambientTenants()
}

// ambientTenants checks each tenant's data plane and waypoint against its
// mesh's.
func (c *checker) ambientTenants() {
	// By mesh and namespace: which clusters have a waypoint there.
	type nsWaypoint struct {
		with, without []string
		paths         []model.Path
	}
	waypoints := map[[2]string]*nsWaypoint{}
	for _, tn := range c.tenantsInFileOrder() {
		m := c.r.Mesh(tn.Mesh)
		if m == nil {
			continue
		}
		base := model.Path{"tenants", tn.Name}
		dp := c.r.TenantDataPlane(tn)
		if dp.Ambient() && !m.Ambient {
			d := c.report(diag.AmbientTenant, base.Child("dataplane"),
				fmt.Sprintf("set meshes.%s.dataplane: ambient (tenants that stay on sidecars say dataplane: sidecar), or remove this line", tn.Mesh),
				"tenant %q is ambient, but mesh %q's data plane is sidecar: its clusters run no ztunnel", tn.Name, tn.Mesh)
			c.related(d, m.DataPlaneOrigin.Path)
		}
		switch {
		case tn.Waypoint == model.WaypointServiceAccount:
			c.report(diag.UnsupportedWaypoint, base.Child("waypoint"),
				"use waypoint: namespace (one waypoint for the tenant's namespaces; label a Service istio.io/use-waypoint to pick another)",
				"Istio binds waypoints to namespaces, services and pods (istio.io/use-waypoint), not to service accounts: the per-service-account binding went away in Istio 1.22")
		case tn.Waypoint != "" && !dp.Ambient():
			d := c.report(diag.UnsupportedWaypoint, base.Child("waypoint"),
				"set the tenant's dataplane to ambient, or remove waypoint (sidecars do L7 themselves)",
				"tenant %q asks for a waypoint, but its workloads are on sidecars: a waypoint serves ambient workloads only", tn.Name)
			c.related(d, dp.Origin.Path)
		}
		if m.Ambient && !dp.Ambient() && m.MultiCluster {
			c.warn(diag.MixedDataPlanes, dp.Origin.Path,
				"move the tenant to ambient before the mesh spans clusters, or test the traffic between its sidecars and other clusters' ambient workloads",
				"tenant %q stays on sidecars in ambient mesh %q, which spans clusters: upstream lists known issues with sidecars in ambient multicluster", tn.Name, tn.Mesh)
		}
		if !m.Ambient || !m.MultiCluster {
			continue
		}
		for _, cl := range c.r.TenantClusters(tn) {
			for _, ns := range tn.Namespaces {
				key := [2]string{tn.Mesh, ns}
				w := waypoints[key]
				if w == nil {
					w = &nsWaypoint{}
					waypoints[key] = w
				}
				if tn.Waypoint == model.WaypointNamespace && dp.Ambient() {
					w.with = append(w.with, cl)
				} else {
					w.without = append(w.without, cl)
				}
				if p := base.Child("waypoint"); !slices.ContainsFunc(w.paths, func(x model.Path) bool { return x.String() == p.String() }) {
					w.paths = append(w.paths, p)
				}
			}
		}
	}
	keys := make([][2]string, 0, len(waypoints))
	for k := range waypoints {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return strings.Compare(a[0]+"/"+a[1], b[0]+"/"+b[1]) })
	for _, k := range keys {
		w := waypoints[k]
		if len(w.with) == 0 || len(w.without) == 0 {
			continue
		}
		d := c.report(diag.WaypointsDiffer, w.paths[len(w.paths)-1],
			"give the namespace the same waypoint in every cluster of the mesh: the tenants that claim it there must agree on waypoint",
			"namespace %q of ambient mesh %q has a waypoint in %s but not in %s: upstream assumes the same waypoints in every cluster", k[1], k[0],
			strings.Join(w.with, ", "), strings.Join(w.without, ", "))
		for _, p := range w.paths[:len(w.paths)-1] {
			c.related(d, p)
		}
	}
}
