package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailwarden/trailwarden/shared/alarmrelay"
	"github.com/trailwarden/trailwarden/shared/settings"
)

// The alarm relay's tuning: a record is one Publish.
const (
	AlarmRelayTimeoutSeconds = 30
	AlarmRelayMaxReceive     = 5
	AlarmRelayBatchSize      = 10
	// AlarmRelayMaxConcurrency: the fewest instances an SQS event source
	// allows; a burst of state changes is a handful of messages.
	AlarmRelayMaxConcurrency = 2
)

// alarmRelay deploys the path of the alarms' notifications: the alarms
// topic (only this stack's alarms may publish) → the relay queue (SQS
// managed encryption, DLQ after AlarmRelayMaxReceive receives) → the relay
// function, which publishes each ALARM and OK on the alerts topic with the
// alert attributes (docs/alerts.md, "CloudWatch alarms"). The queue, not
// Lambda's asynchronous retries, holds a notification until it is
// published: a failed publish fails only its record, SQS delivers it again,
// the DLQ keeps what never went out and its alarm says so.
func (s *Automation) alarmRelay(assetDirs map[string]string) {
	cfg, d := s.cfg, s.cfg.Deployment
	s.AlarmRelayQueue, s.AlarmRelayDLQ = s.queuePair(alarmrelay.RelayID+"Queue", "", VisibilityFactor*AlarmRelayTimeoutSeconds, AlarmRelayMaxReceive)
	s.AlarmsTopic = awssns.NewTopic(s.Stack, jsii.String("AlarmNotifications"), &awssns.TopicProps{
		DisplayName: jsii.String("trailwarden alarms (relayed to the alerts topic)"),
		MasterKey:   s.AlertsKey,
		EnforceSSL:  jsii.Bool(true),
	})
	s.AlarmsTopic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{s.AlarmsTopic.TopicArn()},
		Conditions: s.alarmConditions(AlarmName(*s.StackName(), "*")),
	}))
	// Raw delivery off: the relay checks the envelope's TopicArn.
	s.AlarmsTopic.AddSubscription(awssnssubscriptions.NewSqsSubscription(s.AlarmRelayQueue, &awssnssubscriptions.SqsSubscriptionProps{
		RawMessageDelivery: jsii.Bool(false),
	}))
	env := baseEnv(cfg)
	env[settings.EnvAlertsTopicARN] = s.Alerts.TopicArn()
	env[settings.EnvAlarmsTopicARN] = s.AlarmsTopic.TopicArn()
	env[settings.EnvAlarmNamePrefix] = jsii.String(AlarmName(*s.StackName(), ""))
	env[settings.EnvRunbookBaseURL] = jsii.String(d.RunbookBaseURL)
	f := NewFunction(s.Stack, alarmrelay.RelayID, FunctionProps{
		Name:         FnAlarmRelay,
		AssetDir:     assetDirs[FnAlarmRelay],
		Timeout:      awscdk.Duration_Seconds(jsii.Number(AlarmRelayTimeoutSeconds)),
		MemoryMB:     DefaultMemoryMB,
		Env:          env,
		LogRetention: retentionByDays[d.LogRetentionDays],
		Description:  "trailwarden: relays the CloudWatch alarms' notifications to the alerts topic as alerts",
	})
	s.functions = append(s.functions, f)
	s.AlarmRelay = f
	// Publish on the alerts topic (and its key), nothing else: no bus, no
	// Security Hub, no table.
	s.Alerts.GrantPublish(f.Role)
	f.Fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(s.AlarmRelayQueue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(AlarmRelayBatchSize),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(AlarmRelayMaxConcurrency),
	}))
}

// directAlarmsPolicy lets the alarms on the relay itself (Rule.Direct)
// publish to the alerts topic: by their exact names, nothing else. Their
// direct notification carries no attributes; the relayed one does, when
// the relay works (docs/alerts.md).
func (s *Automation) directAlarmsPolicy() {
	if len(s.directAlarms) == 0 {
		return
	}
	s.Alerts.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("RelayAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{s.Alerts.TopicArn()},
		Conditions: s.alarmConditions(s.directAlarms...),
	}))
}
