package alarmrelay

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/jsondup"
)

// Alarm states (CloudWatch API Reference, MetricAlarm StateValue).
const (
	StateAlarm            = "ALARM"
	StateOK               = "OK"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// Notification is the part of a CloudWatch alarm's SNS notification the
// relay reads. The Message of the SNS notification is a JSON object with
// AlarmName, AlarmDescription, AWSAccountId, NewStateValue, NewStateReason,
// StateChangeTime, Region (a display name, "US East (N. Virginia)"),
// AlarmArn, OldStateValue and Trigger (Amazon CloudWatch User Guide,
// "Notifying users on alarm changes"; aws-lambda-go's
// events.CloudWatchAlarmSNSPayload and its testdata).
type Notification struct {
	AlarmName        string `json:"AlarmName"`
	AlarmDescription string `json:"AlarmDescription"`
	AWSAccountID     string `json:"AWSAccountId"`
	NewStateValue    string `json:"NewStateValue"`
	NewStateReason   string `json:"NewStateReason"`
	StateChangeTime  string `json:"StateChangeTime"`
	AlarmARN         string `json:"AlarmArn"`
	OldStateValue    string `json:"OldStateValue"`

	// Set by Parse from AlarmArn and StateChangeTime.
	Region  string    `json:"-"`
	Changed time.Time `json:"-"`
}

// envelope is the SNS notification as SQS receives it with raw message
// delivery off (Amazon SNS Developer Guide, "Amazon SNS message and JSON
// formats").
type envelope struct {
	Type     *string `json:"Type"`
	TopicArn string  `json:"TopicArn"`
	Message  *string `json:"Message"`
}

// ErrMalformed marks a body the relay refuses: it can never be relayed, so
// its record goes to the dead-letter queue.
var ErrMalformed = errors.New("malformed alarm notification")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// stateChangeLayout is StateChangeTime's layout:
// "2026-12-07T21:40:12.345+0000".
const stateChangeLayout = "2006-01-02T15:04:05.999999999-0700"

// Source is where notifications may come from.
type Source struct {
	TopicARN   string // the alarms topic
	Account    string // the alarms' account (the topic's)
	Region     string // the alarms' Region (the topic's)
	NamePrefix string // "<stack>-"
}

// Parse reads one SQS body: the SNS envelope from src's topic and the
// alarm notification in it, both without duplicate members, from an alarm
// of src's account, Region and stack that Rules knows.
func Parse(body string, src Source) (Notification, Rule, error) {
	var env envelope
	if err := decode([]byte(body), &env); err != nil {
		return Notification{}, Rule{}, malformed("SNS envelope: %v", err)
	}
	switch {
	case env.Type == nil || *env.Type != "Notification":
		return Notification{}, Rule{}, malformed("not an SNS Notification")
	case env.TopicArn != src.TopicARN:
		return Notification{}, Rule{}, malformed("topic %q is not the alarms topic", env.TopicArn)
	case env.Message == nil:
		return Notification{}, Rule{}, malformed("no Message")
	}
	var n Notification
	if err := decode([]byte(*env.Message), &n); err != nil {
		return Notification{}, Rule{}, malformed("alarm message: %v", err)
	}
	rule, err := n.check(src)
	return n, rule, err
}

func decode(b []byte, v any) error {
	if err := jsondup.Check(b); err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// check validates n against src and fills Region and Changed.
func (n *Notification) check(src Source) (Rule, error) {
	if !validState(n.NewStateValue) || !validState(n.OldStateValue) {
		return Rule{}, malformed("states %q -> %q", n.OldStateValue, n.NewStateValue)
	}
	t, err := time.Parse(stateChangeLayout, n.StateChangeTime)
	if err != nil {
		return Rule{}, malformed("StateChangeTime %q", n.StateChangeTime)
	}
	n.Changed = t.UTC()
	// arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>
	p := strings.SplitN(n.AlarmARN, ":", 7)
	if len(p) != 7 || p[0] != "arn" || p[2] != "cloudwatch" || p[5] != "alarm" || p[6] != n.AlarmName {
		return Rule{}, malformed("AlarmArn %q does not name alarm %q", n.AlarmARN, n.AlarmName)
	}
	if p[1] != awsid.Partition(src.Region) || p[3] != src.Region || p[4] != src.Account || n.AWSAccountID != src.Account {
		return Rule{}, malformed("alarm %q of account %q is not one of trailwarden's in %s/%s", n.AlarmARN, n.AWSAccountID, src.Account, src.Region)
	}
	n.Region = p[3]
	id, ok := strings.CutPrefix(n.AlarmName, src.NamePrefix)
	if !ok {
		return Rule{}, malformed("alarm %q is not named %s*", n.AlarmName, src.NamePrefix)
	}
	rule, ok := RuleFor(id)
	if !ok {
		return Rule{}, malformed("alarm %q has no rule", n.AlarmName)
	}
	return rule, nil
}

func validState(s string) bool {
	return s == StateAlarm || s == StateOK || s == StateInsufficientData
}
