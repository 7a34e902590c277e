package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Mode is how an object reaches the API server.
type Mode string

const (
	// ServerSide is server-side apply with forced ownership, as Flux's
	// kustomize-controller and Argo CD with ServerSideApply=true send it.
	ServerSide Mode = "server-side"
	// ClientSide is kubectl's client-side apply, Argo CD's default: a create
	// carrying the last-applied-configuration annotation.
	ClientSide Mode = "client-side"
	// HelmInstall is how Helm 3 (and so Flux's helm-controller) installs a
	// release's objects: a plain create, no field validation asked for.
	HelmInstall Mode = "helm-install"
)

// Finding is one rejection or warning from the API server, for one object.
type Finding struct {
	Object  string // kind namespace/name
	Source  string // the bundle folder or HelmRelease the object came from
	Chart   string // the Istio chart that rendered the object, if one did
	Message string
	Warning bool
}

func (f Finding) String() string {
	what := "rejected"
	if f.Warning {
		what = "warning"
	}
	from := f.Source
	if f.Chart != "" {
		from += ", chart " + f.Chart
	}
	return fmt.Sprintf("%s %s (%s): %s", what, f.Object, from, f.Message)
}

// Object is one object to apply and where it came from.
type Object struct {
	*unstructured.Unstructured
	Source string
	// Chart is the Istio chart (name-version) a HelmRelease's object was
	// rendered from; FromChart finds it for other objects.
	Chart string
}

// ID names the object for messages.
func (o Object) ID() string {
	id := o.GetKind() + " "
	if ns := o.GetNamespace(); ns != "" {
		id += ns + "/"
	}
	return id + o.GetName()
}

// crdGVR is where the API server keeps CustomResourceDefinitions.
var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Client applies objects to one API server and remembers what it applied,
// so the server can be emptied for the next bundle.
type Client struct {
	server  *APIServer
	dyn     dynamic.Interface
	kube    kubernetes.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
	manager string

	mu       sync.Mutex
	current  *Object
	findings []Finding
	applied  []appliedRef
}

type appliedRef struct {
	gvr       schema.GroupVersionResource
	namespace string
	name      string
	kind      string
}

// NewClient connects to server; manager names the field manager the
// GitOps controller would use.
func NewClient(server *APIServer, manager string) (*Client, error) {
	c := &Client{server: server, manager: manager}
	cfg := rest.CopyConfig(server.Config)
	cfg.WarningHandler = c
	var err error
	if c.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	return c, nil
}

// HandleWarningHeader records a warning the API server sent while the
// current object was applied.
func (c *Client) HandleWarningHeader(code int, agent, text string) {
	if code != 299 || text == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f := Finding{Message: text, Warning: true}
	if c.current != nil {
		f.Object, f.Source = c.current.ID(), c.current.Source
		f.Chart, _ = FromChart(*c.current)
	}
	c.findings = append(c.findings, f)
}

// Findings returns and forgets what the API server said.
func (c *Client) Findings() []Finding {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.findings
	c.findings = nil
	return out
}

func (c *Client) reject(o Object, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	chart, _ := FromChart(o)
	c.findings = append(c.findings, Finding{Object: o.ID(), Source: o.Source, Chart: chart, Message: err.Error()})
}

// Apply sends each object in order; a rejected object is recorded and the
// rest still go, as a GitOps controller reports every failure of a sync.
// After a CustomResourceDefinition it waits until the CRD is established,
// as Flux does between its stages and Argo CD before a CR's dry run.
func (c *Client) Apply(ctx context.Context, mode Mode, objects []Object) {
	for _, o := range objects {
		if err := c.applyOne(ctx, mode, o); err != nil {
			c.reject(o, err)
			continue
		}
		if o.GetKind() == "CustomResourceDefinition" {
			if err := c.waitEstablished(ctx, o.GetName()); err != nil {
				c.reject(o, err)
			}
		}
	}
}

