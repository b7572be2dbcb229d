package main

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func TestStatusCommand(t *testing.T) {
	got := statusCommand(map[string]string{"B": "2", "A": "1"}, time.Date(2026, 3, 14, 13, 5, 0, 0, time.FixedZone("x", 3600)))
	if want := "env A=1 B=2 trailwarden status --at 2026-03-14T12:05:00Z"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errb); code != 0 || !bytes.Contains(errb.Bytes(), []byte("Example:")) {
		t.Errorf("-h: %d %q", code, errb.String())
	}
	if code := run(context.Background(), []string{"extra"}, &out, &errb); code != 2 {
		t.Errorf("positional argument: exit %d, want 2", code)
	}
}
