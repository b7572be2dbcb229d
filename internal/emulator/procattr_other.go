//go:build unix && !linux

package emulator

import "syscall"

// procAttr puts moto in its own process group so Close can signal all of it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
