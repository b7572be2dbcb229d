// Command enabler is the enabler Lambda function: it reads the request queue
// (Organizations events, trail tamper events, converge requests) and
// converges member accounts' trails. The logic lives in shared/enabler.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/version"
)

func main() {
	ctx := context.Background()
	cfg, err := settings.LoadEnabler(os.Getenv)
	exitIf(err)
	home, err := awsenv.Load(ctx, "")
	exitIf(err)
	proc, err := enabler.New(ctx, cfg, home, os.Stdout)
	exitIf(err)
	// Logs carry each invocation's request id and follow the function's
	// logging configuration (AWS_LAMBDA_LOG_LEVEL).
	proc.Logger = telemetry.NewLambdaLogger("enabler")
	proc.Logger.Info("cold start", "version", version.Get().String())
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return proc.Handle(ctx, ev), nil
	})
}

// exitIf ends a cold start that cannot serve: configuration or clients are
// wrong, which retrying the invocation cannot fix. The reason goes to the
// function's log.
func exitIf(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "enabler:", err)
		os.Exit(1)
	}
}
