// Command reconciler is the scheduled reconcile (default every 6 hours): it
// lists every ACTIVE account of the organization and puts one converge
// request per account on the request queue, so accounts whose join event
// never arrived, or whose trail drifted, converge. The logic lives in
// shared/backfill.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/backfill"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/workitem"
)

func main() {
	ctx := context.Background()
	cfg, err := settings.LoadReconciler(os.Getenv)
	exitIf(err)
	home, err := awsenv.Load(ctx, "")
	exitIf(err)
	dir, err := enabler.NewDirectory(ctx, cfg.Common, home)
	exitIf(err)
	lister, ok := dir.(backfill.Lister)
	if !ok {
		fmt.Fprintln(os.Stderr, "reconciler: the organization directory cannot list accounts")
		os.Exit(1)
	}
	q := sqs.NewFromConfig(home)
	logger := telemetry.NewLogger(os.Stdout, cfg.LogLevel).With("function", "reconciler")
	metrics := telemetry.NewMetrics(os.Stdout, cfg.MetricsNamespace, "reconciler")
	lambda.Start(func(ctx context.Context, ev events.CloudWatchEvent) error {
		active, inactive, err := backfill.Active(ctx, lister)
		if err != nil {
			return err
		}
		n, err := backfill.Enqueue(ctx, q, cfg.RequestQueueURL, workitem.ReasonReconcile, active, time.Now(), nil)
		metrics.Count("ReconcileRequests", n)
		_ = metrics.Flush(ctx)
		logger.InfoContext(ctx, "reconcile enqueued", "eventId", ev.ID, "active", len(active), "inactive", inactive, "enqueued", n)
		return err
	})
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