func (c *Client) applyOne(ctx context.Context, mode Mode, o Object) error {
	c.mu.Lock()
	c.current = &o
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.current = nil
		c.mu.Unlock()
	}()

	gvk := o.GroupVersionKind()
	mapping, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		// A CRD applied since the last discovery: look again once.
		c.mapper.Reset()
		mapping, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return fmt.Errorf("no API for %s (is its CRD installed first?): %w", gvk, err)
	}
	var ri dynamic.ResourceInterface = c.dyn.Resource(mapping.Resource)
	ns := o.GetNamespace()
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		if ns == "" {
			return errors.New("namespaced object without a namespace")
		}
		ri = c.dyn.Resource(mapping.Resource).Namespace(ns)
	} else if ns != "" {
		return fmt.Errorf("cluster-scoped %s carries namespace %q", gvk.Kind, ns)
	}

	switch mode {
	case ServerSide:
		data, err := json.Marshal(o.Object)
		if err != nil {
			return err
		}
		force := true
		_, err = ri.Patch(ctx, o.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
			FieldManager: c.manager, Force: &force, FieldValidation: "Strict",
		})
		if err != nil {
			return err
		}
	case ClientSide, HelmInstall:
		obj := o.DeepCopy()
		opts := metav1.CreateOptions{FieldManager: c.manager}
		if mode == ClientSide {
			// kubectl apply: the object as written goes into the
			// last-applied annotation, and the server validates strictly
			// (kubectl's --validate=strict is its default).
			last, err := json.Marshal(o.Object)
			if err != nil {
				return err
			}
			ann := obj.GetAnnotations()
			if ann == nil {
				ann = map[string]string{}
			}
			ann["kubectl.kubernetes.io/last-applied-configuration"] = string(last) + "\n"
			obj.SetAnnotations(ann)
			opts.FieldValidation = "Strict"
		}
		_, err := ri.Create(ctx, obj, opts)
		if apierrors.IsAlreadyExists(err) {
			// The object exists (an earlier layer or wave applied it):
			// patch it to what this one says.
			data, merr := json.Marshal(obj.Object)
			if merr != nil {
				return merr
			}
			_, err = ri.Patch(ctx, o.GetName(), types.MergePatchType, data, metav1.PatchOptions{
				FieldManager: c.manager, FieldValidation: opts.FieldValidation,
			})
		}
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown apply mode %q", mode)
	}
	c.mu.Lock()
	ref := appliedRef{gvr: mapping.Resource, namespace: ns, name: o.GetName(), kind: gvk.Kind}
	if !slices.Contains(c.applied, ref) {
		c.applied = append(c.applied, ref)
	}
	c.mu.Unlock()
	return nil
}

// waitEstablished waits for a CRD to be served.
func (c *Client) waitEstablished(ctx context.Context, name string) error {
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		crd, err := c.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, cond := range conds {
			m, _ := cond.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
}

// Reset deletes everything this client applied, newest first, so that the
// API server is as it was before: namespaces are finalized by hand (no
// namespace controller runs) and CRDs are waited out.
func (c *Client) Reset(ctx context.Context) error {
	c.mu.Lock()
	applied := slices.Clone(c.applied)
	c.applied = nil
	c.mu.Unlock()
	var errs []error
	var namespaces, crds []string
	for i := len(applied) - 1; i >= 0; i-- {
		a := applied[i]
		switch a.kind {
		case "Namespace":
			namespaces = append(namespaces, a.name)
			continue
		case "CustomResourceDefinition":
			crds = append(crds, a.name)
			continue
		}
		var ri dynamic.ResourceInterface = c.dyn.Resource(a.gvr)
		if a.namespace != "" {
			ri = c.dyn.Resource(a.gvr).Namespace(a.namespace)
		}
		if err := ri.Delete(ctx, a.name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s %s/%s: %w", a.kind, a.namespace, a.name, err))
		}
	}
	for _, name := range crds {
		if err := c.dyn.Resource(crdGVR).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete CRD %s: %w", name, err))
			continue
		}
		// Every custom resource applied was deleted above, one by one. The
		// API server's CRD finalizer would list them again before letting
		// the CRD go, and backs off for minutes while a just-created CRD's
		// storage is still initializing: drop its finalizer instead.
		patch := []byte(`{"metadata":{"finalizers":null}}`)
		if _, err := c.dyn.Resource(crdGVR).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("finalize CRD %s: %w", name, err))
		}
	}
	for _, name := range namespaces {
		err := c.kube.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete namespace %s: %w", name, err))
			continue
		}
		ns, err := c.kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ns.Spec.Finalizers = nil
		if _, err := c.kube.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("finalize namespace %s: %w", name, err))
		}
	}
	for _, name := range crds {
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := c.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("CRD %s not gone: %w", name, err))
		}
	}
	if len(crds) > 0 {
		c.mapper.Reset()
	}
	return errors.Join(errs...)
}

// Contents lists what must be the same before and after a bundle: the
// server's namespaces, then its CRDs, each sorted.
func (c *Client) Contents(ctx context.Context) ([]string, error) {
	namespaces, err := c.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	crds, err := c.dyn.Resource(crdGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var ns, defs []string
	for _, n := range namespaces.Items {
		ns = append(ns, "namespace "+n.Name)
	}
	for _, d := range crds.Items {
		defs = append(defs, "crd "+d.GetName())
	}
	slices.Sort(ns)
	slices.Sort(defs)
	return append(ns, defs...), nil
}

// Forget drops the record of what was applied, so that Reset leaves it:
// for prerequisites installed once for every bundle.
func (c *Client) Forget() {
	c.mu.Lock()
	c.applied = nil
	c.mu.Unlock()
}
