package verify

import (
	"encoding/json"
	"errors"
	"fmt"

	certmanagerv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsjson "sigs.k8s.io/json"
)

// Kinds of the secret operators meshc hands secrets to. cert-manager's
// objects decode strictly into its own Go types. External Secrets' API
// module cannot be fetched on its own (its go.mod replaces sibling modules
// the proxy does not serve), so its objects decode strictly into the
// mirror below, which spells the fields meshc uses exactly as the
// external-secrets.io v1 and v1alpha1 APIs do.

// externalSecret mirrors external-secrets.io/v1 ExternalSecret.
type externalSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		RefreshInterval string `json:"refreshInterval,omitempty"`
		SecretStoreRef  struct {
			Name string `json:"name"`
			Kind string `json:"kind"`
		} `json:"secretStoreRef"`
		Target struct {
			Name           string `json:"name"`
			CreationPolicy string `json:"creationPolicy,omitempty"`
			Template       *struct {
				EngineVersion string `json:"engineVersion,omitempty"`
				Type          string `json:"type,omitempty"`
				Metadata      struct {
					Labels      map[string]string `json:"labels,omitempty"`
					Annotations map[string]string `json:"annotations,omitempty"`
				} `json:"metadata"`
				Data map[string]string `json:"data,omitempty"`
			} `json:"template,omitempty"`
		} `json:"target"`
		Data []struct {
			SecretKey string `json:"secretKey"`
			RemoteRef struct {
				Key      string `json:"key"`
				Property string `json:"property,omitempty"`
			} `json:"remoteRef"`
		} `json:"data"`
	} `json:"spec"`
}

// pushSecret mirrors external-secrets.io/v1alpha1 PushSecret.
type pushSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		RefreshInterval string `json:"refreshInterval,omitempty"`
		SecretStoreRefs []struct {
			Name string `json:"name"`
			Kind string `json:"kind"`
		} `json:"secretStoreRefs"`
		Selector struct {
			Secret struct {
				Name string `json:"name"`
			} `json:"secret"`
		} `json:"selector"`
		Data []struct {
			Match struct {
				SecretKey string `json:"secretKey"`
				RemoteRef struct {
					RemoteKey string `json:"remoteKey"`
					Property  string `json:"property,omitempty"`
				} `json:"remoteRef"`
			} `json:"match"`
		} `json:"data"`
	} `json:"spec"`
}

// networkAttachmentDefinition mirrors Multus's k8s.cni.cncf.io/v1 kind,
// which Istio's CNI chart renders on OpenShift.
type networkAttachmentDefinition struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Config string `json:"config,omitempty"`
	} `json:"spec"`
}

var storeKinds = map[string]bool{"SecretStore": true, "ClusterSecretStore": true}

// thirdParty checks an object of a secret operator; ok is false for kinds
// it does not know.
func thirdParty(obj map[string]any) (ok bool, err error) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	data, err := json.Marshal(obj)
	if err != nil {
		return true, err
	}
	if known, err := fluxHelm(apiVersion, kind, data); known {
		return true, err
	}
	if known, err := delivery(apiVersion, kind, data); known {
		return true, err
	}
	switch apiVersion + "/" + kind {
	case "k8s.cni.cncf.io/v1/NetworkAttachmentDefinition":
		var n networkAttachmentDefinition
		if err := strictJSON(data, &n); err != nil {
			return true, err
		}
		if n.Namespace == "" {
			return true, fmt.Errorf("NetworkAttachmentDefinition needs a namespace")
		}
		return true, nil
	case "cert-manager.io/v1/Certificate":
		var c certmanagerv1.Certificate
		if err := strictJSON(data, &c); err != nil {
			return true, err
		}
		if c.Spec.SecretName == "" || c.Spec.IssuerRef.Name == "" || c.Namespace == "" {
			return true, fmt.Errorf("Certificate needs secretName, issuerRef.name and a namespace")
		}
		return true, nil
	case "external-secrets.io/v1/ExternalSecret":
		var e externalSecret
		if err := strictJSON(data, &e); err != nil {
			return true, err
		}
		if e.Namespace == "" || !storeKinds[e.Spec.SecretStoreRef.Kind] || e.Spec.SecretStoreRef.Name == "" || len(e.Spec.Data) == 0 {
			return true, fmt.Errorf("ExternalSecret needs a namespace, a store reference and data")
		}
		return true, nil
	case "external-secrets.io/v1alpha1/PushSecret":
		var p pushSecret
		if err := strictJSON(data, &p); err != nil {
			return true, err
		}
		if p.Namespace == "" || len(p.Spec.SecretStoreRefs) == 0 || p.Spec.Selector.Secret.Name == "" || len(p.Spec.Data) == 0 {
			return true, fmt.Errorf("PushSecret needs a namespace, a store, a secret and data")
		}
		for _, r := range p.Spec.SecretStoreRefs {
			if !storeKinds[r.Kind] {
				return true, fmt.Errorf("PushSecret store kind %q", r.Kind)
			}
		}
		return true, nil
	}
	return false, nil
}

// strictJSON decodes as the API server does: unknown fields, duplicate
// fields and fields whose case differs (encoding/json would accept
// "dependson" for dependsOn) are all errors.
func strictJSON(data []byte, v any) error {
	strict, err := sigsjson.UnmarshalStrict(data, v, sigsjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}
