package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/trailwarden/trailwarden/shared/settings"

	"github.com/trailwarden/trailwarden/shared/deployment"
)

// OperatorReadActions are the CloudTrail reads of status, plan and doctor.
// DescribeTrails and ListTrails support no resource-level permission.
var OperatorReadActions = []string{
	"cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors",
	"cloudtrail:GetInsightSelectors", "cloudtrail:ListTags",
}

// OperatorListActions are the account-wide CloudTrail reads (Resource "*").
var OperatorListActions = []string{"cloudtrail:DescribeTrails", "cloudtrail:ListTrails"}

// operatorRoles adds the operators' roles to the member template: the
// read-only role when deployment.operators.readOnlyPrincipals is set, the
// converge role (given the member role's policy by the caller) when
// convergePrincipals is.
func (m *MemberAccess) operatorRoles(c constructs.Construct, cfg *Config, self string) {
	ops := cfg.Deployment.Operators
	if len(ops.ReadOnlyPrincipals) > 0 {
		m.OperatorReadRole = operatorRole(c, "OperatorReadRole", deployment.OperatorReadRole,
			"trailwarden: operators read this account's trails (status, plan, doctor)", ops.ReadOnlyPrincipals)
		m.OperatorReadRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ReadOwnTrail"), Actions: jsii.Strings(OperatorReadActions...),
			Resources: jsii.Strings(arn("cloudtrail", "*", self, "trail/"+cfg.TrailName)),
		}))
		m.OperatorReadRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ListTrails"), Actions: jsii.Strings(OperatorListActions...), Resources: jsii.Strings("*"),
		}))
	}
	if len(ops.ConvergePrincipals) > 0 {
		m.OperatorConvergeRole = operatorRole(c, "OperatorConvergeRole", deployment.OperatorConvergeRole,
			"trailwarden: operators converge this account's trail (enable --yes)", ops.ConvergePrincipals)
	}
}

// operatorRole is a role the listed principals may assume with a session
// name starting with settings.CLISessionPrefix (the condition key
// sts:RoleSessionName: Service Authorization Reference, "Actions, resources,
// and condition keys for AWS Security Token Service").
func operatorRole(c constructs.Construct, id, name, desc string, principals []string) awsiam.Role {
	cond := &map[string]any{"StringLike": map[string]any{"sts:RoleSessionName": settings.CLISessionPrefix + "*"}}
	ps := make([]awsiam.IPrincipal, 0, len(principals))
	for _, p := range principals {
		ps = append(ps, awsiam.NewArnPrincipal(jsii.String(p)).WithConditions(cond))
	}
	return awsiam.NewRole(c, jsii.String(id), &awsiam.RoleProps{
		RoleName:           jsii.String(name),
		Description:        jsii.String(desc),
		AssumedBy:          awsiam.NewCompositePrincipal(ps...),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
}
