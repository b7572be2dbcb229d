package enabler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/orgevent"
	"github.com/trailwarden/trailwarden/shared/policy"
)

// Tamper is what the accounts table keeps about the last change someone
// else made to trailwarden's trail.
type Tamper = accounts.Tamper

// drift handles a CloudTrail API call on a trail in a member account. Its
// alerts go out once per event (the outbox); a failure to publish fails the
// record, which is retried.
func (p *Processor) drift(ctx context.Context, rec events.SQSMessage, d orgevent.Decision) error {
	log := p.log().With("account", d.Account, "messageId", rec.MessageId, "event", d.Event)
	// A repaired alert an earlier delivery could not publish: the repair
	// already wrote, so this delivery would not produce it again.
	if err := p.resendOwed(ctx, alert.KindRepaired, d.Account); err != nil {
		return err
	}
	info, err := p.Directory.Describe(ctx, d.Account)
	if fault.Code(err) == CodeAccountNotFound {
		// Tamper events come from members' buses: a non-member's is not ours.
		log.WarnContext(ctx, "event ignored: unverified origin", "reason",
			orgevent.ReasonUnverified+"account "+d.Account+" is not a member of the organization ("+d.Event+")")
		p.count("UnverifiedEvents", 1)
		return nil
	}
	if err != nil {
		return err
	}
	if p.Policy.Excluded(d.Account, info.OUPath) {
		return nil
	}
	trail, err := p.Policy.Effective(d.Account, info.OUPath)
	if err != nil {
		return err
	}
	if !orgevent.MatchesTrail(d, trail.Name) {
		log.InfoContext(ctx, "change to another trail ignored", "trail", d.TrailName)
		p.count("ForeignTrailChangesIgnored", 1)
		return nil
	}
	response := trail.TamperResponse
	if response == "" {
		response = policy.TamperRepair
	}
	if orgevent.IsOwnActor(d, p.OwnRoles) {
		return p.ownChange(ctx, rec, d, info, trail.Name, response)
	}
	if response == policy.TamperIgnore {
		log.InfoContext(ctx, "tampering ignored by policy")
		return nil
	}
	t := Tamper{Event: d.Event, At: d.EventTime.UTC().Format("2006-01-02T15:04:05Z"), SourceIP: d.SourceIP,
		UserAgent: d.UserAgent, Region: d.Region, Changed: strings.Join(d.ChangedSettings, ","), Response: string(response)}
	if d.Actor != nil {
		t.Actor, t.InvokedBy = d.Actor.ARN, d.Actor.InvokedBy
	}
	tj, _ := json.Marshal(t)
	if err := p.Accounts.RecordTamper(ctx, d.Account, string(tj)); err != nil {
		return err
	}
	p.count("TamperEvents", 1, "Response", string(response))
	who := alert.NoEmail(t.Actor)
	if who == "" {
		who = "an unknown principal"
	}
	what := d.Event
	if t.Changed != "" {
		what += " (" + t.Changed + ")"
	}
	repairNote := "not attempted (policy: alert-only)"
	if response == policy.TamperRepair {
		repairNote = "in progress"
	}
	if p.usesIncidents(ctx) {
		if err := p.openTamper(ctx, d, info, trail.Name, t, response); err != nil {
			return err
		}
	} else if err := p.alert(ctx, alert.Alert{Kind: alert.KindTampered, Severity: "critical", Account: d.Account, AccountName: info.Name,
		OU: last(info.OUPath), Region: d.Region, Since: d.EventTime,
		Reason: fmt.Sprintf("%s called %s on trail %s from %s", who, what, trail.Name, orDash(t.SourceIP)),
		Code:   d.Event, Cause: incident.CauseTampered, Repair: repairNote,
		Event:  &alert.Event{Name: d.Event, ID: d.CloudTrailEventID, Time: d.EventTime.UTC(), Actor: who, InvokedBy: t.InvokedBy, SourceIP: t.SourceIP},
		Action: "find out who made this change and why; trailwarden's own role is excluded from these alerts"}); err != nil {
		return err
	}
	if response != policy.TamperRepair {
		return nil
	}
	return p.repairAfterTamper(ctx, rec, d, info, trail.Name)
}

// ownChange is the loop guard: a change made through trailwarden's own role
// and one of its functions' exact session names raises no tamper alert. The
// policy's tamper response still decides: alert-only and ignore leave the
// trail alone; repair re-checks it, so that a principal that only borrowed
// the session name cannot stop the trail unnoticed (the converge writes
// nothing when our own change left it right).
func (p *Processor) ownChange(ctx context.Context, rec events.SQSMessage, d orgevent.Decision, info orgdir.Account, trailName string, response policy.TamperResponse) error {
	log := p.log().With("account", d.Account, "messageId", rec.MessageId, "event", d.Event)
	if response != policy.TamperRepair {
		log.InfoContext(ctx, "own change; tamper response leaves the trail alone", "tamperResponse", string(response))
		p.count("OwnChangesIgnored", 1)
		return nil
	}
	rep, _, err := p.converge(ctx, d.Account, info.OUPath)
	if err != nil {
		return p.failed(ctx, d.Account, info, err)
	}
	if rep.Writes == 0 {
		log.InfoContext(ctx, "own change, trail as the policy says")
		p.count("OwnChangesIgnored", 1)
		return nil
	}
	log.WarnContext(ctx, "a change made through trailwarden's role left the trail wrong; repaired", "writes", rep.Writes)
	return p.alert(ctx, alert.Alert{Kind: alert.KindRepaired, Severity: "high", Account: d.Account, AccountName: info.Name,
		OU: last(info.OUPath), Region: d.Region, Reason: "trail " + trailName + " restored after " + d.Event +
			" made through trailwarden's own role and session name (not by trailwarden's repair)", Repair: "done",
		Action: "find out who assumed the member role with trailwarden's session name"})
}

// repairAfterTamper converges the account after someone changed its trail,
// and says so when anything had to change.
func (p *Processor) repairAfterTamper(ctx context.Context, rec events.SQSMessage, d orgevent.Decision, info orgdir.Account, trailName string) error {
	log := p.log().With("account", d.Account, "messageId", rec.MessageId, "event", d.Event)
	rep, _, err := p.converge(ctx, d.Account, info.OUPath)
	if err != nil {
		if k := fault.KindOf(err); k == fault.Retryable || k == fault.Unknown {
			p.backoff(ctx, rec, d.Account)
		}
		if p.usesIncidents(ctx) {
			return p.tamperRepairFailed(ctx, d.Account, err)
		}
		return p.failed(ctx, d.Account, info, err)
	}
	log.InfoContext(ctx, "trail repaired after tampering", "writes", rep.Writes, "changes", len(rep.Changes))
	var fields []string
	for _, c := range rep.Changes {
		fields = append(fields, c.Field)
	}
	if p.usesIncidents(ctx) {
		// No message: the incident's resolution says the trail was repaired.
		return p.tamperRepaired(ctx, d.Account, fields)
	}
	if rep.Writes == 0 {
		return nil
	}
	return p.alert(ctx, alert.Alert{Kind: alert.KindRepaired, Severity: "info", Account: d.Account, AccountName: info.Name,
		OU: last(info.OUPath), Region: d.Region, Reason: "trail " + trailName + " restored after " + d.Event,
		Detail: strings.Join(fields, ", "), Repair: "done"})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
