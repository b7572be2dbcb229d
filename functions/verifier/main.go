// Command verifier is the verifier Lambda function: it reads the delivery
// queue (CloudTrail's SNS notifications and S3 Object Created events for
// digests), checks every announced object and records arrivals in the
// ledger. The logic lives in shared/verifier.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

func main() {
	ctx := context.Background()
	cfg, err := verifier.LoadConfig(os.Getenv)
	exitIf(err)
	home, err := awsenv.Load(ctx, "")
	exitIf(err)
	proc, err := verifier.New(ctx, cfg, home, os.Stdout)
	exitIf(err)
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return proc.Handle(ctx, ev), nil
	})
}

// exitIf ends a cold start that cannot serve: configuration or clients are
// wrong, which retrying the invocation cannot fix. The reason goes to the
// function's log.
func exitIf(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifier:", err)
		os.Exit(1)
	}
}
