package verifier

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/logkey"
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

// objectChange is the one verdict on an S3 event that is not a delivery,
// for the handler and Explain: another S3 event (notDeletion), a malformed
// deletion event (err, poison), or a deletion that is a finding (or not,
// with why).
type objectChange struct {
	notDeletion bool
	err         error
	finding     *Finding
	key, why    string
}

// judgeObjectChange: an "Object Deleted" event under the central bucket's
// AWSLogs/ is a finding (integritywatch.JudgeChange; a lifecycle
// expiration is not).
func (r *Rules) judgeObjectChange(body string) objectChange {
	c, err := integritywatch.ParseChange([]byte(body))
	switch {
	case errors.Is(err, integritywatch.ErrNotDeletion):
		return objectChange{notDeletion: true}
	case err != nil:
		return objectChange{err: fault.New(fault.Poison, notification.FaultCode, err)}
	}
	f, ok, why := integritywatch.JudgeChange(c, r.Bucket, r.Prefix)
	if !ok {
		return objectChange{key: c.Key, why: why}
	}
	return objectChange{key: c.Key, finding: &Finding{Account: f.Account, Region: f.Region, Code: Code(f.Code), Reason: f.Reason,
		Bucket: f.Bucket, Key: f.Key}}
}

// objectEvent handles an S3 event that is not a delivery (judgeObjectChange):
// another S3 event is deleted as before; a malformed deletion event is left
// for the DLQ and counted as malformed.
func (p *Processor) objectEvent(ctx context.Context, rec events.SQSMessage, m *notification.Message, b *batch) error {
	oc := p.Rules.judgeObjectChange(rec.Body)
	switch {
	case oc.notDeletion:
		b.notCloudTrail++
		p.Logger.InfoContext(ctx, "not a CloudTrail notification; deleted", "messageId", rec.MessageId, "reason", m.Reason,
			"source", m.Source.String())
		return nil
	case oc.err != nil:
		b.malformed++
		p.Logger.WarnContext(ctx, "malformed S3 deletion event: left for the DLQ", "messageId", rec.MessageId, "reason", oc.err.Error(),
			"receiveCount", sqsbatch.ReceiveCount(rec), "bodyBytes", len(rec.Body))
		return oc.err
	case oc.finding == nil:
		b.notCloudTrail++
		p.Logger.InfoContext(ctx, "S3 deletion is not a finding", "messageId", rec.MessageId, "key", oc.key, "why", oc.why)
		return nil
	}
	fd := *oc.finding
	fd.MessageID = rec.MessageId
	if err := p.finding(ctx, p.Logger.With("messageId", rec.MessageId), fd, b); err != nil {
		return fmt.Errorf("deletion of %s: %w", oc.key, err)
	}
	return nil
}

// explainObjectChange is Explain's part of judgeObjectChange: the
// message's outcome and reason, and a finding as a rejected object; ok
// false for another S3 event.
func explainObjectChange(ex *Explanation, messageID, body string, rules *Rules) (outcome, reason string, ok bool) {
	oc := rules.judgeObjectChange(body)
	switch {
	case oc.notDeletion:
		return "", "", false
	case oc.err != nil:
		return notification.OutcomeMalformed.String(), oc.err.Error() + "; left for the DLQ", true
	case oc.finding == nil:
		return notification.OutcomeNotCloudTrail.String(), "S3 deletion of " + oc.key + ", not a finding: " + oc.why + "; deleted", true
	}
	f := oc.finding
	eo := ExplainedObject{MessageID: messageID, Bucket: f.Bucket, Key: f.Key, Kind: "unknown",
		Account: f.Account, Region: f.Region, Verdict: Rejected.String(), Reason: string(f.Code) + ": " + f.Reason}
	if k, err := logkey.Parse(f.Key); err == nil {
		eo.Kind, eo.Organization = k.Kind.String(), k.OrgID
	}
	ex.Objects = append(ex.Objects, eo)
	return notification.OutcomeNotCloudTrail.String(), "S3 deletion under AWSLogs/: a finding; deleted", true
}
