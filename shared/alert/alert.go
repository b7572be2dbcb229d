// Package alert publishes trailwarden's alerts on the alerts SNS topic: one
// alert opens an incident, an update follows a material change, one
// resolution closes it. Each message carries one body per protocol: plain
// text for e-mail, a versioned JSON document for machines (message.go).
package alert

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// Kinds of alert.
const (
	KindDeliveryStopped = "delivery-stopped"
	KindNeverStarted    = "never-started"
	KindRecovered       = "recovered"
	KindEnableOverdue   = "enable-overdue"
	KindEnableFailed    = "enable-failed"
	KindSecurityFinding = "security-finding"
	KindTampered        = "trail-tampered"
	KindRepaired        = "trail-repaired"
	// KindAlarm is one of trailwarden's own CloudWatch alarms changing
	// state, relayed by the alarm relay (shared/alarmrelay).
	KindAlarm = "alarm"
)

// Transitions of an incident's alert: the one that opens it, an update
// when its picture changes materially, the one that closes it.
const (
	TransitionOpened   = "opened"
	TransitionUpdated  = "updated"
	TransitionResolved = "resolved"
)

// Alert is one message on the alerts topic. The structured fields (Code,
// Cause, Regions, Event, Repair) are what sinks and subscribers read;
// Reason and Summary are the human lines.
type Alert struct {
	Kind       string `json:"kind"`
	Severity   string `json:"severity"` // critical | high | info
	IncidentID string `json:"incidentId,omitempty"`
	Transition string `json:"transition,omitempty"` // opened | updated | resolved
	// Version counts the incident's material changes: consumers keep the
	// highest version of an incidentId.
	Version int `json:"version,omitempty"`
	// OpenedAt tells apart successive incidents of one incidentId (the
	// same account and cause, again after a resolution).
	OpenedAt    time.Time `json:"openedAt,omitzero"`
	Change      string    `json:"change,omitempty"` // an update's material change
	Account     string    `json:"account,omitempty"`
	AccountName string    `json:"accountName,omitempty"`
	OU          string    `json:"ou,omitempty"`
	Region      string    `json:"region,omitempty"`  // the one Region of an alert about one
	Regions     []string  `json:"regions,omitempty"` // the affected Regions of an incident, sorted
	TrailARN    string    `json:"trailArn,omitempty"`
	Code        string    `json:"code,omitempty"`      // the diagnosis or finding code, e.g. logging-stopped
	Cause       string    `json:"cause,omitempty"`     // the incident's cause: stopped, deleted, tampered, …
	Event       *Event    `json:"event,omitempty"`     // the CloudTrail call behind a tamper incident
	Alarm       *Alarm    `json:"alarm,omitempty"`     // the CloudWatch alarm behind a KindAlarm alert
	Bucket      string    `json:"bucket,omitempty"`    // a finding's object: bucket
	ObjectKey   string    `json:"objectKey,omitempty"` // and key
	Since       time.Time `json:"since,omitzero"`
	Reason      string    `json:"reason"`
	Detail      string    `json:"detail,omitempty"`
	Action      string    `json:"suggestedAction,omitempty"`
	Repair      string    `json:"repair,omitempty"` // what trailwarden did
	At          time.Time `json:"at"`
	Summary     string    `json:"summary"`
}

// Event names the CloudTrail call behind a tamper incident: who, from
// where, which call and when. Never the whole event, never an e-mail
// address (NoEmail).
type Event struct {
	Name      string    `json:"name"`
	ID        string    `json:"id,omitempty"` // CloudTrail eventID
	Time      time.Time `json:"time,omitzero"`
	Actor     string    `json:"actor,omitempty"` // principal ARN
	InvokedBy string    `json:"invokedBy,omitempty"`
	SourceIP  string    `json:"sourceIp,omitempty"`
}

// AllRegions returns the alert's Regions: Regions, else Region.
func (a Alert) AllRegions() []string {
	if len(a.Regions) > 0 {
		return a.Regions
	}
	if a.Region != "" {
		return []string{a.Region}
	}
	return nil
}

