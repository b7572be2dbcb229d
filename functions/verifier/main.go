// Command verifier is the verifier Lambda function: it reads the delivery
// queue (CloudTrail's SNS notifications and S3 Object Created events for
// digests), checks every announced object and records arrivals in the
// ledger. The logic lives in shared/verifier.
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
	"github.com/trailwarden/trailwarden/shared/verifier"
	"github.com/trailwarden/trailwarden/shared/version"
)

func main() {
	ctx := context.Background()
	cfg, err := verifier.LoadConfig(os.Getenv)
	exitIf(err)
	home, err := awsenv.Load(ctx, "")
	exitIf(err)
	proc, err := verifier.New(ctx, cfg, home, os.Stdout)
	exitIf(err)
	// Logs carry each invocation's request id and follow the function's
	// logging configuration (AWS_LAMBDA_LOG_LEVEL).
	proc.Logger = telemetry.NewLambdaLogger("verifier")
	proc.Logger.Info("cold start", "version", version.Get().String())
	// Every processed arrival is in the journal when an invocation
	// returns; what the instance still holds when Lambda retires it is its
	// summed metrics, written at SIGTERM (about 500 ms before SIGKILL).
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownBudget)
		defer cancel()
		proc.Shutdown(ctx)
	}
	lambda.StartWithOptions(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return proc.Handle(ctx, ev), nil
	}, lambda.WithEnableSIGTERM(shutdown))
}

// shutdownBudget stays inside the ~500 ms between SIGTERM and SIGKILL.
const shutdownBudget = 400 * time.Millisecond

// exitIf ends a cold start that cannot serve: configuration or clients are
// wrong, which retrying the invocation cannot fix. The reason goes to the
// function's log.
func exitIf(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifier:", err)
		os.Exit(1)
	}
}
