package main

import (
	"strings"
	"testing"
)

// TestProgressOffTerminal: off a terminal the bar degrades to a plain
// line at each quarter (no carriage-return frame, no colour), or to
// nothing when quiet.
func TestProgressOffTerminal(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b, 8, "accounts planned", false)
	for i := 1; i <= 8; i++ {
		p.set(i)
	}
	p.done()
	out := b.String()
	if strings.ContainsAny(out, "\r\x1b") || strings.Count(out, "\n") != 5 || !strings.HasSuffix(out, "accounts planned 8/8 (100%)\n") {
		t.Fatalf("%q", out)
	}
	b.Reset()
	q := newProgress(&b, 0, "objects verified", true)
	q.grow(3, 10)
	q.done()
	if b.Len() != 0 {
		t.Fatalf("quiet: %q", b.String())
	}
}
