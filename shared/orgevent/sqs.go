package orgevent

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MaxSQSEventSize bounds a whole Lambda SQS event (Lambda's 6 MB
// synchronous invocation payload limit).
const MaxSQSEventSize = 6 << 20

// PayloadKind says what a payload looks like.
type PayloadKind int

const (
	KindUnknown     PayloadKind = iota
	KindEventBridge             // a bare EventBridge event
	KindSQS                     // a Lambda SQS event (Records[].body)
)

func (k PayloadKind) String() string {
	switch k {
	case KindEventBridge:
		return "eventbridge"
	case KindSQS:
		return "sqs"
	default:
		return "unknown"
	}
}

// DetectKind tells a Lambda SQS event ({"Records": [...]}) from a bare
// EventBridge event (source, detail-type or detail present).
func DetectKind(payload []byte) PayloadKind {
	if len(payload) > MaxSQSEventSize {
		return KindUnknown
	}
	var probe struct {
		Records    json.RawMessage `json:"Records"`
		DetailType json.RawMessage `json:"detail-type"`
		Source     json.RawMessage `json:"source"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return KindUnknown
	}
	if r := bytes.TrimSpace(probe.Records); len(r) > 0 && r[0] == '[' {
		return KindSQS
	}
	if probe.DetailType != nil || probe.Source != nil || probe.Detail != nil {
		return KindEventBridge
	}
	return KindUnknown
}

// RecordDecision is the decision for one SQS record. Err is the error
// Decide returned (a reject), if any.
type RecordDecision struct {
	MessageID string   `json:"messageId"`
	Decision  Decision `json:"decision"`
	Err       error    `json:"-"`
}

// DecideSQSEvent decides every record of a Lambda SQS event whose bodies are
// EventBridge events. A record that cannot be read gets a reject decision of
// its own; the error is non-nil only when the payload as a whole is not an
// SQS event.
func DecideSQSEvent(payload []byte) ([]RecordDecision, error) {
	if len(payload) > MaxSQSEventSize {
		return nil, rejectErr(fmt.Sprintf("SQS event is %d bytes; the limit is %d", len(payload), MaxSQSEventSize))
	}
	var ev sqsEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, rejectErr(cleanN("malformed SQS event JSON: "+err.Error(), maxReason))
	}
	if ev.Records == nil {
		return nil, rejectErr("not an SQS event: no Records")
	}
	out := make([]RecordDecision, 0, len(ev.Records))
	for i, raw := range ev.Records {
		var r sqsRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			d := Decision{Action: ActionReject, Reason: fmt.Sprintf("SQS record %d is malformed: %v", i, err)}
			d.sanitize()
			out = append(out, RecordDecision{Decision: d, Err: rejectErr(d.Reason)})
			continue
		}
		rd := RecordDecision{MessageID: clean(r.MessageID)}
		if d, err := CheckEventSource(r.EventSource); err != nil {
			rd.Decision, rd.Err = d, err
		} else {
			rd.Decision, rd.Err = Decide([]byte(r.Body))
		}
		out = append(out, rd)
	}
	return out, nil
}

// Explain decides a payload that is either a Lambda SQS event or a bare
// EventBridge event (for the explain command). A bare event gives one
// RecordDecision with an empty MessageID.
func Explain(payload []byte) ([]RecordDecision, error) {
	if DetectKind(payload) == KindSQS {
		return DecideSQSEvent(payload)
	}
	d, err := Decide(payload)
	return []RecordDecision{{Decision: d, Err: err}}, nil
}

// EventSourceSQS is the eventSource of a Lambda SQS record.
const EventSourceSQS = "aws:sqs"

// CheckEventSource refuses a record from an event source other than SQS
// (an absent eventSource is a bare body, accepted): the reject decision and
// its poison error, or a nil error.
func CheckEventSource(source string) (Decision, error) {
	if source == "" || source == EventSourceSQS {
		return Decision{}, nil
	}
	return Rejected(fmt.Sprintf("the record comes from eventSource %q, not %s", source, EventSourceSQS))
}
