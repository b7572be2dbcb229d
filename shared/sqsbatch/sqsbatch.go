// Package sqsbatch runs an SQS batch record by record, the way Powertools'
// batch processor does: every record is handled on its own, a panic in one
// record is recovered and reported as that record's failure, and the batch
// response lists only the records that must be retried.
//
// Failure semantics (the contract every SQS handler of trailwarden keeps):
//   - success: the record is deleted by Lambda.
//   - retryable or unknown failure: reported as a batch item failure; SQS
//     makes it visible again after its visibility timeout (the handler may
//     shorten or lengthen that with ChangeMessageVisibility for backoff).
//   - poison: also reported as a batch item failure, with the reason logged
//     and counted; after maxReceiveCount receives, SQS redrives it to the DLQ.
//     A poison record is never deleted silently.
//   - records not reached before the deadline are reported as failures.
//
// The handler never returns an error together with item failures: that would
// make Lambda retry the whole batch.
package sqsbatch

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/fault"
)

// RecordFunc handles one record. A nil error deletes the record.
type RecordFunc func(ctx context.Context, rec events.SQSMessage) error

// Outcome is what happened to one record.
type Outcome struct {
	MessageID string
	Err       error
	Kind      fault.Kind // meaningful when Err != nil
	Skipped   bool       // not processed: deadline too close
}

// Result is the per-record outcome of a batch.
type Result struct {
	Outcomes []Outcome
}

// Failed counts the records reported back to SQS.
func (r Result) Failed() int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Err != nil || o.Skipped {
			n++
		}
	}
	return n
}

// Response builds Lambda's partial batch response.
func (r Result) Response() events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, o := range r.Outcomes {
		if (o.Err != nil || o.Skipped) && o.MessageID != "" {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: o.MessageID})
		}
	}
	return resp
}

// DefaultReserve is Options.Reserve when 0.
const DefaultReserve = 2 * time.Second

// Options tune a batch run.
type Options struct {
	// Reserve is kept free before the invocation deadline: records not
	// started by then are reported as failures. Default 2s.
	Reserve time.Duration
	// Logger receives one line per failed record (never the body).
	Logger *slog.Logger
}

// Run handles every record of ev with fn, sequentially, in order.
//
// A record without a message id cannot be reported back to SQS (an empty
// ItemIdentifier fails the whole batch), so it is logged and counted as
// poison; Lambda then deletes it with the batch — this can only happen with a
// hand-made event, never with one SQS delivered.
func Run(ctx context.Context, ev events.SQSEvent, fn RecordFunc, opt Options) Result {
	if opt.Reserve <= 0 {
		opt.Reserve = DefaultReserve
	}
	logger := opt.Logger
	if logger == nil {
		logger = slog.Default()
	}
	res := Result{Outcomes: make([]Outcome, 0, len(ev.Records))}
	deadline, hasDeadline := ctx.Deadline()
	for _, rec := range ev.Records {
		out := Outcome{MessageID: rec.MessageId}
		if hasDeadline && time.Until(deadline) < opt.Reserve {
			out.Skipped = true
			logger.WarnContext(ctx, "record not processed: invocation deadline near",
				"messageId", rec.MessageId)
			res.Outcomes = append(res.Outcomes, out)
			continue
		}
		if err := safeCall(ctx, fn, rec); err != nil {
			out.Err = err
			out.Kind = fault.KindOf(err)
			logger.ErrorContext(ctx, "record failed",
				"messageId", rec.MessageId,
				"kind", out.Kind.String(),
				"code", fault.Code(err),
				"receiveCount", rec.Attributes["ApproximateReceiveCount"],
				"error", err.Error())
		}
		res.Outcomes = append(res.Outcomes, out)
	}
	return res
}

// safeCall runs fn and turns a panic into a poison error.
func safeCall(ctx context.Context, fn RecordFunc, rec events.SQSMessage) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fault.Poisonf("Panic", "handler panicked: %v; stack: %s", r, firstLines(debug.Stack(), 12))
		}
	}()
	return fn(ctx, rec)
}

func firstLines(b []byte, n int) string {
	lines := 0
	for i, c := range b {
		if c == '\n' {
			lines++
			if lines == n {
				return string(b[:i])
			}
		}
	}
	return string(b)
}

// ReceiveCount returns the record's ApproximateReceiveCount (1 when absent).
func ReceiveCount(rec events.SQSMessage) int {
	n := 0
	if _, err := fmt.Sscanf(rec.Attributes["ApproximateReceiveCount"], "%d", &n); err != nil || n < 1 {
		return 1
	}
	return n
}

// Backoff returns the visibility timeout to set before a retry of a record
// received n times: base·2^(n-1), capped at max (SQS caps at 12 hours).
func Backoff(n int, base, max time.Duration) time.Duration {
	if n < 1 {
		n = 1
	}
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}
