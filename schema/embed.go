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
// Sail operator and Istio releases meshc targets.
//
//go:embed crds/*.yaml
var CRDs embed.FS
