package stacks

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/settings"
)

// TamperEventNames are the CloudTrail API calls on a trail that the tamper
// guard forwards to the central bus.
var TamperEventNames = []string{"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors", "RemoveTags"}

// MemberTrailActions are the CloudTrail calls the enabler makes in a member
// account, on trailwarden's trail only. No DeleteTrail, StopLogging:
// trailwarden never removes or stops a trail.
var MemberTrailActions = []string{
	"cloudtrail:CreateTrail", "cloudtrail:UpdateTrail", "cloudtrail:GetTrail", "cloudtrail:GetTrailStatus",
	"cloudtrail:StartLogging", "cloudtrail:PutEventSelectors", "cloudtrail:GetEventSelectors",
	"cloudtrail:PutInsightSelectors", "cloudtrail:GetInsightSelectors",
	"cloudtrail:AddTags", "cloudtrail:RemoveTags", "cloudtrail:ListTags",
}

// WatchdogTrailActions are the only calls the watchdog's diagnosis makes in
// a member account (shared/watchdog Diagnoser): reads.
var WatchdogTrailActions = []string{"cloudtrail:GetTrail", "cloudtrail:GetTrailStatus"}

// MemberAccess is what trailwarden needs in each member account: the
// enabler's narrow member role; the watchdog's read-only role; when any
// trail delivers to CloudWatch Logs, the role CloudTrail assumes for that;
// and the tamper guard, an EventBridge rule that forwards CloudTrail API
// calls on trails to the central bus.
type MemberAccess struct {
	constructs.Construct
	Role         awsiam.Role
	WatchdogRole awsiam.Role
	LogsRole     awsiam.Role // nil when no trail delivers to CloudWatch Logs
	TamperGuard  awsevents.Rule
	// The operators' roles (operators.go); nil when their principal list
	// is empty.
	OperatorReadRole, OperatorConvergeRole awsiam.Role
}

// NewMemberAccess builds the member roles and the tamper guard. Every ARN is
// built with AWS::AccountId and AWS::Partition so one template serves every
// account (the StackSet). No role here may write IAM: the CloudWatch Logs
// delivery role is created by this template, never by the engine.
func NewMemberAccess(scope constructs.Construct, id string, cfg *Config) *MemberAccess {
	c := constructs.NewConstruct(scope, jsii.String(id))
	m := &MemberAccess{Construct: c}
	auto := cfg.Deployment.AutomationAccount
	self := *awscdk.Aws_ACCOUNT_ID()

	m.Role = awsiam.NewRole(c, jsii.String("MemberRole"), &awsiam.RoleProps{
		// Physical name: the enabler assumes it by name in every account
		// (organization.memberRole; policy.CheckMemberRoleName refuses names
		// AWS or Control Tower create).
		RoleName:    jsii.String(cfg.MemberRole),
		Description: jsii.String("trailwarden: converges this account's trail"),
		AssumedBy: awsiam.NewAccountPrincipal(jsii.String(auto)).WithConditions(&map[string]any{
			"ArnLike": map[string]any{"aws:PrincipalArn": []string{roleARNPattern(auto, FnEnabler)}},
		}),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	m.WatchdogRole = awsiam.NewRole(c, jsii.String("WatchdogRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(settings.WatchdogMemberRole),
		Description: jsii.String("trailwarden: the watchdog reads this account's trail status"),
		AssumedBy: awsiam.NewAccountPrincipal(jsii.String(auto)).WithConditions(&map[string]any{
			"ArnLike": map[string]any{"aws:PrincipalArn": []string{roleARNPattern(auto, FnWatchdog)}},
		}),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	// GetTrailStatus is also asked of the trail's shadow copies in the other
	// Regions of a multi-Region trail, whose ARNs carry those Regions.
	anyRegionTrail := arn("cloudtrail", "*", self, "trail/"+cfg.TrailName)
	m.WatchdogRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("ReadOwnTrail"), Actions: jsii.Strings(WatchdogTrailActions...), Resources: jsii.Strings(anyRegionTrail),
	}))

	trail := arn("cloudtrail", cfg.HomeRegion, self, "trail/"+cfg.TrailName)
	stmts := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("OwnTrail"), Actions: jsii.Strings(MemberTrailActions...), Resources: jsii.Strings(trail),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("OwnTrailStatusAnyRegion"), Actions: jsii.Strings("cloudtrail:GetTrailStatus"), Resources: jsii.Strings(anyRegionTrail),
		}),
		// DescribeTrails has no resource-level permission.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("DescribeTrails"), Actions: jsii.Strings("cloudtrail:DescribeTrails"), Resources: jsii.Strings("*"),
		}),
	}
	if len(cfg.LogGroupNames) > 0 {
		m.LogsRole = newLogsRole(c, cfg, self)
		stmts = append(stmts, logsStatements(cfg, self)...)
	}
	if cfg.OrganizationTrail {
		// An organization trail is created in the management account and
		// needs CloudTrail's service-linked role and a look at the
		// organization (CloudTrail user guide, organization trails).
		stmts = append(stmts,
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("OrganizationTrailServiceLinkedRole"),
				Actions:    jsii.Strings("iam:CreateServiceLinkedRole"),
				Resources:  jsii.Strings(arn("iam", "", self, "role/aws-service-role/cloudtrail.amazonaws.com/*")),
				Conditions: &map[string]any{"StringEquals": map[string]any{"iam:AWSServiceName": "cloudtrail.amazonaws.com"}},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("OrganizationTrailOrganization"),
				Actions:   jsii.Strings("organizations:DescribeOrganization", "organizations:ListAWSServiceAccessForOrganization"),
				Resources: jsii.Strings("*"),
			}),
		)
	}
	m.operatorRoles(c, cfg, self)
	roles := []awsiam.IRole{m.Role}
	if m.OperatorConvergeRole != nil {
		// An operator's converge may do what the enabler does, no more.
		roles = append(roles, m.OperatorConvergeRole)
	}
	awsiam.NewPolicy(c, jsii.String("MemberPolicy"), &awsiam.PolicyProps{
		Statements: &stmts,
		Roles:      &roles,
	})

	m.TamperGuard = newTamperGuard(c, cfg)
	return m
}

