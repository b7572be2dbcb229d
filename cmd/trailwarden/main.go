// Command trailwarden is the operator CLI: validate and render policies,
// explain events, plan and enable trails, backfill the organization, run the
// functions' handlers locally, and show status. The local demo is a separate
// program (cmd/trailwarden-demo), so the CLI links product code only.
//
// Against AWS it uses the default credential chain; against the emulator,
// AWS_ENDPOINT_URL. Data goes to stdout, diagnostics to stderr. Exit codes:
// 0 ok, 1 something is wrong (a check failed, an account is unhealthy),
// 2 usage error.
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
