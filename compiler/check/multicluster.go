package check

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
)

// multicluster checks meshes that span clusters: who manages each remote,
// how remotes reach their control plane, how control planes reach the
// clusters they discover, and the shared root of trust.
func (c *checker) multicluster() {
	t := c.t
	for _, mname := range model.SortedKeys(t.Meshes) {
		mesh := t.Meshes[mname]
		meshPath := model.Path{"meshes", mname}
		managers := map[string]*model.ControlPlane{} // remote cluster -> its control plane
		facts := c.r.Mesh(mname)
		primaries := facts.Primaries
		for _, cp := range c.inFileOrder(mesh.ControlPlaneList()) {
			c.external(cp)
			for i, r := range cp.Remotes {
				path := cp.Path().Child("remotes", i)
				if _, ok := t.Clusters[r]; !ok {
					continue // reported as an undefined reference
				}
				if slices.Index(cp.Remotes, r) < i {
					c.report(diag.RemoteManagedTwice, path, "remove the duplicate",
						"cluster %q is listed twice in the remotes of control plane %q", r, cp.Name)
					continue
				}
				if r == cp.Cluster && !cp.External {
					c.report(diag.RemoteIsPrimary, path, "remove it from remotes: a control plane always serves its own cluster",
						"control plane %q runs in cluster %q, so the cluster cannot also be its remote", cp.Name, r)
					continue
				}
				if cp.External && r == cp.Cluster {
					c.report(diag.ExternalInDataPlane, path,
						"host the external control plane in a cluster outside its data plane, or make it a primary (drop external)",
						"external control plane %q is hosted in cluster %q, which is also one of its remotes", cp.Name, r)
					continue
				}
				if slices.Contains(primaries, r) {
					c.report(diag.RemoteIsPrimary, path,
						"remove it from remotes: control planes of one mesh in different clusters discover each other (multi-primary) without it",
						"cluster %q runs a control plane of mesh %q, so it cannot be a remote of %q", r, mname, cp.Name)
					continue
				}
				if first, ok := managers[r]; ok && first != cp {
					d := c.report(diag.RemoteManagedTwice, path,
						"list the cluster in the remotes of one control plane only",
						"cluster %q is already a remote of control plane %q of mesh %q", r, first.Name, mname)
					c.related(d, first.Path().Child("remotes"))
					continue
				}
				managers[r] = cp
			}
			if len(cp.Remotes) > 0 && cp.Expose == nil {
				c.report(diag.RemoteUnreachable, cp.Path(),
					"add expose: {address: <hostname or IP remotes dial>} (via eastWestGateway, the default, or loadBalancer)",
					"control plane %q has remotes but says nothing of how they reach it", cp.Name)
			}
			if len(cp.Remotes) > 0 && cp.Expose != nil && cp.Expose.Via == model.ExposeEastWest && mesh.EastWestGateways != nil && !*mesh.EastWestGateways {
				c.report(diag.RemoteUnreachable, cp.Path().Child("expose", "via"),
					"use via: loadBalancer, or let meshc deploy east-west gateways",
					"control plane %q is exposed through the east-west gateway, but mesh %q has eastWestGateways: false", cp.Name, mname)
			}
		}

		if tr := mesh.Trust; tr != nil {
			switch {
			case tr.Mode == model.TrustCertManager && tr.Issuer == nil:
				c.report(diag.MissingSecretSource, meshPath.Child("trust"),
					"add trust.issuer: {name: <the cert-manager issuer holding the mesh's root>}",
					"trust mode certManager needs the issuer that signs every cluster's intermediate")
			case tr.Mode == model.TrustExternalSecrets && tr.SecretStore == nil:
				c.report(diag.MissingSecretSource, meshPath.Child("trust"),
					"add trust.secretStore: {name: <store>}", "trust mode externalSecrets needs the secret store holding the intermediates")
			}
		}
		if rs := mesh.RemoteSecrets; rs != nil && rs.Mode == model.SecretsExternalSecret && rs.SecretStore == nil {
			c.report(diag.MissingSecretSource, meshPath.Child("remoteSecrets"),
				"add remoteSecrets.secretStore: {name: <store>}", "remote secrets through External Secrets need the store the reader tokens go through")
		}

		if !facts.MultiCluster {
			continue // a single-cluster mesh discovers no other cluster
		}
		clusters, networks := facts.Clusters, facts.Networks
		named := slices.DeleteFunc(slices.Clone(networks), func(s string) bool { return s == "" })
		if len(networks) > 1 {
			missing := false
			for _, cl := range clusters {
				if cluster := t.Clusters[cl]; cluster != nil && cluster.Network == "" {
					missing = true
					c.report(diag.MissingNetwork, model.Path{"clusters", cl},
						"set clusters."+cl+".network: the mesh's other clusters name theirs",
						"cluster %q has no network, but other clusters of mesh %q are on %s", cl, mname, strings.Join(named, ", "))
				}
			}
			// Only a mesh that really spans named networks needs gateways.
			if !missing && mesh.EastWestGateways != nil && !*mesh.EastWestGateways {
				c.report(diag.MissingEastWest, meshPath.Child("eastWestGateways"),
					"remove eastWestGateways: false, or deploy your own gateways labelled topology.istio.io/network (and accept that meshc cannot check them)",
					"mesh %q spans networks %s but has no east-west gateways: traffic between them has no way through", mname, strings.Join(named, ", "))
			}
		}
		if len(primaries) > 1 && mesh.Trust == nil {
			c.report(diag.NoSharedTrust, meshPath,
				"add trust: {mode: certManager, issuer: {name: <root issuer>}} (or externalSecrets, or manual)",
				"mesh %q has control planes in %d clusters but no shared root of trust: their workloads could not authenticate each other", mname, len(primaries))
		}
		// Every cluster a control plane discovers from elsewhere must say
		// where its API server is: the remote secret's kubeconfig points there.
		for _, cl := range clusters {
			cluster := t.Clusters[cl]
			if cluster == nil || cluster.APIServer != "" {
				continue
			}
			if c.r.DiscoveredFromElsewhere(mname, cl) {
				c.report(diag.MissingAPIServer, model.Path{"clusters", cl},
					"set clusters."+cl+".apiServer: https://<host>:<port> (and caBundle)",
					"control planes of mesh %q in other clusters discover cluster %q, but it has no apiServer", mname, cl)
			}
		}
	}
	c.cidrs()
	c.exposeServices()
}

