package stacks

import (
	"slices"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/shared/verifier"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

// Every custom metric an alarm or a dashboard graph reads is a name its
// function emits (the emitters' constants), and nothing reads a name that
// is only a log field.
func TestAlarmMetricNamesAreTheEmitters(t *testing.T) {
	a := org(t).stacks.Automation
	emitted := []string{verifier.MetricDeliveredLogFiles, verifier.MetricSecurityFindings,
		watchdog.MetricStaleAccountRegions, watchdog.MetricWatchdogRunSeconds}
	for _, p := range resources(t, a.Stack, "AWS::CloudWatch::Alarm") {
		if p["Namespace"] != "Trailwarden" {
			continue
		}
		if n, _ := p["MetricName"].(string); !slices.Contains(emitted, n) {
			t.Errorf("alarm on %q, which no function emits as a metric", n)
		}
	}
	if !strings.Contains(NoDeliveriesQuery, "SUM("+verifier.MetricDeliveredLogFiles+")") {
		t.Errorf("no-deliveries query %q", NoDeliveriesQuery)
	}
	body := js(tpl(t, a.Stack)["Resources"])
	for _, logOnly := range []string{verifier.MetricDeliveredDigestFiles, verifier.MetricLedgerWrites, watchdog.MetricOpenIncidents} {
		if strings.Contains(body, `"metrics":[["Trailwarden","`+logOnly+`"`) || strings.Contains(body, `\"`+logOnly+`\",\"Service\"`) {
			t.Errorf("the dashboard graphs %s as a metric; it is a log field", logOnly)
		}
		if !strings.Contains(body, "sum("+logOnly+")") {
			t.Errorf("the dashboard has no Logs Insights query of %s", logOnly)
		}
	}
}
