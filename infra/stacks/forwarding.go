package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// busTarget is the central bus as a rule target in another account, with a
// dead-letter queue in the rule's account: a cross-account target drops an
// event once its retry policy (24 hours) is spent unless the target has a
// DeadLetterConfig (EventBridge User Guide, "Using dead-letter queues to
// process undelivered events"). An alarm in the rule's account fires on the
// first dead letter. CloudWatch documents no alarm action on another
// account's topic, so the alarm has none there: the doctor, the dashboard of
// that account, or an EventBridge rule on the alarm's state change carry it.
// withAlarm is false for the member template, which every member account
// gets: an alarm there would cost $0.10 a month per account (CloudWatch
// pricing, standard-resolution alarm metric), $10,000 a month at 100,000
// accounts, for events whose loss the watchdog's staleness check and the
// scheduled reconcile catch anyway (a stopped or changed trail is found and
// repaired without its tamper event); the queue itself costs nothing at
// rest and keeps the dropped events 14 days for an investigation.
func busTarget(scope constructs.Construct, cfg *Config, role awsiam.IRole, withAlarm bool) awsevents.IRuleTarget {
	dlq := forwardDLQ(scope)
	if withAlarm {
		forwardDLQAlarm(scope, dlq)
	}
	return awseventstargets.NewEventBus(
		awsevents.EventBus_FromEventBusArn(scope, jsii.String("CentralBus"), jsii.String(cfg.EventBusARN())),
		&awseventstargets.EventBusProps{Role: role, DeadLetterQueue: dlq},
	)
}

// queueTarget makes a queue in another account (by ARN) the rules' target,
// sent as role, with the same dead-letter queue and alarm as busTarget.
// CDK's target classes refuse a cross-account target other than a bus
// (they predate EventBridge's cross-account targets), so the target is
// the rule's CloudFormation property: Arn, RoleArn (required for a
// cross-account target; an SQS target in the same account, single-account
// mode, accepts one too: EventBridge User Guide, "Using resource-based
// policies for Amazon EventBridge"), DeadLetterConfig. The queue is
// SSE-SQS, not SSE-KMS, which that page warns against with a role.
func queueTarget(scope constructs.Construct, rules []awsevents.Rule, queueARN string, role awsiam.IRole) {
	dlq := forwardDLQ(scope)
	forwardDLQAlarm(scope, dlq)
	// EventBridge writes dead letters as the service, for these rules only
	// (EventBridge User Guide, "Granting permissions to the dead-letter queue").
	sources := []*string{}
	for _, r := range rules {
		sources = append(sources, r.RuleArn())
	}
	dlq.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("RuleDeadLetters"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sqs:SendMessage"),
		Resources:  &[]*string{dlq.QueueArn()},
		Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": sources}},
	}))
	for _, r := range rules {
		cfn := r.Node().DefaultChild().(awsevents.CfnRule)
		cfn.AddPropertyOverride(jsii.String("Targets"), []map[string]any{{
			"Id":               "DeliveryQueue",
			"Arn":              queueARN,
			"RoleArn":          role.RoleArn(),
			"DeadLetterConfig": map[string]any{"Arn": dlq.QueueArn()},
		}})
	}
}

func forwardDLQ(scope constructs.Construct) awssqs.Queue {
	dlq := awssqs.NewQueue(scope, jsii.String("ForwardDLQ"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(dlq, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is the forwarding rule's EventBridge dead-letter queue (DeadLetterConfig), which cdk-nag does not recognise as one."),
	}}, jsii.Bool(true))
	return dlq
}

// forwardDLQAlarm fires on the first dead letter of a forwarding rule.
func forwardDLQAlarm(scope constructs.Construct, dlq awssqs.Queue) {
	awscloudwatch.NewAlarm(scope, jsii.String("ForwardDLQAlarm"), &awscloudwatch.AlarmProps{
		AlarmName:        jsii.String(AlarmName(*awscdk.Stack_Of(scope).StackName(), "ForwardDLQAlarm")),
		AlarmDescription: jsii.String("trailwarden: forwarded events were dropped after EventBridge's retries (forwarding dead-letter queue not empty)"),
		Metric: dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
		}),
		Threshold:          jsii.Number(0),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}
