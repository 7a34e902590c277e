// Command gen writes a generated fleet topology to standard output, for
// trying meshc at scale: go run ./internal/fleet/gen -clusters 1000 > fleet.yaml
package main

import (
	"flag"
	"os"

	"meshc.dev/meshc/internal/fleet"
)

func main() {
	s := fleet.Fleet
	flag.IntVar(&s.Clusters, "clusters", s.Clusters, "number of clusters")
	flag.IntVar(&s.Meshes, "meshes", s.Meshes, "number of meshes")
	flag.IntVar(&s.Namespaces, "namespaces", s.Namespaces, "number of tenant namespaces")
	flag.Parse()
	if _, err := os.Stdout.Write(fleet.YAML(s)); err != nil {
		os.Exit(1)
	}
}