// newTamperGuard forwards CloudTrail API calls that stop or change a trail
// to the central bus.
func newTamperGuard(c constructs.Construct, cfg *Config) awsevents.Rule {
	// Tamper guard. EventBridge has these events only while a trail logs
	// management events in this account (trailwarden's does).
	fwd := awsiam.NewRole(c, jsii.String("TamperForwardRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		Path:        jsii.String(ForwarderRolePath),
		Description: jsii.String("trailwarden: forwards trail tamper events to the central bus"),
	})
	fwd.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("PutToCentralBus"), Actions: jsii.Strings("events:PutEvents"), Resources: jsii.Strings(cfg.EventBusARN()),
	}))
	return awsevents.NewRule(c, jsii.String("TamperGuard"), &awsevents.RuleProps{
		Description:  jsii.String("trailwarden: CloudTrail API calls that stop or change a trail"),
		EventPattern: TamperEventPattern(),
		Targets:      &[]awsevents.IRuleTarget{busTarget(c, cfg, fwd, false)},
	})
}

// newLogsRole is the role CloudTrail assumes to deliver to the policy's log
// groups (policy.LogsRoleName): logs:CreateLogStream and logs:PutLogEvents on
// their streams only (CloudTrail User Guide, "Role policy document for
// CloudTrail to use CloudWatch Logs for monitoring"). Its trust has no
// aws:SourceArn or aws:SourceAccount condition: the same page says this role
// does not support them.
func newLogsRole(c constructs.Construct, cfg *Config, self string) awsiam.Role {
	r := awsiam.NewRole(c, jsii.String("CloudWatchLogsRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(policy.LogsRoleName),
		Description: jsii.String("trailwarden: lets CloudTrail deliver trail events to CloudWatch Logs"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("cloudtrail.amazonaws.com"), nil),
	})
	var streams []string
	for _, g := range cfg.LogGroupNames {
		streams = append(streams, arn("logs", cfg.HomeRegion, self, "log-group:"+g+":log-stream:*"))
	}
	r.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("CloudTrailDelivery"), Actions: jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"), Resources: jsii.Strings(streams...),
	}))
	return r
}

