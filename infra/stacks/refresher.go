package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailwarden/trailwarden/shared/asff"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/stackout"
)

// RefresherTimeoutSeconds bounds one refresh: a few GetFindings pages and
// BatchImportFindings calls of 100 findings.
const RefresherTimeoutSeconds = 300

// refresher deploys the Security Hub refresher with
// deployment.securityHub.enabled: a daily schedule (asff.RefreshEvery)
// and a role that reads this product's findings (GetFindings on the hub:
// its only resource type, Service Authorization Reference, AWS Security
// Hub), imports under the default product ARN, and reads incidents.
func (s *Automation) refresher(assetDirs map[string]string) {
	cfg, d := s.cfg, s.cfg.Deployment
	if !d.SecurityHub.Enabled {
		return
	}
	product := arn("securityhub", *s.Region(), *s.Account(), "product/"+*s.Account()+"/default")
	env := baseEnv(cfg)
	env[settings.EnvIncidentsTable] = s.Incidents.TableName()
	env[settings.EnvSecurityHubProductARN] = jsii.String(product)
	f := NewFunction(s.Stack, capitalize(FnRefresher), FunctionProps{
		Name:               FnRefresher,
		AssetDir:           assetDirs[FnRefresher],
		Timeout:            awscdk.Duration_Seconds(jsii.Number(RefresherTimeoutSeconds)),
		MemoryMB:           DefaultMemoryMB,
		Env:                env,
		LogRetention:       retentionByDays[d.LogRetentionDays],
		AsyncRetryAttempts: jsii.Number(0),
		Description:        "trailwarden: re-imports open Security Hub findings before their retention ends",
	})
	s.functions = append(s.functions, f)
	s.Refresher = f
	output(s.Stack, stackout.FunctionName(FnRefresher), f.Fn.FunctionName(), "function name")
	f.Allow("SecurityHubReadFindings", []string{"securityhub:GetFindings"},
		[]*string{jsii.String(arn("securityhub", *s.Region(), *s.Account(), "hub/default"))}, nil)
	f.Allow("SecurityHubImport", []string{"securityhub:BatchImportFindings"}, []*string{jsii.String(product)}, nil)
	f.Allow("IncidentsRead", []string{"dynamodb:GetItem"}, tableARNs(s.Incidents), nil)
	awsevents.NewRule(s.Stack, jsii.String("RefreshSchedule"), &awsevents.RuleProps{
		Description: jsii.String(fmt.Sprintf("trailwarden: Security Hub refresh every %s", asff.RefreshEvery)),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(asff.RefreshEvery.Hours()))),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(f.Fn, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(2),
		})},
	})
}
