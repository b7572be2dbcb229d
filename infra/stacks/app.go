package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Stack names (CloudFormation stack names and CDK stack ids).
const (
	CentralStackName    = "TrailwardenCentral"
	AutomationStackName = "TrailwardenAutomation"
	ManagementStackName = "TrailwardenManagement"
	MemberStackName     = "TrailwardenMember"
)

// OrganizationsRegion is where Organizations events arrive.
const OrganizationsRegion = "us-east-1"

// PerformanceReportingContext is the context key that switches aws-cdk-lib's
// slow-synth performance report on or off.
const PerformanceReportingContext = "aws:cdk:performance-reporting"

// AppContext is the context every trailwarden app is built with: the
// feature flags the stacks rely on, fixed here so tests and `cdk synth`
// build the same templates whatever cdk.json says.
func AppContext() map[string]any {
	return map[string]any{
		// Server access logs: a bucket policy for logging.s3.amazonaws.com,
		// not the legacy LogDeliveryWrite ACL (ACLs are disabled).
		"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
		"@aws-cdk/aws-s3:publicAccessBlockedByDefault":    true,
		// Keep each statement (and its Sid) as written: the roles read as
		// the list of calls each function makes.
		"@aws-cdk/aws-iam:minimizePolicies":                    false,
		"@aws-cdk/aws-events:requireEventBusPolicySid":         true,
		"@aws-cdk/aws-events:eventsTargetQueueSameAccount":     true,
		"@aws-cdk/aws-kms:reduceCrossAccountRegionPolicyScope": true,
		"aws:cdk:version-reporting":                            false,
		// No performance-counters.json in the assembly: aws-cdk-lib's App
		// writes it whenever a synth is slower than
		// "@aws-cdk/core.slowSynthThreshold" per stack (App.synth,
		// shouldReportSlowSynth in core/lib/app.js), so on a loaded machine
		// two synths of the same app differed and synth-check failed.
		// AppProps.PerformanceReporting documents this key as its default.
		PerformanceReportingContext: false,
	}
}

// Stacks are the app's stacks (nil where the mode has none).
type Stacks struct {
	Central    *Central
	Automation *Automation
	Management *Management
	Member     *Member
}

// Build adds trailwarden's stacks to app: stages each function's asset,
// builds the stacks for the configuration's mode, orders them, and applies
// cdk-nag's AwsSolutions checks (an unsuppressed error fails synth).
func Build(app awscdk.App, cfg *Config) (*Stacks, error) {
	assets := map[string]string{}
	for _, fn := range cfg.DeployedFunctions() {
		dir, err := StageAsset(cfg.BuildDir, fn, cfg.PolicyFile)
		if err != nil {
			return nil, errorf("%w", err)
		}
		assets[fn] = dir
	}
	d := cfg.Deployment
	env := func(account, region string) *awscdk.StackProps {
		return &awscdk.StackProps{
			Env:       &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)},
			StackName: nil,
			Tags:      &map[string]*string{"trailwarden": jsii.String("true")},
		}
	}
	named := func(p *awscdk.StackProps, desc string) *awscdk.StackProps {
		p.Description = jsii.String(desc)
		return p
	}
	out := &Stacks{}
	out.Central = NewCentral(app, CentralStackName, cfg, named(env(cfg.LoggingAccount, cfg.HomeRegion),
		"trailwarden central: log bucket, KMS key, deliveries topic (logging account)"))
	out.Automation = NewAutomation(app, AutomationStackName, cfg, assets, named(env(d.AutomationAccount, cfg.HomeRegion),
		"trailwarden automation: enabler, reconciler, verifier, watchdog, queues, tables, alarms"))
	out.Automation.AddStackDependency(out.Central.Stack, jsii.String("the delivery queue subscribes to the deliveries topic"))
	memberAccount := cfg.ManagementAccount
	if d.SingleAccount {
		memberAccount = cfg.LoggingAccount
	} else {
		body, err := MemberTemplateBody(cfg)
		if err != nil {
			return nil, errorf("%w", err)
		}
		out.Management = NewManagement(app, ManagementStackName, cfg, body, named(env(cfg.ManagementAccount, OrganizationsRegion),
			"trailwarden management: Organizations event forwarding, read-only Organizations role, member StackSet"))
		out.Management.AddStackDependency(out.Automation.Stack, jsii.String("the forwarder targets the central bus"))
	}
	out.Member = NewMember(app, MemberStackName, cfg, named(env(memberAccount, cfg.HomeRegion),
		"trailwarden member access: member role and tamper guard"))
	out.Member.AddStackDependency(out.Automation.Stack, jsii.String("the tamper guard targets the central bus"))
	if out.Management != nil && cfg.OrganizationTrail {
		out.Management.AddStackDependency(out.Member.Stack, jsii.String("the organization-trail policy attaches to the member role"))
	}
	suppress(out, cfg)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return out, nil
}
