package check

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"meshc.dev/meshc/compiler/diag"
	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/release"
	"meshc.dev/meshc/compiler/resolve"
)

// The release checks: every control plane runs an Istio release meshc
// knows (package release holds the table), and, per target, one that its
// installer will install from where the bundle says.

// written is a control plane's version where it was written, once per
// place: the first control plane, in order, that reads it there.
type written struct {
	path model.Path
	cp   *model.ControlPlane
	resolve.Version
}

// written lists the control planes' versions once per place they were
// written, in the order of the control planes; a control plane that has
// no version is listed at its mesh. One walk serves the release checks of
// every target.
func (c *checker) written() []written {
	var out []written
	seen := map[string]bool{}
	for _, cp := range c.t.ControlPlanes() {
		v := c.r.Version(cp)
		path := v.Origin.Path
		if cp.Version == "" {
			path = model.Path{"meshes", cp.Mesh} // nowhere written: blame the mesh
		}
		if !seen[path.String()] {
			seen[path.String()] = true
			out = append(out, written{path, cp, v})
		}
	}
	return out
}

// writtenVersions are the written versions that parse, which the checks
// of a target judge; versions() reports the others.
func (c *checker) writtenVersions() []written {
	return slices.DeleteFunc(c.written(), func(w written) bool { return w.Err != nil })
}

// versions checks that every control plane runs an Istio release meshc
// knows (resolve looked each up in the table), reporting each offending
// value once, where it was written: a line meshc does not know is an
// error, a newer patch of a known line or an end-of-life release a
// warning.
func (c *checker) versions() {
	t := c.t
	for _, w := range c.written() {
		if w.cp.Version == "" {
			c.report(diag.MissingField, w.path,
				fmt.Sprintf("set meshes.%s.version or defaults.istio.version, e.g. %s", w.cp.Mesh, release.Newest()),
				"mesh %q has no Istio version", w.cp.Mesh)
			continue
		}
		if err := cmp.Or(w.Err, w.Unknown); err != nil {
			c.report(diag.UnsupportedVersion, w.path,
				"use a supported release: "+release.Supported(), "%v", err)
			continue
		}
		if r := w.Release; r.NewerPatch {
			c.warn(diag.NewerPatch, w.path,
				fmt.Sprintf("meshc compiles it as any %s release; check its release notes for changes to the values meshc sets, or use %s", r.Line, r.LatestVersion()),
				"Istio %s is newer than the newest %s release meshc knows (%s)", r.Version, r.Line, r.LatestVersion())
		}
		if r := w.Release; r.EndOfLife {
			c.warn(diag.EndOfLife, w.path,
				"upgrade to a supported release: "+release.Supported(),
				"Istio %s is end of life: the Istio project no longer patches %s", r.Version, r.Line)
		}
	}
	// Control planes of one mesh must be close enough in version for
	// canary upgrades: Istio supports skipping at most two minors. Grouped
	// by mesh first: walking every control plane for every mesh made this
	// quadratic in the size of a fleet.
	byMesh := map[string][]*model.ControlPlane{}
	for _, cp := range t.ControlPlanes() {
		byMesh[cp.Mesh] = append(byMesh[cp.Mesh], cp)
	}
	for _, m := range model.SortedKeys(t.Meshes) {
		var lo, hi *model.ControlPlane
		var loV, hiV release.Version
		for _, cp := range byMesh[m] {
			v, err := c.r.Version(cp).Parsed, c.r.Version(cp).Err
			if err != nil {
				continue
			}
			if lo == nil || v.Compare(loV) < 0 {
				lo, loV = cp, v
			}
			if hi == nil || v.Compare(hiV) > 0 {
				hi, hiV = cp, v
			}
		}
		if lo != nil && (hiV.Major != loV.Major || hiV.Minor-loV.Minor > release.MaxMinorSkew) {
			d := c.report(diag.UnsupportedVersion, c.versionSource(hi),
				fmt.Sprintf("keep control planes of one mesh within %d minor releases of each other; upgrade %s first", release.MaxMinorSkew, lo.Name),
				"control planes of mesh %q run Istio %s and %s, too far apart", m, loV, hiV)
			c.related(d, c.versionSource(lo))
		}
	}
}

