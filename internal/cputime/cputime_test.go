//go:build unix

package cputime_test

import (
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/cputime"
)

// Busy work advances the CPU clock; sleeping does not (much).
func TestNowCountsWorkNotSleep(t *testing.T) {
	start := cputime.Now()
	x := 0
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
		x++
	}
	busy := cputime.Now() - start
	start = cputime.Now()
	time.Sleep(50 * time.Millisecond)
	idle := cputime.Now() - start
	if busy < 20*time.Millisecond || idle > busy/2 {
		t.Fatalf("busy %v, idle %v (x=%d)", busy, idle, x)
	}
}
