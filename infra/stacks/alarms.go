package stacks

import (
	"fmt"
	"math"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/verifier"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

// The metric names come from the packages that emit them (EMF, namespace
// settings.DefaultMetricsNamespace, dimension Service=<function name>):
// one name, one place. Each function emits as CloudWatch metrics only what
// an alarm watches; its other counts are fields of the same log events,
// graphed on the dashboard with CloudWatch Logs Insights.

// NoDeliveriesQuery sums DeliveredLogFiles (a CloudWatch Metrics Insights
// query over the namespace, so the alarm does not depend on the metric's
// dimensions).
var NoDeliveriesQuery = fmt.Sprintf(`SELECT SUM(%s) FROM SCHEMA("%s", Service)`, verifier.MetricDeliveredLogFiles, settings.DefaultMetricsNamespace)

// NoDeliveriesMinutes is how long the organization may deliver no log file
// before the alarm fires.
const NoDeliveriesMinutes = 15

func metric(name, service, stat string, period awscdk.Duration) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(settings.DefaultMetricsNamespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"Service": jsii.String(service)},
		Statistic:     jsii.String(stat),
		Period:        period,
	})
}

type alarmSpec struct {
	id, desc  string
	runbook   string // the page in docs/runbooks/, e.g. alarm-no-deliveries.md
	metric    awscloudwatch.IMetric
	op        awscloudwatch.ComparisonOperator
	threshold float64
	evals     float64
	missing   awscloudwatch.TreatMissingData
}

// AlarmDescription is an alarm's description: what it watches and the link
// to its runbook (base: deployment.runbookBaseUrl).
func AlarmDescription(desc, base, page string) string {
	return "trailwarden: " + desc + ". Runbook: " + base + "/" + page
}

func (s *Automation) alarm(a alarmSpec) awscloudwatch.Alarm {
	if a.evals == 0 {
		a.evals = 1
	}
	al := awscloudwatch.NewAlarm(s.Stack, jsii.String(a.id), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(AlarmDescription(a.desc, s.cfg.Deployment.RunbookBaseURL, a.runbook)),
		Metric:             a.metric,
		ComparisonOperator: a.op,
		Threshold:          jsii.Number(a.threshold),
		EvaluationPeriods:  jsii.Number(a.evals),
		DatapointsToAlarm:  jsii.Number(a.evals),
		TreatMissingData:   a.missing,
	})
	action := awscloudwatchactions.NewSnsAction(s.Alerts)
	al.AddAlarmAction(action)
	al.AddOkAction(action)
	return al
}

func (s *Automation) alarms() {
	five := awscdk.Duration_Minutes(jsii.Number(5))
	gt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	quiet := awscloudwatch.TreatMissingData_NOT_BREACHING

	s.alarm(alarmSpec{id: "StaleAccountRegionsAlarm", desc: "account × Region pairs stopped delivering", runbook: "alarm-stale-account-regions.md",
		metric: metric(watchdog.MetricStaleAccountRegions, FnWatchdog, "Maximum", five), op: gt, missing: quiet})
	s.alarm(alarmSpec{id: "SecurityFindingsAlarm", desc: "deliveries from outside the organization or with foreign keys", runbook: "alarm-security-findings.md",
		metric: metric(verifier.MetricSecurityFindings, FnVerifier, "Sum", five), op: gt, missing: quiet})
	s.alarm(alarmSpec{id: "NoDeliveriesAlarm", desc: fmt.Sprintf("no CloudTrail log file delivered anywhere in the organization for %d minutes", NoDeliveriesMinutes), runbook: "alarm-no-deliveries.md",
		metric: awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(NoDeliveriesQuery),
			Label:      jsii.String("log files delivered (all Regions)"),
			Period:     five,
		}),
		op: awscloudwatch.ComparisonOperator_LESS_THAN_OR_EQUAL_TO_THRESHOLD, threshold: 0, evals: NoDeliveriesMinutes / 5,
		missing: awscloudwatch.TreatMissingData_BREACHING})
	// The watchdog's heartbeat: if it stops running, nothing else notices
	// silence.
	hb := math.Max(15, 3*s.cfg.Deployment.Schedules.Watchdog.Minutes())
	s.alarm(alarmSpec{id: "WatchdogNotRunningAlarm", desc: "the watchdog has not completed a run", runbook: "alarm-watchdog-not-running.md",
		metric: metric(watchdog.MetricWatchdogRunSeconds, FnWatchdog, "SampleCount", awscdk.Duration_Minutes(jsii.Number(hb))),
		op:     awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, threshold: 1,
		missing: awscloudwatch.TreatMissingData_BREACHING})
	for _, id := range sortedKeys(s.dlqs) {
		s.alarm(alarmSpec{id: id + "DepthAlarm", desc: "messages in the " + id + " dead-letter queue", runbook: "alarm-dlq-depth.md",
			metric: s.dlqs[id].MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: five}),
			op:     gt, missing: quiet})
	}
	for _, f := range s.functions {
		name := *f.Node().Id()
		s.alarm(alarmSpec{id: name + "ErrorsAlarm", desc: "errors in the " + *f.Node().Id() + " function", runbook: "alarm-function-errors.md",
			metric: f.Fn.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five}), op: gt, missing: quiet})
		s.alarm(alarmSpec{id: name + "ThrottlesAlarm", desc: "throttles of the " + *f.Node().Id() + " function", runbook: "alarm-function-throttles.md",
			metric: f.Fn.MetricThrottles(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five}), op: gt, missing: quiet})
	}
}

