// Command alarmrelay is the alarm relay Lambda function: it reads the alarms
// queue (trailwarden's CloudWatch alarm notifications, from the private
// alarms topic) and publishes each ALARM and its OK on the alerts topic
// through the alert path, with the message attributes subscribers filter
// on. The logic lives in shared/alarmrelay.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailwarden/trailwarden/shared/alarmrelay"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/version"
)

func main() {
	ctx := context.Background()
	cfg, err := alarmrelay.LoadConfig(os.Getenv)
	exitIf(err)
	home, err := awsenv.Load(ctx, "")
	exitIf(err)
	// The topic only: no bus or Security Hub sink (the alarms are
	// trailwarden's own health, not findings about the organization).
	pub := &alert.Publisher{SNS: sns.NewFromConfig(home), TopicARN: cfg.AlertsTopicARN, RunbookBase: cfg.RunbookBaseURL}
	r := &alarmrelay.Relay{Source: cfg.Source, Publisher: pub, Logger: telemetry.NewLambdaLogger("alarmrelay")}
	r.Logger.Info("cold start", "version", version.Get().String())
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		resp, _ := r.Handle(ctx, ev)
		return resp, nil
	})
}

// exitIf ends a cold start that cannot serve: configuration or clients are
// wrong, which retrying the invocation cannot fix. The reason goes to the
// function's log.
func exitIf(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "alarmrelay:", err)
		os.Exit(1)
	}
}
