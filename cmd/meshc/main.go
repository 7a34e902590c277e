// Command meshc compiles a mesh topology into one Kustomize bundle per cluster.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"meshc.dev/meshc/internal/cli"
)

func main() { os.Exit(run()) }

// run is the command line, under a CPU profile when MESHC_CPUPROFILE names
// a file to write one to, and writing a heap profile at its end when
// MESHC_MEMPROFILE names one: hidden switches for measuring the CLI as
// users run it (scripts/fleet-bench.sh), not only the stages in process.
func run() int {
	if file := os.Getenv("MESHC_CPUPROFILE"); file != "" {
		f, err := os.Create(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "meshc: MESHC_CPUPROFILE:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "meshc: MESHC_CPUPROFILE:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	paceGC()
	code := cli.Main()
	if file := os.Getenv("MESHC_MEMPROFILE"); file != "" {
		if f, err := os.Create(file); err == nil {
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
	return code
}
