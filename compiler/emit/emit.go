// Package emit wraps a plan into the Kubernetes objects and files of an
// installer target. Targets differ only in how a control plane (and, for
// helm, a gateway) is installed: Sail operator CRs, IstioOperator files for
// istioctl, Helm chart references, or objects rendered from Istio's charts.
// Namespaces, gateways, secrets and policies that no installer owns are
// emitted the same way for every target.
//
// Objects are plain JSON-shaped maps (map[string]any) so that every target
// can emit kinds without Go types (Sail, Istio CRs) the same way; tests
// decode each one strictly into its typed API or check it against its CRD.
//
// Import direction: emit imports plan, model and charts.
package emit

import (
	"cmp"
	"fmt"
	"runtime"
	"strconv"

	"golang.org/x/sync/errgroup"

	"meshc.dev/meshc/compiler/charts"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
)

// Target names an installer target: the topology's installer
// (defaults.installer), or the one the command line asks for.
type Target = model.Installer

const (
	Sail     Target = model.InstallerSail
	Istioctl Target = model.InstallerIstioctl
	Helm     Target = model.InstallerHelm
	Rendered Target = model.InstallerRendered
)

// Targets lists the targets meshc can emit, in the order help text shows them.
var Targets = []Target{Sail, Istioctl, Helm, Rendered}

