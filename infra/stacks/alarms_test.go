package stacks

import (
	"os"
	"path/filepath"
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
		watchdog.MetricStaleAccountRegions}
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
	for _, logOnly := range []string{verifier.MetricDeliveredDigestFiles, verifier.MetricLedgerWrites, watchdog.MetricOpenIncidents, watchdog.MetricWatchdogRunSeconds} {
		if strings.Contains(body, `"metrics":[["Trailwarden","`+logOnly+`"`) || strings.Contains(body, `\"`+logOnly+`\",\"Service\"`) {
			t.Errorf("the dashboard graphs %s as a metric; it is a log field", logOnly)
		}
		if !strings.Contains(body, "sum("+logOnly+")") {
			t.Errorf("the dashboard has no Logs Insights query of %s", logOnly)
		}
	}
}

// Every alarm's description links to its runbook page, which exists in
// docs/runbooks/, under the deployment's runbook base URL.
func TestAlarmDescriptionsLinkRunbooks(t *testing.T) {
	a := org(t).stacks.Automation
	base := a.cfg.Deployment.RunbookBaseURL
	n := 0
	for id, p := range resources(t, a.Stack, "AWS::CloudWatch::Alarm") {
		n++
		desc, _ := p["AlarmDescription"].(string)
		_, link, ok := strings.Cut(desc, ". Runbook: ")
		page, inBase := strings.CutPrefix(link, base+"/")
		if !ok || !inBase || !strings.HasPrefix(page, "alarm-") {
			t.Errorf("alarm %s: description %q does not link a runbook under %s", id, desc, base)
			continue
		}
		if _, err := os.Stat(filepath.Join("..", "..", "docs", "runbooks", page)); err != nil {
			t.Errorf("alarm %s links %s: %v", id, page, err)
		}
	}
	if n == 0 {
		t.Fatal("no alarms")
	}
}