// versionSource is the path where a control plane's version was written
// (resolved once, with the version).
func (c *checker) versionSource(cp *model.ControlPlane) model.Path {
	return c.r.Version(cp).Origin.Path
}

// Target is what the checks of one installer target need to know.
type Target struct {
	// Name is the target: sail, istioctl, helm or rendered.
	Name model.Installer
	// HasCharts reports whether the rendered target has the charts of an
	// Istio release; FetchCharts says how to get those of the releases
	// listed.
	HasCharts   func(version string) bool
	FetchCharts func(versions []string) string
}

// ForTarget runs the checks that depend on the installer target, on a
// topology that passed Topology: that its installer will install each
// release from where the bundle says.
func ForTarget(r *resolve.Topology, target Target) diag.List {
	c := &checker{t: r.Model, r: r}
	switch target.Name {
	case model.InstallerSail:
		c.sailOperator()
	case model.InstallerHelm:
		c.chartRepository()
	case model.InstallerRendered:
		c.renderedCharts(target)
	}
	c.out.Sort()
	return c.out
}

// sailOperator checks each release against the Sail operator release the
// topology runs against: one the operator lists as end of life, or does not
// list, it never installs, and the Istio CR would sit unreconciled.
func (c *checker) sailOperator() {
	resolved := c.r.SailOperator
	opPath, op := resolved.Origin.Path, resolved.Release
	named := ""
	if !resolved.Origin.Defaulted {
		named = resolved.Text
		if resolved.Err != nil {
			c.report(diag.SailWillNotInstall, opPath, "name a Sail operator release meshc knows: "+sailLines(), "%v", resolved.Err)
			return
		}
		if op.Assumed {
			c.warn(diag.SailUnlisted, opPath,
				"check the Istio releases your operator lists (kubectl explain istio.spec.version, or its pkg/istioversion/versions.yaml)",
				"meshc does not know Sail operator %s; it assumes it installs Istio %s, as the lines before it install their own minor and the two before",
				named, op.InstallRange())
		}
	}
	which := "the Sail operator " + op.Line.String()
	if named == "" {
		which += " (meshc's default)"
	}
	for _, w := range c.writtenVersions() {
		ok, newer := op.Install(w.Parsed)
		switch {
		case ok:
			continue
		case newer:
			c.warn(diag.SailUnlisted, w.path,
				fmt.Sprintf("make sure the Sail operator release you run lists %s (kubectl explain istio.spec.version), or use %s", w.Parsed.SailVersion(), op.Nearest(w.Parsed)),
				"%s installs Istio %s as far as meshc knows (release %s); it cannot confirm %s", which, op.InstallRange(), op.Release, w.Parsed)
			continue
		}
		hint := fmt.Sprintf("use %s, the nearest release it installs", op.Nearest(w.Parsed))
		var others []string
		for _, o := range release.SailOperators() {
			if ok, _ := o.Install(w.Parsed); ok {
				others = append(others, o.Line.String())
			}
		}
		if len(others) > 0 {
			hint += fmt.Sprintf(", or run a Sail operator that installs %s (%s) and set defaults.sail.operator", w.Parsed, strings.Join(others, ", "))
		}
		why := "it installs " + op.InstallRange()
		if w.Parsed.Compare(op.Installs[0]) < 0 {
			why += " and lists older releases as end of life"
		}
		d := c.report(diag.SailWillNotInstall, w.path, hint,
			"%s will not install Istio %s: %s", which, w.Parsed, why)
		if named != "" {
			c.related(d, opPath)
		}
	}
}

func sailLines() string {
	var out []string
	for _, o := range release.SailOperators() {
		out = append(out, o.Line.String())
	}
	return strings.Join(out, ", ")
}

