package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/internal/demo"
)

const demoUsage = `Usage:
  trailwarden demo [--keep] [--dir DIR]

Runs trailwarden's whole story on the local AWS emulator (moto, started
here): an organization with OUs, the central resources, three accounts
joining (two created, one invited) and enabled by the real enabler from
real-format events, CloudTrail's deliveries checked by the verifier, a
foreign delivery flagged, a stopped trail detected by the watchdog and
alerted, the repair, and the recovery. It prints a timeline and exits 0
only if every step happened. 'make demo' runs it.

--keep leaves the emulator running afterwards and prints the environment
for 'trailwarden status' against it; stop with Ctrl-C.

Example:
  trailwarden demo
  trailwarden demo --keep
`

var demoCommand = command{
	summary: "run the whole flow on the local AWS emulator",
	usage:   demoUsage,
	run:     runDemo,
}

func runDemo(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "demo", demoUsage)
	keep := fs.Bool("keep", false, "leave the emulator running for 'trailwarden status'")
	dir := fs.String("dir", "", "directory for the policy file and logs (default: a temporary one)")
	if _, err := parse(fs, args); err != nil {
		return flagErr(err)
	}
	res, err := demo.Run(ctx, demo.Options{Out: env.stdout, Dir: *dir})
	if res != nil && res.Server != nil {
		defer res.Server.Close()
	}
	if err != nil {
		env.errorf("%v", err)
		return exitProblem
	}
	if *keep {
		var keys []string
		for k := range res.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(env.stdout, "\nThe emulator keeps running. In another shell:")
		var exports []string
		for _, k := range keys {
			exports = append(exports, fmt.Sprintf("%s=%s", k, res.Env[k]))
		}
		fmt.Fprintf(env.stdout, "  env %s trailwarden status\n", strings.Join(exports, " "))
		fmt.Fprintln(env.stdout, "Press Ctrl-C to stop it.")
		sig, stop := signal.NotifyContext(ctx, os.Interrupt)
		<-sig.Done()
		stop()
	}
	return exitOK
}
