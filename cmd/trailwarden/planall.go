package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/backfill"
	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/orgdir"
)

const planAllLong = `--all makes that decision for every ACTIVE account of the organization
(organizations:ListAccounts), --ou only for those under the OU (at any
depth), with N accounts planned at a time (one per worker, so CloudTrail's
per-account rate limits hold). It prints one line per account (decision
and number of changes), or with --output json every account's changes and
calls. A progress bar is drawn on stderr when it is a terminal (elsewhere,
a line at each quarter). 'backfill --dry-run' is the same plan.

Exit codes, as 'kubectl diff' has them:
  0  no account would change
  1  at least one account would change (a trail created or updated)
  2  usage error, or an account could not be planned`

type planAllOptions struct {
	all     bool
	ou      string
	workers int
	output  outputFlag
}

// register adds --all, --ou, --workers and --output to plan.
func (o *planAllOptions) register(c *cobra.Command) {
	c.Flags().BoolVar(&o.all, "all", false, "plan every ACTIVE account")
	c.Flags().StringVar(&o.ou, "ou", "", "plan only the ACTIVE accounts under this OU (at any depth)")
	c.Flags().IntVar(&o.workers, "workers", 8, "accounts planned at a time")
	addOutput(c, &o.output)
	c.Flags().Lookup("output").Usage = "output format of --all and --ou (one account's plan is JSON)"
}

// planLine is one account's plan.
type planLine struct {
	Account   string           `json:"account"`
	Name      string           `json:"name,omitempty"`
	OU        string           `json:"ou,omitempty"`
	Decision  string           `json:"decision"` // create | update | no change | excluded | skipped | covered | error
	Changes   int              `json:"changes"`
	CoveredBy string           `json:"coveredBy,omitempty"`
	Error     string           `json:"error,omitempty"`
	Report    *converge.Report `json:"report,omitempty"`
}

type planSummary struct {
	Accounts  int            `json:"accounts"`
	Changing  int            `json:"changing"`
	Errors    int            `json:"errors"`
	Decisions map[string]int `json:"decisions"`
	Elapsed   string         `json:"elapsed"`
}

// runPlanAll plans the organization (plan --all, --ou; backfill --dry-run).
func runPlanAll(ctx context.Context, env *cmdEnv, d *deployFlags, o planAllOptions) error {
	if o.workers < 1 {
		return usageErrorf("--workers %d: at least 1", o.workers)
	}
	if err := d.need(env, "policy"); err != nil {
		return err
	}
	s, err := d.open(ctx, env)
	if err != nil {
		return err
	}
	active, _, err := backfill.Active(ctx, s.dir)
	if err == nil && o.ou != "" {
		active, err = underOU(ctx, s.dir, active, o.ou)
	}
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	start := time.Now()
	bar := newProgress(env.stderr, len(active), "accounts planned", false)
	lines := planAccounts(ctx, &outcomes{inner: cliProcessor(s, &deployFlags{}, env, true)}, active, o.workers, bar)
	sum := summarizePlan(lines, time.Since(start))
	switch err := writePlan(env, o.output, lines, sum); {
	case err != nil:
		return err
	case sum.Errors > 0:
		return &exitError{code: exitUsage, err: fmt.Errorf("plan: %d account(s) could not be planned (see the table)", sum.Errors)}
	case sum.Changing > 0:
		return errProblemSilent
	}
	return nil
}

// underOU keeps the accounts whose OU path includes ou.
func underOU(ctx context.Context, dir orgdir.Org, accts []orgdir.Account, ou string) ([]orgdir.Account, error) {
	var out []orgdir.Account
	for _, a := range accts {
		path, err := dir.Path(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		if slices.Contains(path, ou) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no ACTIVE account under %s (is it an OU id, ou-…?)", ou)
	}
	return out, nil
}

// outcomes keeps each account's outcome for the details, around the
// processor that backfill's worker pool drives.
type outcomes struct {
	inner backfill.Converger
	mu    sync.Mutex
	by    map[string]*accounts.Outcome
}

func (o *outcomes) ConvergeListed(ctx context.Context, a orgdir.Account, why string) (*accounts.Outcome, error) {
	out, err := o.inner.ConvergeListed(ctx, a, why)
	o.mu.Lock()
	if o.by == nil {
		o.by = map[string]*accounts.Outcome{}
	}
	o.by[a.ID] = out
	o.mu.Unlock()
	return out, err
}

func planAccounts(ctx context.Context, c *outcomes, accts []orgdir.Account, workers int, bar *progress) []planLine {
	results := backfill.Direct(ctx, c, accts, workers, func(done int, _ backfill.Result) { bar.set(done) })
	bar.done()
	lines := make([]planLine, 0, len(results))
	for _, r := range results {
		l := planLine{Account: r.Account, Name: r.Name, OU: r.OU, Decision: string(r.Status), Error: scrubKinds(r.Error)}
		out := c.by[r.Account]
		switch {
		case r.Error != "":
			l.Decision = "error"
		case out != nil && out.CoveredBy != "":
			l.Decision, l.CoveredBy = "covered", out.CoveredBy
		case out != nil && out.Report != nil:
			l.Report, l.Changes = out.Report, len(out.Report.Changes)
			switch {
			case out.Report.Created:
				l.Decision = "create"
			case l.Changes > 0:
				l.Decision = "update"
			default:
				l.Decision = "no change"
			}
		}
		lines = append(lines, l)
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Account < lines[j].Account })
	return lines
}

func summarizePlan(lines []planLine, elapsed time.Duration) planSummary {
	s := planSummary{Accounts: len(lines), Decisions: map[string]int{}, Elapsed: elapsed.Round(time.Millisecond).String()}
	for _, l := range lines {
		s.Decisions[l.Decision]++
		switch l.Decision {
		case "error":
			s.Errors++
		case "create", "update":
			s.Changing++
		}
	}
	return s
}

// writePlan prints the plan: a table, or {"summary", "accounts"} in JSON.
func writePlan(env *cmdEnv, output outputFlag, lines []planLine, sum planSummary) error {
	if output == "json" {
		return writeJSON(env, map[string]any{"summary": sum, "accounts": lines})
	}
	writePlanTable(env.stdout, lines, sum)
	return nil
}

func writePlanTable(w io.Writer, lines []planLine, s planSummary) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tNAME\tOU\tDECISION\tCHANGES\tDETAIL")
	for _, l := range lines {
		detail := l.Error
		if l.CoveredBy != "" {
			detail = l.CoveredBy
		} else if l.Report != nil && len(l.Report.Changes) > 0 {
			var fields []string
			for _, c := range l.Report.Changes {
				fields = append(fields, c.Field)
			}
			detail = strings.Join(fields, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", l.Account, dash(l.Name), dash(l.OU), l.Decision, l.Changes, dash(truncate(detail, 80)))
	}
	tw.Flush()
	var parts []string
	for _, k := range []string{"create", "update", "no change", "covered", "excluded", "skipped", "error"} {
		if n := s.Decisions[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	fmt.Fprintf(w, "\n%d account(s) planned in %s: %s; %d would change\n", s.Accounts, s.Elapsed, strings.Join(parts, ", "), s.Changing)
}
