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
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/orgevent"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/sqsbatch"
)

// Tamper is what the accounts table keeps about the last change someone
// else made to trailwarden's trail.
type Tamper = accounts.Tamper

// drift handles a CloudTrail API call on a trail in a member account.
func (p *Processor) drift(ctx context.Context, rec events.SQSMessage, d orgevent.Decision) error {
	log := p.log().With("account", d.Account, "messageId", rec.MessageId, "event", d.Event)
	ctx = withReceiveCount(ctx, sqsbatch.ReceiveCount(rec))
	info, err := p.Directory.Describe(ctx, d.Account)
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
	// Loop guard: trailwarden's own repair calls produce these events too.
	// They raise no alert, but the trail is still re-checked: the converge
	// is idempotent (no write when our own change left it right), and a
	// principal that only borrowed our role's session name cannot stop the
	// trail unnoticed.
	if orgevent.IsOwnActor(d, p.OwnRoles) {
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
		_ = p.alert(ctx, alert.Alert{Kind: alert.KindRepaired, Severity: "high", Account: d.Account, AccountName: info.Name,
			OU: last(info.OUPath), Region: d.Region, Reason: "trail " + trail.Name + " restored after " + d.Event +
				" made through trailwarden's own role and session name (not by trailwarden's repair)", Repair: "done",
			Action: "find out who assumed the member role with trailwarden's session name"})
		return nil
	}
	response := trail.TamperResponse
	if response == "" {
		response = policy.TamperRepair
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
	who := t.Actor
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
	// Alert on the event's first delivery only; later deliveries are retries
	// of the repair.
	if firstReceive(ctx) {
		_ = p.alert(ctx, alert.Alert{Kind: alert.KindTampered, Severity: "critical", Account: d.Account, AccountName: info.Name,
			OU: last(info.OUPath), Region: d.Region, Since: d.EventTime,
			Reason: fmt.Sprintf("%s called %s on trail %s from %s", who, what, trail.Name, orDash(t.SourceIP)),
			Detail: string(tj), Repair: repairNote,
			Action: "find out who made this change and why; trailwarden's own role is excluded from these alerts"})
	}
	if response != policy.TamperRepair {
		return nil
	}
	return p.repairAfterTamper(ctx, rec, d, info, trail.Name)
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
		return p.failed(ctx, d.Account, info, err)
	}
	log.InfoContext(ctx, "trail repaired after tampering", "writes", rep.Writes, "changes", len(rep.Changes))
	if rep.Writes > 0 {
		var fields []string
		for _, c := range rep.Changes {
			fields = append(fields, c.Field)
		}
		_ = p.alert(ctx, alert.Alert{Kind: alert.KindRepaired, Severity: "info", Account: d.Account, AccountName: info.Name,
			OU: last(info.OUPath), Region: d.Region, Reason: "trail " + trailName + " restored after " + d.Event,
			Detail: strings.Join(fields, ", "), Repair: "done"})
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
