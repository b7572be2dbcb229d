// Package reconcile is the scheduled reconcile: list every ACTIVE account of
// the organization and put one converge request per account on the request
// queue, so that accounts whose join event never arrived, or whose trail
// drifted, converge.
package reconcile

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/backfill"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/workitem"
)

// MetricRequests counts the converge requests one reconcile enqueued.
const MetricRequests = "ReconcileRequests"

// Reconciler enqueues a converge request for every ACTIVE account.
type Reconciler struct {
	Accounts backfill.Lister
	Queue    backfill.SendBatchAPI
	QueueURL string
	Metrics  *telemetry.Metrics
	Logger   *slog.Logger
	Now      func() time.Time // nil: the wall clock
}

// Handle runs one reconcile for the schedule's event. Accounts listed before
// an error are still enqueued and counted; the error fails the invocation
// so that Lambda's retry runs the reconcile again (requests are idempotent:
// a converge of a converged account changes nothing).
func (r *Reconciler) Handle(ctx context.Context, ev events.CloudWatchEvent) error {
	active, inactive, err := backfill.Active(ctx, r.Accounts)
	if err != nil {
		r.Logger.ErrorContext(ctx, "reconcile: list accounts", "eventId", ev.ID, "error", err.Error())
		return err
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	n, err := backfill.Enqueue(ctx, r.Queue, r.QueueURL, workitem.ReasonReconcile, active, now(), nil)
	r.Metrics.Count(MetricRequests, n)
	if ferr := r.Metrics.Flush(ctx); ferr != nil {
		r.Logger.WarnContext(ctx, "metrics not written", "error", ferr.Error())
	}
	attrs := []any{"eventId", ev.ID, "active", len(active), "inactive", inactive, "enqueued", n}
	if err != nil {
		r.Logger.ErrorContext(ctx, "reconcile: enqueue", append(attrs, "error", err.Error())...)
		return err
	}
	r.Logger.InfoContext(ctx, "reconcile enqueued", attrs...)
	return nil
}
