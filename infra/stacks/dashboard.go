package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailwarden/trailwarden/shared/verifier"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

// The structured log lines the dashboard's Logs Insights widgets read: the
// message and the fields the functions log with it (shared/watchdog's
// incident log lines, shared/verifier's finding line; aws-lambda-go's log
// handler writes slog's message under "message"). TestDashboardQueriesMatchTheLogs
// checks them against the emitting code.
const (
	LogIncidentOpened   = "incident opened"
	LogIncidentResolved = "incident resolved"
	LogSecurityFinding  = "security finding"
)

// StalePairsQuery lists the account × Region pairs whose latest incident
// line in the range is "opened" first (still stale), then the resolved ones,
// with the diagnosis and when the state last changed.
var StalePairsQuery = []string{
	fmt.Sprintf("filter message in [%q, %q]", LogIncidentOpened, LogIncidentResolved),
	"stats latest(message) as state, latest(reason) as diagnosis, max(@timestamp) as changed by account, region",
	"sort state asc, changed desc",
	"limit 200",
}

// FindingsQuery counts security findings by code (the runbook's name,
// finding-<code>.md) and account.
var FindingsQuery = []string{
	fmt.Sprintf("filter message = %q", LogSecurityFinding),
	"stats count(*) as findings, latest(region) as region, latest(reason) as reason, max(@timestamp) as last by code, account",
	"sort findings desc",
	"limit 200",
}

// DashboardName is the dashboard's fixed, readable name. Dashboards are
// global to an account (not per Region), so the name carries the Region
// beside the stack's name.
func DashboardName(stack, region string) string {
	return stack + "-" + region
}

// DashboardRunbooks are the runbook pages the dashboard's text widget links.
var DashboardRunbooks = []struct{ Title, Page string }{
	{"Stale account × Region", "stale.md"},
	{"Security findings", "security-finding.md"},
	{"Organization-wide silence", "mass.md"},
	{"Delivery queue age", "alarm-queue-age.md"},
	{"Dead-letter queues", "alarm-dlq-depth.md"},
	{"Function errors", "alarm-function-errors.md"},
	{"Function throttles", "alarm-function-throttles.md"},
	{"All runbooks", "README.md"},
}

func logTable(title string, fn *Function, lines []string) awscloudwatch.IWidget {
	return awscloudwatch.NewLogQueryWidget(&awscloudwatch.LogQueryWidgetProps{
		Title:         jsii.String(title),
		LogGroupNames: &[]*string{fn.LogGroup.LogGroupName()},
		QueryLines:    jsii.Strings(lines...),
		View:          awscloudwatch.LogQueryVisualizationType_TABLE,
		Width:         jsii.Number(12),
		Height:        jsii.Number(8),
	})
}

// logSums is a Logs Insights widget over one function's log group: its
// log-only counts (EMF fields) summed per 5 minutes.
func logSums(title string, fn *Function, fields ...string) awscloudwatch.IWidget {
	sums := make([]string, len(fields))
	for i, f := range fields {
		sums[i] = fmt.Sprintf("sum(%s) as %s", f, f)
	}
	return awscloudwatch.NewLogQueryWidget(&awscloudwatch.LogQueryWidgetProps{
		Title:         jsii.String(title),
		LogGroupNames: &[]*string{fn.LogGroup.LogGroupName()},
		QueryLines: &[]*string{jsii.String("filter ispresent(_aws.Timestamp)"),
			jsii.String(fmt.Sprintf("stats %s by bin(5m)", strings.Join(sums, ", ")))},
		View:   awscloudwatch.LogQueryVisualizationType_LINE,
		Width:  jsii.Number(12),
		Height: jsii.Number(6),
	})
}

func (s *Automation) runbookText() awscloudwatch.IWidget {
	base := s.cfg.Deployment.RunbookBaseURL
	var b strings.Builder
	b.WriteString("## trailwarden\nWhich account and Region is stale, and why: the tables below (from the functions' logs). Runbooks: ")
	for i, r := range DashboardRunbooks {
		if i > 0 {
			b.WriteString(" · ")
		}
		fmt.Fprintf(&b, "[%s](%s/%s)", r.Title, base, r.Page)
	}
	return awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{Markdown: jsii.String(b.String()), Width: jsii.Number(24), Height: jsii.Number(3)})
}

