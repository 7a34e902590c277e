package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"net"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/model"
)

// MeshRun is one example compiled for the rendered target, applied to API
// servers of its own (one per cluster, on 127.0.0.1, named in a variant of
// the topology whose apiServer and caBundle fields are theirs), with each
// of its control planes running as a real istiod.
type MeshRun struct {
	Bundle  *Bundle
	Servers map[string]*APIServer // by the topology's cluster name
	Kube    map[string]kubernetes.Interface
	Objects map[string][]Object // each cluster's bundle as kustomize builds it
	Istiods []*Istiod
	// Routes says which istiod a Service leads to through the stand-in
	// network: cluster → "<name>.<namespace>.svc" → istiod.
	Routes map[string]map[string]*Istiod
	// Store is the External Secrets provider: key → property → value.
	Store map[string]map[string][]byte
	// StandIns lists what was done in place of a kubelet or controller.
	StandIns []string
}

// StartMeshRun starts an example's clusters and control planes. Objects
// the bundle applies are applied server-side, wave by wave, as Argo CD
// would; whatever a controller that is not running would have made is
// made by the stand-ins, each recorded in StandIns.
func StartMeshRun(ctx context.Context, s *Suite, example, dir string) (r *MeshRun, err error) {
	name := strings.TrimSuffix(filepath.Base(example), filepath.Ext(example))
	topo, err := compiler.Validate(example)
	if err != nil {
		return nil, err
	}
	clusters := slices.Sorted(maps.Keys(topo.Clusters))
	names := make([]string, len(clusters))
	for i, c := range clusters {
		names[i] = "istiod-" + name + "-" + c
	}
	servers, err := s.StartServers(ctx, names)
	if err != nil {
		return nil, err
	}
	r = &MeshRun{
		Servers: map[string]*APIServer{},
		Kube:    map[string]kubernetes.Interface{},
		Objects: map[string][]Object{},
		Routes:  map[string]map[string]*Istiod{},
		Store:   map[string]map[string][]byte{},
	}
	defer func() {
		if err != nil {
			r.Stop()
		}
	}()
	for i, c := range clusters {
		r.Servers[c] = servers[i]
		if r.Kube[c], err = kubernetes.NewForConfig(servers[i].Config); err != nil {
			return r, err
		}
		r.Routes[c] = map[string]*Istiod{}
	}
	ca := base64.StdEncoding.EncodeToString(s.CA())
	r.Bundle, err = CompileVariant(example, emit.Rendered, filepath.Join(dir, "bundle"), func(t *model.Topology) {
		for c, cl := range t.Clusters {
			cl.APIServer = r.Servers[c].URL
			cl.CABundle = ca
			cl.TLSServerName = "" // the servers' certificate names 127.0.0.1
		}
	})
	if err != nil {
		return r, err
	}

	k := &Kustomizer{Helm: s.Bin.Helm, Charts: filepath.Join("..", "compiler", "charts", "released")}
	for _, c := range clusters {
		p := path.Join("clusters", c)
		objects, err := k.Build(r.Bundle.Dir(p), p)
		if err != nil {
			return r, err
		}
		r.Objects[c] = objects
		waves, order, err := ArgoWaves(objects)
		if err != nil {
			return r, err
		}
		if len(order) > 0 {
			return r, fmt.Errorf("%s: %v", c, order)
		}
		client, err := NewClient(r.Servers[c], "argocd-controller")
		if err != nil {
			return r, err
		}
		for _, w := range waves {
			client.Apply(ctx, ServerSide, w.Objects)
		}
		for _, f := range client.Findings() {
			if !f.Warning {
				return r, fmt.Errorf("%s: %s", c, f)
			}
		}
	}

	// What the token controller and External Secrets would write, in the
	// order the bundles' layers wait for it.
	for _, c := range clusters {
		if err := r.fillTokenSecrets(ctx, c, s.CA()); err != nil {
			return r, err
		}
	}
	for _, c := range clusters {
		if err := r.pushSecrets(ctx, c); err != nil {
			return r, err
		}
	}
	for _, c := range clusters {
		if err := r.externalSecrets(ctx, c); err != nil {
			return r, err
		}
	}

	for _, c := range clusters {
		deployments, err := IstiodDeployments(r.Objects[c])
		if err != nil {
			return r, err
		}
		for _, d := range deployments {
			ist, err := StartIstiod(ctx, s.Bin.Pilot, filepath.Join(dir, "pods"), r.Servers[c], s.CA(), d)
			if err != nil {
				return r, err
			}
			ist.Cluster = c
			r.Istiods = append(r.Istiods, ist)
			if err := r.routeServices(ctx, c, ist); err != nil {
				return r, err
			}
		}
	}
	for _, ist := range r.Istiods {
		for _, cp := range r.Bundle.Topology.ControlPlanes() {
			if cp.Cluster != ist.Cluster || cp.Namespace != ist.Namespace || cp.Revision != ist.Revision {
				continue
			}
			for _, remote := range cp.Remotes {
				if err := r.routeRemote(ctx, remote, ist); err != nil {
					return r, err
				}
			}
		}
	}
	return r, nil
}

