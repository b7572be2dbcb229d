// Package status builds the operator's view of the organization from
// trailwarden's tables: per account its trail, state, last delivery (worst
// Region first) and open incident. `trailwarden status` and the demo print it.
package status

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
)

// Sources are the three tables' readers.
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
}

// RegionDelivery is one Region's newest delivery.
type RegionDelivery struct {
	Region string    `json:"region"`
	Last   time.Time `json:"last"`
}

// Row is one account.
type Row struct {
	Account      string           `json:"account"`
	Name         string           `json:"name,omitempty"`
	OU           string           `json:"ou,omitempty"`
	Status       accounts.Status  `json:"status"`
	Trail        string           `json:"trail,omitempty"`
	Logging      string           `json:"logging"` // on | stopped | unknown | -
	Regions      []RegionDelivery `json:"regions"` // worst (oldest) first
	OpenIncident string           `json:"openIncident,omitempty"`
	LastError    string           `json:"lastError,omitempty"`
}

// Problem reports whether the row needs attention.
func (r Row) Problem() bool {
	return r.OpenIncident != "" || r.Status == accounts.StatusFailed || r.Status == accounts.StatusPending
}

// View is the whole picture.
type View struct {
	At   time.Time `json:"at"`
	Rows []Row     `json:"accounts"`
}

// Problems counts rows that need attention.
func (v View) Problems() int {
	n := 0
	for _, r := range v.Rows {
		if r.Problem() {
			n++
		}
	}
	return n
}

// Build reads the tables.
func Build(ctx context.Context, src Sources, now time.Time) (View, error) {
	accts, err := src.Accounts.List(ctx, 4)
	if err != nil {
		return View{}, err
	}
	deliveries := map[string][]RegionDelivery{}
	var mu sync.Mutex // the scan calls back from parallel segments
	if _, err := src.Ledger.Scan(ctx, now, 4, func(it ledger.Item) error {
		var rs []RegionDelivery
		for _, region := range it.SortedRegions() {
			rs = append(rs, RegionDelivery{Region: region, Last: it.Regions[region].LastDelivery()})
		}
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Last.Before(rs[j].Last) })
		mu.Lock()
		deliveries[it.AccountID] = rs
		mu.Unlock()
		return nil
	}); err != nil {
		return View{}, err
	}
	open := map[string]string{}
	if src.Incidents != nil {
		incs, err := src.Incidents.Active(ctx, 2)
		if err != nil {
			return View{}, err
		}
		for _, in := range incs {
			if !in.Open() || in.Account == "" {
				continue
			}
			desc := in.Kind
			if in.Region != "" {
				desc += " " + in.Region
			}
			if in.Summary != "" {
				desc += ": " + in.Summary
			} else if in.Reason != "" {
				desc += ": " + in.Reason
			}
			if prev := open[in.Account]; prev != "" {
				desc = prev + "; " + desc
			}
			open[in.Account] = desc
		}
	}
	v := View{At: now.UTC()}
	for _, a := range accts {
		r := Row{Account: a.AccountID, Name: a.Name, Status: a.Status, Regions: deliveries[a.AccountID], OpenIncident: open[a.AccountID], LastError: a.LastError}
		if r.Regions == nil {
			r.Regions = []RegionDelivery{}
		}
		if len(a.OUPath) > 0 {
			r.OU = a.OUPath[len(a.OUPath)-1]
		}
		if i := strings.LastIndex(a.TrailARN, "/"); i >= 0 {
			r.Trail = a.TrailARN[i+1:]
		}
		switch {
		case a.Status != accounts.StatusEnabled:
			r.Logging = "-"
		case strings.Contains(strings.ToLower(r.OpenIncident), "logging stopped"), strings.Contains(r.OpenIncident, "LoggingStopped"):
			r.Logging = "stopped"
		case r.OpenIncident != "":
			r.Logging = "unknown"
		default:
			r.Logging = "on"
		}
		v.Rows = append(v.Rows, r)
	}
	// Accounts with problems first, then by id.
	sort.SliceStable(v.Rows, func(i, j int) bool {
		pi, pj := v.Rows[i].Problem(), v.Rows[j].Problem()
		if pi != pj {
			return pi
		}
		return v.Rows[i].Account < v.Rows[j].Account
	})
	return v, nil
}

// WriteTable renders the view for a person.
func WriteTable(w io.Writer, v View) error {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tNAME\tOU\tTRAIL\tSTATUS\tLOGGING\tLAST DELIVERY (WORST REGION FIRST)\tOPEN INCIDENT")
	for _, r := range v.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Account, dash(r.Name), dash(r.OU), dash(r.Trail), r.Status, r.Logging,
			deliverySummary(r.Regions, v.At), dash(clip(r.OpenIncident, 90)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d account(s), %d need attention (at %s)\n", len(v.Rows), v.Problems(), v.At.Format(time.RFC3339))
	return err
}

// WriteJSON renders the view for scripts.
func WriteJSON(w io.Writer, v View) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func deliverySummary(rs []RegionDelivery, now time.Time) string {
	if len(rs) == 0 {
		return "never"
	}
	var parts []string
	for i, r := range rs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("+%d more", len(rs)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s ago", r.Region, now.Sub(r.Last).Round(time.Minute)))
	}
	return strings.Join(parts, ", ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}
