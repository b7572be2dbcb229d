package verifier

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// Batch exposes one invocation's state to the benchmarks.
type Batch = batch

// NewBatch returns an empty invocation state.
func NewBatch() *Batch { return &batch{touched: map[string][]string{}, logs: map[string]int{}} }

// Record runs the per-record path (parse, classify, coalesce) without the
// batch wrapper, the ledger flush and the metrics flush.
func (p *Processor) Record(ctx context.Context, rec events.SQSMessage, b *Batch) error {
	return p.record(ctx, rec, b)
}