// Stop ends the istiods and the API servers.
func (r *MeshRun) Stop() {
	for _, ist := range r.Istiods {
		ist.Stop()
	}
	for _, srv := range r.Servers {
		srv.Stop()
	}
}

// routeServices connects every Service of the istiod's namespace whose
// selector matches its pod to the istiod, as kube-proxy and the pod
// network would.
func (r *MeshRun) routeServices(ctx context.Context, cluster string, ist *Istiod) error {
	services, err := r.Kube[cluster].CoreV1().Services(ist.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, svc := range services.Items {
		if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(ist.PodLabels)) {
			continue
		}
		if err := r.routeService(cluster, &svc, ist); err != nil {
			return err
		}
	}
	return nil
}

// routeRemote connects the remote profile's istiod Services in a remote
// cluster (no selector: they lead to the primary's exposed address, by
// cluster IP with endpoints at a load balancer, or by an ExternalName) to
// the primary's istiod. This stands in for what lies between the clusters:
// DNS, the load balancer, and the gateway that forwards 15012 and 15017 to
// istiod.
func (r *MeshRun) routeRemote(ctx context.Context, cluster string, ist *Istiod) error {
	list, err := r.Kube[cluster].CoreV1().Services(ist.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, svc := range list.Items {
		if len(svc.Spec.Selector) > 0 || !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool {
			return p.TargetPort.IntVal == 15017 || p.Port == 15012
		}) {
			continue
		}
		if err := r.routeService(cluster, &svc, ist); err != nil {
			return err
		}
	}
	return nil
}

// routeService connects each port of svc in cluster, at the address the
// API server dials for it (its cluster IP, or its external name), to the
// istiod port it targets.
func (r *MeshRun) routeService(cluster string, svc *corev1.Service, ist *Istiod) error {
	host := svc.Spec.ClusterIP
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		host = svc.Spec.ExternalName
	}
	if host == "" || host == corev1.ClusterIPNone {
		return fmt.Errorf("%s: Service %s/%s has no address to route", cluster, svc.Namespace, svc.Name)
	}
	network := r.Servers[cluster].Network
	var routed []string
	for _, p := range svc.Spec.Ports {
		target := p.Port
		if p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal != 0 {
			target = p.TargetPort.IntVal
		}
		local, ok := ist.Ports[target]
		if !ok {
			continue // a port istiod does not listen on
		}
		from := net.JoinHostPort(host, strconv.Itoa(int(p.Port)))
		network.Route(from, fmt.Sprintf("127.0.0.1:%d", local))
		routed = append(routed, fmt.Sprintf("%s→%d", from, target))
	}
	r.Routes[cluster][svc.Name+"."+svc.Namespace+".svc"] = ist
	r.StandIns = append(r.StandIns, fmt.Sprintf("%s: network: Service %s/%s (%s) → %s", cluster, svc.Namespace, svc.Name, strings.Join(routed, ", "), ist))
	return nil
}

// fillTokenSecrets writes what Kubernetes' token controller writes into
// each service-account-token Secret of the cluster's bundle: a token of
// the ServiceAccount (here from the TokenRequest API), the API server's
// CA and the namespace.
func (r *MeshRun) fillTokenSecrets(ctx context.Context, cluster string, caPEM []byte) error {
	for _, o := range r.Objects[cluster] {
		if o.GetKind() != "Secret" {
			continue
		}
		if t, _, _ := unstructured.NestedString(o.Object, "type"); t != string(corev1.SecretTypeServiceAccountToken) {
			continue
		}
		sa := o.GetAnnotations()[corev1.ServiceAccountNameKey]
		token, err := requestToken(ctx, r.Kube[cluster], o.GetNamespace(), sa, nil, 24*3600)
		if err != nil {
			return fmt.Errorf("%s: token for %s: %w", cluster, o.ID(), err)
		}
		secrets := r.Kube[cluster].CoreV1().Secrets(o.GetNamespace())
		sec, err := secrets.Get(ctx, o.GetName(), metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("%s: %s: %w", cluster, o.ID(), err)
		}
		sec.Data = map[string][]byte{"token": []byte(token), "ca.crt": caPEM, "namespace": []byte(o.GetNamespace())}
		if _, err := secrets.Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("%s: filling %s: %w", cluster, o.ID(), err)
		}
		r.StandIns = append(r.StandIns, fmt.Sprintf("%s: token data of %s (TokenRequest for ServiceAccount %s)", cluster, o.ID(), sa))
	}
	return nil
}

