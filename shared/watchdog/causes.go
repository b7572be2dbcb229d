package watchdog

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/incident"
)

// Alerting by cause. Each silent account × Region (a stale# or never#
// item) attaches its Region to the cause incident of its diagnosis
// (incident.CauseID: account + cause; a stopped, deleted or changed trail
// shares the enabler's tamper incident), and each cause incident alerts:
// one opening with its Regions, an update when its picture changes
// materially, one resolution when every Region delivers again and nothing
// changed for the quiet time. docs/alerts.md, "Incidents".

// CauseStore keeps cause incidents (incident.Store).
type CauseStore interface {
	AttachRegion(ctx context.Context, c incident.Incident, region string, now time.Time) (bool, error)
	DetachRegion(ctx context.Context, id, region string, now time.Time) error
	ResolveCause(ctx context.Context, id string, now, quietSince time.Time) (incident.Incident, bool, error)
	SendCause(ctx context.Context, pub incident.Publisher, id string, build func(incident.Incident) alert.Alert, now time.Time, lease time.Duration) (bool, error)
}

// Quiet times before a cause incident resolves.
const (
	// DefaultResolveQuiet: every Region delivered again and nothing
	// changed for this long. It exceeds a busy Region's detection time (≤ 20
	// minutes) plus a pass, so a Region that delivers once and stops again
	// (flapping) is seen stale again while the incident is still open: it
	// stays one incident, with no resolution and no second alert.
	DefaultResolveQuiet = 30 * time.Minute
	// DefaultTamperQuiet: a tamper incident whose repair trailwarden has
	// not confirmed (alert-only policy, repair failed or still running)
	// resolves only after a quiet Region's detection time (75 minutes) and
	// a pass, so a trail the call left stopped has shown its silence first.
	DefaultTamperQuiet = 80 * time.Minute
)

// causeOf is the cause of a diagnosis.
func causeOf(kind, reason string) string {
	switch reason {
	case ReasonLoggingStopped:
		return incident.CauseStopped
	case ReasonTrailDeleted:
		return incident.CauseDeleted
	case ReasonTrailChanged:
		return incident.CauseChanged
	case ReasonBucketDelivery, ReasonKMSKeyUnusable, ReasonSNSPublishFailing:
		return incident.CauseDeliveryError
	case ReasonRoleNotAssumable:
		return incident.CauseRoleNotAssumable
	}
	switch {
	case kind == incident.KindNeverStarted:
		return incident.CauseNeverStarted
	case reason == ReasonDeliveriesMissing:
		return incident.CauseDeliveriesMissing
	}
	return incident.CauseUndiagnosed
}

// groupOf is the cause incident of a per-Region item (items written
// before cause incidents carry no Group: derived from their diagnosis).
func groupOf(inc incident.Incident) string {
	if inc.Group != "" {
		return inc.Group
	}
	return incident.CauseID(inc.Account, causeOf(inc.Kind, inc.Reason))
}

// attachPair attaches an open per-Region item to its cause incident, once
// (the item's alert lease and AlertedAt: a failed attach is retried next
// pass), with the repair request when a converge fixes the cause.
func (p *pass) attachPair(ctx context.Context, inc incident.Incident, acct *accounts.Account, d Diagnosis, requested map[string]bool) (repaired, attached bool) {
	w, now := p.w, p.now
	group := groupOf(inc)
	attach := publishFunc(func(ctx context.Context, _ alert.Alert) error {
		_, repaired = w.repairStep(ctx, &p.rep, inc, d, now, requested)
		c := incident.Incident{ID: group, Account: inc.Account, Cause: causeOf(inc.Kind, d.Reason), Since: inc.Since,
			Reason: d.Reason, Summary: d.Summary, Detail: d.Detail, Action: d.Action, Severity: cmp.Or(d.Severity, "high")}
		if acct != nil {
			c.AccountName, c.OU, c.TrailARN = acct.Name, lastOU(acct.OUPath), acct.TrailARN
		}
		if repaired {
			c.RepairRequestedAt = now
		}
		if _, err := w.Incidents.AttachRegion(ctx, c, inc.Region, now); err != nil {
			return err
		}
		if repaired {
			if err := w.Incidents.MarkRepairRequested(ctx, group, now); err != nil {
				w.failContext(ctx, &p.rep, err)
			}
		}
		p.touched[group], p.open[group] = true, true
		return nil
	})
	sent, err := w.Incidents.SendAlert(ctx, attach, alert.Alert{IncidentID: inc.ID}, now, orDefault(w.AlertLease, 2*time.Minute))
	if err != nil {
		w.failContext(ctx, &p.rep, err)
	}
	return repaired, sent
}

