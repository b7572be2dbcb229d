package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/trailwarden/trailwarden/shared/centralpolicy"
	"github.com/trailwarden/trailwarden/shared/deployment"
)

// partition is the deploy-time partition token (AWS::Partition): no ARN in
// trailwarden's templates spells a literal "arn:aws".
func partition() string { return *awscdk.Aws_PARTITION() }

func arn(service, region, account, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", partition(), service, region, account, resource)
}

// roleARNPattern matches every role of a function in the automation account,
// whatever name CloudFormation generated (see RolePath).
func roleARNPattern(account, fn string) string {
	return arn("iam", "", account, "role"+RolePath(fn)+"*")
}

// DeliveriesTopicARN is the central deliveries topic.
func (c *Config) DeliveriesTopicARN() string {
	return arn("sns", c.HomeRegion, c.LoggingAccount, c.TopicName)
}

// DeliveryQueueName is the delivery queue's physical name: the logging
// account's digest rule targets the queue by ARN, before the automation
// stack exists. It is derived from the central bus's name, which is unique
// in the automation account and Region; SQS allows letters, digits, '-' and
// '_' and 80 characters (SQS Developer Guide, "Amazon SQS queue quotas").
func (c *Config) DeliveryQueueName() string {
	const suffix = "-deliveries"
	base := strings.ReplaceAll(c.Deployment.Names.EventBus, ".", "_")
	if max := 80 - len(suffix); len(base) > max {
		base = base[:max]
	}
	return base + suffix
}

// DeliveryQueueARN is the delivery queue in the automation account.
func (c *Config) DeliveryQueueARN() string {
	return arn("sqs", c.HomeRegion, c.Deployment.AutomationAccount, c.DeliveryQueueName())
}

// EventBusARN is the central event bus in the automation account.
func (c *Config) EventBusARN() string {
	return arn("events", c.HomeRegion, c.Deployment.AutomationAccount, "event-bus/"+c.Deployment.Names.EventBus)
}

// OrgReaderRoleARN is the read-only Organizations role in the management
// account.
func (c *Config) OrgReaderRoleARN() string {
	return arn("iam", "", c.ManagementAccount, "role/"+c.Deployment.Names.OrgReaderRole)
}

// MemberRoleARNPattern is the member role in every account.
func (c *Config) MemberRoleARNPattern() string {
	return arn("iam", "", "*", "role/"+c.MemberRole)
}

// LogObjectsARN matches every object CloudTrail writes to the bucket:
// <bucket>/[prefix/]AWSLogs/* (account and organization-trail paths alike).
func (c *Config) LogObjectsARN() string { return c.centralInputs().LogObjectsARN() }

// DigestObjectsARN matches the digest files under the log objects
// (account and organization paths: "*" spans "/" in an S3 ARN).
func (c *Config) DigestObjectsARN() string {
	return strings.TrimSuffix(c.LogObjectsARN(), "*") + "*/CloudTrail-Digest/*"
}

// BucketARN is the central bucket.
func (c *Config) BucketARN() string { return c.centralInputs().BucketARN() }

// writers are the trails the central bucket, key and topic admit (see
// docs/deploy.md, "Bucket policy decision"): trailwarden's trail name, from
// the accounts CloudTrail documents as aws:SourceAccount — the one account in
// single-account mode, the listed writer accounts, or the management account
// of an organization trail — or, as an explicit option, from the
// organization (aws:SourceOrgID).
func (c *Config) writers() centralpolicy.Writers {
	d := c.Deployment
	w := centralpolicy.Writers{Partition: partition(), TrailName: c.TrailName}
	switch {
	case d.SingleAccount:
		w.Accounts = []string{c.LoggingAccount}
	case d.Bucket.WriterScope == deployment.WriterScopeOrganization:
		w.OrgID = c.OrgID
	case len(d.Bucket.WriterAccounts) > 0:
		w.Accounts = d.Bucket.WriterAccounts
	case c.OrganizationTrail:
		w.Accounts = []string{c.ManagementAccount}
	}
	return w
}

func (c *Config) centralInputs() centralpolicy.Inputs {
	return centralpolicy.Inputs{Writers: c.writers(), Bucket: c.Bucket, Prefix: c.Prefix, TopicARN: c.DeliveriesTopicARN()}
}

// ForwarderRolePath is the IAM path of every role that puts events on the
// central bus (the digest, Organizations and tamper forwarders): the bus
// policy admits aws:PrincipalArn arn:<partition>:iam::*:role<path>* in the
// organization.
const ForwarderRolePath = "/trailwarden/forwarder/"

// listLogsCondition limits s3:ListBucket to the prefix CloudTrail writes
// under.
func (c *Config) listLogsCondition() map[string]any {
	in := c.centralInputs()
	objects := in.LogObjectsARN()
	return map[string]any{"StringLike": map[string]any{"s3:prefix": objects[len(in.BucketARN())+1:]}}
}
