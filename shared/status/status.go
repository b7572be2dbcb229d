// Package status builds the operator's view of the organization from
// trailwarden's tables: per account its trail, state, logging, last delivery
// (worst Region first), open incidents and security findings, and the
// coverage against Organizations. It fails closed: anything it cannot show
// as healthy needs attention. `trailwarden status` and the demo print it.
package status

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
)

// Sources are the tables' readers and, optionally, Organizations and the
// members' CloudTrail.
type Sources struct {
	Accounts interface {
		List(ctx context.Context, segments int) ([]accounts.Account, error)
	}
	Ledger interface {
		Scan(ctx context.Context, asOf time.Time, segments int, fn func(ledger.Item) error) (ledger.ScanStats, error)
	}
	Incidents interface {
		Active(ctx context.Context, segments int) ([]incident.Incident, error)
	}
	// Findings are the verifier's open security findings (nil: none read).
	Findings interface {
		Open(ctx context.Context, now time.Time, segments int) ([]incident.Incident, error)
	}
	// Organization lists the ACTIVE member ids (nil: coverage unknown).
	Organization interface {
		ActiveAccounts(ctx context.Context) ([]string, error)
	}
	// Live reads a trail's IsLogging from CloudTrail (GetTrailStatus in
	// the member); nil: the last converge report is used.
	Live interface {
		IsLogging(ctx context.Context, account, trailARN string) (bool, error)
	}
}

// Filter narrows the rows, findings and incidents shown; the summary counts
// what is shown.
type Filter struct {
	Account  string
	OU       string // accounts whose OU path (in the accounts table) has it
	Region   string
	Problems bool
	// scope is the accounts under OU (nil: no OU filter).
	scope map[string]bool
}

// RegionDelivery is one Region of an account: its newest delivery and its
// verdict, from the open incidents and security findings in that Region.
type RegionDelivery struct {
	Region  string    `json:"region"`
	Last    time.Time `json:"last,omitzero"` // zero: nothing recorded
	Verdict string    `json:"verdict"`       // RegionHealthy | RegionNeedsAttention
	Reasons []string  `json:"reasons,omitempty"`
}

// The verdicts of an account × Region.
const (
	RegionHealthy        = "healthy"
	RegionNeedsAttention = "needs attention"
)

// Item is one open incident or security finding.
type Item struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"`
	Account string    `json:"account,omitempty"`
	Region  string    `json:"region,omitempty"`
	Since   time.Time `json:"since,omitzero"`
	Summary string    `json:"summary,omitempty"`
}

// Row is one account.
type Row struct {
	Account        string           `json:"account"`
	Name           string           `json:"name,omitempty"`
	OU             string           `json:"ou,omitempty"`
	Status         accounts.Status  `json:"status"`
	Trail          string           `json:"trail,omitempty"`
	Logging        string           `json:"logging"`                 // on | stopped | unknown | org trail | -
	LoggingSource  string           `json:"loggingSource,omitempty"` // report | live
	LoggingAt      time.Time        `json:"loggingAt,omitzero"`      // when it was read
	Regions        []RegionDelivery `json:"regions"`                 // worst first: needing attention, then oldest
	OpenIncident   string           `json:"openIncident,omitempty"`  // the account's incidents, one line
	OpenFindings   int              `json:"openFindings,omitempty"`  // the account's security findings
	LastError      string           `json:"lastError,omitempty"`     // why it failed, or why it is excluded
	NeedsAttention bool             `json:"needsAttention"`          // see Reasons
	Reasons        []string         `json:"reasons,omitempty"`       // why it needs attention
}

// Problem reports whether the row needs attention.
func (r Row) Problem() bool { return r.NeedsAttention }

// Coverage compares Organizations with the accounts table.
type Coverage struct {
	// Organization is the number of ACTIVE accounts (nil: not read).
	Organization *int       `json:"organization"`
	Known        int        `json:"known"`
	Enabled      int        `json:"enabled"`
	Excluded     []Excluded `json:"excluded"`
	Pending      int        `json:"pending"`
	Failed       int        `json:"failed"`
	Unknown      []string   `json:"unknownToTrailwarden,omitempty"` // ACTIVE, not in the accounts table
}

