package asff

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/incident"
)

// AlertSink imports every alert that is a finding or an incident
// transition into Security Hub CSPM (alert.Publisher's sink): an incident's
// alert opens (or updates) its finding, the recovery archives it, a
// verifier finding and a tamper alert are findings of their own. Other
// alerts (enable-overdue, enable-failed, trail-repaired) are not findings.
type AlertSink struct {
	Config    Config
	Publisher *Publisher
}

// NewAlertSink is the Security Hub sink importing under productARN (the
// automation account's default product ARN); nil when productARN is "".
func NewAlertSink(api ImportAPI, productARN, runbookBase string) (alert.Sink, error) {
	if productARN == "" {
		return nil, nil
	}
	cfg, err := ConfigOf(productARN, runbookBase)
	if err != nil {
		return nil, err
	}
	return &AlertSink{Config: cfg, Publisher: &Publisher{API: api, Account: cfg.Account}}, nil
}

// ConfigOf is the importing Config of a default product ARN,
// arn:<partition>:securityhub:<region>:<account>:product/<account>/default.
func ConfigOf(productARN, runbookBase string) (Config, error) {
	c, err := ImporterOf(productARN)
	if err != nil {
		return Config{}, err
	}
	c.RunbookBase = strings.TrimRight(runbookBase, "/")
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("product ARN %q: %w", productARN, err)
	}
	return c, nil
}

// ErrNotImported is returned when Security Hub refused the finding.
var ErrNotImported = errors.New("finding not imported by Security Hub")

// Publish imports a's finding, if a is one; an error means it is not
// imported (the caller retries).
func (s *AlertSink) Publish(ctx context.Context, a alert.Alert) error {
	e, ok := EventOf(a)
	if !ok {
		return nil
	}
	f, err := s.Config.Map(e, a.At)
	if err != nil {
		return fmt.Errorf("%s alert %s as ASFF: %w", a.Kind, a.IncidentID, err)
	}
	res, err := s.Publisher.Publish(ctx, []Finding{f})
	if err != nil {
		return err
	}
	if len(res.Failed) > 0 {
		return fmt.Errorf("%w: %s %s: %s", ErrNotImported, res.Failed[0].ID, res.Failed[0].Code, res.Failed[0].Message)
	}
	return nil
}

// EventOf is the cause a describes; ok is false for alerts that are not
// findings. A recovery resolves the incident its IncidentID names, with
// the same Key and FirstObserved (the incident's Since), so it updates the
// open finding to ARCHIVED.
func EventOf(a alert.Alert) (Event, bool) {
	first := a.Since
	if first.IsZero() {
		first = a.At
	}
	e := Event{Key: a.IncidentID, Severity: orString(a.Severity, "info"), Summary: a.Reason, Detail: a.Detail,
		Action: a.Action, Account: a.Account, Region: a.Region, FirstObserved: first, LastObserved: a.At}
	switch a.Kind {
	case alert.KindDeliveryStopped, alert.KindNeverStarted, alert.KindRecovered:
		kind, _, _, ok := incident.ParseID(a.IncidentID)
		if !ok {
			return Event{}, false
		}
		e.Source, e.Kind = SourceWatchdog, kind
		if a.Kind == alert.KindRecovered {
			e.Resolved = a.At
		}
	case alert.KindSecurityFinding:
		e.Source, e.Kind = SourceVerifier, KindFinding
		e.Code, _, _ = strings.Cut(a.Reason, ":") // the verifier's "<code>: <reason>"
		if b, k, ok := strings.Cut(strings.TrimPrefix(a.Detail, "s3://"), "/"); ok {
			e.Bucket, e.Object = b, k
		}
	case alert.KindTampered:
		e.Source, e.Kind = SourceEnabler, KindTampered
		e.Code = "trail change"
		if _, after, ok := strings.Cut(a.Reason, " called "); ok { // "<who> called <event> on trail ..."
			if f := strings.Fields(after); len(f) > 0 {
				e.Code = f[0]
			}
		}
		e.Detail = "" // the whole event stays in the alert, not in the finding
	default:
		return Event{}, false
	}
	return e, true
}
