package verifier

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/notification"
	"github.com/trailwarden/trailwarden/shared/sqsbatch"
)

// Finding codes of the continuous integrity watch beyond a digest's own
// checks: a deletion under AWSLogs/ (an S3 "Object Deleted" event), a
// verified digest written again (shared/integritywatch, whose codes these
// are), and an hourly digest that never came while the trail logs (the
// watchdog's digest step; the stateless check's gap kind
// "missing-digests").
const (
	CodeLogObjectDeleted     Code = "log-object-deleted"
	CodeLogObjectOverwritten Code = "log-object-overwritten"
	CodeDigestsMissing       Code = "digests-missing"
)

// objectEvent handles an S3 event that is not a CloudTrail delivery: an
// "Object Deleted" event under the central bucket's AWSLogs/ is a finding
// (integritywatch.JudgeChange; lifecycle expirations are not); another S3
// event is deleted as before. A malformed deletion event is poison: left
// for the DLQ, counted as malformed.
func (p *Processor) objectEvent(ctx context.Context, rec events.SQSMessage, m *notification.Message, b *batch) error {
	c, err := integritywatch.ParseChange([]byte(rec.Body))
	switch {
	case errors.Is(err, integritywatch.ErrNotDeletion):
		b.notCloudTrail++
		p.Logger.InfoContext(ctx, "not a CloudTrail notification; deleted", "messageId", rec.MessageId, "reason", m.Reason,
			"source", m.Source.String())
		return nil
	case err != nil:
		b.malformed++
		p.Logger.WarnContext(ctx, "malformed S3 deletion event: left for the DLQ", "messageId", rec.MessageId, "reason", err.Error(),
			"receiveCount", sqsbatch.ReceiveCount(rec), "bodyBytes", len(rec.Body))
		return fault.New(fault.Poison, notification.FaultCode, err)
	}
	f, ok, why := integritywatch.JudgeChange(c, p.Rules.Bucket, p.Rules.Prefix)
	if !ok {
		b.notCloudTrail++
		p.Logger.InfoContext(ctx, "S3 deletion is not a finding", "messageId", rec.MessageId, "key", c.Key, "why", why)
		return nil
	}
	fd := Finding{Account: f.Account, Region: f.Region, Code: Code(f.Code), Reason: f.Reason, Bucket: f.Bucket, Key: f.Key,
		MessageID: rec.MessageId}
	if err := p.finding(ctx, p.Logger.With("messageId", rec.MessageId), fd, b); err != nil {
		return fmt.Errorf("deletion of %s: %w", c.Key, err)
	}
	return nil
}
