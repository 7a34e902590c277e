package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler/crdschema"
	"meshc.dev/meshc/compiler/render"
)

// strictDecoder decodes built-in Kubernetes kinds into their typed APIs and
// fails on any field the type does not have, which the API server would
// silently drop.
var strictDecoder = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// builtinTypes are the structured-merge-diff types of the built-in kinds,
// as server-side apply sees them. Typing an object checks what strict
// decoding cannot: that no two entries of a list merged by key share their
// key (two CLUSTER_ID entries in a container's env, say), which
// server-side apply refuses outright and client-side apply only warns of.
// CRD kinds get the same check from crdschema (x-kubernetes-list-type: map).
// Built on first use: building it costs about 0.2 s of CPU, which every
// meshc process would pay at start, --verify or not.
var builtinTypes = sync.OnceValue(func() managedfields.TypeConverter {
	return applyconfigurations.NewTypeConverter(scheme.Scheme)
})

// Object checks one object the way the API server would accept it: built-in
// kinds decode strictly into their k8s.io/api types; Istio and Sail kinds
// satisfy their CRD schemas, CEL rules included; IstioOperator (read by
// istioctl, not the API server) has a known shape and values Istio knows.
func Object(set *crdschema.Set, obj map[string]any) error {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	switch {
	case kind == "IstioOperator" && apiVersion == "install.istio.io/v1alpha1":
		return checkIstioOperator(set, obj)
	case set.Has(apiVersion, kind):
		return set.Validate(obj)
	}
	if known, err := thirdParty(obj); known {
		return err
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	if _, _, err := strictDecoder.Decode(data, nil, nil); err != nil {
		if runtime.IsNotRegisteredError(err) {
			return fmt.Errorf("%s %s: no schema known to check it against", apiVersion, kind)
		}
		return err
	}
	// Kinds client-go has no apply types for (CustomResourceDefinition)
	// are left to the strict decoding above.
	if _, err := builtinTypes().ObjectToTyped(&unstructured.Unstructured{Object: obj}); err != nil && !isNoType(err) {
		return fmt.Errorf("server-side apply would refuse it: %w", err)
	}
	return nil
}

// Tree checks every object of every bundle in tree as kustomize builds it
// (labels from the kustomizations included), and every file kept beside a
// bundle, such as IstioOperators.
func Tree(tree render.Tree) error {
	set, err := crdschema.Default()
	if err != nil {
		return err
	}
	var problems []string
	err = eachBundle(tree, func(dir string, built []map[string]any) error {
		var errs []error
		for _, obj := range built {
			if err := Object(set, obj); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", dir, describe(obj), err))
			}
		}
		return errors.Join(errs...)
	})
	if err != nil {
		return fmt.Errorf("invalid bundles:\n%w", err)
	}
	for _, p := range tree.Paths() {
		if path.Ext(p) != ".yaml" || path.Base(p) == "kustomization.yaml" ||
			path.Base(path.Dir(p)) != "istioctl" && !strings.HasPrefix(p, "delivery/") {
			continue
		}
		var obj map[string]any
		if err := yaml.UnmarshalStrict(tree[p], &obj); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		if err := Object(set, obj); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", p, err))
		}
	}
	problems = append(problems, helmCharts(tree)...)
	// Delivery folders are kustomizations too: kubectl apply -k and Flux
	// bootstrap build them.
	for _, p := range tree.Paths() {
		if strings.HasPrefix(p, "delivery/") && path.Base(p) == "kustomization.yaml" {
			if _, err := Build(tree, path.Dir(p)); err != nil {
				problems = append(problems, fmt.Sprintf("kustomize build %s: %v", path.Dir(p), err))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New("invalid objects:\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}

// isNoType says whether err is the type converter knowing no type for a
// kind, as opposed to finding the object wrong.
func isNoType(err error) bool {
	return strings.Contains(err.Error(), "no type found matching")
}

func describe(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	if ns, _ := md["namespace"].(string); ns != "" {
		name = ns + "/" + name
	}
	return fmt.Sprintf("%v %s", obj["kind"], name)
}

// istioOperator is the part of the IstioOperator API meshc emits. Decoding
// into it strictly catches a misplaced field; spec.values and
// spec.meshConfig are then checked against the Helm values schema.
type istioOperator struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		Profile    string                            `json:"profile"`
		Revision   string                            `json:"revision,omitempty"`
		MeshConfig map[string]any                    `json:"meshConfig,omitempty"`
		Values     map[string]any                    `json:"values,omitempty"`
		Components map[string]istioOperatorComponent `json:"components,omitempty"`
	} `json:"spec"`
}

type istioOperatorComponent struct {
	Enabled   *bool  `json:"enabled,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// istioOperatorComponents are the component names istioctl knows.
var istioOperatorComponents = map[string]bool{
	"base": true, "pilot": true, "cni": true, "ztunnel": true, "istiodRemote": true,
}

// istioctlOnlyValues are values the istiod chart takes that the Sail
// schema (which this check borrows) leaves to its own IstioRevisionTag.
var istioctlOnlyValues = []string{"revisionTags"}

func checkIstioOperator(set *crdschema.Set, obj map[string]any) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	var iop istioOperator
	if err := strictJSON(data, &iop); err != nil {
		return fmt.Errorf("IstioOperator: %w", err)
	}
	if iop.Metadata.Namespace == "" {
		return errors.New("IstioOperator: metadata.namespace is required")
	}
	for name := range iop.Spec.Components {
		if !istioOperatorComponents[name] {
			return fmt.Errorf("IstioOperator: unknown component %q", name)
		}
	}
	values := make(map[string]any, len(iop.Spec.Values))
	for k, v := range iop.Spec.Values {
		values[k] = v
	}
	for _, k := range istioctlOnlyValues {
		if tags, ok := values[k].([]any); ok {
			for _, t := range tags {
				if _, ok := t.(string); !ok {
					return fmt.Errorf("IstioOperator: spec.values.%s must list strings", k)
				}
			}
		}
		delete(values, k)
	}
	// The ztunnel component's values (values.ztunnel, the ztunnel chart's
	// top level) are the Sail ZTunnel's, not its Istio's.
	if zt, ok := values["ztunnel"]; ok {
		if err := set.ValidateField("sailoperator.io/v1", "ZTunnel", "spec.values.ztunnel", zt); err != nil {
			return fmt.Errorf("IstioOperator: %w", err)
		}
		delete(values, "ztunnel")
	}
	if err := set.ValidateField("sailoperator.io/v1", "Istio", "spec.values", values); err != nil {
		return fmt.Errorf("IstioOperator: %w", err)
	}
	if iop.Spec.MeshConfig != nil {
		if err := set.ValidateField("sailoperator.io/v1", "Istio", "spec.values.meshConfig", iop.Spec.MeshConfig); err != nil {
			return fmt.Errorf("IstioOperator: %w", err)
		}
	}
	return nil
}
