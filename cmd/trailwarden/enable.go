package main

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/telemetry"
)

const planUsage = `Usage:
  trailwarden plan --account ID [--policy FILE]
  trailwarden plan --all | --ou OU [--workers N] [--output table|json]   (see 'trailwarden plan --all --help')

Makes the enabler's decision for the account (skipped, excluded by the
policy, covered by the organization trail, or converged) and, for a
converge, reads the account's live trail (through the read-only operator
role, trailwarden-operator-read, or --role) and prints the difference to its
effective policy as JSON: every change and the calls made to find it.
Nothing is written, not even the accounts table.

Example:
  trailwarden plan --account 333333333333 --policy policy.yaml
`

var planCommand = command{
	summary: "show what converging an account's trail would change (no writes)",
	usage:   planUsage,
	run: func(ctx context.Context, env *cmdEnv, args []string) int {
		if planAllRequested(args) {
			return runPlanAll(ctx, env, args)
		}
		return runConverge(ctx, env, args, true)
	},
}

const enableUsage = `Usage:
  trailwarden enable --account ID [--policy FILE] [--accounts-table TABLE] [--alerts-topic-arn ARN] [--yes]

Converges the account as the enabler does: an account the policy excludes,
or one the management account's organization trail covers, gets no trail of
its own; otherwise the effective policy is applied (creating or repairing
the trail) and the trail is printed as 'aws cloudtrail create-trail' prints
it. With --accounts-table the outcome is recorded there as the enabler
records it (and a failure is alerted with --alerts-topic-arn). Without
--yes it only shows the plan.

Example:
  trailwarden enable --account 333333333333 --policy policy.yaml --yes
`

var enableCommand = command{
	summary: "converge one account's trail to the policy now",
	usage:   enableUsage,
	run:     func(ctx context.Context, env *cmdEnv, args []string) int { return runConverge(ctx, env, args, false) },
}

func runConverge(ctx context.Context, env *cmdEnv, args []string, planOnly bool) int {
	name := "enable"
	help := enableUsage
	if planOnly {
		name, help = "plan", planUsage
	}
	fs := newFlags(env, name, help)
	var d deployFlags
	d.register(fs, env)
	account := fs.String("account", "", "account id (required)")
	yes := fs.Bool("yes", false, "apply the change (enable only)")
	if _, err := parse(fs, args); err != nil {
		return flagErr(err)
	}
	if *account == "" || !d.need(env, "policy") {
		return usageErr(env, "%s: --account and --policy are required", name)
	}
	s, err := d.open(ctx, env)
	if err != nil {
		return exitProblem
	}
	dry := planOnly || !*yes
	out, err := cliProcessor(s, &d, env, dry).ConvergeAccount(ctx, *account, "", "cli")
	if err != nil {
		env.errorf("%s %s: %v", name, *account, err)
		return exitProblem
	}
	if out.Report == nil {
		return writeDecision(env, out, dry)
	}
	if dry {
		if !planOnly {
			fmt.Fprintln(env.stderr, "trailwarden: showing the plan; add --yes to apply it")
		}
		return writeJSON(env, out.Report)
	}
	fmt.Fprintf(env.stderr, "trailwarden: %d change(s), %d write call(s)\n", len(out.Report.Changes), out.Report.Writes)
	return writeJSON(env, createTrailView(out.Report.Result))
}

// cliProcessor is the enabler's processor over the CLI's session: the same
// decisions and converge path as the function. It records in the accounts
// table only when one is named, and plans only when dry.
func cliProcessor(s *session, d *deployFlags, env *cmdEnv, dry bool) *enabler.Processor {
	p := &enabler.Processor{Policy: s.pol, Directory: s.dir, Sessions: operatorSessions{s.op.Assumer, s.op.RoleFor(!dry)}, NewEngine: enabler.NewEngine,
		Logger: telemetry.NewLogger(io.Discard, "error"), OwnRoles: enabler.OwnRoles(s.pol), DryRun: dry}
	if d.accountsTable != "" {
		p.Accounts = &accounts.Store{DB: dynamodb.NewFromConfig(s.home), Table: d.accountsTable}
	}
	if d.alertsTopicARN != "" {
		p.Alerts = &alert.Publisher{SNS: sns.NewFromConfig(s.home), TopicARN: d.alertsTopicARN}
	}
	return p
}

// writeDecision prints an outcome that converged nothing: the account is
// skipped, excluded, or covered by the organization trail.
func writeDecision(env *cmdEnv, out *enabler.Outcome, dry bool) int {
	why := string(out.Status)
	if out.CoveredBy != "" {
		why = "covered by the organization trail " + out.CoveredBy
	}
	verb := "is"
	if dry {
		verb = "would be"
	}
	fmt.Fprintf(env.stderr, "trailwarden: account %s %s %s; no trail of its own is converged\n", out.Account, verb, why)
	v := map[string]any{"account": out.Account, "status": out.Status, "dryRun": dry}
	if out.CoveredBy != "" {
		v["coveredBy"] = out.CoveredBy
	}
	return writeJSON(env, v)
}

// createTrailView is the trail as 'aws cloudtrail create-trail' prints it.
func createTrailView(t *types.Trail) map[string]any {
	if t == nil {
		return map[string]any{}
	}
	v := map[string]any{
		"Name":                       aws.ToString(t.Name),
		"S3BucketName":               aws.ToString(t.S3BucketName),
		"IncludeGlobalServiceEvents": aws.ToBool(t.IncludeGlobalServiceEvents),
		"IsMultiRegionTrail":         aws.ToBool(t.IsMultiRegionTrail),
		"TrailARN":                   aws.ToString(t.TrailARN),
		"LogFileValidationEnabled":   aws.ToBool(t.LogFileValidationEnabled),
		"IsOrganizationTrail":        aws.ToBool(t.IsOrganizationTrail),
	}
	opt := func(k string, p *string) {
		if p != nil && *p != "" {
			v[k] = *p
		}
	}
	opt("S3KeyPrefix", t.S3KeyPrefix)
	//lint:ignore SA1019 create-trail still prints SnsTopicName; the issue asks for its exact output
	opt("SnsTopicName", t.SnsTopicName)
	opt("SnsTopicARN", t.SnsTopicARN)
	opt("KmsKeyId", t.KmsKeyId)
	opt("CloudWatchLogsLogGroupArn", t.CloudWatchLogsLogGroupArn)
	opt("CloudWatchLogsRoleArn", t.CloudWatchLogsRoleArn)
	return v
}
