package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
)

// Istiod is one control plane of a bundle run as a real pilot-discovery
// process: the pod its Deployment would start, with the pod's arguments,
// environment and mounted files, on 127.0.0.1 ports of its own.
type Istiod struct {
	Cluster        string // the cluster (API server) it runs in
	Namespace      string
	Deployment     string
	Revision       string            // its REVISION environment variable
	Env            map[string]string // its container's environment, as given
	ServiceAccount string
	PodLabels      map[string]string
	// Ports maps each port the pod listens on (pilot-discovery's defaults,
	// or what the Deployment's flags say) to the local port serving it.
	Ports map[int32]int
	Root  string // the pod's filesystem: its mounts are under it, and it is the working directory

	cmd *exec.Cmd
	log string
}

// istiodAddrFlags are pilot-discovery's listening flags and the port each
// listens on unless the Deployment says otherwise.
var istiodAddrFlags = map[string]int32{
	"httpAddr":       8080,
	"httpsAddr":      15017,
	"grpcAddr":       15010,
	"secureGRPCAddr": 15012,
	"monitoringAddr": 15014,
}

// IstiodDeployments are the Deployments of objects whose pod runs
// pilot-discovery (a container named discovery whose first argument is
// "discovery"): the bundle's control planes.
func IstiodDeployments(objects []Object) ([]*appsv1.Deployment, error) {
	var out []*appsv1.Deployment
	for _, o := range objects {
		if o.GetKind() != "Deployment" {
			continue
		}
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", o.ID(), err)
		}
		if c := discoveryContainer(&d); c != nil {
			out = append(out, &d)
		}
	}
	return out, nil
}

func discoveryContainer(d *appsv1.Deployment) *corev1.Container {
	for i, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "discovery" && len(c.Args) > 0 && c.Args[0] == "discovery" {
			return &d.Spec.Template.Spec.Containers[i]
		}
	}
	return nil
}

