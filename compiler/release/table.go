package release

import (
	"fmt"
	"slices"
	"strings"
)

// AsOf is the day the table was last checked against its sources.
const AsOf = "2026-11-30"

// Istio is what meshc needs to know about one minor release line of Istio.
type Istio struct {
	Line Line
	// Latest is the newest patch release meshc knows of. A newer patch of
	// a known line is accepted with a warning: patches change no values
	// meshc computes.
	Latest int
	// EndOfLife: the Istio project no longer patches the line. Compiling
	// for it is a warning; the Sail operator refuses to install it (see
	// sail.go), so the sail target refuses it.
	EndOfLife bool
	// EnhancedScopingFlag: istiod needs ENABLE_ENHANCED_RESOURCE_SCOPING
	// for discovery selectors to scope configuration, not only endpoints.
	// From 1.25 the behaviour is always on and the flag is gone.
	EnhancedScopingFlag bool
	// TLSServerName: remote secrets' kubeconfigs may carry
	// tls-server-name.
	TLSServerName bool
	// ResourceScope: the charts take global.resourceScope (namespace |
	// cluster | unset), installing only one scope of their objects.
	ResourceScope bool
	// FileKubeconfigs: istiod reads remote clusters' kubeconfigs from
	// files mounted from one Secret (PILOT_MULTICLUSTER_KUBECONFIG_PATH)
	// instead of watching remote secrets.
	FileKubeconfigs bool
	// LegacyChartHost: the release's charts are (still) published at
	// LegacyChartRepository. From 1.31 they are only at ChartRepository and
	// ChartRepositoryOCI.
	LegacyChartHost bool
	// Ambient is what the release supports of the ambient data plane
	// (ztunnel, the CNI agent in ambient mode, waypoints).
	Ambient Ambient
}

// Ambient is what one release supports of the ambient data plane.
type Ambient struct {
	// SingleCluster: ambient is generally available for one cluster.
	SingleCluster bool
	// MultiCluster is the state of ambient across clusters: only
	// multi-primary on several networks, with an east-west Gateway of
	// class istio-east-west. Primary-remote and external control planes
	// are unsupported on every release.
	MultiCluster Maturity
	// ZtunnelNetwork: the ztunnel chart takes the cluster's network
	// (global.network, the NETWORK env of its DaemonSet); before, ztunnel
	// has no network setting at all.
	ZtunnelNetwork bool
	// MultiNetworkEnv is the istiod env that turns multi-network ambient
	// on (and with it the istio-east-west GatewayClass); empty when the
	// release cannot.
	MultiNetworkEnv string
	// GlobalServiceLabel is the Service label the ambient profile's
	// meshConfig.serviceScopeConfigs makes global across clusters; empty
	// before the profile ships one.
	GlobalServiceLabel string
}

// Maturity is how far upstream supports a feature on a release.
type Maturity string

// Maturities.
const (
	Unsupported Maturity = ""
	Alpha       Maturity = "alpha"
	Beta        Maturity = "beta"
)

