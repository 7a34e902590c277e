package verify

import (
	"fmt"
	"path"

	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"

	"meshc.dev/meshc/compiler/render"
)

// helmCharts checks the kustomize helmCharts entries of every
// kustomization: each decodes strictly into kustomize's HelmChart and names
// a published Istio chart, a release and a version. (Building them would
// need the helm binary and the network; the tests render the same values
// with Istio's charts.)
func helmCharts(tree render.Tree) []string {
	var problems []string
	for _, p := range tree.Paths() {
		if path.Base(p) != "kustomization.yaml" {
			continue
		}
		var k types.Kustomization
		if err := yaml.UnmarshalStrict(tree[p], &k); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		for _, c := range k.HelmCharts {
			if c.Name == "" || c.Repo == "" || c.Version == "" || c.ReleaseName == "" || c.Namespace == "" {
				problems = append(problems, fmt.Sprintf("%s: helm chart %q needs a repo, version, release name and namespace", p, c.Name))
			}
		}
	}
	return problems
}
