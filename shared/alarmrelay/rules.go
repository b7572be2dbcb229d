// Package alarmrelay relays trailwarden's own CloudWatch alarm
// notifications to the alerts topic as alerts: CloudWatch cannot set SNS
// message attributes, so the alarms notify a private topic whose queue
// feeds the relay, which publishes each state change through the alert
// path (severity, kind and account attributes, one body per protocol;
// docs/alerts.md). Rules says what each alarm means: infra/stacks builds
// the alarms from it and the relay maps their notifications with it.
package alarmrelay

import "strings"

// Rule is what one alarm means to subscribers.
type Rule struct {
	// Severity is the alerts' severity attribute (critical | high | info)
	// for both the ALARM and the OK transition, so a pager that took the
	// one takes its resolution.
	Severity string
	// Code names the runbook page docs/runbooks/alarm-<Code>.md; it is the
	// alert's code.
	Code string
	// Direct: the alarm watches the relay itself, so it also notifies the
	// alerts topic directly (without attributes): a relay that cannot run
	// must not be the only path of the alarm that says so.
	Direct bool
}

// Severities.
const (
	SeverityCritical = "critical"
	SeverityHigh     = "high"
	SeverityInfo     = "info"
)

// RelayID is the construct id of the relay function and the prefix of the
// ids of the alarms on it and its queue (AlarmRelayQueueDLQDepth,
// AlarmRelayErrors).
const RelayID = "AlarmRelay"

// rules by alarm id (the construct id without its "Alarm" suffix): the
// alarm's name is "<stack>-<id>" (infra/stacks AlarmName).
var rules = map[string]Rule{
	// Nothing is detected while these fire: page.
	"NoDeliveries":       {Severity: SeverityCritical, Code: "no-deliveries"},
	"WatchdogNotRunning": {Severity: SeverityCritical, Code: "watchdog-not-running"},
	// Detection is late or work is stuck.
	"DeliveriesQueueAge": {Severity: SeverityHigh, Code: "queue-age"},
	// Each stale pair and each finding already has its own alert: the
	// alarm is the health signal, not a second page.
	"StaleAccountRegions": {Severity: SeverityInfo, Code: "stale-account-regions"},
	"SecurityFindings":    {Severity: SeverityInfo, Code: "security-findings"},
}

// suffixRules cover the generated ids: one alarm per dead-letter queue
// (<queue>DLQDepth) and per function (<Function>Errors).
var suffixRules = []struct {
	suffix string
	rule   Rule
}{
	{"DLQDepth", Rule{Severity: SeverityHigh, Code: "dlq-depth"}},
	{"Errors", Rule{Severity: SeverityHigh, Code: "function-errors"}},
}

// RuleFor returns the rule of the alarm with id (its construct id, with or
// without the "Alarm" suffix).
func RuleFor(id string) (Rule, bool) {
	id = strings.TrimSuffix(id, "Alarm")
	if r, ok := rules[id]; ok {
		return r, true
	}
	for _, s := range suffixRules {
		if prefix, ok := strings.CutSuffix(id, s.suffix); ok && prefix != "" {
			r := s.rule
			r.Direct = strings.HasPrefix(prefix, RelayID)
			return r, true
		}
	}
	return Rule{}, false
}

// RunbookPage is the rule's page under docs/runbooks/.
func (r Rule) RunbookPage() string { return "alarm-" + r.Code + ".md" }
