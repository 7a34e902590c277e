package emit

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"meshc.dev/meshc/compiler/model"
	"meshc.dev/meshc/compiler/plan"
)

// IstioctlDir is the folder, inside a cluster's bundle folder, that holds
// the IstioOperator files. It is not a kustomization resource: no operator
// in the cluster reads IstioOperator objects, istioctl does.
const IstioctlDir = "istioctl"

// istioctlProfile is the profile of an IstioOperator: what the user asked
// for, else minimal, which installs istiod alone (meshc emits gateways
// itself).
func istioctlProfile(cp *plan.ControlPlane) string {
	if cp.Profile != "" {
		return cp.Profile
	}
	return "minimal"
}

// IstioOperator builds the IstioOperator that installs cp with istioctl.
func IstioOperator(c *plan.Cluster, cp *plan.ControlPlane) Object {
	values := maps.Clone(cp.Values)
	spec := map[string]any{"profile": istioctlProfile(cp)}
	if !cp.IsDefaultRevision() {
		spec["revision"] = cp.Revision
	}
	// IstioOperator takes mesh config at spec.meshConfig; istioctl merges
	// values.meshConfig too, but the documented place reads better.
	if mc, ok := values["meshConfig"]; ok {
		spec["meshConfig"] = mc
		delete(values, "meshConfig")
	}
	installerValues(values, c, cp)
	spec["values"] = values
	components := map[string]any{}
	if c.CNI != nil && c.CNI.Owner == cp {
		// One CNI agent per cluster: only the first control plane's
		// install carries it, the others only tell sidecars it is there.
		components["cni"] = map[string]any{"enabled": true, "namespace": c.CNI.Namespace}
	} else if cp.Ambient {
		// The ambient profile turns the agent on: another install has it.
		components["cni"] = map[string]any{"enabled": false}
	}
	if z := c.Ztunnel; z != nil && z.ControlPlane == cp {
		components["ztunnel"] = map[string]any{"enabled": true, "namespace": z.Namespace}
		values["ztunnel"] = maps.Clone(z.Values)
	} else if cp.Ambient {
		// One ztunnel per cluster, installed with the revision it follows.
		components["ztunnel"] = map[string]any{"enabled": false}
	}
	if len(components) > 0 {
		spec["components"] = components
	}
	return Object{
		"apiVersion": "install.istio.io/v1alpha1",
		"kind":       "IstioOperator",
		"metadata":   map[string]any{"name": cp.Revision, "namespace": cp.Namespace},
		"spec":       spec,
	}
}

// IstioctlFileName is the file of a control plane's IstioOperator.
func IstioctlFileName(cp *model.ControlPlane) string {
	return path.Join(IstioctlDir, cp.Revision+".yaml")
}

// istioctlFiles are the IstioOperator files of the cluster's installs,
// each with a comment saying what it installs and how.
func istioctlFiles(c *plan.Cluster) []File {
	var files []File
	for _, cp := range c.ControlPlanes {
		what := fmt.Sprintf("Control plane %s of mesh %s", cp.Name, cp.Mesh)
		if cp.Remote {
			what = fmt.Sprintf("Remote install of control plane %s of mesh %s (istiod runs in cluster %s)", cp.Name, cp.Mesh, cp.Cluster)
		}
		// istioctl installs the charts compiled into it, whatever the file
		// says: the release is the istioctl binary's, so the file names it
		// (and a version bump shows in a diff of the file).
		header := fmt.Sprintf("# %s (%s).\n# Install with istioctl %s: istioctl install -y -f %s\n# Check first: `istioctl version --remote=false` must print %s.\n",
			what, cp.Path(), cp.Version, IstioctlFileName(cp.ControlPlane), cp.Version)
		files = append(files, File{Path: IstioctlFileName(cp.ControlPlane), Comment: header, Object: IstioOperator(c, cp), For: cp})
	}
	return files
}

// istioctlReadme says in which order to apply the bundle's layers and run
// the istioctl installs: the order of the other targets' sync waves, with
// each install in its role's place (an external istiod after the
// kubeconfig it reads its config cluster through).
func istioctlReadme(c *Cluster, pc *plan.Cluster) *File {
	if len(pc.ControlPlanes) == 0 {
		return nil
	}
	present := map[string]bool{}
	for _, r := range c.Resources {
		present[r.Layer.Dir] = true
	}
	var steps strings.Builder
	var installs []*plan.ControlPlane // one per release
	for _, l := range Layers {
		if present[l.Dir] && !l.Detached {
			fmt.Fprintf(&steps, "kubectl apply -k %s\n", l.Dir)
		}
		for _, cp := range pc.ControlPlanes {
			if installRole(cp).Layer() == l {
				fmt.Fprintf(&steps, "istioctl-%s install -y -f %s\n", cp.Version, IstioctlFileName(cp.ControlPlane))
				if !slices.ContainsFunc(installs, func(o *plan.ControlPlane) bool { return o.Version == cp.Version }) {
					installs = append(installs, cp)
				}
			}
		}
	}
	slices.SortFunc(installs, func(a, b *plan.ControlPlane) int { return a.Version.Compare(b.Version) })
	versions := make([]string, len(installs))
	for i, cp := range installs {
		versions[i] = cp.Version.String()
	}
	runs := make([]string, len(versions))
	for i, v := range versions {
		runs[i] = "istioctl-" + v
	}
	which := fmt.Sprintf(`Each install runs the istioctl of its control plane's release, written
below as istioctl-<release> (here: %s).
istioctl installs the charts built into it, whatever a file says. Get a
release with `+"`curl -sL https://istio.io/downloadIstio | ISTIO_VERSION=<release> sh -`"+`
(it unpacks istio-<release>/bin/istioctl) and check it with
`+"`istioctl version --remote=false`"+`, which must print the release.`, strings.Join(runs, " and "))
	readme := fmt.Sprintf(`# Installing cluster %s with istioctl

The cluster's bundle (the folder above this one) holds everything but the
control planes, one folder per step; its control planes are installed by
istioctl from the IstioOperator files here, which the bundle does not apply
(no operator in the cluster reads them). See PREREQUISITES.md in the folder
above first.

%s

From the cluster's folder, in order, each step once the one before is
ready:

`+"```sh"+`
%s`+"```"+`

Steps wait on other clusters: a remote's gateways start only once the
istiod leading it holds its remote secret, which that cluster builds from
the token this one pushes in reader-tokens.
`, c.Name, which, steps.String())
	return &File{Path: path.Join(IstioctlDir, "README.md"), Data: []byte(readme)}
}

// installerValues adds what the plan leaves to installers that run the
// istiod chart themselves (istioctl, helm, rendered), where the Sail
// operator has objects or detection of its own: revision tags as the
// chart's revisionTags, and the platform, which selects the chart's
// OpenShift settings.
func installerValues(values map[string]any, c *plan.Cluster, cp *plan.ControlPlane) {
	if len(cp.Tags) > 0 {
		tags := make([]any, len(cp.Tags))
		for i, t := range cp.Tags {
			tags[i] = t
		}
		values["revisionTags"] = tags
	}
	if c.Platform == model.PlatformOpenShift {
		global := maps.Clone(values["global"].(map[string]any))
		global["platform"] = "openshift"
		values["global"] = global
	}
}
