//go:build linux

package e2e

import (
	"os/exec"
	"syscall"
)

// bindToParent makes the kernel SIGTERM the run process should the test binary die
// without reaching its own shutdown (a panic, go test's timeout, an interrupt).
func bindToParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
