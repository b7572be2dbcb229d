//go:build unix

package cputime_test

import (
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/cputime"
)

// Busy work advances the CPU clock; sleeping does not (much). On a loaded
// machine the busy loop runs until the clock has moved, for at most 10 s.
func TestNowCountsWorkNotSleep(t *testing.T) {
	start := cputime.Now()
	x := 0
	for deadline := time.Now().Add(10 * time.Second); cputime.Now()-start < 20*time.Millisecond; x++ {
		if time.Now().After(deadline) {
			t.Fatalf("10 s of busy work moved the CPU clock by %v (x=%d)", cputime.Now()-start, x)
		}
	}
	start = cputime.Now()
	time.Sleep(100 * time.Millisecond)
	if idle := cputime.Now() - start; idle > 20*time.Millisecond {
		t.Fatalf("100 ms of sleep used %v of CPU", idle)
	}
}
