// Command watchdog is the watchdog Lambda function: on its schedule
// (EventBridge, every 5 minutes) it runs one pass over the arrival ledger
// and the accounts table and raises or resolves incidents. The logic lives
// in shared/watchdog.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/version"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

func main() {
	ctx := context.Background()
	cfg, err := watchdog.LoadConfig(os.Getenv)
	exitIf(err)
	home, err := awsenv.Load(ctx, "")
	exitIf(err)
	w, err := watchdog.New(ctx, cfg, home, os.Stdout)
	exitIf(err)
	// Logs carry each invocation's request id and follow the function's
	// logging configuration (AWS_LAMBDA_LOG_LEVEL).
	w.Logger = telemetry.NewLambdaLogger("watchdog")
	w.Logger.Info("cold start", "version", version.Get().String())
	lambda.Start(func(ctx context.Context, _ events.CloudWatchEvent) error {
		// The pass judges silence against the wall clock, not the event's
		// scheduled time: a delayed invocation must not look back in time.
		_, err := w.Run(ctx, time.Now())
		return err
	})
}

// exitIf ends a cold start that cannot serve: configuration or clients are
// wrong, which retrying the invocation cannot fix. The reason goes to the
// function's log.
func exitIf(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "watchdog:", err)
		os.Exit(1)
	}
}
