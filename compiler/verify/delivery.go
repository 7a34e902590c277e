package verify

import (
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Argo CD's API module pulls in all of Argo CD (and replaces Kubernetes
// modules of its own), so its objects decode strictly into this mirror of
// the argoproj.io/v1alpha1 fields meshc writes, spelled as Argo CD's
// Application and ApplicationSet types spell them. Flux's objects decode
// into Flux's own API types.

type argoApplicationSpec struct {
	Project string `json:"project"`
	Source  struct {
		RepoURL        string `json:"repoURL"`
		TargetRevision string `json:"targetRevision,omitempty"`
		Path           string `json:"path,omitempty"`
	} `json:"source"`
	Destination struct {
		Server    string `json:"server,omitempty"`
		Name      string `json:"name,omitempty"`
		Namespace string `json:"namespace,omitempty"`
	} `json:"destination"`
	SyncPolicy *struct {
		Automated *struct {
			Prune    bool `json:"prune,omitempty"`
			SelfHeal bool `json:"selfHeal,omitempty"`
		} `json:"automated,omitempty"`
		SyncOptions []string `json:"syncOptions,omitempty"`
		Retry       *struct {
			Limit   int64 `json:"limit,omitempty"`
			Backoff *struct {
				Duration    string `json:"duration,omitempty"`
				Factor      *int64 `json:"factor,omitempty"`
				MaxDuration string `json:"maxDuration,omitempty"`
			} `json:"backoff,omitempty"`
		} `json:"retry,omitempty"`
	} `json:"syncPolicy,omitempty"`
	IgnoreDifferences []struct {
		Group             string   `json:"group,omitempty"`
		Kind              string   `json:"kind"`
		JQPathExpressions []string `json:"jqPathExpressions,omitempty"`
	} `json:"ignoreDifferences,omitempty"`
}

type argoApplication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              argoApplicationSpec `json:"spec"`
}

type argoApplicationSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		GoTemplate        bool     `json:"goTemplate,omitempty"`
		GoTemplateOptions []string `json:"goTemplateOptions,omitempty"`
		Generators        []struct {
			List *struct {
				Elements []map[string]string `json:"elements"`
			} `json:"list,omitempty"`
		} `json:"generators"`
		Template struct {
			Metadata struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels,omitempty"`
			} `json:"metadata"`
			Spec argoApplicationSpec `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

func checkArgoSpec(s argoApplicationSpec) error {
	if s.Project == "" || s.Source.RepoURL == "" || (s.Destination.Name == "") == (s.Destination.Server == "") {
		return fmt.Errorf("needs a project, a source repoURL and exactly one of destination name or server")
	}
	return nil
}

// delivery checks an Argo CD or Flux object; ok is false for other kinds.
func delivery(apiVersion, kind string, data []byte) (ok bool, err error) {
	switch apiVersion + "/" + kind {
	case "argoproj.io/v1alpha1/Application":
		var a argoApplication
		if err := strictJSON(data, &a); err != nil {
			return true, err
		}
		if a.Namespace == "" {
			return true, fmt.Errorf("Application needs the namespace Argo CD runs in")
		}
		return true, checkArgoSpec(a.Spec)
	case "argoproj.io/v1alpha1/ApplicationSet":
		var a argoApplicationSet
		if err := strictJSON(data, &a); err != nil {
			return true, err
		}
		if a.Namespace == "" || len(a.Spec.Generators) == 0 || a.Spec.Template.Metadata.Name == "" {
			return true, fmt.Errorf("ApplicationSet needs a namespace, a generator and a template name")
		}
		return true, checkArgoSpec(a.Spec.Template.Spec)
	case kustomizev1.GroupVersion.String() + "/Kustomization":
		var k kustomizev1.Kustomization
		if err := strictJSON(data, &k); err != nil {
			return true, err
		}
		if k.Namespace == "" || k.Spec.SourceRef.Name == "" || k.Spec.Interval.Duration == 0 {
			return true, fmt.Errorf("Kustomization needs a namespace, a sourceRef and an interval")
		}
		return true, nil
	}
	return false, nil
}

// fluxHelm checks the helm target's Flux objects against Flux's API types.
func fluxHelm(apiVersion, kind string, data []byte) (ok bool, err error) {
	switch apiVersion + "/" + kind {
	case sourcev1.GroupVersion.String() + "/HelmRepository":
		var r sourcev1.HelmRepository
		if err := strictJSON(data, &r); err != nil {
			return true, err
		}
		if r.Namespace == "" || r.Spec.URL == "" {
			return true, fmt.Errorf("HelmRepository needs a namespace and a url")
		}
		return true, nil
	case helmv2.GroupVersion.String() + "/HelmRelease":
		var r helmv2.HelmRelease
		if err := strictJSON(data, &r); err != nil {
			return true, err
		}
		if r.Namespace == "" || r.Spec.Chart == nil || r.Spec.Chart.Spec.Chart == "" || r.Spec.Chart.Spec.SourceRef.Name == "" {
			return true, fmt.Errorf("HelmRelease needs a namespace and a chart from a source")
		}
		return true, nil
	}
	return false, nil
}
