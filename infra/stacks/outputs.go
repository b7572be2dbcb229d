package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailwarden/trailwarden/shared/stackout"
)

// output adds one CloudFormation output (AWS CloudFormation User Guide,
// "Outputs"): the CLI reads them with DescribeStacks to find a deployment.
func output(stack awscdk.Stack, key string, value *string, desc string) {
	awscdk.NewCfnOutput(stack, jsii.String(key), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
}

// outputs exports every name the CLI needs from the automation stack.
func (s *Automation) outputs() {
	cfg := s.cfg
	output(s.Stack, stackout.HomeRegion, jsii.String(cfg.HomeRegion), "trailwarden's home Region (its tables, queues and functions)")
	output(s.Stack, stackout.AccountsTable, s.Accounts.TableName(), "accounts table")
	output(s.Stack, stackout.LedgerTable, s.Ledger.TableName(), "arrival ledger table")
	output(s.Stack, stackout.JournalTable, s.Journal.TableName(), "arrival journal table")
	output(s.Stack, stackout.IncidentsTable, s.Incidents.TableName(), "incidents table")
	output(s.Stack, stackout.RequestQueueURL, s.RequestQueue.QueueUrl(), "converge request queue")
	output(s.Stack, stackout.DeliveryQueueURL, s.DeliveryQueue.QueueUrl(), "delivery notification queue")
	output(s.Stack, stackout.AlertsTopicARN, s.Alerts.TopicArn(), "alerts topic")
	output(s.Stack, stackout.EventBusName, s.Bus.EventBusName(), "central event bus")
	output(s.Stack, stackout.LedgerItemInterval, jsii.String(cfg.Deployment.Ledger.ItemInterval.String()), "deployment.ledger.itemInterval")
	if !cfg.Deployment.SingleAccount {
		output(s.Stack, stackout.OrgReaderRoleARN, jsii.String(cfg.OrgReaderRoleARN()), "read-only Organizations role in the management account")
	}
	for i, f := range []*Function{s.Enabler, s.Reconciler, s.Verifier, s.Watchdog, s.AlarmRelay} {
		output(s.Stack, stackout.FunctionName(Functions[i]), f.Fn.FunctionName(), "function name")
	}
}

// outputs exports the management stack's names.
func (s *Management) outputs() {
	output(s.Stack, stackout.OrgReaderRoleARN, s.OrgReader.RoleArn(), "read-only Organizations role")
	output(s.Stack, stackout.MemberStackSetName, jsii.String(MemberStackSetName), "member-access StackSet")
}
