package main

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal (golang.org/x/term).
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows how many of total items are done. On a terminal it is a
// bar (schollz/progressbar), without colour; elsewhere (a pipe, a log, CI)
// it degrades to a plain line at each quarter, or to nothing when quiet:
// never a carriage-return frame.
type progress struct {
	bar      *progressbar.ProgressBar
	w        io.Writer // plain lines (nil: none)
	what     string
	total    int
	lastLine int
}

// newProgress draws on w; quiet drops the plain lines off a terminal.
func newProgress(w io.Writer, total int, what string, quiet bool) *progress {
	p := &progress{what: what, total: total, lastLine: -1}
	switch {
	case isTerminal(w):
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionEnableColorCodes(false),
			progressbar.OptionClearOnFinish(), progressbar.OptionSetPredictTime(true))
	case !quiet:
		p.w = w
	}
	return p
}

// set records done of the total.
func (p *progress) set(done int) {
	if p.bar != nil {
		_ = p.bar.Set(done)
		return
	}
	if p.w == nil || p.total == 0 {
		return
	}
	if q := done * 4 / p.total; q > p.lastLine {
		p.lastLine = q
		fmt.Fprintf(p.w, "trailwarden: %s %d/%d (%d%%)\n", p.what, done, p.total, done*100/p.total)
	}
}

// grow raises the total as items are found (integrity's log files).
func (p *progress) grow(done, total int) {
	if total = max(total, done); total != p.total && p.bar != nil {
		p.bar.ChangeMax(total)
	}
	p.total = max(total, done)
	p.set(done)
}

// done ends the bar.
func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