// logQuery is a CloudWatch Logs Insights widget over one function's log
// group: its log-only counts (EMF fields) summed per 5 minutes.
func (s *Automation) logQuery(title, fn string, fields ...string) awscloudwatch.IWidget {
	var group *string
	for _, f := range s.functions {
		if *f.Node().Id() == capitalize(fn) {
			group = f.LogGroup.LogGroupName()
		}
	}
	sums := make([]string, len(fields))
	for i, f := range fields {
		sums[i] = fmt.Sprintf("sum(%s) as %s", f, f)
	}
	return awscloudwatch.NewLogQueryWidget(&awscloudwatch.LogQueryWidgetProps{
		Title:         jsii.String(title),
		LogGroupNames: &[]*string{group},
		QueryLines: &[]*string{jsii.String("filter ispresent(_aws.Timestamp)"),
			jsii.String(fmt.Sprintf("stats %s by bin(5m)", strings.Join(sums, ", ")))},
		View:   awscloudwatch.LogQueryVisualizationType_LINE,
		Width:  jsii.Number(8),
		Height: jsii.Number(6),
	})
}

func (s *Automation) dashboard() {
	five := awscdk.Duration_Minutes(jsii.Number(5))
	var dlqDepth, errs []awscloudwatch.IMetric
	for _, id := range sortedKeys(s.dlqs) {
		dlqDepth = append(dlqDepth, s.dlqs[id].MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: five, Label: jsii.String(id)}))
	}
	for _, f := range s.functions {
		errs = append(errs,
			f.Fn.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five, Label: jsii.String(*f.Node().Id() + " errors")}),
			f.Fn.MetricThrottles(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five, Label: jsii.String(*f.Node().Id() + " throttles")}))
	}
	graph := func(title string, width float64, m ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &m, Width: jsii.Number(width), Height: jsii.Number(6)})
	}
	d := awscloudwatch.NewDashboard(s.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(24)),
	})
	d.AddWidgets(
		graph("Log files delivered / Security findings", 8,
			metric(verifier.MetricDeliveredLogFiles, FnVerifier, "Sum", five),
			metric(verifier.MetricSecurityFindings, FnVerifier, "Sum", five)),
		graph("Stale account-Regions", 8, metric(watchdog.MetricStaleAccountRegions, FnWatchdog, "Maximum", five)),
		s.logQuery("Digests / malformed / ledger writes and failures", FnVerifier, verifier.MetricDeliveredDigestFiles,
			verifier.MetricMalformedNotifications, verifier.MetricLedgerWrites, verifier.MetricLedgerWriteFailures),
	)
	d.AddWidgets(
		graph("Dead-letter queue depth", 8, dlqDepth...),
		graph("Function errors and throttles", 8, errs...),
		s.logQuery("Never-started accounts / Open incidents", FnWatchdog, watchdog.MetricNeverStartedAccounts, watchdog.MetricOpenIncidents),
	)
}
