package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/backfill"
	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/orgdir"
)

const planAllUsage = `Usage:
  trailwarden plan --all [--ou OU] [--workers N] [--output table|json] [--policy FILE]
  trailwarden plan --ou OU ...

Makes the enabler's decision for every ACTIVE account of the organization
(organizations:ListAccounts), or only those under the OU (at any depth),
exactly as 'plan --account' does for one, with N accounts planned at a time
(one per worker, so CloudTrail's per-account rate limits hold). Nothing is
written. Prints one line per account (decision and number of changes), or
with --output json every account's changes and calls. A progress bar is
drawn on stderr when it is a terminal.

Exit codes, as 'kubectl diff' has them:
  0  no account would change
  1  at least one account would change (a trail created or updated)
  2  usage error, or an account could not be planned

Example:
  trailwarden plan --all --workers 16
  trailwarden plan --ou ou-ab12-cdef3456 --output json
`

// planAllRequested reports whether plan's arguments ask for the whole
// organization (--all or --ou), which plan --all parses itself.
func planAllRequested(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "all" || name == "ou") {
			return true
		}
	}
	return false
}

type planAllOptions struct {
	all     bool
	ou      string
	workers int
	output  string
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

func runPlanAll(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "plan", planAllUsage)
	var d deployFlags
	d.register(fs, env)
	var o planAllOptions
	fs.BoolVar(&o.all, "all", false, "plan every ACTIVE account")
	fs.StringVar(&o.ou, "ou", "", "plan only the ACTIVE accounts under this OU (at any depth)")
	fs.IntVar(&o.workers, "workers", 8, "accounts planned at a time")
	fs.StringVar(&o.output, "output", "table", "table | json")
	fs.StringVar(&o.output, "o", "table", "table | json (short for --output)")
	if _, err := parse(fs, args); err != nil {
		return flagErr(err)
	}
	if o.output != "table" && o.output != "json" {
		return usageErr(env, "--output %q: use table or json", o.output)
	}
	if o.workers < 1 {
		return usageErr(env, "--workers %d: at least 1", o.workers)
	}
	if !d.need(env, "policy") {
		return exitUsage
	}
	s, err := d.open(ctx, env)
	if err != nil {
		return exitUsage
	}
	active, _, err := backfill.Active(ctx, s.dir)
	if err == nil && o.ou != "" {
		active, err = underOU(ctx, s.dir, active, o.ou)
	}
	if err != nil {
		env.errorf("plan: %v", err)
		return exitUsage
	}
	start := time.Now()
	lines := planAccounts(ctx, &outcomes{inner: cliProcessor(s, &deployFlags{}, env, true)}, active, o.workers, terminalBar(env.stderr, len(active)))
	sum := summarizePlan(lines, time.Since(start))
	if o.output == "json" {
		if code := writeJSON(env, map[string]any{"summary": sum, "accounts": lines}); code != exitOK {
			return exitUsage
		}
	} else {
		writePlanTable(env.stdout, lines, sum)
	}
	switch {
	case sum.Errors > 0:
		return exitUsage
	case sum.Changing > 0:
		return exitProblem
	}
	return exitOK
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
		l := planLine{Account: r.Account, Name: r.Name, OU: r.OU, Decision: string(r.Status), Error: r.Error}
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

// terminalBar is a progress bar on w when w is a terminal, else one that
// draws nothing (no carriage-return frames in a log or a pipe).
func terminalBar(w io.Writer, total int) *progress {
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return newProgress(w, total)
		}
	}
	return newProgress(io.Discard, total)
}
