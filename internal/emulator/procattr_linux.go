//go:build linux

package emulator

import "syscall"

// procAttr puts moto in its own process group (so Close can signal all of it)
// and has the kernel kill it if the test binary dies without closing it
// (a test timeout, a crash), so no server is left behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
