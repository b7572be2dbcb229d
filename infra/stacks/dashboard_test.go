package stacks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/trailwarden/trailwarden/internal/costmodel"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

// dashboardBody is the automation dashboard's body with every CloudFormation
// token (log group names, alarm ARNs) replaced by "TOKEN".
func dashboardBody(t *testing.T) (name string, body map[string]any) {
	t.Helper()
	a := org(t).stacks.Automation
	ds := resources(t, a.Stack, "AWS::CloudWatch::Dashboard")
	if len(ds) != 1 {
		t.Fatalf("%d dashboards, want 1", len(ds))
	}
	for _, p := range ds {
		name, _ = p["DashboardName"].(string)
		var b strings.Builder
		parts := p["DashboardBody"].(map[string]any)["Fn::Join"].([]any)[1].([]any)
		for _, part := range parts {
			if s, ok := part.(string); ok {
				b.WriteString(s)
			} else {
				b.WriteString("TOKEN")
			}
		}
		if err := json.Unmarshal([]byte(b.String()), &body); err != nil {
			t.Fatalf("dashboard body: %v\n%s", err, b.String())
		}
	}
	return name, body
}

func widgets(body map[string]any) []map[string]any {
	var out []map[string]any
	for _, w := range body["widgets"].([]any) {
		out = append(out, w.(map[string]any))
	}
	return out
}

// The dashboard answers "which account and Region?": a fixed name, the
// runbook links, every alarm's state, the stale pairs and findings from the
// functions' logs, the queues' age and the dead-letter queues.
func TestDashboardWidgets(t *testing.T) {
	name, body := dashboardBody(t)
	if name != "TrailwardenAutomation-eu-west-1" {
		t.Errorf("dashboard name %q", name)
	}
	a := org(t).stacks.Automation
	nAlarms := len(resources(t, a.Stack, "AWS::CloudWatch::Alarm"))
	byTitle := map[string]map[string]any{}
	var text string
	for _, w := range widgets(body) {
		p := w["properties"].(map[string]any)
		if w["type"] == "text" {
			text, _ = p["markdown"].(string)
			continue
		}
		byTitle[p["title"].(string)] = w
	}
	for _, tc := range []struct {
		title, typ string
		want       []string // substrings of the widget's properties
	}{
		{"Alarms", "alarm", []string{"alarm:TrailwardenAutomation-StaleAccountRegions", "alarm:TrailwardenAutomation-DeliveriesQueueAge"}},
		{"Stale account × Region pairs (latest incident state)", "log", append([]string{"SOURCE 'TOKEN'", "by account, region"}, StalePairsQuery[0])},
		{"Security findings by code and account", "log", []string{"SOURCE 'TOKEN'", "by code, account", FindingsQuery[0]}},
		{"Queue age (oldest message, seconds)", "metric", []string{`"ApproximateAgeOfOldestMessage","QueueName","TOKEN"`}},
		{"Dead-letter queue depth", "metric", []string{"ApproximateNumberOfMessagesVisible"}},
		{"Function errors and throttles", "metric", []string{`"Errors"`, `"Throttles"`}},
		{"Stale account-Regions", "metric", []string{"StaleAccountRegions"}},
	} {
		w, ok := byTitle[tc.title]
		if !ok {
			t.Errorf("no widget %q", tc.title)
			continue
		}
		if w["type"] != tc.typ {
			t.Errorf("widget %q is %v, want %s", tc.title, w["type"], tc.typ)
		}
		props := js(w["properties"])
		query, _ := w["properties"].(map[string]any)["query"].(string)
		for _, s := range tc.want {
			if !strings.Contains(props, s) && !strings.Contains(query, s) {
				t.Errorf("widget %q lacks %s: %s", tc.title, s, props)
			}
		}
	}
	if w := byTitle["Alarms"]; w != nil {
		if n := len(w["properties"].(map[string]any)["alarms"].([]any)); n != nAlarms {
			t.Errorf("alarm widget lists %d alarms, the stack has %d", n, nAlarms)
		}
	}
	base := a.cfg.Deployment.RunbookBaseURL
	for _, r := range DashboardRunbooks {
		if !strings.Contains(text, "("+base+"/"+r.Page+")") {
			t.Errorf("text widget does not link %s", r.Page)
		}
		if _, err := os.Stat(filepath.Join("..", "..", "docs", "runbooks", r.Page)); err != nil {
			t.Errorf("dashboard links %s: %v", r.Page, err)
		}
	}
}

// CloudWatch's free tier covers 3 dashboards of up to 50 metrics each
// (docs/cost.md): the dashboard stays within 50 metrics.
func TestDashboardMetricCount(t *testing.T) {
	_, body := dashboardBody(t)
	n := 0
	for _, w := range widgets(body) {
		if ms, ok := w["properties"].(map[string]any)["metrics"].([]any); ok {
			n += len(ms)
		}
	}
	if n == 0 || n > 50 {
		t.Errorf("dashboard graphs %d metrics, want 1..50", n)
	}
}