// detachPair records that a resolved per-Region item delivers again, once.
func (p *pass) detachPair(ctx context.Context, inc incident.Incident) {
	w, now := p.w, p.now
	group := groupOf(inc)
	detach := publishFunc(func(ctx context.Context, _ alert.Alert) error {
		if err := w.Incidents.DetachRegion(ctx, group, inc.Region, now); err != nil {
			return err
		}
		p.detached[group] = append(p.detached[group], inc.Region)
		return nil
	})
	if _, err := w.Incidents.SendRecovery(ctx, detach, alert.Alert{IncidentID: inc.ID}, now, orDefault(w.AlertLease, 2*time.Minute)); err != nil {
		w.failContext(ctx, &p.rep, err)
	}
}

// reviewCauses resolves the cause incidents whose Regions all deliver
// again after the quiet time, announces owed resolutions, and publishes
// every owed version (an opening, an update) of the incidents.
func (p *pass) reviewCauses(ctx context.Context) {
	for _, inc := range p.live {
		if inc.Kind != incident.KindCause {
			continue
		}
		switch {
		case inc.RecoveryPending():
			p.announceResolution(ctx, inc)
		case inc.Open():
			p.touched[inc.ID] = p.touched[inc.ID] || inc.AlertedVersion < inc.Version
			p.tryResolve(ctx, inc)
		}
	}
	ids := make([]string, 0, len(p.touched))
	for id := range p.touched {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		sent, err := p.w.Incidents.SendCause(ctx, p.w.Alerts, id, incident.AlertOf, p.now, orDefault(p.w.AlertLease, 2*time.Minute))
		if err != nil && fault.Code(err) != incident.CodeAlertInFlight {
			p.w.failContext(ctx, &p.rep, err)
		}
		if sent {
			p.rep.AlertsSent++
		}
	}
}

// tryResolve resolves an open cause incident whose Regions all deliver
// again (as of this pass) and that stayed quiet long enough; the
// conditional write decides.
func (p *pass) tryResolve(ctx context.Context, inc incident.Incident) {
	open := slices.DeleteFunc(slices.Clone(inc.OpenRegions), func(r string) bool { return slices.Contains(p.detached[inc.ID], r) })
	if len(open) > 0 {
		return
	}
	quiet := orDefault(p.w.ResolveQuiet, DefaultResolveQuiet)
	if inc.Cause == incident.CauseTampered && inc.RepairConfirmedAt.IsZero() {
		quiet = max(quiet, orDefault(p.w.TamperQuiet, DefaultTamperQuiet))
	}
	res, ok, err := p.w.Incidents.ResolveCause(ctx, inc.ID, p.now, p.now.Add(-quiet))
	if err != nil {
		p.w.failContext(ctx, &p.rep, err)
		return
	}
	if !ok {
		return
	}
	delete(p.open, inc.ID)
	p.rep.Resolved = append(p.rep.Resolved, inc.ID)
	p.w.log().InfoContext(ctx, "incident resolved", "incident", inc.ID, "account", inc.Account, "regions", inc.Regions)
	p.announceResolution(ctx, res)
}

// announceResolution publishes a resolved cause incident's one resolution.
func (p *pass) announceResolution(ctx context.Context, inc incident.Incident) {
	a := incident.ResolutionOf(inc, p.now)
	sent, err := p.w.Incidents.SendRecovery(ctx, p.w.Alerts, a, p.now, orDefault(p.w.AlertLease, 2*time.Minute))
	if err != nil {
		p.w.failContext(ctx, &p.rep, err)
	}
	if sent {
		p.rep.Recoveries++
		p.rep.AlertsSent++
	}
}