// exposeServices looks at the Services that carry istiod's address:
// istiod's own load balancer with nothing saying it is internal is
// reachable from the internet on most clouds (a risk, not a failure: it
// may be meant, or the cloud's default may be internal); and control
// planes sharing a gateway can shape its one Service only one way.
func (c *checker) exposeServices() {
	type carrier struct {
		cp   *model.ControlPlane
		path model.Path
	}
	shapes := map[[2]string]carrier{}
	for _, cp := range c.t.ControlPlanes() {
		x := cp.Expose
		if x == nil || len(cp.Remotes) == 0 {
			continue
		}
		if x.Via == model.ExposeLoadBalancer && (x.Service == nil || len(x.Service.Annotations) == 0 && x.Service.LoadBalancerClass == "") {
			c.warn(diag.PublicIstiod, cp.Path().Child("expose"),
				"say how the cloud makes it internal in expose.service.annotations, e.g. service.beta.kubernetes.io/aws-load-balancer-scheme: internal, "+
					"networking.gke.io/load-balancer-type: Internal, service.beta.kubernetes.io/azure-load-balancer-internal: \"true\" (or a loadBalancerClass)",
				"istiod of control plane %q is exposed on a LoadBalancer Service with no annotation or class: on most clouds its xDS, CA and webhook ports are then public", cp.Name)
		}
		if x.Service == nil {
			continue
		}
		// One Service per gateway: the mesh's east-west gateway in the
		// cluster, or the hosting cluster's ingress gateway.
		var key [2]string
		switch x.Via {
		case model.ExposeEastWest:
			key = [2]string{cp.Cluster, "eastWest/" + cp.Mesh}
		case model.ExposeIngress:
			key = [2]string{cp.Cluster, "ingress"}
		default:
			continue
		}
		first, ok := shapes[key]
		if !ok {
			shapes[key] = carrier{cp, cp.Path().Child("expose", "service")}
			continue
		}
		if !reflect.DeepEqual(first.cp.Expose.Service, x.Service) {
			d := c.warn(diag.ExposeServiceClash, cp.Path().Child("expose", "service"),
				"give both control planes the same expose.service, or remove one",
				"control planes %q and %q are exposed through one gateway Service in cluster %q; it takes %q's expose.service and ignores this one",
				first.cp.Name, cp.Name, cp.Cluster, first.cp.Name)
			c.related(d, first.path)
		}
	}
}

