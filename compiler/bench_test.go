package compiler_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"meshc.dev/meshc/compiler"
	"meshc.dev/meshc/compiler/emit"
	"meshc.dev/meshc/compiler/load"
	"meshc.dev/meshc/compiler/output"
	"meshc.dev/meshc/compiler/render"
	"meshc.dev/meshc/compiler/verify"
	"meshc.dev/meshc/internal/fleet"
)

// BenchmarkCompileFleet compiles the fleet the README's figure is about:
// 1,000 clusters, 100 meshes, 10,000 tenant namespaces, from YAML bytes to
// the rendered files of every bundle (what meshc build does before writing).
// Target: under 2 s and 1 GiB on the 2-core CI machine. Like build, it
// resolves the topology once, for the checks and the compilation.
func BenchmarkCompileFleet(b *testing.B) {
	data := fleet.YAML(fleet.Fleet)
	b.ReportAllocs()
	for b.Loop() {
		c, err := compiler.CheckBytes("fleet.yaml", data, false)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Compile(compiler.Options{}); err != nil {
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
// out. Every iteration is cold: it loads its own chart set (from a copy of
// the embedded charts on disk, as --charts does), so nothing a previous
// iteration rendered is reused. cpu-ms/release is the process's CPU time
// (user and system, every goroutine) per istiod release: the figure
// scripts/fleet-bench.sh sets beside a `helm template` of one release.
func BenchmarkCompileFleetRendered(b *testing.B) {
	t, err := compiler.ValidateBytes("fleet.yaml", fleet.YAML(fleet.Fleet))
	if err != nil {
		b.Fatal(err)
	}
	// The released charts meshc embeds, as --charts reads a folder of
	// them: <version>/<chart>.
	charts := b.TempDir()
	if err := os.CopyFS(charts, os.DirFS(filepath.Join("charts", "released"))); err != nil {
		b.Fatal(err)
	}
	releases := 0
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		res, err := compiler.CompileTopology(t, compiler.Options{Target: emit.Rendered, ChartsDir: charts})
		if err != nil {
			b.Fatal(err)
		}
		releases = 0
		for _, c := range res.Plan.Clusters {
			releases += len(c.ControlPlanes)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N*releases), "cpu-ms/release")
	b.ReportMetric(float64(releases), "releases")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRebuildFleet builds a 1,000-cluster fleet (two meshes per
// cluster) into a folder, then measures what meshc build costs again:
// unchanged (compile, then compare every file) and after a one-namespace
// edit (compile, stage the one folder that changes, swap it in, remove the
// old one),
// alternating between two topologies so that every iteration is an edit.
// Goal: an edit costs at most 1.5 times an unchanged rebuild.
func BenchmarkRebuildFleet(b *testing.B) {
	data := fleet.YAML(fleet.ManyMeshes(1000))
	edited := bytes.Replace(data, []byte("t00007-ns03"), []byte("t00007-nsx3"), 1)
	if bytes.Equal(data, edited) {
		b.Fatal("the fleet has no namespace t00007-ns03 to edit")
	}
	compile := func(b *testing.B, d []byte) render.Tree {
		c, err := compiler.CheckBytes("fleet.yaml", d, false)
		if err != nil {
			b.Fatal(err)
		}
		res, err := c.Compile(compiler.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return res.Tree
	}
	trees := []render.Tree{compile(b, data), compile(b, edited)}
	build := func(b *testing.B, dir string, d []byte) output.Summary {
		s, err := output.Write(dir, compile(b, d))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("unchanged", func(b *testing.B) {
		dir := filepath.Join(b.TempDir(), "out")
		if _, err := output.Write(dir, trees[0]); err != nil {
			b.Fatal(err)
		}
		cpu := cpuTime()
		for b.Loop() {
			if s := build(b, dir, data); !s.Unchanged {
				b.Fatalf("not up to date: %d written", len(s.Written))
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
	})
	b.Run("edit", func(b *testing.B) {
		dir := filepath.Join(b.TempDir(), "out")
		if _, err := output.Write(dir, trees[0]); err != nil {
			b.Fatal(err)
		}
		i := 0
		cpu := cpuTime()
		for b.Loop() {
			i++
			if s := build(b, dir, [][]byte{data, edited}[i%2]); len(s.Written) == 0 || len(s.Written) > 3 {
				b.Fatalf("%d files written, want the edit's", len(s.Written))
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
	})
}

// BenchmarkCompileManyMeshes compiles fleets whose meshes grow with them:
// n clusters, each hosting the control planes of two meshes (2n meshes,
// 10n namespaces). Time and allocations per op must grow linearly with n:
// a rule that walks every control plane for every mesh shows here, not in
// BenchmarkCompileFleet's 100 meshes. Goal at 1,000 clusters: under 0.5 s
// and 256 MiB from YAML bytes to the rendered files. It runs what build
// runs, resolving once (compiler.CheckTopology, then Checked.Compile), and
// reports the CPU time of each stage: load is CUE (parse, schema, decode);
// check is resolve and the semantic checks; compile is plan, emit, render
// and the scan for secrets.
func BenchmarkCompileManyMeshes(b *testing.B) {
	for _, n := range []int{1000, 2000, 4000, 8000} {
		data := fleet.YAML(fleet.ManyMeshes(n))
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var loading, checking, compiling time.Duration
			for b.Loop() {
				start := cpuTime()
				t, err := load.Bytes("fleet.yaml", data)
				if err != nil {
					b.Fatal(err)
				}
				loaded := cpuTime()
				c, err := compiler.CheckTopology(t, false)
				if err != nil {
					b.Fatal(err)
				}
				checked := cpuTime()
				if _, err := c.Compile(compiler.Options{}); err != nil {
					b.Fatal(err)
				}
				loading, checking, compiling = loading+loaded-start, checking+checked-loaded, compiling+cpuTime()-checked
			}
			for _, m := range []struct {
				d    time.Duration
				unit string
			}{{loading, "load-cpu-ms/op"}, {checking, "check-cpu-ms/op"}, {compiling, "compile-cpu-ms/op"}} {
				b.ReportMetric(float64(m.d.Milliseconds())/float64(b.N), m.unit)
			}
		})
	}
}
