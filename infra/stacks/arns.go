package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
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

// trailARNPattern matches trailwarden's trail in any account and Region.
func trailARNPattern(trailName string) string {
	return arn("cloudtrail", "*", "*", "trail/"+trailName)
}

// DeliveriesTopicARN is the central deliveries topic.
func (c *Config) DeliveriesTopicARN() string {
	return arn("sns", c.HomeRegion, c.LoggingAccount, c.TopicName)
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

// logsPrefix is the bucket prefix CloudTrail writes under, with a trailing
// "/" ("" for none).
func (c *Config) logsPrefix() string {
	if c.Prefix == "" {
		return ""
	}
	return strings.TrimSuffix(c.Prefix, "/") + "/"
}

// LogObjectsARN matches every object CloudTrail writes to the bucket:
// <bucket>/[prefix/]AWSLogs/* (account and organization-trail paths alike).
func (c *Config) LogObjectsARN() string {
	return fmt.Sprintf("arn:%s:s3:::%s/%sAWSLogs/*", partition(), c.Bucket, c.logsPrefix())
}

// BucketARN is the central bucket.
func (c *Config) BucketARN() string { return fmt.Sprintf("arn:%s:s3:::%s", partition(), c.Bucket) }

// writerConditions admit CloudTrail writes from trailwarden's trail in the
// organization's accounts (see docs/deploy.md, "Bucket policy decision").
func (c *Config) writerConditions(extraEquals map[string]any) map[string]any {
	equals := map[string]any{}
	for k, v := range extraEquals {
		equals[k] = v
	}
	switch {
	case c.Deployment.SingleAccount:
		equals["aws:SourceAccount"] = c.LoggingAccount
	case c.Deployment.Bucket.WriterScope == "accounts":
		equals["aws:SourceAccount"] = c.Deployment.Bucket.WriterAccounts
	default:
		equals["aws:SourceOrgID"] = c.OrgID
	}
	return map[string]any{
		"StringEquals": equals,
		"StringLike":   map[string]any{"aws:SourceArn": trailARNPattern(c.TrailName)},
	}
}
