package reconcile

import (
	"context"
	"errors"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwarden/trailwarden/shared/backfill"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/telemetry"
)

// New wires a Reconciler from validated configuration and the function's
// AWS configuration; metrics and logs go to out.
func New(ctx context.Context, cfg settings.Reconciler, home aws.Config, out io.Writer) (*Reconciler, error) {
	dir, err := enabler.NewDirectory(ctx, cfg.Common, home)
	if err != nil {
		return nil, err
	}
	lister, ok := dir.(backfill.Lister)
	if !ok {
		return nil, errors.New("the organization directory cannot list accounts")
	}
	return &Reconciler{
		Accounts: lister,
		Queue:    sqs.NewFromConfig(home),
		QueueURL: cfg.RequestQueueURL,
		Metrics:  telemetry.NewMetrics(out, cfg.MetricsNamespace, "reconciler"),
		Logger:   telemetry.NewLogger(out, cfg.LogLevel).With("function", "reconciler"),
	}, nil
}