// Excluded is an account the policy excludes, and why.
type Excluded struct {
	Account string `json:"account"`
	Why     string `json:"why"`
}

// Summary is the verdict.
type Summary struct {
	Accounts       int      `json:"accounts"`
	NeedsAttention int      `json:"needsAttention"`
	OpenFindings   int      `json:"openFindings"`
	OpenIncidents  int      `json:"openIncidents"`
	Healthy        bool     `json:"healthy"`
	Reasons        []string `json:"reasons,omitempty"` // organization-wide reasons
}

// View is the whole picture.
type View struct {
	At        time.Time `json:"at"`
	Rows      []Row     `json:"accounts"`
	Incidents []Item    `json:"incidents"`
	Findings  []Item    `json:"findings"`
	Coverage  Coverage  `json:"coverage"`
	Summary   Summary   `json:"summary"`
}

// Problems counts rows that need attention.
func (v View) Problems() int { return v.Summary.NeedsAttention }

// Healthy is the verdict: nothing needs attention.
func (v View) Healthy() bool { return v.Summary.Healthy }

// Build reads the sources and judges them, unfiltered.
func Build(ctx context.Context, src Sources, now time.Time) (View, error) {
	return BuildFiltered(ctx, src, now, Filter{})
}

// BuildFiltered reads the sources and keeps what f selects.
func BuildFiltered(ctx context.Context, src Sources, now time.Time, f Filter) (View, error) {
	accts, err := src.Accounts.List(ctx, 4)
	if err != nil {
		return View{}, fmt.Errorf("accounts table: %w", err)
	}
	deliveries, err := readDeliveries(ctx, src, now)
	if err != nil {
		return View{}, fmt.Errorf("ledger: %w", err)
	}
	if f.OU != "" {
		f.scope = map[string]bool{}
		for _, a := range accts {
			if slices.Contains(a.OUPath, f.OU) {
				f.scope[a.AccountID] = true
			}
		}
	}
	v := View{At: now.UTC(), Incidents: []Item{}, Findings: []Item{}, Coverage: Coverage{Excluded: []Excluded{}}}
	if src.Incidents != nil {
		incs, err := src.Incidents.Active(ctx, 2)
		if err != nil {
			return View{}, fmt.Errorf("incidents table: %w", err)
		}
		for _, in := range incs {
			if in.PerRegion() && in.Open() && f.keeps(in.Account, in.Region) {
				v.Incidents = append(v.Incidents, item(in, in.Summary))
			}
		}
	}
	if src.Findings != nil {
		fds, err := src.Findings.Open(ctx, now, 2)
		if err != nil {
			return View{}, fmt.Errorf("security findings: %w", err)
		}
		for _, fd := range fds {
			if f.keeps(fd.Account, fd.Region) {
				v.Findings = append(v.Findings, item(fd, fd.Reason))
			}
		}
	}
	if err := v.coverage(ctx, src, accts); err != nil {
		return View{}, err
	}
	for _, a := range accts {
		if !f.keeps(a.AccountID, "") {
			continue
		}
		r, err := v.row(ctx, src, a, deliveries[a.AccountID], now)
		if err != nil {
			return View{}, err
		}
		if f.Region != "" {
			r.Regions = onlyRegion(r.Regions, f.Region)
		}
		if f.Problems && !r.NeedsAttention {
			continue
		}
		v.Rows = append(v.Rows, r)
	}
	v.judge()
	return v, nil
}

func (f Filter) keeps(account, region string) bool {
	if account != "" && ((f.Account != "" && account != f.Account) || (f.scope != nil && !f.scope[account])) {
		return false
	}
	return f.Region == "" || region == "" || region == f.Region
}

