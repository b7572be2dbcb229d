// Package alert publishes trailwarden's alerts on the alerts SNS topic: one
// message per incident (and one when it recovers), as JSON with a human
// summary, so that e-mail subscribers read the summary and machines read
// the fields.
package alert

import (
	"context"
	"encoding/json"
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
)

// Alert is one message on the alerts topic.
type Alert struct {
	Kind        string    `json:"kind"`
	Severity    string    `json:"severity"` // critical | high | info
	IncidentID  string    `json:"incidentId,omitempty"`
	Account     string    `json:"account,omitempty"`
	AccountName string    `json:"accountName,omitempty"`
	OU          string    `json:"ou,omitempty"`
	Region      string    `json:"region,omitempty"`
	Since       time.Time `json:"since,omitzero"`
	Reason      string    `json:"reason"`
	Detail      string    `json:"detail,omitempty"`
	Action      string    `json:"suggestedAction,omitempty"`
	Repair      string    `json:"repair,omitempty"` // e.g. "requested", "done"
	At          time.Time `json:"at"`
	Summary     string    `json:"summary"`
}

// Summarize fills Summary with one human sentence from the fields.
func (a *Alert) Summarize() {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", strings.ToUpper(a.Severity), a.Kind)
	if a.Account != "" {
		fmt.Fprintf(&b, " in account %s", a.Account)
		if a.AccountName != "" {
			fmt.Fprintf(&b, " (%s)", a.AccountName)
		}
	}
	if a.OU != "" {
		fmt.Fprintf(&b, ", OU %s", a.OU)
	}
	if a.Region != "" {
		fmt.Fprintf(&b, ", Region %s", a.Region)
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
}

// Publish sends a; the message body is the alert as JSON (with Summary),
// the subject a short line (SNS subjects are at most 100 ASCII characters).
func (p *Publisher) Publish(ctx context.Context, a Alert) error {
	if a.At.IsZero() {
		a.At = time.Now().UTC()
	}
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
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	subject := fmt.Sprintf("trailwarden %s %s %s", a.Kind, a.Account, a.Region)
	subject = strings.TrimSpace(subject)
	if len(subject) > 100 {
		subject = subject[:100]
	}
	_, err = p.SNS.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(p.TopicARN), Subject: aws.String(subject), Message: aws.String(string(body)),
		MessageAttributes: Attributes(a),
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