// SavedQueries are the Logs Insights queries saved in the automation
// account (the console's "Saved queries", under the trailwarden/ folder):
// the dashboard's drill-down tables, available with or without the
// dashboard. Amazon CloudWatch pricing charges Logs Insights by the data a
// query scans and lists no charge for a saved query definition.
func (s *Automation) savedQueries() {
	for _, q := range []struct {
		id, name string
		fn       *Function
		lines    []string
	}{
		{"StalePairsQuery", "stale account x Region pairs", s.Watchdog, StalePairsQuery},
		{"FindingsQuery", "security findings by code and account", s.Verifier, FindingsQuery},
	} {
		awslogs.NewCfnQueryDefinition(s.Stack, jsii.String(q.id), &awslogs.CfnQueryDefinitionProps{
			Name:          jsii.String(*s.StackName() + "/" + q.name),
			QueryString:   jsii.String(strings.Join(q.lines, "\n| ")),
			LogGroupNames: &[]any{q.fn.LogGroup.LogGroupName()},
		})
	}
}

func (s *Automation) dashboard() {
	five := awscdk.Duration_Minutes(jsii.Number(5))
	opts := func(stat, label string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Statistic: jsii.String(stat), Period: five, Label: jsii.String(label)}
	}
	var dlqDepth, fnHealth []awscloudwatch.IMetric
	for _, id := range sortedKeys(s.dlqs) {
		dlqDepth = append(dlqDepth, s.dlqs[id].MetricApproximateNumberOfMessagesVisible(opts("Maximum", id)))
	}
	for _, f := range s.functions {
		fnHealth = append(fnHealth, f.Fn.MetricErrors(opts("Sum", *f.Node().Id()+" errors")),
			f.Fn.MetricThrottles(opts("Sum", *f.Node().Id()+" throttles")))
	}
	graph := func(title string, m ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &m, Width: jsii.Number(8), Height: jsii.Number(6)})
	}
	// The alarms by ARN, built from their fixed names: no reference to the
	// alarm resources, so the dashboard does not wait on them.
	alarms := make([]interfacesawscloudwatch.IAlarmRef, len(s.alarmNames))
	for i, n := range s.alarmNames {
		alarms[i] = awscloudwatch.Alarm_FromAlarmArn(s.Stack, jsii.String("DashboardAlarm"+n),
			jsii.String(arn("cloudwatch", *s.Region(), *s.Account(), "alarm:"+n)))
	}
	d := awscloudwatch.NewDashboard(s.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(DashboardName(*s.StackName(), *s.Region())),
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(24)),
	})
	d.AddWidgets(s.runbookText())
	d.AddWidgets(awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title: jsii.String("Alarms"), Alarms: &alarms, Width: jsii.Number(24), Height: jsii.Number(4),
		SortBy: awscloudwatch.AlarmStatusWidgetSortBy_STATE_UPDATED_TIMESTAMP,
	}))
	d.AddWidgets(
		logTable("Stale account × Region pairs (latest incident state)", s.Watchdog, StalePairsQuery),
		logTable("Security findings by code and account", s.Verifier, FindingsQuery))
	d.AddWidgets(
		graph("Log files delivered / Security findings",
			metric(verifier.MetricDeliveredLogFiles, FnVerifier, "Sum", five),
			metric(verifier.MetricSecurityFindings, FnVerifier, "Sum", five)),
		graph("Stale account-Regions", metric(watchdog.MetricStaleAccountRegions, FnWatchdog, "Maximum", five)),
		graph("Queue age (oldest message, seconds)",
			s.DeliveryQueue.MetricApproximateAgeOfOldestMessage(opts("Maximum", "Deliveries")),
			s.RequestQueue.MetricApproximateAgeOfOldestMessage(opts("Maximum", "Requests"))))
	d.AddWidgets(
		graph("Dead-letter queue depth", dlqDepth...),
		graph("Function errors and throttles", fnHealth...))
	d.AddWidgets(
		logSums("Digests / malformed / ledger writes and failures", s.Verifier, verifier.MetricDeliveredDigestFiles,
			verifier.MetricMalformedNotifications, verifier.MetricLedgerWrites, verifier.MetricLedgerWriteFailures),
		logSums("Never-started accounts / Open incidents / run seconds", s.Watchdog, watchdog.MetricNeverStartedAccounts,
			watchdog.MetricOpenIncidents, watchdog.MetricWatchdogRunSeconds))
}
