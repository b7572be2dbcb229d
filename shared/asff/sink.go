package asff

import (
	"cmp"
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

// EventOf is the cause a describes, from its structured fields; ok is
// false for alerts that are not findings. An incident's update and its
// resolution carry the same IncidentID and Since as its opening, so they
// update the same finding (the resolution to ARCHIVED).
func EventOf(a alert.Alert) (Event, bool) {
	first := a.Since
	if first.IsZero() {
		first = a.At
	}
	e := Event{Key: a.IncidentID, Severity: cmp.Or(a.Severity, "info"), Summary: a.Reason, Detail: a.Detail,
		Action: a.Action, Account: a.Account, Region: a.Region, TrailARN: a.TrailARN, Code: a.Code,
		FirstObserved: first, LastObserved: a.At}
	if rs := a.AllRegions(); len(rs) == 1 {
		e.Region = rs[0]
	} else if len(rs) > 1 {
		e.Region = "" // account-wide: the Regions are in the description
		e.Summary += " (Regions: " + strings.Join(rs, ", ") + ")"
	}
	if a.Transition == alert.TransitionResolved || a.Kind == alert.KindRecovered {
		e.Resolved = a.At
	}
	switch a.Kind {
	case alert.KindDeliveryStopped, alert.KindNeverStarted, alert.KindRecovered, alert.KindTampered:
		kind, ok := incidentKind(a)
		if !ok {
			return Event{}, false
		}
		e.Source, e.Kind = SourceWatchdog, kind
		if kind == KindTampered {
			e.Source, e.Code, e.Detail = SourceEnabler, "trail change", "" // the call, never the whole event
			if a.Event != nil && a.Event.Name != "" {
				e.Code = a.Event.Name
			}
		}
	case alert.KindSecurityFinding:
		e.Source, e.Kind, e.Bucket, e.Object = SourceVerifier, KindFinding, a.Bucket, a.ObjectKey
	default:
		return Event{}, false
	}
	return e, true
}

// incidentKind is the runbook kind of an incident's alert: a tamper
// incident, an account that never delivered, the organization-wide
// silence, or a stale trail (its code picks the runbook section).
func incidentKind(a alert.Alert) (string, bool) {
	if a.Cause == incident.CauseTampered || a.Kind == alert.KindTampered {
		return KindTampered, a.IncidentID != ""
	}
	kind, _, _, ok := incident.ParseID(a.IncidentID)
	switch {
	case !ok:
		return "", false
	case kind == incident.KindMass:
		return KindMass, true
	case a.Cause == incident.CauseNeverStarted || kind == incident.KindNeverStarted:
		return KindNeverStarted, true
	}
	return KindStale, true
}
