package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/trailwarden/trailwarden/shared/converge"
)

const planUsage = `Usage:
  trailwarden plan --account ID [--policy FILE]

Reads the account's live trail (assuming the policy's memberRole) and prints
the difference to its effective policy as JSON: every change and the calls
made to find it. Nothing is written.

Example:
  trailwarden plan --account 333333333333 --policy policy.yaml
`

var planCommand = command{
	summary: "show what converging an account's trail would change (no writes)",
	usage:   planUsage,
	run:     func(ctx context.Context, env *cmdEnv, args []string) int { return runConverge(ctx, env, args, true) },
}

const enableUsage = `Usage:
  trailwarden enable --account ID [--policy FILE] [--yes]

Applies the account's effective policy (creating or repairing the trail) and
prints the trail as 'aws cloudtrail create-trail' prints it. Without --yes it
only shows the plan.

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
	want, _, err := s.desired(ctx, *account)
	if err != nil {
		env.errorf("%s %s: %v", name, *account, err)
		return exitProblem
	}
	dry := planOnly || !*yes
	eng, err := s.engine(ctx, *account, !dry)
	if err != nil {
		env.errorf("%v", err)
		return exitProblem
	}
	rep, err := eng.Converge(ctx, want, converge.Options{DryRun: dry})
	if err != nil {
		env.errorf("%s %s: %v", name, *account, err)
		return exitProblem
	}
	if dry {
		if !planOnly {
			fmt.Fprintln(env.stderr, "trailwarden: showing the plan; add --yes to apply it")
		}
		return writeJSON(env, rep)
	}
	fmt.Fprintf(env.stderr, "trailwarden: %d change(s), %d write call(s)\n", len(rep.Changes), rep.Writes)
	return writeJSON(env, createTrailView(rep.Result))
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