// Fixed, readable alarm names, unique per deployment: the stack's name, then
// what the alarm watches.
func TestAlarmNames(t *testing.T) {
	b := org(t).stacks
	var names []string
	for _, st := range []*struct {
		stack string
		res   map[string]map[string]any
	}{
		{AutomationStackName, resources(t, b.Automation.Stack, "AWS::CloudWatch::Alarm")},
		{CentralStackName, resources(t, b.Central.Stack, "AWS::CloudWatch::Alarm")},
		{ManagementStackName, resources(t, b.Management.Stack, "AWS::CloudWatch::Alarm")},
	} {
		for id, p := range st.res {
			n, _ := p["AlarmName"].(string)
			if !regexp.MustCompile(`^` + st.stack + `-[A-Za-z]+$`).MatchString(n) {
				t.Errorf("alarm %s: name %q", id, n)
			}
			names = append(names, n)
		}
	}
	for _, want := range []string{"StaleAccountRegions", "SecurityFindings", "NoDeliveries", "WatchdogNotRunning",
		"DeliveriesQueueAge", "DeliveriesDLQDepth", "RequestsDLQDepth", "VerifierErrors", "WatchdogErrors", "EnablerErrors", "ReconcilerErrors"} {
		if !slices.Contains(names, AutomationStackName+"-"+want) {
			t.Errorf("no alarm %s-%s among %v", AutomationStackName, want, names)
		}
	}
	for _, st := range []string{CentralStackName, ManagementStackName} {
		if !slices.Contains(names, st+"-ForwardDLQ") {
			t.Errorf("no alarm %s-ForwardDLQ", st)
		}
	}
	slices.Sort(names)
	if len(slices.Compact(names)) != len(names) {
		t.Errorf("duplicate alarm names: %v", names)
	}
}

// The Logs Insights queries read what the functions log: the message and
// the fields of the same slog call in the emitting package.
func TestDashboardQueriesMatchTheLogs(t *testing.T) {
	for _, tc := range []struct {
		pkg, msg string
		fields   []string
	}{
		{"watchdog", LogIncidentOpened, []string{"account", "region", "reason"}},
		{"watchdog", LogIncidentResolved, []string{"account", "region"}},
		{"verifier", LogSecurityFinding, []string{"account", "region", "code", "reason"}},
	} {
		files, _ := filepath.Glob(filepath.Join("..", "..", "shared", tc.pkg, "*.go"))
		var call string
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// The slog call: from the message to the closing parenthesis
			// that ends its line.
			if m := regexp.MustCompile(`(?s)Context\(ctx, "` + regexp.QuoteMeta(tc.msg) + `".*?\)\n`).Find(b); m != nil {
				call = string(m)
			}
		}
		if call == "" {
			t.Errorf("shared/%s logs no %q: the dashboard's query would be empty", tc.pkg, tc.msg)
			continue
		}
		for _, f := range tc.fields {
			if !strings.Contains(call, `"`+f+`"`) {
				t.Errorf("shared/%s's %q line has no field %q: %s", tc.pkg, tc.msg, f, call)
			}
		}
	}
}

// The cost model (internal/costmodel, docs/cost.md) counts what the stacks
// deploy: alarm metrics in every account's stack, custom metrics the alarms
// read, dashboards. A new alarm or metric changes the model's figures, and
// its goal test decides whether the goal still holds.
func TestCostModelCountsTheTemplates(t *testing.T) {
	b := org(t).stacks
	alarms := map[bool]int{} // in the automation account or not
	metrics := map[string]bool{verifier.MetricDeliveredLogFiles: strings.Contains(NoDeliveriesQuery, verifier.MetricDeliveredLogFiles)}
	for _, st := range []awscdk.Stack{b.Automation.Stack, b.Central.Stack, b.Management.Stack, b.Member.Stack} {
		for _, p := range resources(t, st, "AWS::CloudWatch::Alarm") {
			alarms[st == b.Automation.Stack]++
			if p["Namespace"] == "Trailwarden" {
				metrics[p["MetricName"].(string)] = true
			}
		}
	}
	if b.Automation.Refresher != nil {
		// testdata/org.yaml opts in to Security Hub: the refresher's
		// errors alarm is not in the default deployment the model prices
		// (docs/cost.md prices it with the opt-in).
		alarms[true]--
	}
	dashboards := len(resources(t, b.Automation.Stack, "AWS::CloudWatch::Dashboard"))
	d := costmodel.Deployed
	if alarms[true] != d.AlarmMetrics || alarms[false] != d.OtherAlarmMetrics || len(metrics) != d.CustomMetrics || dashboards != d.Dashboards {
		t.Errorf("templates: %d + %d alarms, %d custom metrics %v, %d dashboards; the cost model counts %d + %d, %d, %d",
			alarms[true], alarms[false], len(metrics), metrics, dashboards, d.AlarmMetrics, d.OtherAlarmMetrics, d.CustomMetrics, d.Dashboards)
	}
}

// The dashboard is optional (deployment.dashboard.enabled, on by default);
// the saved Logs Insights queries behind its drill-down tables are deployed
// either way, with the dashboard's exact queries.
func TestDashboardOptionalQueriesAlways(t *testing.T) {
	for _, tc := range []struct {
		name      string
		b         *built
		dashboard int
	}{
		{"org.yaml (default: on)", org(t), 1},
		{"single.yaml (dashboard: {enabled: false})", single(t), 0},
	} {
		a := tc.b.stacks.Automation
		if n := len(resources(t, a.Stack, "AWS::CloudWatch::Dashboard")); n != tc.dashboard {
			t.Errorf("%s: %d dashboards, want %d", tc.name, n, tc.dashboard)
		}
		queries := map[string]string{}
		for _, p := range resources(t, a.Stack, "AWS::Logs::QueryDefinition") {
			queries[p["Name"].(string)] = p["QueryString"].(string)
		}
		for name, lines := range map[string][]string{
			AutomationStackName + "/stale account x Region pairs":          StalePairsQuery,
			AutomationStackName + "/security findings by code and account": FindingsQuery,
		} {
			if got := queries[name]; got != strings.Join(lines, "\n| ") {
				t.Errorf("%s: saved query %q = %q", tc.name, name, got)
			}
		}
	}
}
