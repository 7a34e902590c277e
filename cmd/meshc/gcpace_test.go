package main

import "testing"

// TestPace: a small live heap may grow fivefold, a large one only to
// twice (Go's default), and in between to the budget.
func TestPace(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 400},
		{50 << 20, 400},       // 250 MiB < the budget at 5×
		{128 << 20, 300},      // 512 MiB = 4× 128
		{256 << 20, 100},      // 512 MiB = 2× 256
		{400 << 20, 100},      // 2× 400 MiB: past the budget, the default
		{1 << 40, 100},        // never less than the default
		{heapBudget / 6, 400}, // capped at five times
	} {
		if got := pace(tc.live); got != tc.want {
			t.Errorf("pace(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}