// logsStatements let the enabler point the trail at the delivery role
// (iam:PassRole to CloudTrail only) and create the policy's log groups.
func logsStatements(cfg *Config, self string) []awsiam.PolicyStatement {
	var groups []string
	for _, g := range cfg.LogGroupNames {
		groups = append(groups, arn("logs", cfg.HomeRegion, self, "log-group:"+g), arn("logs", cfg.HomeRegion, self, "log-group:"+g+":*"))
	}
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("PassLogsDeliveryRole"),
			Actions:    jsii.Strings("iam:PassRole"),
			Resources:  jsii.Strings(arn("iam", "", self, "role/"+policy.LogsRoleName)),
			Conditions: &map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "cloudtrail.amazonaws.com"}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("DescribeLogGroups"),
			Actions:   jsii.Strings("logs:DescribeLogGroups"),
			Resources: jsii.Strings(arn("logs", cfg.HomeRegion, self, "log-group:*")),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("TrailLogGroups"),
			Actions:   jsii.Strings("logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:TagResource"),
			Resources: jsii.Strings(groups...),
		}),
	}
}

// TamperEventPattern matches CloudTrail API calls that stop or change a
// trail. The trail is not filtered here (its name sits in different request
// fields per call); the enabler decides.
func TamperEventPattern() *awsevents.EventPattern {
	return &awsevents.EventPattern{
		Source:     jsii.Strings("aws.cloudtrail"),
		DetailType: jsii.Strings("AWS API Call via CloudTrail"),
		Detail: &map[string]any{
			"eventSource": []string{"cloudtrail.amazonaws.com"},
			"eventName":   TamperEventNames,
		},
	}
}

// Member is a stack holding MemberAccess: deployed as a plain stack in the
// management account (a service-managed StackSet never deploys there) and in
// single-account mode.
type Member struct {
	awscdk.Stack
	Access *MemberAccess
}

// NewMember builds the member stack.
func NewMember(scope constructs.Construct, id string, cfg *Config, props *awscdk.StackProps) *Member {
	s := &Member{Stack: awscdk.NewStack(scope, jsii.String(id), props)}
	s.Access = NewMemberAccess(s.Stack, "Access", cfg)
	return s
}

// MemberTemplateBody synthesizes MemberAccess alone, in a throwaway app with
// no bootstrap requirements (no assets, no BootstrapVersion rule), and
// returns the template as compact JSON for the StackSet's TemplateBody.
func MemberTemplateBody(cfg *Config) (string, error) {
	dir, err := os.MkdirTemp("", "trailwarden-member-")
	if err != nil {
		return "", fmt.Errorf("member template: %w", err)
	}
	defer os.RemoveAll(dir)
	app := awscdk.NewApp(&awscdk.AppProps{
		Outdir:             jsii.String(dir),
		AnalyticsReporting: jsii.Bool(false),
		// This app synthesizes inside the main one's `cdk synth`, so a
		// slow-synth report of its own would land in the main assembly
		// (CDK_PERF_COUNTERS_FILE); see PerformanceReportingContext.
		PerformanceReporting: jsii.Bool(false),
		Context: &map[string]any{
			"aws:cdk:enable-path-metadata": false,
			"aws:cdk:version-reporting":    false,
		},
	})
	stack := awscdk.NewStack(app, jsii.String("TrailwardenMemberStackSet"), &awscdk.StackProps{
		Synthesizer: awscdk.NewDefaultStackSynthesizer(&awscdk.DefaultStackSynthesizerProps{GenerateBootstrapVersionRule: jsii.Bool(false)}),
		Description: jsii.String("trailwarden member access (StackSet instance)"),
	})
	NewMemberAccess(stack, "Access", cfg)
	tmpl := app.Synth(nil).GetStackArtifact(stack.ArtifactId()).Template()
	b, err := json.Marshal(tmpl)
	if err != nil {
		return "", fmt.Errorf("member template: %w", err)
	}
	return string(b), nil
}