// pushSecrets does what External Secrets does for each PushSecret of the
// cluster's bundle: each selected key of the Secret goes to the store
// under the remote key and property the PushSecret names.
func (r *MeshRun) pushSecrets(ctx context.Context, cluster string) error {
	for _, o := range r.Objects[cluster] {
		if o.GetKind() != "PushSecret" {
			continue
		}
		name, _, _ := unstructured.NestedString(o.Object, "spec", "selector", "secret", "name")
		if name == "" {
			return fmt.Errorf("%s: %s selects no Secret by name, which the stand-in does not follow", cluster, o.ID())
		}
		sec, err := r.Kube[cluster].CoreV1().Secrets(o.GetNamespace()).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("%s: %s: %w", cluster, o.ID(), err)
		}
		data, _, _ := unstructured.NestedSlice(o.Object, "spec", "data")
		for _, d := range data {
			m, _ := d.(map[string]any)
			secretKey, _, _ := unstructured.NestedString(m, "match", "secretKey")
			key, _, _ := unstructured.NestedString(m, "match", "remoteRef", "remoteKey")
			property, _, _ := unstructured.NestedString(m, "match", "remoteRef", "property")
			value, ok := sec.Data[secretKey]
			if !ok {
				return fmt.Errorf("%s: %s pushes key %q, which Secret %s does not hold", cluster, o.ID(), secretKey, name)
			}
			if r.Store[key] == nil {
				r.Store[key] = map[string][]byte{}
			}
			r.Store[key][property] = value
		}
		r.StandIns = append(r.StandIns, fmt.Sprintf("%s: %s pushed to the store", cluster, o.ID()))
	}
	return nil
}

// externalSecrets writes the Secret each ExternalSecret of the cluster's
// bundle would produce: its data read from the store by key and property,
// then its template rendered with them (engine v2: Go templates over the
// values as strings), with the template's type, labels and annotations.
func (r *MeshRun) externalSecrets(ctx context.Context, cluster string) error {
	for _, o := range r.Objects[cluster] {
		if o.GetKind() != "ExternalSecret" {
			continue
		}
		if from, _, _ := unstructured.NestedSlice(o.Object, "spec", "dataFrom"); len(from) > 0 {
			return fmt.Errorf("%s: %s uses dataFrom, which the stand-in does not follow", cluster, o.ID())
		}
		values := map[string]string{}
		data, _, _ := unstructured.NestedSlice(o.Object, "spec", "data")
		for _, d := range data {
			m, _ := d.(map[string]any)
			secretKey, _, _ := unstructured.NestedString(m, "secretKey")
			key, _, _ := unstructured.NestedString(m, "remoteRef", "key")
			property, _, _ := unstructured.NestedString(m, "remoteRef", "property")
			v, ok := r.Store[key][property]
			if !ok {
				return fmt.Errorf("%s: %s reads %s property %q, which nothing pushed to the store", cluster, o.ID(), key, property)
			}
			values[secretKey] = string(v)
		}
		var target struct {
			Name           string `json:"name"`
			CreationPolicy string `json:"creationPolicy"`
			Template       *struct {
				EngineVersion string            `json:"engineVersion"`
				Type          corev1.SecretType `json:"type"`
				Data          map[string]string `json:"data"`
				Metadata      struct {
					Labels      map[string]string `json:"labels"`
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
			} `json:"template"`
		}
		spec, _, _ := unstructured.NestedMap(o.Object, "spec", "target")
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(spec, &target); err != nil {
			return fmt.Errorf("%s: %s: %w", cluster, o.ID(), err)
		}
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: target.Name, Namespace: o.GetNamespace()}, Data: map[string][]byte{}}
		if sec.Name == "" {
			sec.Name = o.GetName()
		}
		if t := target.Template; t != nil {
			if t.EngineVersion != "" && t.EngineVersion != "v2" {
				return fmt.Errorf("%s: %s: template engine %s, which the stand-in does not render", cluster, o.ID(), t.EngineVersion)
			}
			sec.Type = t.Type
			sec.Labels, sec.Annotations = t.Metadata.Labels, t.Metadata.Annotations
			for k, text := range t.Data {
				tmpl, err := template.New(k).Option("missingkey=error").Parse(text)
				if err != nil {
					return fmt.Errorf("%s: %s: template %s: %w", cluster, o.ID(), k, err)
				}
				var out bytes.Buffer
				if err := tmpl.Execute(&out, values); err != nil {
					return fmt.Errorf("%s: %s: template %s: %w", cluster, o.ID(), k, err)
				}
				sec.Data[k] = out.Bytes()
			}
		} else {
			for k, v := range values {
				sec.Data[k] = []byte(v)
			}
		}
		secrets := r.Kube[cluster].CoreV1().Secrets(sec.Namespace)
		if _, err := secrets.Create(ctx, sec, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
			_, err = secrets.Update(ctx, sec, metav1.UpdateOptions{})
			if err != nil {
				return fmt.Errorf("%s: %s: %w", cluster, o.ID(), err)
			}
		} else if err != nil {
			return fmt.Errorf("%s: %s: %w", cluster, o.ID(), err)
		}
		r.StandIns = append(r.StandIns, fmt.Sprintf("%s: Secret %s/%s from %s", cluster, sec.Namespace, sec.Name, o.ID()))
	}
	return nil
}
