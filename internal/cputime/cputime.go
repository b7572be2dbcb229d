//go:build unix

// Package cputime reads the process's CPU time (user + system, all
// threads, getrusage(2) RUSAGE_SELF) for benchmarks: on a shared machine
// wall time counts other processes' load; CPU time counts only this one's
// work, the garbage collector's included.
package cputime

import (
	"syscall"
	"time"
)

// Now returns the CPU time the process has used so far.
func Now() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
