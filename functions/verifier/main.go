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
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifier:", err)
		os.Exit(1)
	}
	home, err := awsenv.Load(ctx, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifier:", err)
		os.Exit(1)
	}
	proc, err := verifier.New(ctx, cfg, home, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifier:", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return proc.Handle(ctx, ev), nil
	})
}
