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
)

func main() {
	ctx := context.Background()
	cfg, err := settings.LoadEnabler(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "enabler:", err)
		os.Exit(1)
	}
	home, err := awsenv.Load(ctx, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "enabler:", err)
		os.Exit(1)
	}
	proc, err := enabler.New(ctx, cfg, home, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "enabler:", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return proc.Handle(ctx, ev), nil
	})
}
