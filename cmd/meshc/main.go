// Command meshc compiles a mesh topology into one Kustomize bundle per cluster.
package main

import (
	"os"

	"meshc.dev/meshc/internal/cli"
)

func main() { os.Exit(cli.Main()) }