// ParseTarget validates a target name.
func ParseTarget(s string) (Target, error) {
	for _, t := range Targets {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown target %q: use sail, istioctl, helm or rendered", s)
}

// Layer groups objects that are applied together. Each layer is its own
// kustomization, so Flux can chain one Kustomization per layer with
// dependsOn, and its objects carry the layer's Argo CD sync wave.
type Layer struct {
	Dir  string
	Wave int
	// Detached layers are not listed in the cluster's kustomization: an
	// alternative form of another layer, for Flux.
	Detached bool
}

// The layers, in apply order (order.go says which role goes where, and
// why): namespaces; trust and the reader identity; control planes and
// remote installs; reader tokens; remote secrets; external control planes;
// revision tags, locally injected gateways and istiod's exposure; gateways
// injected from another cluster; mesh configuration.
var (
	LayerNamespaces           = Layer{Dir: "namespaces", Wave: 0}
	LayerTrust                = Layer{Dir: "trust", Wave: 1}
	LayerControlPlane         = Layer{Dir: "control-plane", Wave: 2}
	LayerReaderTokens         = Layer{Dir: "reader-tokens", Wave: 3}
	LayerRemoteSecrets        = Layer{Dir: "remote-secrets", Wave: 4}
	LayerExternalControlPlane = Layer{Dir: "external-control-plane", Wave: 5}
	LayerGateways             = Layer{Dir: "gateways", Wave: 6}
	LayerRemoteGateways       = Layer{Dir: "remote-gateways", Wave: 7}
	LayerMeshConfig           = Layer{Dir: "mesh-config", Wave: 8}
)

// Layers lists every layer in apply order. A helm target's detached layer
// of HelmReleases follows the layer whose charts it holds for Flux.
var Layers = []Layer{
	LayerNamespaces, LayerTrust,
	LayerControlPlane, LayerHelmReleases,
	LayerReaderTokens, LayerRemoteSecrets,
	LayerExternalControlPlane, LayerExternalHelmReleases,
	LayerGateways, LayerGatewayCharts, LayerGatewayReleases,
	LayerRemoteGateways, LayerRemoteGatewayCharts, LayerRemoteGatewayReleases,
	LayerMeshConfig,
}

// Object is one Kubernetes object in its JSON form.
type Object = map[string]any

// Resource is an object placed in a layer of a cluster's bundle, by its
// role (order.go).
type Resource struct {
	Layer  Layer
	Role   Role
	Object Object
	// For is what in the plan the object realises, for explain to say why
	// it is there: a *plan.Namespace, *plan.ControlPlane (a Sail Istio, or
	// what an installer's charts render or install for it), RevisionTag,
	// *plan.CNI, *plan.PeerAuth, *plan.CACert, *plan.RemoteSecret,
	// *plan.ReaderToken (its Secret, PushSecret, or the reader
	// ServiceAccount), *plan.EastWestGateway, *plan.IngressGateway or
	// *plan.IstiodExposure.
	For any
}

// RevisionTag is a control plane's revision tag (its Tags[Index]): what an
// IstioRevisionTag realises.
type RevisionTag struct {
	ControlPlane *plan.ControlPlane
	Index        int
}

// realising marks r as realising x of the plan.
func (r Resource) realising(x any) Resource {
	r.For = x
	return r
}

// allRealising marks rs as realising x of the plan.
func allRealising(x any, rs []Resource) []Resource {
	for i := range rs {
		rs[i].For = x
	}
	return rs
}

// File is a file kept beside a bundle but not applied by it, such as an
// IstioOperator for istioctl. Path is relative to the cluster's folder.
// It holds Data as it is, or an Object that render writes as YAML after
// Comment (emit makes objects, not bytes). For is what in the plan its
// Object realises, as Resource.For says (an IstioOperator: its
// *plan.ControlPlane).
type File struct {
	Path    string
	Data    []byte
	Object  Object
	Comment string
	For     any
}

// Cluster is everything emitted for one cluster.
type Cluster struct {
	Name      string
	Resources []Resource
	Files     []File
	// HelmCharts are kustomize helmCharts entries by layer folder.
	HelmCharts map[string][]any
	// Gates are objects that must exist before a layer is applied, which
	// no earlier layer's own readiness proves: the cacerts Secret, whoever
	// makes it (cert-manager, External Secrets, a person).
	Gates []Gate
}

// Gate is an object that must exist before layer Before is applied.
type Gate struct {
	Before                            Layer
	APIVersion, Kind, Namespace, Name string
}

// Document is an object written to its own path of the output folder,
// outside any cluster's bundle (delivery objects for Argo CD and Flux).
type Document struct {
	Path   string
	Object Object
}

// Output is a whole fleet's emitted objects.
type Output struct {
	Topology  string
	Target    Target
	Clusters  []*Cluster
	Documents []Document
}

// Options are what some targets need besides the plan.
type Options struct {
	// Charts find Istio's released charts by release, for the rendered
	// target: each control plane renders with its own release's.
	Charts *charts.Library
	// HelmRepository is the URL of Istio's Helm charts, for the helm target.
	HelmRepository string
	// SailOperator is the Sail operator release the sail target's CRs are
	// for ("1.31"), for the bundle's prerequisites.
	SailOperator string
	// FluxNamespace and FluxInterval place and pace the helm target's
	// HelmRepository and HelmReleases.
	FluxNamespace, FluxInterval string

	// ztunnelAPIVersion is the Sail operator release's ZTunnel API, from
	// the plan's facts.
	ztunnelAPIVersion string
}

// Emit wraps the plan for target.
func Emit(p *plan.Plan, target Target, opts Options) (*Output, error) {
	if target == Rendered && opts.Charts == nil {
		return nil, fmt.Errorf("the rendered target needs Istio's charts")
	}
	out := &Output{Topology: p.Topology, Target: target, Clusters: make([]*Cluster, len(p.Clusters))}
	opts.ztunnelAPIVersion = sailAPIVersion
	if p.Facts != nil && p.Facts.SailOperator.Err == nil {
		opts.ztunnelAPIVersion = p.Facts.SailOperator.Release.ZTunnelAPIVersion()
	}
	// Clusters are independent; rendering charts for them is the slow
	// part of the rendered target, so they are emitted side by side.
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, pc := range p.Clusters {
		g.Go(func() error {
			c, err := emitCluster(pc, target, opts)
			out.Clusters[i] = c
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func emitCluster(pc *plan.Cluster, target Target, opts Options) (*Cluster, error) {
	c := &Cluster{Name: pc.Name}
	c.Resources = append(c.Resources, namespaces(pc)...)
	switch target {
	case Sail:
		c.Resources = append(c.Resources, sailControlPlanes(pc, opts.ztunnelAPIVersion)...)
	case Istioctl:
		c.Files = istioctlFiles(pc)
	case Helm:
		c.HelmCharts = map[string][]any{}
		helmInstall(c, releases(pc), opts, true)
	case Rendered:
		rs, err := renderedControlPlanes(pc, opts.Charts)
		if err != nil {
			return nil, err
		}
		c.Resources = append(c.Resources, rs...)
	default:
		return nil, fmt.Errorf("unknown target %q", target)
	}
	mc, gateways := multiclusterResources(pc)
	c.Resources = append(c.Resources, readerIdentities(pc, target)...)
	c.Resources = append(c.Resources, mc...)
	if target == Helm {
		// The helm target installs gateways with Istio's gateway chart,
		// after the istiod release that injects them.
		helmInstall(c, gatewayReleases(pc, gateways), opts, false)
	} else {
		for _, g := range gateways {
			c.Resources = append(c.Resources, g.resources()...)
		}
	}
	c.Resources = append(c.Resources, waypoints(pc)...)
	c.Resources = append(c.Resources, peerAuthentications(pc)...)
	for _, x := range pc.CACerts {
		// istiod reads cacerts once, when it starts: Flux must not apply
		// the istiod of that namespace before the Secret exists.
		before := LayerExternalControlPlane
		for _, cp := range pc.ControlPlanes {
			if cp.Namespace == x.Namespace && installRole(cp).Layer().Wave < before.Wave {
				before = installRole(cp).Layer()
			}
		}
		c.Gates = append(c.Gates, Gate{Before: before, APIVersion: "v1", Kind: "Secret", Namespace: x.Namespace, Name: plan.CACertsSecret})
	}
	c.Files = append(c.Files, prerequisites(c, pc, target, opts))
	if target == Istioctl {
		if f := istioctlReadme(c, pc); f != nil {
			c.Files = append(c.Files, *f)
		}
	}
	if f := manualSteps(pc); f != nil {
		c.Files = append(c.Files, *f)
	}
	return c, nil
}

// Annotations every emitted object may carry.
const (
	AnnotationSyncWave    = "argocd.argoproj.io/sync-wave"
	AnnotationSyncOptions = "argocd.argoproj.io/sync-options"
)

// meta builds an object's metadata: its name, namespace (when namespaced),
// labels, its Argo CD sync wave and the topology path it comes from.
func meta(name, namespace string, wave int, source model.Path, labels map[string]string) map[string]any {
	annotations := map[string]any{
		AnnotationSyncWave:    strconv.Itoa(wave),
		plan.AnnotationSource: source.String(),
	}
	m := map[string]any{"name": name, "annotations": annotations}
	if namespace != "" {
		m["namespace"] = namespace
	}
	if len(labels) > 0 {
		l := make(map[string]any, len(labels))
		for k, v := range labels {
			l[k] = v
		}
		m["labels"] = l
	}
	return m
}

func namespaces(c *plan.Cluster) []Resource {
	out := make([]Resource, 0, len(c.Namespaces))
	for _, ns := range c.Namespaces {
		out = append(out, at(RoleNamespace, Object{
			"apiVersion": "v1",
			"kind":       "Namespace",
			"metadata":   nsMeta(ns),
		}).realising(ns))
	}
	return out
}

func peerAuthentications(c *plan.Cluster) []Resource {
	out := make([]Resource, 0, len(c.PeerAuths))
	for _, pa := range c.PeerAuths {
		// istiod installs the PeerAuthentication CRD, so on a first sync
		// Argo CD's dry run would not find it yet.
		m := istioMeta(pa.Name, pa.Namespace, LayerMeshConfig.Wave, pa.Source)
		out = append(out, at(RoleMeshConfig, Object{
			"apiVersion": "security.istio.io/v1",
			"kind":       "PeerAuthentication",
			"metadata":   m,
			"spec":       map[string]any{"mtls": map[string]any{"mode": pa.Mode}},
		}).realising(pa))
	}
	return out
}

// waypoints are the ambient tenants' waypoint Gateways: istiod deploys
// each (class istio-waypoint) in its namespace, like a gateway it injects,
// so they follow the control plane; the Gateway API CRDs are a
// prerequisite of the bundle. The listener is what istioctl waypoint
// apply writes.
func waypoints(c *plan.Cluster) []Resource {
	out := make([]Resource, 0, len(c.Waypoints))
	for _, w := range c.Waypoints {
		labels := map[string]string{plan.LabelWaypointFor: "service"}
		if w.Revision != "" {
			labels[plan.LabelRev] = w.Revision
		}
		out = append(out, istioGateway(w.Name, w.Namespace, w.Source, labels, "istio-waypoint", map[string]any{
			"name": "mesh", "port": 15008, "protocol": "HBONE",
		}).realising(w))
	}
	return out
}

// istioGateway is a Gateway API Gateway of one of Istio's classes, with
// one listener, which istiod deploys in the local gateways layer.
func istioGateway(name, namespace string, source model.Path, labels map[string]string, class string, listener map[string]any) Resource {
	m := meta(name, namespace, RoleLocalGateway.Layer().Wave, source, labels)
	// The Gateway API CRDs are a prerequisite, but Argo CD's dry run
	// must not refuse a first sync that installs them too.
	m["annotations"].(map[string]any)[AnnotationSyncOptions] = skipDryRun
	return at(RoleLocalGateway, Object{
		"apiVersion": "gateway.networking.k8s.io/v1",
		"kind":       "Gateway",
		"metadata":   m,
		"spec": map[string]any{
			"gatewayClassName": class,
			"listeners":        []any{listener},
		},
	})
}

func nsMeta(ns *plan.Namespace) map[string]any {
	m := meta(ns.Name, "", LayerNamespaces.Wave, ns.Source, ns.Labels)
	for k, v := range ns.Annotations {
		m["annotations"].(map[string]any)[k] = v
	}
	return m
}

func fluxNamespace(o Options) string { return cmp.Or(o.FluxNamespace, model.DefaultFluxNamespace) }
func fluxInterval(o Options) string  { return cmp.Or(o.FluxInterval, model.DefaultFluxInterval) }