func item(in incident.Incident, summary string) Item {
	since := in.Since
	if since.IsZero() {
		since = in.OpenedAt
	}
	return Item{ID: in.ID, Kind: in.Kind, Account: in.Account, Region: in.Region, Since: since, Summary: summary}
}

func onlyRegion(rs []RegionDelivery, region string) []RegionDelivery {
	out := []RegionDelivery{}
	for _, r := range rs {
		if r.Region == region {
			out = append(out, r)
		}
	}
	return out
}

func readDeliveries(ctx context.Context, src Sources, now time.Time) (map[string][]RegionDelivery, error) {
	deliveries := map[string][]RegionDelivery{}
	var mu sync.Mutex // the scan calls back from parallel segments
	_, err := src.Ledger.Scan(ctx, now, 4, func(it ledger.Item) error {
		var rs []RegionDelivery
		for _, region := range it.SortedRegions() {
			rs = append(rs, RegionDelivery{Region: region, Last: it.Regions[region].LastDelivery()})
		}
		mu.Lock()
		deliveries[it.AccountID] = rs
		mu.Unlock()
		return nil
	})
	return deliveries, err
}

// coverage counts the accounts table against Organizations' ACTIVE members.
func (v *View) coverage(ctx context.Context, src Sources, accts []accounts.Account) error {
	c := &v.Coverage
	known := map[string]bool{}
	for _, a := range accts {
		known[a.AccountID] = true
		switch a.Status {
		case accounts.StatusEnabled:
			c.Enabled++
		case accounts.StatusPending:
			c.Pending++
		case accounts.StatusFailed:
			c.Failed++
		case accounts.StatusExcluded:
			why := a.LastError
			if why == "" {
				why = "excluded by the policy"
			}
			c.Excluded = append(c.Excluded, Excluded{Account: a.AccountID, Why: why})
		}
	}
	c.Known = len(accts)
	if src.Organization == nil {
		return nil
	}
	active, err := src.Organization.ActiveAccounts(ctx)
	if err != nil {
		return fmt.Errorf("organizations: %w", err)
	}
	n := len(active)
	c.Organization = &n
	for _, id := range active {
		if !known[id] {
			c.Unknown = append(c.Unknown, id)
		}
	}
	sort.Strings(c.Unknown)
	return nil
}

// judge fills the summary and orders rows needing attention first.
func (v *View) judge() {
	s := &v.Summary
	s.Accounts = len(v.Rows)
	s.OpenFindings = len(v.Findings)
	s.OpenIncidents = len(v.Incidents)
	for _, r := range v.Rows {
		if r.NeedsAttention {
			s.NeedsAttention++
		}
	}
	if c := v.Coverage; c.Organization != nil && *c.Organization > 0 && c.Known == 0 {
		s.Reasons = append(s.Reasons, fmt.Sprintf("Organizations has %d ACTIVE account(s) and trailwarden knows none", *c.Organization))
	}
	if s.OpenFindings > 0 {
		s.Reasons = append(s.Reasons, fmt.Sprintf("%d open security finding(s)", s.OpenFindings))
	}
	if s.OpenIncidents > 0 {
		s.Reasons = append(s.Reasons, fmt.Sprintf("%d open incident(s)", s.OpenIncidents))
	}
	s.Healthy = s.NeedsAttention == 0 && len(s.Reasons) == 0
	sort.SliceStable(v.Rows, func(i, j int) bool {
		pi, pj := v.Rows[i].NeedsAttention, v.Rows[j].NeedsAttention
		if pi != pj {
			return pi
		}
		return v.Rows[i].Account < v.Rows[j].Account
	})
	if v.Rows == nil {
		v.Rows = []Row{}
	}
}

