// Command reconciler is the scheduled reconcile (default every 6 hours): it
// puts one converge request per ACTIVE account on the request queue. The
// logic lives in shared/reconcile.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/reconcile"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/version"
)

func main() {
	ctx := context.Background()
	cfg, err := settings.LoadReconciler(os.Getenv)
	exitIf(err)
	home, err := awsenv.Load(ctx, "")
	exitIf(err)
	r, err := reconcile.New(ctx, cfg, home, os.Stdout)
	exitIf(err)
	r.Logger = telemetry.NewLambdaLogger("reconciler")
	r.Logger.Info("cold start", "version", version.Get().String())
	lambda.Start(r.Handle)
}

// exitIf ends a cold start that cannot serve: configuration or clients are
// wrong, which retrying the invocation cannot fix. The reason goes to the
// function's log.
func exitIf(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "reconciler:", err)
		os.Exit(1)
	}
}
