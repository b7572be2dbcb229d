// Command trailwarden-demo runs trailwarden's whole story on the local AWS
// emulator (moto, started here): an organization with OUs, the central
// resources, three accounts joining (two created, one invited) and enabled
// by the real enabler from real-format events, CloudTrail's deliveries
// checked by the verifier, a foreign delivery flagged, a stopped trail
// detected by the watchdog and alerted, the repair, and the recovery; with
// Security Hub enabled in its deployment, the findings read back from
// Security Hub, the alerts on the central bus through the documented rule,
// and the organization's map as an HTML file. It prints a timeline and
// exits 0 only if every step happened. 'make demo' runs it.
//
// It is a program of its own so that the operator CLI (cmd/trailwarden)
// links no test harness.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/demo"
)

const usage = `Usage:
  trailwarden-demo [--keep] [--dir DIR]

Runs trailwarden's whole story on the local AWS emulator and exits 0 only
if every step happened.

--keep leaves the emulator running afterwards and prints the command line
for 'trailwarden status' against it; stop with Ctrl-C.

Example:
  go run ./cmd/trailwarden-demo --keep
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the program, testable: it never calls os.Exit. Exit codes: 0 every
// step happened, 1 a step failed, 2 usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("trailwarden-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage, "\nFlags:\n"); fs.PrintDefaults() }
	keep := fs.Bool("keep", false, "leave the emulator running for 'trailwarden status'")
	dir := fs.String("dir", "", "directory for the policy file and logs (default: a temporary one)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "trailwarden-demo: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	res, err := demo.Run(ctx, demo.Options{Out: stdout, Dir: *dir})
	if res != nil && res.Server != nil {
		defer res.Server.Close()
	}
	if err != nil {
		fmt.Fprintln(stderr, "trailwarden-demo:", err)
		return 1
	}
	if *keep {
		fmt.Fprintln(stdout, "\nThe emulator keeps running. In another shell:")
		fmt.Fprintf(stdout, "  %s\n", statusCommand(res.Env, res.Simulated))
		fmt.Fprintln(stdout, "Press Ctrl-C to stop it.")
		<-ctx.Done()
	}
	return 0
}

// statusCommand is the command line of 'trailwarden status' against the
// kept emulator, judged at the demo's simulated clock.
func statusCommand(env map[string]string, at time.Time) string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	exports := make([]string, 0, len(keys))
	for _, k := range keys {
		exports = append(exports, k+"="+env[k])
	}
	return fmt.Sprintf("env %s trailwarden status --at %s", strings.Join(exports, " "), at.UTC().Format(time.RFC3339))
}