// external checks what an external control plane needs: a config cluster
// among its remotes, a hosting cluster outside its data plane, and for an
// ingress gateway a control plane in the hosting cluster to run it.
func (c *checker) external(cp *model.ControlPlane) {
	switch {
	case !cp.External && cp.ConfigCluster != "":
		c.report(diag.BadConfigCluster, cp.Path().Child("configCluster"),
			"set external: true, or remove configCluster: a primary reads configuration from its own cluster",
			"control plane %q is not external, so it has no config cluster", cp.Name)
	case cp.External && cp.ConfigCluster == "":
		c.report(diag.BadConfigCluster, cp.Path(),
			"add configCluster: <the remote whose API server holds the mesh's configuration>",
			"external control plane %q has no config cluster", cp.Name)
	case cp.External && !slices.Contains(cp.Remotes, cp.ConfigCluster):
		c.report(diag.BadConfigCluster, cp.Path().Child("configCluster"),
			"add "+cp.ConfigCluster+" to remotes: the config cluster is the first remote of an external control plane",
			"config cluster %q is not among the remotes of external control plane %q", cp.ConfigCluster, cp.Name)
	}
	if cp.External && cp.Expose == nil && len(cp.Remotes) == 0 {
		c.report(diag.RemoteUnreachable, cp.Path(), "add expose: {via: ingressGateway, address: <hostname>}",
			"external control plane %q says nothing of how its remotes reach it", cp.Name)
	}
	x := cp.Expose
	if x == nil {
		return
	}
	if x.TLS != nil {
		if _, err := netip.ParseAddr(x.Address); err == nil || x.Via != model.ExposeIngress {
			c.report(diag.InvalidValue, cp.Path().Child("expose", "tls"),
				"use a hostname with a certificate, through via: ingressGateway; with an IP address traffic passes through to istiod",
				"TLS at the gateway needs via: ingressGateway and a hostname address")
		}
	}
	if cp.External && x.Via == model.ExposeEastWest {
		c.report(diag.NoHostingGateway, cp.Path().Child("expose", "via"),
			"use via: ingressGateway (injected by the hosting cluster's own control plane) or via: loadBalancer",
			"external control plane %q cannot be exposed through an east-west gateway: nothing in its hosting cluster %q injects one for its mesh", cp.Name, cp.Cluster)
	}
	if x.Via == model.ExposeIngress {
		if c.r.Hosting(cp) == nil {
			c.report(diag.NoHostingGateway, cp.Path().Child("expose", "via"),
				"add a control plane running in cluster "+cp.Cluster+" (a mesh of its own, in istio-system) to inject the ingress gateway",
				"control plane %q is exposed through an ingress gateway in cluster %q, but no control plane runs there to inject it", cp.Name, cp.Cluster)
		}
	}
}

// cidrs checks that clusters on one network have disjoint pod and service
// ranges: pods route to each other directly there, so an address must say
// which cluster it is in.
func (c *checker) cidrs() {
	type rng struct {
		prefix netip.Prefix
		path   model.Path
	}
	byNetwork := map[string][]rng{}
	for _, name := range model.SortedKeys(c.t.Clusters) {
		cl := c.t.Clusters[name]
		for _, field := range []string{"podCIDRs", "serviceCIDRs"} {
			list := cl.PodCIDRs
			if field == "serviceCIDRs" {
				list = cl.ServiceCIDRs
			}
			for i, s := range list {
				path := model.Path{"clusters", name, field, i}
				p, err := netip.ParsePrefix(s)
				if err != nil {
					c.report(diag.InvalidValue, path, "write a CIDR such as 10.0.0.0/16", "invalid CIDR %q", s)
					continue
				}
				p = p.Masked()
				if cl.Network == "" {
					continue
				}
				for _, other := range byNetwork[cl.Network] {
					if other.prefix.Overlaps(p) && other.path[1] != name {
						d := c.report(diag.CIDROverlap, path,
							"give every cluster on network "+cl.Network+" its own pod and service ranges",
							"%s overlaps %s of cluster %q on network %q", p, other.prefix, other.path[1], cl.Network)
						c.related(d, other.path)
						break
					}
				}
				byNetwork[cl.Network] = append(byNetwork[cl.Network], rng{p, path})
			}
		}
	}
}
