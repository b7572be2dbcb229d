package verifier

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/logkey"
	"github.com/trailwarden/trailwarden/shared/notification"
	"github.com/trailwarden/trailwarden/shared/policy"
)

// InputKind is the "input" value of an explanation of delivery
// notifications.
const InputKind = "delivery-notification"

// ExplainOptions turn checks on: Policy the bucket, prefix and organization
// checks (and its mode); Members membership (nil: not judged).
type ExplainOptions struct {
	Policy  *policy.Policy
	Members []string
	// Now judges file timestamps as the verifier does (the wall clock when
	// zero): a file far in the future is a finding in both.
	Now time.Time
}

// Explanation is what `trailwarden explain` prints for delivery
// notifications.
type Explanation struct {
	Input    string             `json:"input"`
	Messages []ExplainedMessage `json:"messages"`
	Objects  []ExplainedObject  `json:"objects"`
}

// ExplainedMessage is one SQS body's outcome: ok | validation | malformed |
// not-cloudtrail.
type ExplainedMessage struct {
	MessageID string `json:"messageId"`
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason"`
}

// ExplainedObject is one announced object: kind log | digest | insight |
// marker | unknown; verdict accepted | rejected | ignored.
type ExplainedObject struct {
	MessageID    string `json:"messageId"`
	Bucket       string `json:"bucket"`
	Key          string `json:"key"`
	Kind         string `json:"kind"`
	Account      string `json:"account"`
	Region       string `json:"region"`
	Organization string `json:"organization"`
	Verdict      string `json:"verdict"`
	Reason       string `json:"reason"`
}

// Recognized reports whether the input looked like a delivery notification
// at all (any message other than not-cloudtrail), so that a command that
// explains several kinds of input can try another.
func (e Explanation) Recognized() bool {
	for _, m := range e.Messages {
		if m.Outcome != notification.OutcomeNotCloudTrail.String() {
			return true
		}
	}
	return false
}

type sqsRecords struct {
	Records []struct {
		EventSource string           `json:"eventSource"`
		Body        *json.RawMessage `json:"body"`
	} `json:"Records"`
}

// Explain explains a payload without any AWS call: an SQS event (every
// record), or one body — an SNS envelope, a bare CloudTrail notification,
// the validation text, or an S3 EventBridge event. Every verdict is the
// verifier's own (Rules.CheckMessage, Rules.Judge), timestamps judged at
// opts.Now.
func Explain(payload []byte, opts ExplainOptions) (Explanation, error) {
	ex := Explanation{Input: InputKind, Messages: []ExplainedMessage{}, Objects: []ExplainedObject{}}
	rules := Rules{}
	if opts.Policy != nil {
		rules = RulesFromPolicy(opts.Policy)
	}
	var members staticMembers
	if opts.Members != nil {
		members = make(staticMembers, len(opts.Members))
		for _, m := range opts.Members {
			members[strings.TrimSpace(m)] = true
		}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if isSQSEvent(payload) {
		var ev events.SQSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return ex, fmt.Errorf("explain: SQS event: %w", err)
		}
		for _, rec := range ev.Records {
			explainBody(&ex, rec.MessageId, rec.Body, &rules, members, now)
		}
		return ex, nil
	}
	explainBody(&ex, "", string(payload), &rules, members, now)
	return ex, nil
}

func isSQSEvent(payload []byte) bool {
	t := bytes.TrimSpace(payload)
	if len(t) == 0 || t[0] != '{' || !bytes.Contains(t, []byte(`"Records"`)) {
		return false
	}
	var r sqsRecords
	if json.Unmarshal(t, &r) != nil || len(r.Records) == 0 {
		return false
	}
	for _, rec := range r.Records {
		if rec.EventSource != "aws:sqs" && rec.Body == nil {
			return false
		}
	}
	return true
}

// staticMembers is Explain's --members list.
type staticMembers map[string]bool

func (s staticMembers) IsMember(_ context.Context, account string) (bool, error) {
	return s[account], nil
}

func explainBody(ex *Explanation, messageID, body string, rules *Rules, members staticMembers, now time.Time) {
	m, err := notification.Parse(body)
	if err == nil {
		_ = rules.CheckMessage(&m)
	}
	if messageID == "" {
		messageID = m.SNSMessageID
		if messageID == "" {
			messageID = m.EventID
		}
	}
	reason := m.Reason
	switch m.Outcome {
	case notification.OutcomeValidation:
		reason = "CloudTrail's topic validation message: counted, not an error"
	case notification.OutcomeOK:
		if reason == "" {
			reason = fmt.Sprintf("%s announcing %d object(s) in %s", m.Source, m.KeyCount, m.Bucket)
		}
	case notification.OutcomeNotCloudTrail:
		reason += "; deleted"
	case notification.OutcomeMalformed:
		reason += "; left for the DLQ"
	}
	if m.Outcome == notification.OutcomeNotCloudTrail && m.Source == notification.SourceS3EventBridge {
		// A deletion under AWSLogs/: its finding follows the message.
		at := len(ex.Messages)
		ex.Messages = append(ex.Messages, ExplainedMessage{MessageID: messageID})
		outcome, why, ok := explainObjectChange(ex, messageID, body, rules)
		if !ok {
			outcome, why = m.Outcome.String(), reason
		}
		ex.Messages[at].Outcome, ex.Messages[at].Reason = outcome, why
		return
	}
	ex.Messages = append(ex.Messages, ExplainedMessage{MessageID: messageID, Outcome: m.Outcome.String(), Reason: reason})
	if m.Outcome != notification.OutcomeOK {
		return
	}
	if m.Truncated {
		// The verifier's finding for the whole list, before its objects.
		ex.Objects = append(ex.Objects, ExplainedObject{MessageID: messageID, Bucket: m.Bucket, Kind: "unknown",
			Verdict: Rejected.String(), Reason: string(CodeTooManyKeys) + ": " + m.Reason})
	}
	var check MemberCheck
	if members != nil {
		check = members
	}
	for _, key := range m.Keys {
		o, _ := rules.Judge(context.Background(), m.Bucket, key, now, check)
		note := ""
		if o.Verdict == Accepted && members == nil {
			note = "; membership not judged"
		}
		if rules.Bucket == "" && o.Verdict == Accepted {
			note += "; bucket, prefix and organization not judged (no --policy)"
		}
		eo := ExplainedObject{MessageID: messageID, Bucket: m.Bucket, Key: key, Kind: "unknown", Verdict: o.Verdict.String()}
		if o.Parsed {
			eo.Kind, eo.Account, eo.Region, eo.Organization = o.Key.Kind.String(), o.Key.Account, o.Key.Region, o.Key.OrgID
		}
		switch o.Verdict {
		case Rejected:
			eo.Reason = string(o.Code) + ": " + o.Reason
		case Accepted:
			eo.Reason = "genuine " + o.Reason + note
			if o.Key.Kind == logkey.KindInsight {
				eo.Reason += " (no ledger attribute)"
			}
		default:
			eo.Reason = o.Reason
		}
		ex.Objects = append(ex.Objects, eo)
	}
}