// Summarize fills Summary with one human sentence from the fields.
func (a *Alert) Summarize() {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", strings.ToUpper(a.Severity), a.Kind)
	if a.Transition == TransitionUpdated {
		b.WriteString(" (update)")
	}
	if a.Account != "" {
		fmt.Fprintf(&b, " in account %s", a.Account)
		if a.AccountName != "" {
			fmt.Fprintf(&b, " (%s)", a.AccountName)
		}
	}
	if a.OU != "" {
		fmt.Fprintf(&b, ", OU %s", a.OU)
	}
	if rs := a.AllRegions(); len(rs) == 1 {
		fmt.Fprintf(&b, ", Region %s", rs[0])
	} else if len(rs) > 1 {
		fmt.Fprintf(&b, ", Regions %s", strings.Join(rs, ", "))
	}
	if !a.Since.IsZero() {
		fmt.Fprintf(&b, ", since %s", a.Since.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, ": %s.", a.Reason)
	if a.Repair != "" {
		fmt.Fprintf(&b, " Repair: %s.", a.Repair)
	}
	if a.Action != "" {
		fmt.Fprintf(&b, " Suggested action: %s", a.Action)
	}
	a.Summary = b.String()
}

// PublishAPI is the SNS call the publisher makes.
type PublishAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Sink is another destination of every alert (alertbus: the central
// EventBridge bus; asff: Security Hub CSPM).
type Sink interface {
	Publish(ctx context.Context, a Alert) error
}

// Publisher sends alerts to its Sinks, then to a topic.
type Publisher struct {
	SNS      PublishAPI
	TopicARN string
	// Sinks (nil entries are skipped) receive each alert, in order, before
	// the topic: an alert is delivered only when all took it, so a failure
	// on any fails Publish and the caller's retry sends it again (a retry
	// repeats it to the sinks that took it, with a newer at; consumers
	// deduplicate on incidentId and kind).
	Sinks []Sink
	// RunbookBase is the https URL of the deployment's docs/runbooks/ (the
	// e-mail body links the alert's page).
	RunbookBase string
}

// Publish sends a with one body per protocol (MessageStructure "json",
// Message): plain text for e-mail, the versioned JSON Document for SQS,
// Lambda, HTTP(S) and the default; the subject a short ASCII line.
func (p *Publisher) Publish(ctx context.Context, a Alert) error {
	if a.At.IsZero() {
		a.At = time.Now().UTC()
	}
	a = withoutEmail(a) // sinks included
	if a.Summary == "" {
		a.Summarize()
	}
	for _, s := range p.Sinks {
		if s == nil {
			continue
		}
		if err := s.Publish(ctx, a); err != nil {
			return err
		}
	}
	msg, err := Message(a, p.RunbookBase)
	if err != nil {
		return err
	}
	_, err = p.SNS.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(p.TopicARN), Subject: aws.String(Subject(a)), Message: aws.String(msg),
		MessageStructure: aws.String("json"), MessageAttributes: Attributes(a),
	})
	if err != nil {
		return fmt.Errorf("publish %s alert: %w", a.Kind, err)
	}
	return nil
}

// AccountNone is the account attribute of an alert about no one account
// (an organization-wide incident): SNS refuses an empty attribute value.
const AccountNone = "organization"

// Attributes are the SNS message attributes of every alert: severity, kind
// and account, as String attributes that subscription filter policies
// match (Amazon SNS Developer Guide, "Amazon SNS message filtering").
func Attributes(a Alert) map[string]snstypes.MessageAttributeValue {
	attr := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	return map[string]snstypes.MessageAttributeValue{
		"severity": attr(orDefault(a.Severity, "info")),
		"kind":     attr(a.Kind),
		"account":  attr(orDefault(a.Account, AccountNone)),
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// EnableOverdue is the one enable-overdue alert, raised by the enabler (on a
// failed retry) and by the watchdog (on its pass), whichever sees the
// deadline pass first: an account first seen at firstSeen whose trail is
// still not enabled at now; lastCode and lastErr are its last converge
// error, if any.
func EnableOverdue(account, name, ou string, firstSeen, now time.Time, lastCode, lastErr string) Alert {
	reason := fmt.Sprintf("trail still not enabled %s after the account was first seen", now.Sub(firstSeen).Round(time.Minute))
	if lastCode != "" {
		reason += " (last error: " + lastCode + ")"
	}
	return Alert{Kind: KindEnableOverdue, Severity: "high", Account: account, AccountName: name, OU: ou,
		Since: firstSeen, Reason: reason, Detail: lastErr, At: now,
		Action: "check that the member role exists in the account and trusts trailwarden, then run `trailwarden enable --account " + account + " --yes`"}
}
