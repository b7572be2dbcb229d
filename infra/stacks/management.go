package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudformation"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// OrganizationsEventNames are the Organizations events forwarded to the
// central bus (EventBridge events reference, AWS Organizations events:
// they arrive only on the management account's default bus in us-east-1).
var OrganizationsEventNames = []string{
	"CreateAccountResult", "AcceptHandshake", "AccountJoinedOrganization", "AccountDepartedOrganization",
	"MoveAccount", "CreateAccount", "InviteAccountToOrganization",
}

// OrgReaderActions are the read-only Organizations calls the reconciler and
// enabler make through the management account's reader role.
var OrgReaderActions = []string{
	"organizations:ListAccounts", "organizations:ListParents", "organizations:DescribeAccount",
	"organizations:DescribeOrganization", "organizations:ListOrganizationalUnitsForParent", "organizations:ListRoots",
}

// MemberStackSetName is the StackSet's name (StackSets require one).
const MemberStackSetName = "trailwarden-member-access"

// Management is the management account's stack (us-east-1, where
// Organizations events arrive): the Organizations event forwarder, the
// read-only Organizations role, and the member-access StackSet.
type Management struct {
	awscdk.Stack
	Forward   awsevents.Rule
	OrgReader awsiam.Role
	StackSet  awscloudformation.CfnStackSet
	// OrgTrailPolicy is the member role's organization-trail policy (nil
	// in account-trails mode).
	OrgTrailPolicy awsiam.Policy
}

// NewManagement builds the management stack; memberTemplate is
// MemberTemplateBody's output.
func NewManagement(scope constructs.Construct, id string, cfg *Config, memberTemplate string, props *awscdk.StackProps) *Management {
	s := &Management{Stack: awscdk.NewStack(scope, jsii.String(id), props)}
	auto := cfg.Deployment.AutomationAccount

	fwd := awsiam.NewRole(s.Stack, jsii.String("ForwardRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		Path:        jsii.String(ForwarderRolePath),
		Description: jsii.String("trailwarden: forwards Organizations events to the central bus"),
	})
	fwd.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("PutToCentralBus"), Actions: jsii.Strings("events:PutEvents"), Resources: jsii.Strings(cfg.EventBusARN()),
	}))
	s.Forward = awsevents.NewRule(s.Stack, jsii.String("OrganizationsEvents"), &awsevents.RuleProps{
		Description:  jsii.String("trailwarden: Organizations account events to the central bus"),
		EventPattern: OrganizationsEventPattern(),
		Targets:      &[]awsevents.IRuleTarget{busTarget(s.Stack, cfg, fwd, true)},
	})

	s.OrgReader = awsiam.NewRole(s.Stack, jsii.String("OrgReader"), &awsiam.RoleProps{
		// Physical name: the automation account's functions assume it by
		// ARN (deployment.names.orgReaderRole).
		RoleName:    jsii.String(cfg.Deployment.Names.OrgReaderRole),
		Description: jsii.String("trailwarden: read-only Organizations access for the reconciler and enabler"),
		AssumedBy: awsiam.NewAccountPrincipal(jsii.String(auto)).WithConditions(&map[string]any{
			"ArnLike": map[string]any{"aws:PrincipalArn": []string{roleARNPattern(auto, FnReconciler), roleARNPattern(auto, FnEnabler)}},
		}),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	s.OrgReader.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("ReadOrganization"), Actions: jsii.Strings(OrgReaderActions...), Resources: jsii.Strings("*"),
	}))

	if cfg.OrganizationTrail {
		s.organizationTrail(cfg)
	}

	targets := cfg.Deployment.MemberRoleStackSet.Targets
	s.StackSet = awscloudformation.NewCfnStackSet(s.Stack, jsii.String("MemberAccess"), &awscloudformation.CfnStackSetProps{
		StackSetName:    jsii.String(MemberStackSetName),
		Description:     jsii.String("trailwarden: member role and tamper guard in every member account"),
		PermissionModel: jsii.String("SERVICE_MANAGED"),
		CallAs:          jsii.String("SELF"),
		AutoDeployment: &awscloudformation.CfnStackSet_AutoDeploymentProperty{
			Enabled:                      jsii.Bool(true),
			RetainStacksOnAccountRemoval: jsii.Bool(false),
		},
		Capabilities:     jsii.Strings("CAPABILITY_NAMED_IAM"),
		ManagedExecution: map[string]any{"Active": true},
		OperationPreferences: &awscloudformation.CfnStackSet_OperationPreferencesProperty{
			FailureTolerancePercentage: jsii.Number(10),
			MaxConcurrentPercentage:    jsii.Number(25),
			RegionConcurrencyType:      jsii.String("PARALLEL"),
		},
		StackInstancesGroup: []any{&awscloudformation.CfnStackSet_StackInstancesProperty{
			DeploymentTargets: &awscloudformation.CfnStackSet_DeploymentTargetsProperty{OrganizationalUnitIds: jsii.Strings(targets...)},
			Regions:           jsii.Strings(cfg.HomeRegion),
		}},
		TemplateBody: jsii.String(memberTemplate),
	})
	s.outputs()
	return s
}

// OrganizationTrailActions are what creating and keeping an organization
// trail needs beyond the trail calls, in the management account (CloudTrail
// User Guide, "Prepare for creating a trail for your organization"): the
// service-linked role (read and create), trusted access for CloudTrail, and
// a look at the organization.
var OrganizationTrailActions = []string{
	"iam:GetRole", "iam:CreateServiceLinkedRole",
	"organizations:EnableAWSServiceAccess", "organizations:ListAWSServiceAccessForOrganization",
	"organizations:DescribeOrganization", "organizations:ListAccounts",
}

// organizationTrail gives the member role in the management account (the
// Member stack's role; this stack deploys after it) what an organization
// trail needs, each scoped to CloudTrail where IAM allows it.
func (s *Management) organizationTrail(cfg *Config) {
	self := *s.Account()
	slr := arn("iam", "", self, "role/aws-service-role/cloudtrail.amazonaws.com/*")
	cloudtrail := "cloudtrail.amazonaws.com"
	s.OrgTrailPolicy = awsiam.NewPolicy(s.Stack, jsii.String("OrganizationTrail"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{awsiam.Role_FromRoleName(s.Stack, jsii.String("MemberRole"), jsii.String(cfg.MemberRole), nil)},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("CloudTrailServiceLinkedRoleRead"), Actions: jsii.Strings("iam:GetRole"), Resources: jsii.Strings(slr),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("CloudTrailServiceLinkedRoleCreate"), Actions: jsii.Strings("iam:CreateServiceLinkedRole"), Resources: jsii.Strings(slr),
				Conditions: &map[string]any{"StringEquals": map[string]any{"iam:AWSServiceName": cloudtrail}},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("CloudTrailTrustedAccess"), Actions: jsii.Strings("organizations:EnableAWSServiceAccess"), Resources: jsii.Strings("*"),
				Conditions: &map[string]any{"StringEquals": map[string]any{"organizations:ServicePrincipal": cloudtrail}},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadOrganization"),
				Actions:   jsii.Strings("organizations:ListAWSServiceAccessForOrganization", "organizations:DescribeOrganization", "organizations:ListAccounts"),
				Resources: jsii.Strings("*"),
			}),
		},
	})
}

// OrganizationsEventPattern matches the Organizations events trailwarden acts
// on (API calls and service events alike).
func OrganizationsEventPattern() *awsevents.EventPattern {
	return &awsevents.EventPattern{
		Source: jsii.Strings("aws.organizations"),
		Detail: &map[string]any{"eventName": OrganizationsEventNames},
	}
}
