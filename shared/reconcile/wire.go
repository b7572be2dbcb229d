package reconcile

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/telemetry"
)

// New wires a Reconciler from validated configuration and the function's
// AWS configuration; metrics and logs go to out.
func New(ctx context.Context, cfg settings.Reconciler, home aws.Config, out io.Writer) (*Reconciler, error) {
	dir, err := orgdir.Open(ctx, orgdir.Source{SingleAccount: cfg.SingleAccount, ReaderRoleARN: cfg.OrgReaderRoleARN}, home)
	if err != nil {
		return nil, err
	}
	return &Reconciler{
		Accounts: dir,
		Queue:    sqs.NewFromConfig(home),
		QueueURL: cfg.RequestQueueURL,
		Metrics:  telemetry.NewMetrics(out, cfg.MetricsNamespace, "reconciler"),
		Logger:   telemetry.NewLogger(out, cfg.LogLevel).With("function", "reconciler"),
	}, nil
}
