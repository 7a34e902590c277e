//go:build !linux

package e2e

import "os/exec"

// dieWithParent has no kernel support here: TestMain's cleanup stops the
// processes.
func dieWithParent(*exec.Cmd) {}
