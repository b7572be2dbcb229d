package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/shared/backfill"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/workitem"
)

const backfillLong = `Lists every ACTIVE account (organizations:ListAccounts, paginated) and, by
default, puts one converge request per account on the request queue: the
enabler functions converge them. With --direct it converges them here with
a bounded pool of workers (one account per worker at a time, so CloudTrail's
per-account rate limits hold), showing a progress bar, and ends with a
summary table. It needs the policy and, for --direct, the accounts table.

--dry-run writes nothing: it is 'plan --all', and exits as it does (as
'kubectl diff' does): 0 no account would change, 1 some would, 2 an error.
Otherwise it exits 0 when every account was enqueued or converged, 1 when
an account failed to converge, 2 on a usage, access or runtime error.`

const backfillExample = `  trailwarden backfill --dry-run --workers 16
  trailwarden backfill --policy policy.yaml --request-queue-url https://sqs.us-east-1.amazonaws.com/222222222222/trailwarden-requests
  trailwarden backfill --direct --workers 16 --policy policy.yaml --accounts-table trailwarden-accounts --alerts-topic-arn arn:aws:sns:...`

type backfillOptions struct {
	d              deployFlags
	direct, dryRun bool
	workers        int
	output         outputFlag
}

func newBackfillCmd(env *cmdEnv) *cobra.Command {
	var o backfillOptions
	c := &cobra.Command{Use: "backfill [--dry-run | --direct]", Short: "bring every ACTIVE account of the organization to the policy",
		Long: backfillLong, Example: backfillExample, Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runBackfill(c.Context(), env, &o) }}
	o.d.register(c.Flags(), env)
	c.Flags().BoolVar(&o.direct, "direct", false, "converge here instead of enqueueing")
	c.Flags().BoolVar(&o.dryRun, "dry-run", false, "write nothing: plan every ACTIVE account (plan --all)")
	c.Flags().IntVar(&o.workers, "workers", 16, "accounts converged (or planned) at a time, with --direct or --dry-run")
	addOutput(c, &o.output)
	return c
}

func runBackfill(ctx context.Context, env *cmdEnv, o *backfillOptions) error {
	switch {
	case o.dryRun && o.direct:
		return usageErrorf("backfill: --dry-run writes nothing and --direct converges: give one")
	case o.dryRun:
		return runPlanAll(ctx, env, &o.d, planAllOptions{all: true, workers: o.workers, output: o.output})
	case o.workers < 1:
		return usageErrorf("--workers %d: at least 1", o.workers)
	}
	d := &o.d
	if err := d.need(env, "policy"); err != nil {
		return err
	}
	s, err := d.open(ctx, env)
	if err != nil {
		return err
	}
	active, inactive, err := backfill.Active(ctx, s.dir)
	if err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	fmt.Fprintf(env.stderr, "trailwarden: %d ACTIVE account(s), %d other(s) skipped\n", len(active), inactive)
	if !o.direct {
		if err := d.need(env, "request-queue-url"); err != nil {
			return err
		}
		bar := newProgress(env.stderr, len(active), "accounts enqueued", false)
		n, err := backfill.Enqueue(ctx, sqs.NewFromConfig(s.home), d.requestQueueURL, workitem.ReasonBackfill, active, time.Now(), bar.set)
		bar.done()
		if err != nil {
			return fmt.Errorf("backfill (%d enqueued): %w", n, err)
		}
		fmt.Fprintf(env.stdout, "enqueued %d converge request(s) on %s\n", n, d.requestQueueURL)
		return nil
	}
	return backfillDirect(ctx, env, o, s, active)
}

// backfillDirect converges the accounts here, through the enabler's
// processor.
func backfillDirect(ctx context.Context, env *cmdEnv, o *backfillOptions, s *session, active []orgdir.Account) error {
	d := &o.d
	if err := d.need(env, "accounts-table", "alerts-topic-arn"); err != nil {
		return err
	}
	proc, err := enabler.New(ctx, settings.Enabler{Common: settings.Common{PolicyFile: d.policyFile, AlertsTopicARN: d.alertsTopicARN,
		OrgReaderRoleARN: d.orgReaderRoleARN, MetricsNamespace: settings.DefaultMetricsNamespace, LogLevel: "error"},
		AccountsTable: d.accountsTable, RequestQueueURL: d.requestQueueURL, EnableDeadline: time.Hour, SessionName: cliSession(env)}, s.home, io.Discard)
	if err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	start := time.Now()
	bar := newProgress(env.stderr, len(active), "accounts converged", false)
	results := backfill.Direct(ctx, proc, active, o.workers, func(done int, _ backfill.Result) { bar.set(done) })
	bar.done()
	sum := backfill.Summarize(results, time.Since(start))
	if o.output == "json" {
		err = writeJSON(env, map[string]any{"summary": sum, "accounts": results})
	} else {
		printBackfillTable(env.stdout, results, sum)
	}
	switch {
	case err != nil:
		return err
	case sum.Failed > 0:
		return errProblemSilent
	}
	return nil
}

func printBackfillTable(w io.Writer, rs []backfill.Result, s backfill.Summary) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tNAME\tOU\tSTATUS\tCHANGE\tCALLS\tERROR")
	for _, r := range rs {
		change := "unchanged"
		switch {
		case r.Created:
			change = "created"
		case r.Changes > 0:
			change = fmt.Sprintf("%d change(s)", r.Changes)
		}
		if r.Error != "" {
			change = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.Account, dash(r.Name), dash(r.OU), r.Status, change, r.Calls, truncate(scrubKinds(r.Error), 80))
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d account(s) in %s: %d enabled (%d created, %d changed, %d unchanged), %d excluded, %d skipped, %d failed\n",
		s.Total, s.Elapsed.Round(time.Millisecond), s.Enabled, s.Created, s.Changed, s.Unchanged, s.Excluded, s.Skipped, s.Failed)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}
