package alarmrelay

import (
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/shared/alert"
)

// IncidentPrefix begins an alarm alert's incidentId: alarm#<alarm name>.
const IncidentPrefix = "alarm#"

// ToAlert maps a state change to its alert: ALARM opens, OK after ALARM
// resolves, both with the rule's severity. Any other change (OK after
// INSUFFICIENT_DATA, as after a deployment; INSUFFICIENT_DATA) is no
// incident's transition: ok is false.
func ToAlert(n Notification, r Rule, now time.Time) (a alert.Alert, ok bool) {
	a = alert.Alert{Kind: alert.KindAlarm, Severity: r.Severity, IncidentID: IncidentPrefix + n.AlarmName,
		Account: n.AWSAccountID, Region: n.Region, Code: r.Code, Detail: n.NewStateReason, At: now.UTC(),
		Alarm: &alert.Alarm{Name: n.AlarmName, ARN: n.AlarmARN, State: n.NewStateValue, PreviousState: n.OldStateValue, Changed: n.Changed}}
	switch {
	case n.NewStateValue == StateAlarm:
		a.Transition, a.OpenedAt, a.Since = alert.TransitionOpened, n.Changed, n.Changed
		a.Reason = "trailwarden's alarm " + n.AlarmName + " is in ALARM"
		if d := what(n.AlarmDescription); d != "" {
			a.Reason += ": " + d
		}
		a.Action = "follow the runbook; the alarm's OK is this incident's resolution"
	case n.NewStateValue == StateOK && n.OldStateValue == StateAlarm:
		a.Transition = alert.TransitionResolved
		a.Reason = "trailwarden's alarm " + n.AlarmName + " is OK again"
	default:
		return alert.Alert{}, false
	}
	a.Summarize()
	return a, true
}

// what is the alarm description's sentence without the "trailwarden: "
// prefix and the runbook link (infra/stacks AlarmDescription): the alert
// carries its own link.
func what(desc string) string {
	desc, _, _ = strings.Cut(desc, ". Runbook: ")
	return strings.TrimPrefix(desc, "trailwarden: ")
}
