package stacks

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/trailwarden/trailwarden/shared/settings"
)

// nagARN renders an ARN the way cdk-nag prints it in a finding: the
// partition token as <AWS::Partition>, the account token as <AWS::AccountId>.
func nagARN(service, region, account, resource string) string {
	return "Resource::arn:<AWS::Partition>:" + service + ":" + region + ":" + account + ":" + resource
}

// nagIAM5 suppresses AwsSolutions-IAM5 (wildcards) for exactly the listed
// findings on c and its children, with a reason.
func nagIAM5(c constructs.IConstruct, reason string, appliesTo ...string) {
	list := make([]any, 0, len(appliesTo))
	for _, a := range appliesTo {
		list = append(list, a)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(reason), AppliesTo: &list,
	}}, jsii.Bool(true))
}

// suppress records every accepted cdk-nag finding with its reason. Each one
// names the exact action or resource it accepts, so a new wildcard still
// fails synth.
func suppress(s *Stacks, cfg *Config) {
	if a := s.Automation; a != nil {
		for _, f := range a.functions {
			reasons := []string{"Publishing to the KMS-encrypted alerts topic needs kms:GenerateDataKey* (CDK's grantPublish); the statement names only the alerts key."}
			applies := []string{"Action::kms:GenerateDataKey*"}
			if (f == a.Enabler || f == a.Watchdog) && !cfg.Deployment.SingleAccount {
				reasons = append(reasons, "The member role exists in every member account, so the account is a wildcard; aws:ResourceOrgID limits it to the organization's accounts.")
				role := cfg.MemberRole
				if f == a.Watchdog {
					role = settings.WatchdogMemberRole
				}
				applies = append(applies, nagARN("iam", "", "*", "role/"+role))
			}
			if f == a.Verifier && cfg.Deployment.ObjectCheck != "none" {
				reasons = append(reasons, "The verifier HEADs any CloudTrail object it is notified about; keys vary by account, Region and date, so the key is a wildcard under <prefix>/AWSLogs/ in the one central bucket.")
				applies = append(applies, "Resource::arn:<AWS::Partition>:s3:::"+strings.TrimPrefix(cfg.LogObjectsARN(), "arn:"+partition()+":s3:::"))
			}
			if f == a.Verifier {
				reasons = append(reasons, "The verifier verifies every digest it is notified about (shared/integritywatch): cloudtrail:ListPublicKeys supports no resource-level permission; digest keys vary by account, Region and date (a wildcard under <prefix>/AWSLogs/*/CloudTrail-Digest/); kms:Decrypt names the logging account's keys and only through S3 (kms:ViaService), the central key's policy naming the one key.")
				applies = append(applies, "Resource::*", "Resource::arn:<AWS::Partition>:s3:::"+strings.TrimPrefix(cfg.DigestObjectsARN(), "arn:"+partition()+":s3:::"),
					nagARN("kms", "*", cfg.LoggingAccount, "key/*"))
				if cfg.Deployment.Integrity.LogFiles != "none" && cfg.Deployment.ObjectCheck == "none" {
					applies = append(applies, "Resource::arn:<AWS::Partition>:s3:::"+strings.TrimPrefix(cfg.LogObjectsARN(), "arn:"+partition()+":s3:::"))
				}
			}
			nagIAM5(f.Role, strings.Join(reasons, " "), applies...)
		}
	}
	if m := s.Management; m != nil {
		nagIAM5(m.OrgReader, "organizations:ListAccounts, ListRoots and DescribeOrganization support no resource-level permissions; every action here is read-only.", "Resource::*")
		if m.OrgTrailPolicy != nil {
			nagIAM5(m.OrgTrailPolicy, "An organization trail needs CloudTrail's service-linked role (its path is fixed by AWS); organizations:EnableAWSServiceAccess (conditioned on CloudTrail's service principal), ListAWSServiceAccessForOrganization, DescribeOrganization and ListAccounts support no resource-level permissions.",
				"Resource::*", nagARN("iam", "", cfg.ManagementAccount, "role/aws-service-role/cloudtrail.amazonaws.com/*"))
		}
	}
	if m := s.Member; m != nil {
		memberSuppressions(m.Access, cfg)
	}
}

func memberSuppressions(m *MemberAccess, cfg *Config) {
	reasons := []string{"cloudtrail:DescribeTrails supports no resource-level permission.",
		"GetTrailStatus is asked of the trail's shadow copies in every Region of a multi-Region trail, so the Region is a wildcard; the trail name is fixed."}
	applies := []string{"Resource::*", nagARN("cloudtrail", "*", "<AWS::AccountId>", "trail/"+cfg.TrailName)}
	if len(cfg.LogGroupNames) > 0 {
		reasons = append(reasons,
			"CloudTrail's CloudWatch Logs delivery role writes to every stream of the policy's log groups (log-stream:*), as CloudTrail names the streams.",
			"logs:DescribeLogGroups supports only log-group:*.",
			"A log group's ARN as CloudWatch Logs evaluates it ends in :*.")
		applies = append(applies,
			nagARN("logs", cfg.HomeRegion, "<AWS::AccountId>", "log-group:*"))
		for _, g := range cfg.LogGroupNames {
			applies = append(applies, nagARN("logs", cfg.HomeRegion, "<AWS::AccountId>", "log-group:"+g+":*"),
				nagARN("logs", cfg.HomeRegion, "<AWS::AccountId>", "log-group:"+g+":log-stream:*"))
		}
	}
	if cfg.OrganizationTrail {
		reasons = append(reasons, "An organization trail needs CloudTrail's service-linked role (its path is fixed by AWS) and organizations:DescribeOrganization, which has no resource-level permission.")
		applies = append(applies, nagARN("iam", "", "<AWS::AccountId>", "role/aws-service-role/cloudtrail.amazonaws.com/*"))
	}
	nagIAM5(m.Construct, strings.Join(reasons, " "), applies...)
}

// checkovSkip records an accepted checkov finding on c's CloudFormation
// resource, with its reason (checkov reads Metadata.checkov.skip).
func checkovSkip(c constructs.IConstruct, id, comment string) {
	res, ok := c.Node().DefaultChild().(awscdk.CfnResource)
	if !ok {
		panic("checkovSkip: " + *c.Node().Path() + " has no CloudFormation resource")
	}
	res.AddMetadata(jsii.String("checkov"), map[string]any{
		"skip": []map[string]string{{"id": id, "comment": comment}},
	})
}
