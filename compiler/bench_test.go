package compiler_test

import (
	"fmt"
	"testing"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/verify"
	"meshc.dev/meshc/internal/fleet"
)

// BenchmarkCompileFleet compiles the fleet the README's figure is about:
// 1,000 clusters, 100 meshes, 10,000 tenant namespaces, from YAML bytes to
// the rendered files of every bundle (what meshc build does before writing).
// Target: under 2 s and 1 GiB on the 2-core CI machine.
func BenchmarkCompileFleet(b *testing.B) {
	data := fleet.YAML(fleet.Fleet)
	b.ReportAllocs()
	for b.Loop() {
		t, err := compiler.ValidateBytes("fleet.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := compiler.CompileTopology(t, compiler.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyFleet measures build --verify's extra work on the same
// fleet: every bundle built with krusty, every object checked against its
// typed API or CRD schema.
func BenchmarkVerifyFleet(b *testing.B) {
	t, err := compiler.ValidateBytes("fleet.yaml", fleet.YAML(fleet.Fleet))
	if err != nil {
		b.Fatal(err)
	}
	res, err := compiler.CompileTopology(t, compiler.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := verify.Tree(res.Tree); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileFleetRendered compiles the same fleet for the rendered
// target: Istio's charts rendered offline for every install (base, istiod
// per control plane and remote install, istio-cni), every object written
// out. Reported separately: it renders 2,000 istiod releases and writes
// every cluster's CRDs.
func BenchmarkCompileFleetRendered(b *testing.B) {
	t, err := compiler.ValidateBytes("fleet.yaml", fleet.YAML(fleet.Fleet))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := compiler.CompileTopology(t, compiler.Options{Target: emit.Rendered}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileManyMeshes compiles fleets whose meshes grow with them:
// n clusters, each hosting the control planes of two meshes (2n meshes,
// 10n namespaces). Time and allocations per op must grow linearly with n:
// a rule that walks every control plane for every mesh shows here, not in
// BenchmarkCompileFleet's 100 meshes. Goal at 1,000 clusters: under 0.5 s
// and 256 MiB from YAML bytes to the rendered files.
func BenchmarkCompileManyMeshes(b *testing.B) {
	for _, n := range []int{1000, 2000, 4000} {
		data := fleet.YAML(fleet.ManyMeshes(n))
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				t, err := compiler.ValidateBytes("fleet.yaml", data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := compiler.CompileTopology(t, compiler.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