func (v *View) row(ctx context.Context, src Sources, a accounts.Account, regions []RegionDelivery, now time.Time) (Row, error) {
	r := Row{Account: a.AccountID, Name: a.Name, Status: a.Status, Regions: regions, LastError: a.LastError, Logging: "-"}
	if r.Regions == nil {
		r.Regions = []RegionDelivery{}
	}
	if len(a.OUPath) > 0 {
		r.OU = a.OUPath[len(a.OUPath)-1]
	}
	if i := strings.LastIndex(a.TrailARN, "/"); i >= 0 {
		r.Trail = a.TrailARN[i+1:]
	}
	var descs []string
	for _, in := range v.Incidents {
		if in.Account == a.AccountID {
			descs = append(descs, describe(in))
		}
	}
	r.OpenIncident = strings.Join(descs, "; ")
	for _, fd := range v.Findings {
		if fd.Account == a.AccountID {
			r.OpenFindings++
		}
	}
	r.Regions = judgeRegions(r.Regions, a.AccountID, v.Incidents, v.Findings)
	if a.Status == accounts.StatusEnabled {
		if err := logging(ctx, src, a, &r, now); err != nil {
			return Row{}, err
		}
	}
	r.judge()
	return r, nil
}

// judgeRegions gives each Region of an account its verdict: it needs
// attention while an open incident or security finding names it (a Region
// with one but no delivery recorded is added). Worst first: needing
// attention, then the oldest delivery.
func judgeRegions(rs []RegionDelivery, account string, incidents, findings []Item) []RegionDelivery {
	out := make([]RegionDelivery, len(rs))
	copy(out, rs)
	at := map[string]int{}
	for i := range out {
		at[out[i].Region] = i
	}
	flag := func(region, why string) {
		i, ok := at[region]
		if !ok {
			i, at[region] = len(out), len(out)
			out = append(out, RegionDelivery{Region: region})
		}
		if !slices.Contains(out[i].Reasons, why) {
			out[i].Reasons = append(out[i].Reasons, why)
		}
	}
	for _, in := range incidents {
		if in.Account == account && in.Region != "" {
			flag(in.Region, in.Kind)
		}
	}
	for _, fd := range findings {
		if fd.Account == account && fd.Region != "" {
			flag(fd.Region, "security finding")
		}
	}
	for i := range out {
		out[i].Verdict = RegionHealthy
		if len(out[i].Reasons) > 0 {
			out[i].Verdict = RegionNeedsAttention
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ai, aj := len(out[i].Reasons) > 0, len(out[j].Reasons) > 0; ai != aj {
			return ai
		}
		return out[i].Last.Before(out[j].Last)
	})
	return out
}

func describe(in Item) string {
	d := in.Kind
	if in.Region != "" {
		d += " " + in.Region
	}
	if in.Summary != "" {
		d += ": " + in.Summary
	}
	return d
}

// logging is CloudTrail's own IsLogging: read live when src.Live is set,
// else as the last converge report saw or set it, with that report's time.
func logging(ctx context.Context, src Sources, a accounts.Account, r *Row, now time.Time) error {
	if src.Live != nil && a.TrailARN != "" {
		on, err := src.Live.IsLogging(ctx, a.AccountID, a.TrailARN)
		if err != nil {
			return fmt.Errorf("account %s: trail status: %w", a.AccountID, err)
		}
		r.Logging, r.LoggingSource, r.LoggingAt = onOff(on), "live", now.UTC()
		return nil
	}
	rep, err := a.Report()
	switch {
	case err != nil || a.LastReport == "":
		r.Logging = "unknown"
		return nil
	case rep.CoveredBy != "":
		r.Logging = "org trail"
		return nil
	}
	r.Logging, r.LoggingSource, r.LoggingAt = onOff(rep.IsLogging), "report", a.LastConvergeAt.UTC()
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "stopped"
}

func (r *Row) judge() {
	add := func(s string) { r.Reasons = append(r.Reasons, s) }
	switch r.Status {
	case accounts.StatusFailed:
		add("converge failed")
	case accounts.StatusPending:
		add("not converged yet")
	}
	if r.Logging == "stopped" {
		add("logging stopped")
	}
	if r.OpenIncident != "" {
		add("open incident")
	}
	if r.OpenFindings > 0 {
		add(fmt.Sprintf("%d security finding(s)", r.OpenFindings))
	}
	r.NeedsAttention = len(r.Reasons) > 0
}