// StartIstiod starts pilot-discovery as the pod of Deployment d would run
// in the cluster of server, and waits until it is ready. What a kubelet
// would do for the pod is done here, and only that: the Secrets and
// ConfigMaps the pod mounts are read from the API server into the pod's
// folder (an optional one that is absent leaves an empty folder, as the
// kubelet does), projected service-account tokens are requested from the
// API server, and downward-API environment variables get the pod's name,
// namespace and service account. pilot-discovery resolves its default
// paths (./etc/cacerts, ./var/lib/istio/inject, ./etc/istio/config/mesh)
// against its working directory, the pod's folder. Its listening flags
// are replaced by 127.0.0.1 ports of its own. When the pod's own
// kubeconfig (KUBECONFIG) is absent, client-go would fall back to the
// in-cluster config: a kubeconfig with the pod's service-account token
// stands in for it.
func StartIstiod(ctx context.Context, bin, dir string, server *APIServer, caPEM []byte, d *appsv1.Deployment) (*Istiod, error) {
	container := discoveryContainer(d)
	if container == nil {
		return nil, fmt.Errorf("deployment %s/%s runs no pilot-discovery", d.Namespace, d.Name)
	}
	kube, err := kubernetes.NewForConfig(server.Config)
	if err != nil {
		return nil, err
	}
	pod := d.Spec.Template.Spec
	sa := pod.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	ist := &Istiod{
		Cluster:        server.Name,
		Namespace:      d.Namespace,
		Deployment:     d.Name,
		ServiceAccount: sa,
		PodLabels:      d.Spec.Template.Labels,
		Ports:          map[int32]int{},
		Env:            map[string]string{},
		Root:           filepath.Join(dir, "istiod-"+server.Name+"-"+d.Namespace+"-"+d.Name),
		log:            filepath.Join(dir, "istiod-"+server.Name+"-"+d.Namespace+"-"+d.Name+".log"),
	}
	if err := os.MkdirAll(ist.Root, 0o755); err != nil {
		return nil, err
	}
	if err := ist.mount(ctx, kube, &pod, container); err != nil {
		return nil, fmt.Errorf("istiod %s/%s in %s: %w", d.Namespace, d.Name, server.Name, err)
	}

	// Arguments: the container's, with every listening flag replaced.
	args, listen := withoutFlags(container.Args[1:], istiodAddrFlags)
	for flag, port := range listen {
		local, err := freePort()
		if err != nil {
			return nil, err
		}
		ist.Ports[port] = local
		args = append(args, fmt.Sprintf("--%s=127.0.0.1:%d", flag, local))
	}
	for i, a := range args {
		args[i] = ist.path(a, container)
	}
	args = append([]string{"discovery"}, args...)

	podName := d.Name + "-e2e"
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + ist.Root}
	kubeconfigSet, inCluster := false, false
	for _, e := range container.Env {
		var value string
		switch {
		case e.ValueFrom == nil:
			value = ist.path(e.Value, container)
		case e.ValueFrom.FieldRef != nil:
			switch e.ValueFrom.FieldRef.FieldPath {
			case "metadata.name":
				value = podName
			case "metadata.namespace":
				value = d.Namespace
			case "spec.serviceAccountName":
				value = sa
			case "status.podIP", "status.hostIP":
				value = "127.0.0.1"
			case "spec.nodeName":
				value = "meshc-e2e-node"
			default:
				return nil, fmt.Errorf("istiod %s/%s: env %s reads field %s, which the suite does not stand in for", d.Namespace, d.Name, e.Name, e.ValueFrom.FieldRef.FieldPath)
			}
		case e.ValueFrom.ResourceFieldRef != nil:
			continue // GOMAXPROCS from the CPU limit: the Go runtime's own default here
		case e.ValueFrom.SecretKeyRef != nil, e.ValueFrom.ConfigMapKeyRef != nil:
			v, ok, err := envFrom(ctx, kube, d.Namespace, e.ValueFrom)
			if err != nil {
				return nil, fmt.Errorf("istiod %s/%s: env %s: %w", d.Namespace, d.Name, e.Name, err)
			}
			if !ok {
				continue
			}
			value = v
		default:
			return nil, fmt.Errorf("istiod %s/%s: env %s has a source the suite does not know", d.Namespace, d.Name, e.Name)
		}
		ist.Env[e.Name] = value
		switch e.Name {
		case "REVISION":
			ist.Revision = value
		case "KUBECONFIG":
			if _, err := os.Stat(value); err != nil {
				continue // absent: client-go falls back to the in-cluster config, below
			}
			kubeconfigSet = true
		case "LOCAL_CLUSTER_SECRET_WATCHER":
			// An external istiod reads remote secrets in the cluster it
			// runs in through rest.InClusterConfig itself
			// (pkg/kube/multicluster/secretcontroller.go).
			inCluster = value == "true"
		}
		env = append(env, e.Name+"="+value)
	}
	if !kubeconfigSet {
		// The in-cluster config: the API server of the pod's cluster with the
		// pod's service-account token.
		token, err := requestToken(ctx, kube, d.Namespace, sa, nil, 24*3600)
		if err != nil {
			return nil, fmt.Errorf("istiod %s/%s: token of its service account: %w", d.Namespace, d.Name, err)
		}
		path := filepath.Join(ist.Root, "in-cluster-kubeconfig")
		if err := os.WriteFile(path, Kubeconfig(server.Name, server.URL, caPEM, token), 0o600); err != nil {
			return nil, err
		}
		env = append(env, "KUBECONFIG="+path)
	}

	cmd := exec.Command(bin, args...)
	if inCluster {
		if cmd, err = ist.inClusterCommand(ctx, kube, server, caPEM, bin, args); err != nil {
			return nil, fmt.Errorf("istiod %s/%s: %w", d.Namespace, d.Name, err)
		}
		u, _ := url.Parse(server.URL)
		env = append(env, "KUBERNETES_SERVICE_HOST="+u.Hostname(), "KUBERNETES_SERVICE_PORT="+u.Port())
	}
	log, err := os.Create(ist.log)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd.Dir = ist.Root
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ist.cmd = cmd
	if err := waitHTTP(fmt.Sprintf("http://127.0.0.1:%d/ready", ist.Ports[8080]), nil, 5*time.Minute); err != nil {
		ist.Stop()
		return nil, fmt.Errorf("istiod %s/%s in %s not ready: %w\nlast lines of %s:\n%s", d.Namespace, d.Name, server.Name, err, ist.log, tail(ist.log, 30))
	}
	return ist, nil
}

