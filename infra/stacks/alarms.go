package stacks

import (
	"fmt"
	"math"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailwarden/trailwarden/shared/alarmrelay"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/verifier"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

// The metric names come from the packages that emit them (EMF, namespace
// settings.DefaultMetricsNamespace, dimension Service=<function name>):
// one name, one place. Each function emits as CloudWatch metrics only what
// an alarm watches and AWS does not already measure; its other counts are
// fields of the same log events, graphed on the dashboard with CloudWatch
// Logs Insights. A custom metric costs $0.30 a month and an alarm metric
// $0.10 (docs/cost.md): the watchdog's heartbeat and the queues' health
// are alarms on the metrics Lambda and SQS publish for free.

// NoDeliveriesQuery sums DeliveredLogFiles (a CloudWatch Metrics Insights
// query over the namespace, so the alarm does not depend on the metric's
// dimensions).
var NoDeliveriesQuery = fmt.Sprintf(`SELECT SUM(%s) FROM SCHEMA("%s", Service)`, verifier.MetricDeliveredLogFiles, settings.DefaultMetricsNamespace)

// NoDeliveriesMinutes is how long the organization may deliver no log file
// before the alarm fires.
const NoDeliveriesMinutes = 15

// DeliveryQueueAgeSeconds: the oldest message of the delivery queue may
// wait this long before the queue-age alarm fires (two 5-minute periods in
// a row). The watchdog's thresholds allow 5 minutes for queueing and
// batching; an older backlog delays detection.
const DeliveryQueueAgeSeconds = 300

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

// AlarmDescription is an alarm's description: what it watches and the link
// to its runbook (base: deployment.runbookBaseUrl).
func AlarmDescription(desc, base, page string) string {
	return "trailwarden: " + desc + ". Runbook: " + base + "/" + page
}

// AlarmName is an alarm's fixed, readable name: the stack's name (one
// automation stack per account and Region) and the alarm's id without its
// "Alarm" suffix, e.g. TrailwardenAutomation-StaleAccountRegions.
func AlarmName(stack, id string) string {
	return stack + "-" + strings.TrimSuffix(id, "Alarm")
}

// alarm builds one alarm. Its severity and runbook are its rule in
// shared/alarmrelay (the relay maps its notifications with the same rule);
// it notifies the alarms topic, which the relay reads, and an alarm on the
// relay itself (Rule.Direct) the alerts topic as well.
func (s *Automation) alarm(a alarmSpec) awscloudwatch.Alarm {
	if a.evals == 0 {
		a.evals = 1
	}
	rule, ok := alarmrelay.RuleFor(a.id)
	if !ok {
		awscdk.Annotations_Of(s.Stack).AddError(jsii.String("alarm " + a.id + " has no rule in shared/alarmrelay"))
	}
	name := AlarmName(*s.StackName(), a.id)
	al := awscloudwatch.NewAlarm(s.Stack, jsii.String(a.id), &awscloudwatch.AlarmProps{
		AlarmName:          jsii.String(name),
		AlarmDescription:   jsii.String(AlarmDescription(a.desc, s.cfg.Deployment.RunbookBaseURL, rule.RunbookPage())),
		Metric:             a.metric,
		ComparisonOperator: a.op,
		Threshold:          jsii.Number(a.threshold),
		EvaluationPeriods:  jsii.Number(a.evals),
		DatapointsToAlarm:  jsii.Number(a.evals),
		TreatMissingData:   a.missing,
	})
	topics := []awssns.ITopic{s.AlarmsTopic}
	if rule.Direct {
		topics = append(topics, s.Alerts)
		s.directAlarms = append(s.directAlarms, name)
	}
	for _, t := range topics {
		action := awscloudwatchactions.NewSnsAction(t)
		al.AddAlarmAction(action)
		al.AddOkAction(action)
	}
	s.alarmNames = append(s.alarmNames, name)
	return al
}

func (s *Automation) alarms() {
	five := awscdk.Duration_Minutes(jsii.Number(5))
	gt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	quiet := awscloudwatch.TreatMissingData_NOT_BREACHING

	s.alarm(alarmSpec{id: "StaleAccountRegionsAlarm", desc: "account × Region pairs stopped delivering",
		metric: metric(watchdog.MetricStaleAccountRegions, FnWatchdog, "Maximum", five), op: gt, missing: quiet})
	s.alarm(alarmSpec{id: "SecurityFindingsAlarm", desc: "deliveries from outside the organization or with foreign keys",
		metric: metric(verifier.MetricSecurityFindings, FnVerifier, "Sum", five), op: gt, missing: quiet})
	s.alarm(alarmSpec{id: "NoDeliveriesAlarm", desc: fmt.Sprintf("no CloudTrail log file delivered anywhere in the organization for %d minutes", NoDeliveriesMinutes),
		metric: awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(NoDeliveriesQuery),
			Label:      jsii.String("log files delivered (all Regions)"),
			Period:     five,
		}),
		op: awscloudwatch.ComparisonOperator_LESS_THAN_OR_EQUAL_TO_THRESHOLD, threshold: 0, evals: NoDeliveriesMinutes / 5,
		missing: awscloudwatch.TreatMissingData_BREACHING})
	// The watchdog's heartbeat: if it stops running, nothing else notices
	// silence. Lambda's Invocations (free) counts every run, failed ones
	// included (the errors alarm covers those) and throttled ones excluded
	// (Lambda Developer Guide, "Types of metrics for Lambda functions").
	hb := math.Max(15, 3*s.cfg.Deployment.Schedules.Watchdog.Minutes())
	s.alarm(alarmSpec{id: "WatchdogNotRunningAlarm", desc: "the watchdog has not run",
		metric: s.Watchdog.Fn.MetricInvocations(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(hb))}),
		op:     awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, threshold: 1,
		missing: awscloudwatch.TreatMissingData_BREACHING})
	// A backlog in the delivery queue delays detection, whatever its cause
	// (throttles, too few verifier instances, slow DynamoDB): one alarm on
	// SQS's free metric instead of one throttles alarm per function.
	s.alarm(alarmSpec{id: "DeliveriesQueueAgeAlarm", desc: fmt.Sprintf("the delivery queue's oldest message is over %d seconds old", DeliveryQueueAgeSeconds),
		metric: s.DeliveryQueue.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: five}),
		op:     gt, threshold: DeliveryQueueAgeSeconds, evals: 2, missing: quiet})
	for _, id := range sortedKeys(s.dlqs) {
		s.alarm(alarmSpec{id: id + "DepthAlarm", desc: "messages in the " + id + " dead-letter queue",
			metric: s.dlqs[id].MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: five}),
			op:     gt, missing: quiet})
	}
	for _, f := range s.functions {
		name := *f.Node().Id()
		s.alarm(alarmSpec{id: name + "ErrorsAlarm", desc: "errors in the " + name + " function",
			metric: f.Fn.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five}), op: gt, missing: quiet})
	}
	s.directAlarmsPolicy()
}
