package e2e

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill cmd when the test binary dies, even
// by a panic or a signal that skips TestMain's cleanup: a leftover
// kube-apiserver would otherwise keep a core busy until the machine stops.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
