package compiler_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/load"
)

// tenantsTopology is a topology of n tenants of two namespaces each on one
// mesh: about 105 bytes a tenant, so 10,000 make 1 MB.
func tenantsTopology(n int) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: meshc.dev/v1alpha1\nkind: Topology\nmetadata:\n  name: t\ndefaults:\n  istio:\n    version: 1.30.3\n" +
		"clusters:\n  c1: {}\nmeshes:\n  m1:\n    controlPlanes:\n      cp1:\n        cluster: c1\ntenants:\n")
	for i := range n {
		fmt.Fprintf(&b, "  tenant-%06d:\n    mesh: m1\n    namespaces: [ns-%06d-a, ns-%06d-b]\n    labels:\n      team: team-%d\n", i, i, i, i%100)
	}
	return []byte(b.String())
}

// BenchmarkValidateTenants measures validation (load and check) against
// the size of the input: time per op must grow linearly, so ns/op divided
// by the tenants (and by bytes: see the MB/s column) stays flat from
// 256 KB to 1 MB to 4 MB. It once grew quadratically (9.7 s for 1 MB, 118 s
// for 4 MB): a sort looked up a CUE position on every comparison, and CUE
// built the map of tenants scanning it once per tenant (see load/shard.go).
func BenchmarkValidateTenants(b *testing.B) {
	// Measure, on a busy machine too, rather than stop at the time limit.
	defer func(old time.Duration) { load.Timeout = old }(load.Timeout)
	load.Timeout = 0
	for _, n := range []int{2500, 10000, 40000} {
		data := tenantsTopology(n)
		b.Run(fmt.Sprintf("%dKB", len(data)>>10), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := compiler.ValidateBytes("t.yaml", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