// ErrNoInClusterConfig says that the pod needs client-go's in-cluster
// config and this machine cannot give it one.
var ErrNoInClusterConfig = errors.New("the pod reads client-go's in-cluster config, whose token and CA are at the fixed path /var/run/secrets/kubernetes.io/serviceaccount; " +
	"the suite mounts them there in a mount namespace of the process's own (unshare --mount), which this machine does not allow")

// inClusterCommand is the command that runs pilot-discovery with what
// every pod has and client-go's rest.InClusterConfig reads: the pod's
// service-account token, the cluster's CA and the namespace under
// /var/run/secrets/kubernetes.io/serviceaccount. They are mounted there
// only for the process, in a mount namespace of its own (a tmpfs over
// /var/run, the pod's secrets bound into it); the machine's /var/run is
// untouched.
func (i *Istiod) inClusterCommand(ctx context.Context, kube kubernetes.Interface, server *APIServer, caPEM []byte, bin string, args []string) (*exec.Cmd, error) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, ErrNoInClusterConfig
	}
	if out, err := exec.Command(unshare, "--mount", "--propagation", "private", "true").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%w (%v: %s)", ErrNoInClusterConfig, err, strings.TrimSpace(string(out)))
	}
	token, err := requestToken(ctx, kube, i.Namespace, i.ServiceAccount, nil, 24*3600)
	if err != nil {
		return nil, err
	}
	secrets := filepath.Join(i.Root, "var", "run", "secrets")
	sa := filepath.Join(secrets, "kubernetes.io", "serviceaccount")
	if err := os.MkdirAll(sa, 0o755); err != nil {
		return nil, err
	}
	for name, data := range map[string][]byte{"token": []byte(token), "ca.crt": caPEM, "namespace": []byte(i.Namespace)} {
		if err := os.WriteFile(filepath.Join(sa, name), data, 0o600); err != nil {
			return nil, err
		}
	}
	script := `mount -t tmpfs meshc-e2e /var/run && mkdir -p /var/run/secrets && mount --bind "$0" /var/run/secrets && exec "$@"`
	return exec.Command(unshare, append([]string{"--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, secrets, bin}, args...)...), nil
}

// Stop ends the istiod.
func (i *Istiod) Stop() { stop(i.cmd) }

// Log is the path of its log.
func (i *Istiod) Log() string { return i.log }

// String names it for messages.
func (i *Istiod) String() string {
	return fmt.Sprintf("istiod %s/%s (revision %s) in %s", i.Namespace, i.Deployment, i.Revision, i.Cluster)
}

// Metric reads one counter from its monitoring port (0 when it has not
// counted yet: Prometheus counters appear on first use).
func (i *Istiod) Metric(name string) (float64, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", i.Ports[15014]))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var total float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q: %w", name, line, err)
		}
		total += v
	}
	return total, sc.Err()
}

// path maps an absolute path inside one of the container's mounts to the
// same path under the pod's folder.
func (i *Istiod) path(s string, c *corev1.Container) string {
	for _, m := range c.VolumeMounts {
		if s == m.MountPath || strings.HasPrefix(s, strings.TrimSuffix(m.MountPath, "/")+"/") {
			return filepath.Join(i.Root, s)
		}
	}
	return s
}