// Sources of the table, per fact:
//
//   - Patch releases up to 1.30.3: the Sail operator Istio CRD's
//     spec.version enum (schema/crds, TestTableCoversCRD), the
//     versions.yaml of each sail-operator release branch.
//   - 1.29.9 is the last 1.29 release, 1.29 end of life on 2026-10-15:
//     istio.io, news/releases/1.29.x/announcing-1.29.9.
//   - 1.30.4: istio.io, news/releases/1.30.x/announcing-1.30.4; 1.30.5:
//     istio-ecosystem/sail-operator#2362 ("[release-1.31] Add Istio versions
//     1.31.1, 1.30.5, 1.29.8").
//   - 1.31.0 to 1.31.4 and 1.32.0: meshc issue 10; 1.31.0 in
//     sail-operator#2343, 1.31.1 in sail-operator#2362.
//   - End of life up to 1.28: sail-operator main @328df99 (2026-08-22),
//     pkg/istioversion/versions.yaml marks every 1.28 and older release
//     `eol: true` ("will not be installable").
//   - Enhanced scoping flag up to 1.24: Istio 1.25 change notes (the flag is
//     removed, the behaviour always on); the released 1.24.6 istiod chart
//     sets it, 1.27.3's does not (TestTableMatchesCharts).
//   - tls-server-name in remote secrets from 1.26: istioctl
//     create-remote-secret (REFERENCE.md).
//   - global.resourceScope from 1.28: Istio 1.28 change notes
//     (istio/istio#57530); the released 1.28.2 charts take it, 1.27.3's do
//     not (TestTableMatchesCharts).
//   - File-mounted remote kubeconfigs from 1.30: istio/istio#58927 (merged
//     2026-01-27, PILOT_MULTICLUSTER_KUBECONFIG_PATH).
//   - Ambient: GA for one cluster from 1.24 (istio.io blog
//     2024/ambient-reaches-ga); multicluster alpha from 1.27 (announcing
//     1.27: "testing has been focused on multi-network, multi-primary"),
//     beta for multi-network multi-primary from 1.29 (istio.io blog
//     2026/ambient-multinetwork-multicluster-beta; single-network still
//     alpha, istio/istio#61066); primary-remote "not currently
//     supported" (docs ambient/install/multicluster, 1.27 to 1.31).
//     AMBIENT_ENABLE_MULTI_NETWORK (pilot/pkg/features/ambient.go; the
//     istio-east-west class is registered only with it) and the ambient
//     profile's serviceScopeConfigs on istio.io/global from 1.27
//     (manifests/helm-profiles/ambient.yaml; TestTableMatchesCharts). The
//     ztunnel chart's network value from 1.27 (released 1.24.6 ztunnel
//     has no NETWORK env; 1.27.3 does).
//   - Chart hosts: the storage.googleapis.com bucket's index froze on
//     2026-08-27 at 1.30.4 and serves no 1.31 chart (base-1.31.0.tgz: 404;
//     AndriyKalashnykov/kind-cluster#303, citing istio.io
//     blog/2026/retirement-of-gcp: the old locations are deleted in
//     December 2026); the Sail operator moved to blob.istio.io in
//     sail-operator#2314 (2026-09-04).
var table = []Istio{
	{Line: Line{1, 22}, Latest: 8, EndOfLife: true, EnhancedScopingFlag: true, LegacyChartHost: true},
	{Line: Line{1, 23}, Latest: 6, EndOfLife: true, EnhancedScopingFlag: true, LegacyChartHost: true},
	{Line: Line{1, 24}, Latest: 6, EndOfLife: true, EnhancedScopingFlag: true, LegacyChartHost: true, Ambient: ambientSingle},
	{Line: Line{1, 25}, Latest: 5, EndOfLife: true, LegacyChartHost: true, Ambient: ambientSingle},
	{Line: Line{1, 26}, Latest: 8, EndOfLife: true, TLSServerName: true, LegacyChartHost: true, Ambient: ambientSingle},
	{Line: Line{1, 27}, Latest: 9, EndOfLife: true, TLSServerName: true, LegacyChartHost: true, Ambient: ambientMulti(Alpha)},
	{Line: Line{1, 28}, Latest: 10, EndOfLife: true, TLSServerName: true, ResourceScope: true, LegacyChartHost: true, Ambient: ambientMulti(Alpha)},
	{Line: Line{1, 29}, Latest: 9, EndOfLife: true, TLSServerName: true, ResourceScope: true, LegacyChartHost: true, Ambient: ambientMulti(Beta)},
	{Line: Line{1, 30}, Latest: 5, TLSServerName: true, ResourceScope: true, FileKubeconfigs: true, LegacyChartHost: true, Ambient: ambientMulti(Beta)},
	{Line: Line{1, 31}, Latest: 4, TLSServerName: true, ResourceScope: true, FileKubeconfigs: true, Ambient: ambientMulti(Beta)},
	{Line: Line{1, 32}, Latest: 0, TLSServerName: true, ResourceScope: true, FileKubeconfigs: true, Ambient: ambientMulti(Beta)},
}

// ambientSingle is ambient on one cluster only (1.24 to 1.26).
var ambientSingle = Ambient{SingleCluster: true}

// ambientMulti is ambient across clusters at maturity m, with what 1.27
// brought for it.
func ambientMulti(m Maturity) Ambient {
	return Ambient{SingleCluster: true, MultiCluster: m, ZtunnelNetwork: true,
		MultiNetworkEnv: "AMBIENT_ENABLE_MULTI_NETWORK", GlobalServiceLabel: "istio.io/global"}
}

// Chart repositories Istio publishes its Helm charts to.
const (
	// ChartRepository is where Istio publishes its charts over HTTP, every
	// release's: meshc's default.
	ChartRepository = "https://blob.istio.io/istio-release/charts"
	// ChartRepositoryOCI holds the same charts as OCI artifacts.
	ChartRepositoryOCI = "oci://ghcr.io/istio/release/charts"
	// LegacyChartRepository has no chart from 1.31 on and goes away in
	// December 2026.
	LegacyChartRepository = "https://istio-release.storage.googleapis.com/charts"
)

