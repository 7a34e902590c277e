package check

import (
	"errors"
	"strings"

	"meshc.dev/meshc/compiler/crdschema"
	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
)

// ownedValues are the Helm values meshc computes from the topology. Setting
// them through values would silently fork a control plane's identity from
// what the rest of the bundle assumes, so each has a topology field instead.
var ownedValues = map[string]string{
	"revision":                                   "set meshes.<mesh>.controlPlanes.<name>.revision instead",
	"revisionTags":                               "set meshes.<mesh>.controlPlanes.<name>.tags instead",
	"global.istioNamespace":                      "set meshes.<mesh>.controlPlanes.<name>.namespace instead",
	"global.meshID":                              "set meshes.<mesh>.meshID instead",
	"global.multiCluster.clusterName":            "it is the cluster's name, the key under clusters",
	"global.network":                             "set clusters.<name>.network instead",
	"meshConfig.discoverySelectors":              "set meshes.<mesh>.discoveryLabel instead",
	"meshConfig.trustDomain":                     "set meshes.<mesh>.trustDomain instead",
	"pilot.cni.enabled":                          "set clusters.<name>.cni (OpenShift clusters always have it)",
	"pilot.env.ENABLE_ENHANCED_RESOURCE_SCOPING": "meshc sets it for the Istio releases that need it (1.24 and older)",
	"pilot.env.AMBIENT_ENABLE_MULTI_NETWORK":     "meshc sets it for an ambient mesh that spans networks",
	"pilot.trustedZtunnelNamespace":              "meshc runs ztunnel in its own namespace and tells istiod where (meshes.<mesh>.dataplane)",
	"profile":                                    "set meshes.<mesh>.controlPlanes.<name>.profile, or meshes.<mesh>.dataplane for ambient",
}

// values checks each control plane's Helm values against the schema of the
// Helm tree (the Sail Istio CRD's spec.values, which mirrors the charts): an
// unknown field would be dropped silently by the API server or ignored by
// the charts, so the user would never learn of the typo.
func (c *checker) values() {
	var set *crdschema.Set
	for _, cp := range c.t.ControlPlanes() {
		if len(cp.Values) == 0 {
			continue
		}
		base := cp.Path().Child("values")
		for _, owned := range model.SortedKeys(ownedValues) {
			if hasPath(cp.Values, strings.Split(owned, ".")) {
				c.report(diag.OwnedValues, appendDotted(base, owned),
					"remove it from values: "+ownedValues[owned],
					"values.%s is computed by meshc", owned)
			}
		}
		if set == nil {
			var err error
			if set, err = crdschema.Default(); err != nil {
				c.report(diag.InvalidValues, base, "", "cannot load the Helm values schema: %v", err)
				return
			}
		}
		err := set.ValidateField("sailoperator.io/v1", "Istio", "spec.values", cp.Values)
		var fieldErrs crdschema.Errors
		if errors.As(err, &fieldErrs) {
			for _, fe := range fieldErrs.TrimPrefix("spec.values") {
				if len(fieldErrs) > 1 && strings.Contains(fe.Message, "rules were not evaluated") {
					continue // the other errors say what to fix
				}
				field := "values"
				if fe.Path != "" { // "" is the values themselves
					field += "." + fe.Path
				}
				c.report(diag.InvalidValues, appendDotted(base, fe.Path),
					"check the field against the Istio Helm values reference (istiod chart values.yaml)",
					"%s: %s", field, schemaMessage(fe.Message))
			}
		} else if err != nil {
			c.report(diag.InvalidValues, base, "", "invalid values: %v", err)
		}
	}
}

// appendDotted extends a path with a dotted sub-path such as pilot.env.X.
// Dots inside bracketed keys (list indexes, quoted keys) are not expected in
// Helm value paths, so a plain split is enough.
func appendDotted(p model.Path, dotted string) model.Path {
	for _, seg := range strings.Split(dotted, ".") {
		if seg != "" {
			p = p.Child(seg)
		}
	}
	return p
}

func hasPath(m map[string]any, path []string) bool {
	v, ok := m[path[0]]
	if !ok {
		return false
	}
	if len(path) == 1 {
		return true
	}
	sub, ok := v.(map[string]any)
	return ok && hasPath(sub, path[1:])
}

// schemaMessage shortens the API server's wording for a user:
// `Invalid value: "string": spec.values.x in body must be of type integer: "string"`
// becomes `must be of type integer: "string"`.
func schemaMessage(msg string) string {
	if _, rest, ok := strings.Cut(msg, " in body "); ok {
		return rest
	}
	return msg
}
