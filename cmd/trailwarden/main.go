// Command trailwarden is the operator CLI: validate and render policies,
// explain events, plan and enable trails, backfill the organization, run the
// functions' handlers locally, and show status. The local demo is a separate
// program (cmd/trailwarden-demo), so the CLI links product code only.
//
// Against AWS it uses the default credential chain; against the emulator,
// AWS_ENDPOINT_URL. Data goes to stdout, diagnostics to stderr. Commands are
// spf13/cobra commands (run.go); every one exits by the one table in
// exit.go: 0 success or healthy, 1 a finding, a change, an unhealthy state
// or a refused input, 2 a usage, access or runtime error.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
