// Command helmvalues reads Flux HelmReleases that meshc's helm target wrote
// and, for each, writes its values to DIR/<n>.json and prints one line
//
//	<chart> <version> <release> <namespace> <values file>
//
// so that scripts/fleet-bench.sh can run `helm template` on the same release
// and values as the rendered target renders. The image is pinned as the
// rendered target pins it (global.hub and global.tag unless set).
//
//	go run ./internal/fleet/helmvalues DIR helmrelease-istiod-x.yaml ...
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

type helmRelease struct {
	Spec struct {
		Chart struct {
			Spec struct {
				Chart   string `json:"chart"`
				Version string `json:"version"`
			} `json:"spec"`
		} `json:"chart"`
		ReleaseName     string         `json:"releaseName"`
		TargetNamespace string         `json:"targetNamespace"`
		Values          map[string]any `json:"values"`
	} `json:"spec"`
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: helmvalues DIR HELMRELEASE...")
		os.Exit(2)
	}
	dir := os.Args[1]
	for i, file := range os.Args[2:] {
		if err := convert(dir, i, file); err != nil {
			fmt.Fprintf(os.Stderr, "helmvalues: %s: %v\n", file, err)
			os.Exit(1)
		}
	}
}

func convert(dir string, i int, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var hr helmRelease
	if err := yaml.Unmarshal(data, &hr); err != nil {
		return err
	}
	s := hr.Spec
	values := s.Values
	if values == nil {
		values = map[string]any{}
	}
	global, _ := values["global"].(map[string]any)
	if global == nil {
		global = map[string]any{}
		values["global"] = global
	}
	if _, ok := global["hub"]; !ok {
		global["hub"] = "docker.io/istio"
	}
	if _, ok := global["tag"]; !ok {
		global["tag"] = s.Chart.Spec.Version
	}
	out, err := json.Marshal(values)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, fmt.Sprintf("%d.json", i))
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return err
	}
	fmt.Println(s.Chart.Spec.Chart, s.Chart.Spec.Version, s.ReleaseName, s.TargetNamespace, path)
	return nil
}
