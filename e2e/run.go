package e2e

import (
	"context"
	"errors"
	"fmt"
	"path"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Delivery is how a bundle reaches its clusters in one run.
type Delivery struct {
	Name string // argocd-ssa, argocd-csa, flux
	// Flux applies each cluster's Flux Kustomizations in dependsOn order,
	// every one server-side; otherwise Argo CD syncs each cluster's whole
	// bundle wave by wave, in Mode.
	Flux bool
	Mode Mode
}

// Deliveries are the ways every bundle is applied: Argo CD as meshc
// configures it (ServerSideApply=true), Argo CD's default client-side
// apply, and Flux (always server-side).
var Deliveries = []Delivery{
	{Name: "argocd-ssa", Mode: ServerSide},
	{Name: "argocd-csa", Mode: ClientSide},
	{Name: "flux", Flux: true, Mode: ServerSide},
}

// Result is what one bundle's delivery met.
type Result struct {
	Objects  int
	Findings []Finding // rejections, warnings and order defects
}

// Rejections are the findings that are not warnings.
func (r Result) Rejections() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if !f.Warning {
			out = append(out, f)
		}
	}
	return out
}

// Run delivers bundle b to the suite's servers (cluster i of the bundle to
// server i), collects what the API servers said, then empties them.
func (s *Suite) Run(ctx context.Context, k *Kustomizer, b *Bundle, d Delivery) (Result, error) {
	if len(b.Clusters) > len(s.Servers) {
		return Result{}, fmt.Errorf("%s has %d clusters; the suite runs %d API servers", b.Example, len(b.Clusters), len(s.Servers))
	}
	manager := "argocd-controller"
	if d.Flux {
		manager = "kustomize-controller"
	}
	clients := make([]*Client, len(b.Clusters))
	for i := range b.Clusters {
		c, err := NewClient(s.Servers[i], manager)
		if err != nil {
			return Result{}, err
		}
		clients[i] = c
	}
	var res Result
	var runErr error
	if d.Flux {
		runErr = s.runFlux(ctx, k, b, clients, &res)
	} else {
		runErr = s.runArgo(ctx, k, b, d.Mode, clients, &res)
	}
	for _, c := range clients {
		res.Findings = append(res.Findings, c.Findings()...)
	}
	var resetErrs []error
	for _, c := range clients {
		if err := c.Reset(ctx); err != nil {
			resetErrs = append(resetErrs, err)
		}
	}
	if err := errors.Join(resetErrs...); err != nil {
		return res, fmt.Errorf("emptying the API servers: %w", err)
	}
	return res, runErr
}

// runArgo syncs each cluster's bundle as an Argo CD Application does, then
// applies the Argo CD delivery objects to the first server (Argo CD's own
// cluster).
func (s *Suite) runArgo(ctx context.Context, k *Kustomizer, b *Bundle, mode Mode, clients []*Client, res *Result) error {
	for i, cluster := range b.Clusters {
		dir := path.Join("clusters", cluster)
		objects, err := k.Build(b.Dir(dir), dir)
		if err != nil {
			return err
		}
		waves, order, err := ArgoWaves(objects)
		if err != nil {
			return err
		}
		res.Findings = append(res.Findings, order...)
		for _, w := range waves {
			clients[i].Apply(ctx, mode, w.Objects)
		}
		res.Objects += len(objects)
	}
	objects, err := k.Build(b.Dir("delivery/argocd"), "delivery/argocd")
	if err != nil {
		return err
	}
	clients[0].Apply(ctx, mode, objects)
	res.Objects += len(objects)
	return nil
}

// runFlux applies each cluster's Flux Kustomizations (as its bootstrap
// Kustomization would), then every layer they name in dependsOn order, in
// kustomize-controller's stages; a layer's HelmReleases are installed as
// helm-controller would, in their own dependsOn order, from the released
// charts.
func (s *Suite) runFlux(ctx context.Context, k *Kustomizer, b *Bundle, clients []*Client, res *Result) error {
	for i, cluster := range b.Clusters {
		dir := path.Join("delivery/flux", cluster)
		kustomizations, err := k.Build(b.Dir(dir), dir)
		if err != nil {
			return err
		}
		clients[i].Apply(ctx, ServerSide, kustomizations)
		res.Objects += len(kustomizations)
		layers, err := FluxLayers(kustomizations)
		if err != nil {
			return err
		}
		installed := map[string]bool{} // the cluster's HelmReleases so far
		for _, l := range layers {
			p, err := b.OutputPath(l.Path)
			if err != nil {
				return err
			}
			objects, err := k.Build(b.Dir(p), p)
			if err != nil {
				return err
			}
			for _, stage := range FluxStages(objects) {
				clients[i].Apply(ctx, ServerSide, stage)
			}
			res.Objects += len(objects)
			n, err := s.installHelmReleases(ctx, k, objects, clients[i], installed)
			if err != nil {
				return fmt.Errorf("layer %s: %w", l.Name, err)
			}
			res.Objects += n
		}
	}
	return nil
}

// installHelmReleases installs the charts of a layer's HelmReleases in
// dependsOn order, as Helm 3 creates a release's objects. done holds the
// releases earlier layers installed; a release waiting for one that only a
// later layer brings never becomes ready (that layer waits for this one),
// and is reported as such.
func (s *Suite) installHelmReleases(ctx context.Context, k *Kustomizer, objects []Object, c *Client, done map[string]bool) (int, error) {
	var releases []Object
	for _, o := range objects {
		if o.GetKind() == "HelmRelease" {
			releases = append(releases, o)
		}
	}
	n, left := 0, len(releases)
	for left > 0 {
		progressed := false
		for _, hr := range releases {
			if done[hr.GetName()] {
				continue
			}
			deps, _, _ := unstructured.NestedSlice(hr.Object, "spec", "dependsOn")
			ready := true
			for _, d := range deps {
				m, _ := d.(map[string]any)
				if name, _ := m["name"].(string); !done[name] {
					ready = false
				}
			}
			if !ready {
				continue
			}
			rendered, err := k.HelmRelease(hr)
			if err != nil {
				return n, err
			}
			c.Apply(ctx, HelmInstall, rendered)
			n += len(rendered)
			done[hr.GetName()], progressed = true, true
			left--
		}
		if !progressed {
			var stuck []string
			for _, hr := range releases {
				if !done[hr.GetName()] {
					stuck = append(stuck, hr.GetName())
				}
			}
			return n, fmt.Errorf("HelmReleases %v wait for releases that are neither installed by an earlier layer nor in this one", stuck)
		}
	}
	return n, nil
}
