package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// The garbage collector's pace. Go's default (GOGC=100) collects whenever
// the heap has grown to twice what the last collection found live. Most
// of meshc's heap is what it keeps (the rendered tree grows until it is
// written), so a compile of a few hundred clusters, with a live heap of
// about 150 MiB, spent a sixth of its CPU collecting a heap far smaller
// than the memory it may use (the rendered target at 200 clusters: 0.47 s
// of 2.6 s). meshc lets the heap grow to five times the live heap
// (GOGC=400) as long as that stays within heapBudget, and to no less than
// twice (the default) once it would not: small compiles collect less
// often, and a large fleet's (the rendered target at 1,000 clusters lives
// on about 350 MiB) peaks where it did with the default, under 1 GiB
// resident. A GOGC or GOMEMLIMIT the user sets is left alone.
const (
	heapBudget = 512 << 20
	maxPercent = 400
	minPercent = 100
)

// paceGC sets the collector's pace now and after every collection.
func paceGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	p := &pacer{percent: maxPercent, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	debug.SetGCPercent(maxPercent)
	p.arm()
}

type pacer struct {
	percent int
	sample  []metrics.Sample
}

// sentinel is garbage as soon as it is made: its finalizer runs after the
// next collection. It holds a pointer so that the tiny allocator (whose
// objects' finalizers may never run) does not place it.
type sentinel struct{ _ *pacer }

func (p *pacer) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		p.adjust()
		p.arm()
	})
}

// adjust sets the pace for the live heap the last collection found.
func (p *pacer) adjust() {
	metrics.Read(p.sample)
	if p.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	if percent := pace(p.sample[0].Value.Uint64()); percent != p.percent {
		p.percent = percent
		debug.SetGCPercent(percent)
	}
}

// pace is the GOGC for a live heap of live bytes: the heap may grow to
// heapBudget, within twice and five times the live heap.
func pace(live uint64) int {
	if live == 0 {
		return maxPercent
	}
	grow := heapBudget * 100 / live // the budget, in percent of live
	return int(max(minPercent, min(maxPercent, grow-min(grow, 100))))
}
