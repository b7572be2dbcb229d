package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwarden/trailwarden/shared/backfill"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/workitem"
)

const backfillUsage = `Usage:
  trailwarden backfill [--direct [--workers N]] [--output table|json]

Lists every ACTIVE account (organizations:ListAccounts, paginated) and, by
default, puts one converge request per account on the request queue: the
enabler functions converge them. With --direct it converges them here with
a bounded pool of workers (one account per worker at a time, so CloudTrail's
per-account rate limits hold), showing a progress bar, and ends with a
summary table. It needs the policy and, for --direct, the accounts table.

Example:
  trailwarden backfill --policy policy.yaml --request-queue-url https://sqs.us-east-1.amazonaws.com/222222222222/trailwarden-requests
  trailwarden backfill --direct --workers 16 --policy policy.yaml --accounts-table trailwarden-accounts --alerts-topic-arn arn:aws:sns:...
`

var backfillCommand = command{
	summary: "bring every ACTIVE account of the organization to the policy",
	usage:   backfillUsage,
	run:     runBackfill,
}

func runBackfill(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "backfill", backfillUsage)
	var d deployFlags
	d.register(fs, env)
	direct := fs.Bool("direct", false, "converge here instead of enqueueing")
	workers := fs.Int("workers", 16, "parallel accounts with --direct")
	output := fs.String("output", "table", "table | json")
	if _, err := parse(fs, args); err != nil {
		return flagErr(err)
	}
	if !d.need(env, "policy") {
		return exitUsage
	}
	s, err := d.open(ctx, env)
	if err != nil {
		return exitProblem
	}
	active, inactive, err := backfill.Active(ctx, s.dir)
	if err != nil {
		env.errorf("backfill: %v", err)
		return exitProblem
	}
	fmt.Fprintf(env.stderr, "trailwarden: %d ACTIVE account(s), %d other(s) skipped\n", len(active), inactive)
	bar := newProgress(env.stderr, len(active))
	if !*direct {
		if !d.need(env, "request-queue-url") {
			return exitUsage
		}
		n, err := backfill.Enqueue(ctx, sqs.NewFromConfig(s.home), d.requestQueueURL, workitem.ReasonBackfill, active, time.Now(), bar.set)
		bar.done()
		if err != nil {
			env.errorf("backfill: %v (%d enqueued)", err, n)
			return exitProblem
		}
		fmt.Fprintf(env.stdout, "enqueued %d converge request(s) on %s\n", n, d.requestQueueURL)
		return exitOK
	}
	if !d.need(env, "accounts-table", "alerts-topic-arn") {
		return exitUsage
	}
	proc, err := enabler.New(ctx, settings.Enabler{Common: settings.Common{PolicyFile: d.policyFile, AlertsTopicARN: d.alertsTopicARN,
		OrgReaderRoleARN: d.orgReaderRoleARN, MetricsNamespace: settings.DefaultMetricsNamespace, LogLevel: "error"},
		AccountsTable: d.accountsTable, RequestQueueURL: d.requestQueueURL, EnableDeadline: time.Hour, SessionName: cliSession(env)}, s.home, io.Discard)
	if err != nil {
		env.errorf("backfill: %v", err)
		return exitProblem
	}
	start := time.Now()
	results := backfill.Direct(ctx, proc, active, *workers, func(done int, _ backfill.Result) { bar.set(done) })
	bar.done()
	sum := backfill.Summarize(results, time.Since(start))
	if *output == "json" {
		writeJSON(env, map[string]any{"summary": sum, "accounts": results})
	} else {
		printBackfillTable(env.stdout, results, sum)
	}
	if sum.Failed > 0 {
		return exitProblem
	}
	return exitOK
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.Account, dash(r.Name), dash(r.OU), r.Status, change, r.Calls, truncate(r.Error, 80))
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

// progress draws a one-line progress bar on a terminal-like writer.
type progress struct {
	w     io.Writer
	total int
	last  int
}

func newProgress(w io.Writer, total int) *progress { return &progress{w: w, total: total, last: -1} }

func (p *progress) set(done int) {
	if p.total == 0 {
		return
	}
	pct := done * 100 / p.total
	if pct == p.last {
		return
	}
	p.last = pct
	const width = 30
	filled := pct * width / 100
	fmt.Fprintf(p.w, "\r[%s%s] %3d%% %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct, done, p.total)
}

func (p *progress) done() {
	if p.total > 0 {
		fmt.Fprintln(p.w)
	}
}
