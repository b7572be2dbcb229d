package verifier

import (
	"context"
	"fmt"
	"time"

	"github.com/trailwarden/trailwarden/shared/logkey"
	"github.com/trailwarden/trailwarden/shared/notification"
)

// MemberCheck answers whether an account is a member (Members; a static
// list in Explain).
type MemberCheck interface {
	IsMember(ctx context.Context, account string) (bool, error)
}

var _ MemberCheck = (*Members)(nil)

// Judge is the one verdict on an announced object, shared by the
// verifier's handler and Explain: Check's rules at now, then membership for
// an accepted object and for a folder marker that names an account (a
// marker under a non-member is foreign, like any other path). members nil:
// membership is not judged. An error is the membership lookup's (retried).
func (r *Rules) Judge(ctx context.Context, bucket, key string, now time.Time, members MemberCheck) (Object, error) {
	o := r.Check(bucket, key, now)
	judged := o.Verdict == Accepted || (o.Verdict == Ignored && o.Parsed && o.Key.Kind == logkey.KindMarker && o.Key.Account != "")
	if !judged || members == nil {
		return o, nil
	}
	member, err := members.IsMember(ctx, o.Key.Account)
	if err != nil {
		return o, err
	}
	if !member {
		what := ""
		if o.Key.Kind == logkey.KindMarker {
			what = "folder marker: "
		}
		o.reject(CodeForeignAccount, "%saccount %s is not a member of the organization", what, o.Key.Account)
	}
	return o, nil
}

// CheckMessage applies the message-level rule to a parsed body: an SNS
// envelope must come from the deliveries topic (TopicARN, when set); one
// from any other topic is malformed (left for the DLQ, never read). It
// returns the poison error of a body it turned malformed.
func (r *Rules) CheckMessage(m *notification.Message) error {
	if r.TopicARN == "" || m.Source != notification.SourceSNSEnvelope || m.Outcome == notification.OutcomeMalformed || m.TopicArn == r.TopicARN {
		return nil
	}
	*m = notification.Message{Outcome: notification.OutcomeMalformed, Source: m.Source, TopicArn: m.TopicArn,
		SNSMessageID: m.SNSMessageID, ObjectSize: -1,
		Reason: fmt.Sprintf("SNS envelope from topic %q, not the deliveries topic %q", clip(m.TopicArn, 256), r.TopicARN)}
	return notification.Malformed(m.Reason)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
