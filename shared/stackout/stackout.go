// Package stackout names the CloudFormation outputs through which
// trailwarden's stacks tell the CLI what they deployed: the stacks export
// them, the CLI reads them (DescribeStacks) to find a deployment. One name
// per output, here only.
package stackout

import "github.com/trailwarden/trailwarden/shared/settings"

// Output keys of the automation stack.
const (
	AccountsTable    = "AccountsTable"
	LedgerTable      = "LedgerTable"
	JournalTable     = "JournalTable"
	IncidentsTable   = "IncidentsTable"
	RequestQueueURL  = "RequestQueueUrl"
	DeliveryQueueURL = "DeliveryQueueUrl"
	AlertsTopicARN   = "AlertsTopicArn"
	EventBusName     = "EventBusName"
	// OrgReaderRoleARN is absent in single-account mode (no management stack).
	OrgReaderRoleARN = "OrgReaderRoleArn"
	HomeRegion       = "HomeRegion"
	// LedgerItemInterval is deployment.ledger.itemInterval, which the CLI's
	// status needs to read the journal far enough back.
	LedgerItemInterval = "LedgerItemInterval"
)

// Output keys of the central and management stacks.
const (
	LogBucketName      = "LogBucketName"
	LogKeyARN          = "LogKeyArn"
	DeliveriesTopicARN = "DeliveriesTopicArn"
	MemberStackSetName = "MemberStackSetName"
)

// FunctionName is the output key holding a function's name ("enabler" →
// "EnablerFunctionName").
func FunctionName(fn string) string {
	if fn == "" {
		return "FunctionName"
	}
	return string(fn[0]-'a'+'A') + fn[1:] + "FunctionName"
}

// Env maps the automation stack's outputs to the environment variables the
// functions read the same values from (and the CLI accepts as overrides).
var Env = map[string]string{
	AccountsTable:      settings.EnvAccountsTable,
	LedgerTable:        settings.EnvLedgerTable,
	JournalTable:       settings.EnvJournalTable,
	IncidentsTable:     settings.EnvIncidentsTable,
	RequestQueueURL:    settings.EnvRequestQueueURL,
	AlertsTopicARN:     settings.EnvAlertsTopicARN,
	OrgReaderRoleARN:   settings.EnvOrgReaderRoleARN,
	LedgerItemInterval: settings.EnvLedgerItemInterval,
}
