// Package schema holds the embedded schemas meshc validates against: the CUE
// schema of the topology language and the Kubernetes CustomResourceDefinitions
// (Sail operator and Istio) that emitted objects and user-supplied Helm values
// must satisfy. Embedding them makes the binary self-contained: a user needs no
// checkout, cluster or network to validate a topology.
package schema

import "embed"

// Topology is the CUE schema of the topology language (package topology).
//
//go:embed topology.cue
var Topology string

// CRDs holds the CustomResourceDefinitions in crds/, copied verbatim from the
// Sail operator and Istio releases meshc targets, and in crds-gateway-api/
// the Gateway API's (release.GatewayAPI, standard channel: the waypoints and
// east-west gateways of ambient meshes), copied verbatim from
// sigs.k8s.io/gateway-api config/crd/standard/ without its
// ValidatingAdmissionPolicy.
//
//go:embed crds/*.yaml crds-gateway-api/*.yaml
var CRDs embed.FS

// CRDDirs are the folders of CRDs holds.
var CRDDirs = []string{"crds", "crds-gateway-api"}