// GatewayAPI is the release of the Gateway API CRDs (standard channel)
// ambient meshes need and meshc checks their Gateways against
// (schema/crds-gateway-api): its v1 and v1beta1 serve what Istio 1.24 to
// 1.30 read, with alpha APIs off.
const GatewayAPI = "v1.5.0"

// MaxMinorSkew is how many minor releases apart two control planes of one
// mesh may be: Istio supports canary upgrades across at most two minors.
const MaxMinorSkew = 2

// Lookup finds the line of v in the table.
func Lookup(v Version) (Istio, bool) {
	for _, r := range table {
		if r.Line == v.Line() {
			return r, true
		}
	}
	return Istio{}, false
}

// Resolved is a version checked against the table.
type Resolved struct {
	Version Version
	Istio
	// NewerPatch: the line is known, the patch newer than any meshc knows.
	NewerPatch bool
}

// Resolve parses s and finds its line. A version that does not parse, or
// whose line meshc does not know, is an error saying which releases meshc
// knows.
func Resolve(s string) (Resolved, error) {
	v, err := Parse(s)
	if err != nil {
		return Resolved{}, err
	}
	return v.InTable(s)
}

// InTable finds v's line in the table; written is v as the user wrote it,
// for the error when meshc does not know the line.
func (v Version) InTable(written string) (Resolved, error) {
	r, ok := Lookup(v)
	if !ok {
		return Resolved{Version: v}, fmt.Errorf("Istio %s is not a release meshc knows: it knows %s", written, Range())
	}
	return Resolved{Version: v, Istio: r, NewerPatch: v.Patch > r.Latest}, nil
}

// Latest is the newest release of the line.
func (r Istio) LatestVersion() Version { return Version{r.Line.Major, r.Line.Minor, r.Latest} }

// Lines lists the known lines, oldest first.
func Lines() []Istio { return slices.Clone(table) }

// Newest is the newest release meshc knows.
func Newest() Version { return table[len(table)-1].LatestVersion() }

// Range says which releases meshc knows, for messages: "1.22.0 to 1.32.0".
func Range() string {
	return fmt.Sprintf("%s.0 to %s", table[0].Line, Newest())
}

// Supported lists the releases of the lines that are not end of life, for
// messages: "1.30.0-1.30.5, 1.31.0-1.31.4, 1.32.0".
func Supported() string {
	var out []string
	for _, r := range table {
		if r.EndOfLife {
			continue
		}
		if r.Latest == 0 {
			out = append(out, r.LatestVersion().String())
		} else {
			out = append(out, fmt.Sprintf("%s.0-%s", r.Line, r.LatestVersion()))
		}
	}
	return strings.Join(out, ", ")
}

// The facts as methods of a version, for the compiler's stages; a version
// of an unknown line has none of them (checks refuse such a version first).

// NeedsEnhancedScopingFlag reports whether istiod needs
// ENABLE_ENHANCED_RESOURCE_SCOPING for discovery selectors to scope
// configuration. Setting it where it is gone would be an unknown env var.
func (v Version) NeedsEnhancedScopingFlag() bool {
	r, _ := Lookup(v)
	return r.EnhancedScopingFlag
}

// HasResourceScope reports whether the release's charts take
// global.resourceScope.
func (v Version) HasResourceScope() bool {
	r, _ := Lookup(v)
	return r.ResourceScope
}

// HasFileKubeconfigs reports whether istiod reads remote kubeconfigs from
// mounted files (PILOT_MULTICLUSTER_KUBECONFIG_PATH).
func (v Version) HasFileKubeconfigs() bool {
	r, _ := Lookup(v)
	return r.FileKubeconfigs
}

// HasTLSServerName reports whether remote secrets may carry tls-server-name.
func (v Version) HasTLSServerName() bool {
	r, _ := Lookup(v)
	return r.TLSServerName
}

// AmbientSupport is what v supports of the ambient data plane.
func (v Version) AmbientSupport() Ambient {
	r, _ := Lookup(v)
	return r.Ambient
}

// AmbientMinimum is the first release with ambient for one cluster.
func AmbientMinimum() Version { return firstWith(func(a Ambient) bool { return a.SingleCluster }) }

// AmbientMultiClusterMinimum is the first release with ambient across
// clusters, and the first where it is beta.
func AmbientMultiClusterMinimum() (alpha, beta Version) {
	return firstWith(func(a Ambient) bool { return a.MultiCluster != Unsupported }),
		firstWith(func(a Ambient) bool { return a.MultiCluster == Beta })
}

func firstWith(f func(Ambient) bool) Version {
	for _, r := range table {
		if f(r.Ambient) {
			return Version{r.Line.Major, r.Line.Minor, 0}
		}
	}
	return Version{}
}
