package main

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/telemetry"
)

const planLong = `Makes the enabler's decision for the account (skipped, excluded by the
policy, covered by the organization trail, or converged) and, for a
converge, reads the account's live trail (through the read-only operator
role, trailwarden-operator-read, or --role) and prints the difference to its
effective policy as JSON: every change and the calls made to find it.
Nothing is written, not even the accounts table.

` + planAllLong

const planExample = `  trailwarden plan --account 333333333333 --policy policy.yaml
  trailwarden plan --all --workers 16
  trailwarden plan --ou ou-ab12-cdef3456 --output json`

// planOptions are plan's flags: one account, or the organization.
type planOptions struct {
	convergeOptions
	all planAllOptions
}

func newPlanCmd(env *cmdEnv) *cobra.Command {
	var o planOptions
	c := &cobra.Command{Use: "plan (--account ID | --all | --ou OU)", Short: "show what converging accounts' trails would change (no writes)",
		Long: planLong, Example: planExample, Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			whole := o.all.all || o.all.ou != ""
			switch {
			case whole && o.account != "":
				return usageErrorf("plan: --account plans one account; --all and --ou the organization: give one")
			case whole:
				return runPlanAll(c.Context(), env, &o.d, o.all)
			}
			return runConverge(c.Context(), env, &o.convergeOptions, true)
		}}
	o.d.register(c.Flags(), env)
	c.Flags().StringVar(&o.account, "account", "", "the account to plan")
	o.all.register(c)
	return c
}

const enableLong = `Converges the account as the enabler does: an account the policy excludes,
or one the management account's organization trail covers, gets no trail of
its own; otherwise the effective policy is applied (creating or repairing
the trail) through the operator converge role, and the trail is printed as
'aws cloudtrail create-trail' prints it. With --accounts-table the outcome
is recorded there as the enabler records it (and a failure is alerted with
--alerts-topic-arn).

Without --yes it only shows the plan, and exits as plan does: 0 no change,
1 a change would be made. With --yes it exits 0 once converged.`

const enableExample = `  trailwarden enable --account 333333333333 --policy policy.yaml
  trailwarden enable --account 333333333333 --policy policy.yaml --yes`

// convergeOptions are the flags of plan --account and enable.
type convergeOptions struct {
	d       deployFlags
	account string
	yes     bool
}

func newEnableCmd(env *cmdEnv) *cobra.Command {
	var o convergeOptions
	c := &cobra.Command{Use: "enable --account ID [--yes]", Short: "converge one account's trail to the policy now",
		Long: enableLong, Example: enableExample, Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runConverge(c.Context(), env, &o, false) }}
	o.d.register(c.Flags(), env)
	c.Flags().StringVar(&o.account, "account", "", "account id (required)")
	c.Flags().BoolVar(&o.yes, "yes", false, "apply the change")
	return c
}

// runConverge plans (plan, enable without --yes) or converges one account.
func runConverge(ctx context.Context, env *cmdEnv, o *convergeOptions, planOnly bool) error {
	name := "enable"
	if planOnly {
		name = "plan"
	}
	if o.account == "" {
		return usageErrorf("%s: --account is required", name)
	}
	if err := o.d.need(env, "policy"); err != nil {
		return err
	}
	s, err := o.d.open(ctx, env)
	if err != nil {
		return err
	}
	dry := planOnly || !o.yes
	out, err := cliProcessor(s, &o.d, env, dry).ConvergeAccount(ctx, o.account, "", "cli")
	if err != nil {
		return fmt.Errorf("%s %s: %w", name, o.account, err)
	}
	if out.Report == nil {
		return writeDecision(env, out, dry)
	}
	if !dry {
		fmt.Fprintf(env.stderr, "trailwarden: %d change(s), %d write call(s)\n", len(out.Report.Changes), out.Report.Writes)
		return writeJSON(env, createTrailView(out.Report.Result))
	}
	if !planOnly {
		fmt.Fprintln(env.stderr, "trailwarden: showing the plan; add --yes to apply it")
	}
	if err := writeJSON(env, out.Report); err != nil {
		return err
	}
	if out.Report.Created || len(out.Report.Changes) > 0 {
		return errProblemSilent // a change, as kubectl diff exits
	}
	return nil
}

// cliProcessor is the enabler's processor over the CLI's session: the same
// decisions and converge path as the function. It records in the accounts
// table only when one is named, and plans only when dry.
func cliProcessor(s *session, d *deployFlags, env *cmdEnv, dry bool) *enabler.Processor {
	p := &enabler.Processor{Policy: s.pol, Directory: s.dir, Sessions: operatorSessions{s.op.Assumer, s.op.RoleFor(!dry)}, NewEngine: enabler.NewEngine,
		Logger: telemetry.NewLogger(io.Discard, "error"), OwnRoles: enabler.OwnRoles(s.pol), DryRun: dry}
	if d.accountsTable != "" {
		p.Accounts = &accounts.Store{DB: newDynamoDB(s.home), Table: d.accountsTable}
	}
	if d.alertsTopicARN != "" {
		p.Alerts = &alert.Publisher{SNS: sns.NewFromConfig(s.home), TopicARN: d.alertsTopicARN}
	}
	return p
}

// writeDecision prints an outcome that converged nothing: the account is
// skipped, excluded, or covered by the organization trail.
func writeDecision(env *cmdEnv, out *enabler.Outcome, dry bool) error {
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
