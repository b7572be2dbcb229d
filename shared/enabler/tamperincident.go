package enabler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/orgevent"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/workitem"
)

// alertLease bounds how long a crashed publisher blocks a retry.
const alertLease = 2 * time.Minute

// usesIncidents reports whether a queue record's tamper call goes to the
// account's trail incident (incident.CauseID … tampered).
func (p *Processor) usesIncidents(ctx context.Context) bool {
	return p.Incidents != nil && eventKey(ctx) != "" && !p.DryRun
}

// openTamper records the call on the account's trail incident (opening it,
// or telling an open one who stopped the trail) and publishes what the
// incident owes. An error fails the record, which is retried: the call is
// recorded once, and the alert goes out until published.
func (p *Processor) openTamper(ctx context.Context, d orgevent.Decision, info orgdir.Account, trailName string, t Tamper, response policy.TamperResponse) error {
	now := p.now()
	actor := alert.NoEmail(t.Actor)
	who := actor
	if who == "" {
		who = "an unknown principal"
	}
	what := d.Event
	if t.Changed != "" {
		what += " (" + t.Changed + ")"
	}
	since := d.EventTime.UTC()
	if since.IsZero() {
		since = now
	}
	c := incident.Incident{ID: incident.CauseID(d.Account, incident.CauseTampered), Account: d.Account, AccountName: info.Name,
		OU: last(info.OUPath), TrailARN: p.trailARN(d, trailName), Since: since, Reason: d.Event, Severity: "critical",
		Summary: fmt.Sprintf("%s called %s on trail %s from %s", who, what, trailName, orDash(t.SourceIP)),
		Action: "ask the principal's owner whether the change was authorised; if not, revoke its credentials and review its " +
			"other calls around the event time (CloudTrail event history, the event id); trailwarden's own role is never reported here",
		EventName: d.Event, EventID: d.CloudTrailEventID, EventTime: d.EventTime.UTC(), Actor: actor, InvokedBy: t.InvokedBy,
		SourceIP: t.SourceIP, EventNames: []string{d.Event}}
	if t.Changed != "" {
		c.Detail = "settings changed: " + t.Changed
	}
	if response == policy.TamperRepair {
		c.RepairAttemptAt = now
	}
	if _, err := p.Incidents.AttachTamper(ctx, c, now); err != nil {
		return err
	}
	return p.sendIncident(ctx, c.ID)
}

// trailARN is the trail's ARN: the event's, else built in the policy's
// home Region.
func (p *Processor) trailARN(d orgevent.Decision, name string) string {
	if d.TrailARN != "" {
		return d.TrailARN
	}
	home := p.Policy.Organization.HomeRegion
	return fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", awsenv.Partition(home), home, d.Account, name)
}

// sendIncident publishes the trail incident's owed version, if any.
func (p *Processor) sendIncident(ctx context.Context, id string) error {
	sent, err := p.Incidents.SendCause(ctx, p.Alerts, id, incident.AlertOf, p.now(), alertLease)
	if err != nil {
		p.log().ErrorContext(ctx, "incident alert not published; the record is retried", "incident", id, "error", err.Error())
		return err
	}
	if sent {
		p.count("AlertsPublished", 1, "Kind", alert.KindTampered)
	}
	return nil
}

// tamperRepaired records the confirmed repair on the incident.
func (p *Processor) tamperRepaired(ctx context.Context, account string, fields []string) error {
	detail := "the trail already matched the policy"
	if len(fields) > 0 {
		detail = "restored " + strings.Join(fields, ", ")
	}
	_, err := p.Incidents.MarkRepair(ctx, incident.CauseID(account, incident.CauseTampered), true, detail, p.now())
	return err
}

// tamperRepairFailed records the failed repair (one update per failure,
// not per retry) and the failed converge; cause is returned, so the record
// is retried or goes to the DLQ as for any converge.
func (p *Processor) tamperRepairFailed(ctx context.Context, account string, cause error) error {
	id := incident.CauseID(account, incident.CauseTampered)
	if _, err := p.Incidents.MarkRepair(ctx, id, false, fault.Code(cause)+": "+cause.Error(), p.now()); err != nil {
		return errors.Join(cause, err)
	}
	if _, err := p.recordFailure(ctx, account, cause); err != nil {
		return errors.Join(cause, err)
	}
	return errors.Join(cause, p.sendIncident(ctx, id))
}

// repairRequested converges an account on the watchdog's repair request
// (its trail stopped, was deleted or changed) and records the outcome on
// the account's trail incident: a repair that worked (the incident's
// resolution says so) or one that failed (one update, which the watchdog
// publishes). Without an open incident the record is a plain converge.
func (p *Processor) repairRequested(ctx context.Context, rec events.SQSMessage, account string) error {
	out, err := p.ConvergeAccount(ctx, account, "", workitem.ReasonRepair)
	if err != nil && (fault.KindOf(err) == fault.Retryable || fault.KindOf(err) == fault.Unknown) {
		p.backoff(ctx, rec, account)
	}
	if p.Incidents == nil || p.DryRun || (err == nil && (out == nil || out.Status != accounts.StatusEnabled)) {
		return err
	}
	detail := "re-converged on the watchdog's request"
	if err != nil {
		detail = fault.Code(err) + ": " + err.Error()
	}
	if _, merr := p.Incidents.MarkRepair(ctx, incident.CauseID(account, incident.CauseStopped), err == nil, detail, p.now()); merr != nil {
		p.log().WarnContext(ctx, "repair outcome not recorded on the incident", "account", account, "error", merr.Error())
	}
	return err
}
