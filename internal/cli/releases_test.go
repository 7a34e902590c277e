package cli

import (
	"slices"
	"testing"

	"meshc.dev/meshc/compiler/charts"
	"meshc.dev/meshc/compiler/release"
)

// TestInitVersion: the release a starting topology names compiles for
// every target with nothing fetched and nothing warned about.
func TestInitVersion(t *testing.T) {
	r, err := release.Resolve(initVersion)
	if err != nil || r.EndOfLife || r.NewerPatch {
		t.Errorf("init's Istio %s: %+v, %v; want a supported release meshc knows", initVersion, r, err)
	}
	if ok, _ := release.DefaultSailOperator().Install(r.Version); !ok {
		t.Errorf("meshc's default Sail operator does not install init's Istio %s", initVersion)
	}
	if !slices.Contains(charts.EmbeddedReleases(), initVersion) {
		t.Errorf("init's Istio %s has no embedded charts (%v)", initVersion, charts.EmbeddedReleases())
	}
}
