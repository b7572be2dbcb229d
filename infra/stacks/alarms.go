package stacks

import (
	"fmt"
	"math"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailwarden/trailwarden/shared/settings"
)

// Metric names the functions emit (EMF, namespace
// settings.DefaultMetricsNamespace, dimension Service=<function name>, plus
// Region for the delivery counts).
const (
	MetricDeliveredLogFiles      = "DeliveredLogFiles"
	MetricDeliveredDigestFiles   = "DeliveredDigestFiles"
	MetricSecurityFindings       = "SecurityFindings"
	MetricMalformedNotifications = "MalformedNotifications"
	MetricValidationMessages     = "ValidationMessages"
	MetricLedgerWrites           = "LedgerWrites"
	MetricLedgerWriteFailures    = "LedgerWriteFailures"
	MetricStaleAccountRegions    = "StaleAccountRegions"
	MetricNeverStartedAccounts   = "NeverStartedAccounts"
	MetricOpenIncidents          = "OpenIncidents"
	MetricWatchdogRunSeconds     = "WatchdogRunSeconds"
)

// NoDeliveriesQuery sums DeliveredLogFiles over every Region (a CloudWatch
// Metrics Insights query, so the alarm covers Regions added later without a
// redeploy and is not bound by metric math's per-alarm metric limit).
var NoDeliveriesQuery = fmt.Sprintf(`SELECT SUM(%s) FROM SCHEMA("%s", Region, Service)`, MetricDeliveredLogFiles, settings.DefaultMetricsNamespace)

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
	metric    awscloudwatch.IMetric
	op        awscloudwatch.ComparisonOperator
	threshold float64
	evals     float64
	missing   awscloudwatch.TreatMissingData
}

func (s *Automation) alarm(a alarmSpec) awscloudwatch.Alarm {
	if a.evals == 0 {
		a.evals = 1
	}
	al := awscloudwatch.NewAlarm(s.Stack, jsii.String(a.id), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String("trailwarden: " + a.desc),
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

	s.alarm(alarmSpec{id: "StaleAccountRegionsAlarm", desc: "account × Region pairs stopped delivering",
		metric: metric(MetricStaleAccountRegions, FnWatchdog, "Maximum", five), op: gt, missing: quiet})
	s.alarm(alarmSpec{id: "SecurityFindingsAlarm", desc: "deliveries from outside the organization or with foreign keys",
		metric: metric(MetricSecurityFindings, FnVerifier, "Sum", five), op: gt, missing: quiet})
	s.alarm(alarmSpec{id: "NoDeliveriesAlarm", desc: fmt.Sprintf("no CloudTrail log file delivered anywhere in the organization for %d minutes", NoDeliveriesMinutes),
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
	s.alarm(alarmSpec{id: "WatchdogNotRunningAlarm", desc: "the watchdog has not completed a run",
		metric: metric(MetricWatchdogRunSeconds, FnWatchdog, "SampleCount", awscdk.Duration_Minutes(jsii.Number(hb))),
		op:     awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, threshold: 1,
		missing: awscloudwatch.TreatMissingData_BREACHING})
	for _, id := range sortedKeys(s.dlqs) {
		s.alarm(alarmSpec{id: id + "DepthAlarm", desc: "messages in the " + id + " dead-letter queue",
			metric: s.dlqs[id].MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: five}),
			op:     gt, missing: quiet})
	}
	for _, f := range s.functions {
		name := *f.Node().Id()
		s.alarm(alarmSpec{id: name + "ErrorsAlarm", desc: "errors in the " + *f.Node().Id() + " function",
			metric: f.Fn.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five}), op: gt, missing: quiet})
		s.alarm(alarmSpec{id: name + "ThrottlesAlarm", desc: "throttles of the " + *f.Node().Id() + " function",
			metric: f.Fn.MetricThrottles(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five}), op: gt, missing: quiet})
	}
}

func (s *Automation) dashboard() {
	five := awscdk.Duration_Minutes(jsii.Number(5))
	ns := settings.DefaultMetricsNamespace
	search := func(name, stat, label string) awscloudwatch.IMetric {
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(fmt.Sprintf(`SEARCH('{%s,Region,Service} MetricName="%s"', '%s', 300)`, ns, name, stat)),
			Label:      jsii.String(label),
			Period:     five,
		})
	}
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
		graph("Log files delivered per Region", 12, search(MetricDeliveredLogFiles, "Sum", "")),
		graph("Digest files delivered per Region", 12, search(MetricDeliveredDigestFiles, "Sum", "")),
	)
	d.AddWidgets(
		graph("Stale account-Regions / never-started accounts", 8,
			metric(MetricStaleAccountRegions, FnWatchdog, "Maximum", five),
			metric(MetricNeverStartedAccounts, FnWatchdog, "Maximum", five)),
		graph("Open incidents", 8, metric(MetricOpenIncidents, FnWatchdog, "Maximum", five)),
		graph("Security findings / malformed notifications", 8,
			metric(MetricSecurityFindings, FnVerifier, "Sum", five),
			metric(MetricMalformedNotifications, FnVerifier, "Sum", five)),
	)
	d.AddWidgets(
		graph("Dead-letter queue depth", 8, dlqDepth...),
		graph("Function errors and throttles", 8, errs...),
		graph("Ledger writes / failures", 8,
			metric(MetricLedgerWrites, FnVerifier, "Sum", five),
			metric(MetricLedgerWriteFailures, FnVerifier, "Sum", five)),
	)
}
