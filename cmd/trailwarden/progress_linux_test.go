package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair (Linux /dev/ptmx).
func openPTY(t *testing.T) (ptmx, tty *os.File) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open tty: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return ptmx, tty
}

// TestProgressOnTerminal: on a terminal the bar redraws in place.
func TestProgressOnTerminal(t *testing.T) {
	ptmx, tty := openPTY(t)
	if !isTerminal(tty) || isTerminal(io.Discard) {
		t.Fatal("terminal detection")
	}
	p := newProgress(tty, 4, "accounts planned", false)
	for i := 1; i <= 4; i++ {
		p.set(i)
	}
	p.done()
	tty.Close()
	buf := make([]byte, 64<<10)
	n, _ := ptmx.Read(buf)
	out := string(buf[:n])
	if !strings.Contains(out, "\r") || !strings.Contains(out, "accounts planned") || strings.Contains(out, "\x1b[3") {
		t.Fatalf("%q", out)
	}
}