// chartRepository checks the helm target's repository: the old Google
// Cloud Storage host has no chart from 1.31 on and goes away in December
// 2026.
func (c *checker) chartRepository() {
	repoPath := model.Path{"defaults", "helm", "repository"}
	if strings.TrimSuffix(c.t.Defaults.Helm.Repository, "/") != release.LegacyChartRepository {
		return
	}
	hint := fmt.Sprintf("set defaults.helm.repository to %s (or %s)", release.ChartRepository, release.ChartRepositoryOCI)
	failed := false
	for _, w := range c.writtenVersions() {
		if r := w.Release; w.Unknown == nil && !r.LegacyChartHost {
			failed = true
			d := c.report(diag.ChartsNotPublished, w.path, hint,
				"%s publishes no charts of Istio %s: Istio publishes %s and later only at %s", release.LegacyChartRepository, w.Parsed, r.Line, release.ChartRepository)
			c.related(d, repoPath)
		}
	}
	if !failed {
		c.warn(diag.LegacyChartHost, repoPath, hint,
			"%s serves no chart from Istio 1.31 on and goes away in December 2026", release.LegacyChartRepository)
	}
}

// renderedCharts checks that the rendered target has the charts of every
// release it renders: each control plane renders with its own release's
// charts, never another's.
func (c *checker) renderedCharts(target Target) {
	var missing []written
	seen := map[release.Version]bool{}
	for _, w := range c.writtenVersions() {
		if !seen[w.Parsed] && !target.HasCharts(w.Parsed.String()) {
			missing = append(missing, w)
		}
		seen[w.Parsed] = true
	}
	byRelease := slices.Clone(missing)
	slices.SortFunc(byRelease, func(a, b written) int { return a.Parsed.Compare(b.Parsed) })
	var versions []string
	for _, w := range byRelease {
		versions = append(versions, w.Parsed.String())
	}
	for _, w := range missing {
		c.report(diag.MissingCharts, w.path, target.FetchCharts(versions),
			"the rendered target has no charts of Istio %s to render it with", w.Parsed)
	}
}

// releaseValues are Helm values and istiod env that exist only from some
// Istio release on: set on an older one, the chart ignores the value, or
// istiod the variable, and the user never learns why nothing changed. (The
// values schema meshc checks against is the newest release's, so it
// cannot tell.)
var releaseValues = []struct {
	path  string
	since string
	has   func(release.Version) bool
}{
	{"global.resourceScope", "1.28", release.Version.HasResourceScope},
	{"pilot.env.PILOT_MULTICLUSTER_KUBECONFIG_PATH", "1.30", release.Version.HasFileKubeconfigs},
}

// valuesForRelease checks each control plane's values against its release.
func (c *checker) valuesForRelease() {
	for _, cp := range c.t.ControlPlanes() {
		v, err := c.r.Version(cp).Parsed, c.r.Version(cp).Err
		if err != nil || len(cp.Values) == 0 {
			continue
		}
		for _, rv := range releaseValues {
			if hasPath(cp.Values, strings.Split(rv.path, ".")) && !rv.has(v) {
				c.report(diag.InvalidValues, appendDotted(cp.Path().Child("values"), rv.path),
					fmt.Sprintf("remove it, or run Istio %s or later", rv.since),
					"values.%s exists from Istio %s; control plane %q runs %s", rv.path, rv.since, cp.Name, v)
			}
		}
	}
}

// tlsServerNames checks clusters.<c>.tlsServerName against the releases of
// the istiods that read it: it goes into the remote secrets of istiods in
// other clusters, whose kubeconfigs carry tls-server-name from Istio 1.26.
func (c *checker) tlsServerNames() {
	for _, cl := range model.SortedKeys(c.t.Clusters) {
		if c.t.Clusters[cl].TLSServerName == "" {
			continue
		}
		for _, m := range model.SortedKeys(c.t.Meshes) {
			cps := c.t.Meshes[m].ControlPlaneList()
			if !slices.ContainsFunc(cps, func(cp *model.ControlPlane) bool {
				return cp.Cluster == cl || slices.Contains(cp.Remotes, cl)
			}) {
				continue
			}
			for _, cp := range cps {
				v, err := c.r.Version(cp).Parsed, c.r.Version(cp).Err
				if err != nil || cp.Cluster == cl || v.HasTLSServerName() {
					continue
				}
				d := c.report(diag.InvalidValue, model.Path{"clusters", cl, "tlsServerName"},
					"remove tlsServerName, or run Istio 1.26 or later there",
					"istiod of control plane %q (Istio %s) reads cluster %q's remote secret, whose tls-server-name Istio reads from 1.26", cp.Name, v, cl)
				c.related(d, c.versionSource(cp))
			}
		}
	}
}