// mount writes what the kubelet would mount into the container.
func (i *Istiod) mount(ctx context.Context, kube kubernetes.Interface, pod *corev1.PodSpec, c *corev1.Container) error {
	for _, m := range c.VolumeMounts {
		idx := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if idx < 0 {
			return fmt.Errorf("mount %s names no volume", m.Name)
		}
		v := pod.Volumes[idx]
		dst := filepath.Join(i.Root, m.MountPath)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		var files map[string][]byte
		var err error
		switch {
		case v.Secret != nil:
			files, err = secretFiles(ctx, kube, i.Namespace, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional)
		case v.ConfigMap != nil:
			files, err = configMapFiles(ctx, kube, i.Namespace, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional)
		case v.Projected != nil:
			files = map[string][]byte{}
			for _, src := range v.Projected.Sources {
				var more map[string][]byte
				switch {
				case src.ServiceAccountToken != nil:
					var aud []string
					if src.ServiceAccountToken.Audience != "" {
						aud = []string{src.ServiceAccountToken.Audience}
					}
					exp := int64(3600)
					if src.ServiceAccountToken.ExpirationSeconds != nil {
						exp = *src.ServiceAccountToken.ExpirationSeconds
					}
					tok, terr := requestToken(ctx, kube, i.Namespace, i.saName(pod), aud, exp)
					if terr != nil {
						return fmt.Errorf("volume %s: %w", v.Name, terr)
					}
					more = map[string][]byte{src.ServiceAccountToken.Path: []byte(tok)}
				case src.Secret != nil:
					more, err = secretFiles(ctx, kube, i.Namespace, src.Secret.Name, src.Secret.Items, src.Secret.Optional)
				case src.ConfigMap != nil:
					more, err = configMapFiles(ctx, kube, i.Namespace, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional)
				}
				if err != nil {
					return fmt.Errorf("volume %s: %w", v.Name, err)
				}
				for k, b := range more {
					files[k] = b
				}
			}
		case v.EmptyDir != nil, v.DownwardAPI != nil:
			continue
		default:
			return fmt.Errorf("volume %s is of a kind the suite does not stand in for", v.Name)
		}
		if err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		for name, data := range files {
			if m.SubPath != "" {
				if name != m.SubPath {
					continue
				}
				if err := os.Remove(dst); err != nil {
					return err
				}
				if err := os.WriteFile(dst, data, 0o600); err != nil {
					return err
				}
				continue
			}
			f := filepath.Join(dst, name)
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(f, data, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

func (i *Istiod) saName(pod *corev1.PodSpec) string {
	if pod.ServiceAccountName != "" {
		return pod.ServiceAccountName
	}
	return "default"
}

func secretFiles(ctx context.Context, kube kubernetes.Interface, ns, name string, items []corev1.KeyToPath, optional *bool) (map[string][]byte, error) {
	s, err := kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && optional != nil && *optional {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s: %w", ns, name, err)
	}
	return keyFiles(s.Data, items), nil
}

func configMapFiles(ctx context.Context, kube kubernetes.Interface, ns, name string, items []corev1.KeyToPath, optional *bool) (map[string][]byte, error) {
	cm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && optional != nil && *optional {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("configmap %s/%s: %w", ns, name, err)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return keyFiles(data, items), nil
}

func keyFiles(data map[string][]byte, items []corev1.KeyToPath) map[string][]byte {
	if len(items) == 0 {
		return data
	}
	out := map[string][]byte{}
	for _, it := range items {
		if v, ok := data[it.Key]; ok {
			out[it.Path] = v
		}
	}
	return out
}

func envFrom(ctx context.Context, kube kubernetes.Interface, ns string, src *corev1.EnvVarSource) (string, bool, error) {
	if r := src.SecretKeyRef; r != nil {
		s, err := kube.CoreV1().Secrets(ns).Get(ctx, r.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) && r.Optional != nil && *r.Optional {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		v, ok := s.Data[r.Key]
		return string(v), ok, nil
	}
	r := src.ConfigMapKeyRef
	cm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, r.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && r.Optional != nil && *r.Optional {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	v, ok := cm.Data[r.Key]
	return v, ok, nil
}

// requestToken asks the API server for a token of a service account, as
// the kubelet does for a projected token and the token controller (with a
// legacy token) for a service-account-token Secret.
func requestToken(ctx context.Context, kube kubernetes.Interface, ns, sa string, audiences []string, seconds int64) (string, error) {
	tr, err := kube.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{Audiences: audiences, ExpirationSeconds: &seconds},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return tr.Status.Token, nil
}

// Kubeconfig is a kubeconfig for one API server with a bearer token.
func Kubeconfig(name, server string, caPEM []byte, token string) []byte {
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority-data: %[3]s
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[1]s
current-context: %[1]s
users:
- name: %[1]s
  user:
    token: %[4]s
`, name, server, base64.StdEncoding.EncodeToString(caPEM), token)
}

// withoutFlags drops the flags named in flags (--name=value or --name
// value) from args and returns the port each listens on: the one args
// gave, else its default.
func withoutFlags(args []string, flags map[string]int32) ([]string, map[string]int32) {
	listen := map[string]int32{}
	for f, port := range flags {
		listen[f] = port
	}
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if _, ok := flags[name]; !ok || !strings.HasPrefix(a, "-") {
			out = append(out, a)
			continue
		}
		if !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		if _, p, err := net.SplitHostPort(value); err == nil {
			if n, err := strconv.Atoi(p); err == nil {
				listen[name] = int32(n)
			}
		}
	}
	return out, listen
}
