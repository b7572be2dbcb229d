package incident

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/shared/alert"
)

// AlertOf is the opening or update alert of a cause incident as the
// item holds it.
func AlertOf(inc Incident) alert.Alert {
	kind := alert.KindDeliveryStopped
	switch inc.Cause {
	case CauseTampered:
		kind = alert.KindTampered
	case CauseNeverStarted:
		kind = alert.KindNeverStarted
	}
	a := alert.Alert{Kind: kind, Severity: cmp.Or(inc.Severity, "high"), OpenedAt: inc.OpenedAt, Account: inc.Account, AccountName: inc.AccountName,
		OU: inc.OU, Regions: inc.Regions, TrailARN: inc.TrailARN, Code: inc.Reason, Cause: inc.Cause, Since: inc.Since,
		Reason: cmp.Or(inc.Summary, inc.Reason), Detail: inc.Detail, Action: inc.Action, Repair: didText(inc)}
	if inc.AlertedVersion > 0 {
		a.Change = inc.LastChange // an update: what changed since the last message
	}
	if inc.EventName != "" {
		a.Event = &alert.Event{Name: inc.EventName, ID: inc.EventID, Time: inc.EventTime, Actor: inc.Actor,
			InvokedBy: inc.InvokedBy, SourceIP: inc.SourceIP}
	}
	if n := len(inc.OpenRegions); n > 0 && n < len(inc.Regions) {
		a.Reason += fmt.Sprintf(" (%d of %d Regions still silent: %s)", n, len(inc.Regions), strings.Join(inc.OpenRegions, ", "))
	}
	return a
}

// ResolutionOf is the one message that closes a cause incident. It keeps
// the incident's severity, so a subscriber that filters on severity (a
// pager on high) receives the resolution of what it was paged for, as the
// CloudWatch alarms' OK does (docs/alerts.md); kind and transition say it
// is a resolution.
func ResolutionOf(inc Incident, now time.Time) alert.Alert {
	a := AlertOf(inc)
	a.Kind, a.Transition, a.IncidentID, a.Version = alert.KindRecovered, alert.TransitionResolved, inc.ID, inc.Version
	a.At = now
	a.Action, a.Change = "", ""
	end := orTime(inc.ResolvedAt, now)
	switch {
	case len(inc.Regions) > 0:
		a.Reason = fmt.Sprintf("deliveries resumed in %s and stayed up; %s after it began (incident was: %s)",
			regionsText(inc.Regions), DurationText(end.Sub(inc.Since)), cmp.Or(inc.Summary, inc.Reason))
	default:
		a.Reason = fmt.Sprintf("closed after a quiet period with no silent Region; %s after it began (incident was: %s)",
			DurationText(end.Sub(inc.Since)), cmp.Or(inc.Summary, inc.Reason))
	}
	return a
}

// didText says what trailwarden did about a cause incident.
func didText(inc Incident) string {
	var did []string
	if !inc.RepairRequestedAt.IsZero() {
		did = append(did, "re-converge requested through the enabler's request queue at "+inc.RepairRequestedAt.Format(time.RFC3339))
	}
	switch {
	case !inc.RepairFailedAt.IsZero():
		did = append(did, "repair failed at "+inc.RepairFailedAt.Format(time.RFC3339)+": "+inc.RepairDetail)
	case !inc.RepairConfirmedAt.IsZero():
		did = append(did, "trail repaired at "+inc.RepairConfirmedAt.Format(time.RFC3339))
	case !inc.RepairAttemptAt.IsZero():
		did = append(did, "repair started at "+inc.RepairAttemptAt.Format(time.RFC3339))
	case inc.Cause == CauseTampered:
		did = append(did, "no repair (tamper response: alert-only)")
	}
	return strings.Join(did, "; ")
}

func regionsText(rs []string) string {
	if len(rs) == 1 {
		return rs[0]
	}
	return fmt.Sprintf("all %d Regions (%s)", len(rs), strings.Join(rs, ", "))
}

func orTime(t, d time.Time) time.Time {
	if t.IsZero() {
		return d
	}
	return t
}

// DurationText is a duration as alerts and logs say it: whole minutes,
// never negative.
func DurationText(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return d.Round(time.Minute).String()
}
