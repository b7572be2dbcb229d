// Package report renders the organization's map: one self-contained HTML
// page (inline CSS and JavaScript, no external assets) with the accounts ×
// Regions freshness matrix coloured by verdict and grouped by OU, sortable,
// filterable and paged; coverage against Organizations; open incidents and
// findings. The data travels as compact JSON that the page's script
// renders, so 10,000 accounts stay a few megabytes and draw one page of
// rows at a time.
package report

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"
)

// Verdict of one account × Region cell.
type Verdict string

// Verdicts, in the order the page codes them (one character each).
const (
	Fresh Verdict = "fresh" // deliveries recorded, no open incident
	Stale Verdict = "stale" // an open incident: the Region stopped delivering
	Never Verdict = "never" // an open never-started incident
	None  Verdict = "none"  // nothing recorded and no incident (a Region never used)
)

var verdictCode = map[Verdict]byte{Fresh: '0', Stale: '1', Never: '2', None: '3'}

// Input is everything the page shows. The caller fills it (the CLI from
// the status view and the incidents table).
type Input struct {
	At       time.Time
	Title    string
	Regions  []string // the matrix's columns
	Accounts []Account
	// Organization lists the ids Organizations reports (nil: not asked);
	// coverage compares Accounts with it.
	Organization []string
	Incidents    []Incident
	Findings     []Finding
}

// Account is one row.
type Account struct {
	ID, Name, OU, Status string
	Cells                []Cell // one per Region that has anything; missing Regions are None
}

// Cell is one account × Region.
type Cell struct {
	Region  string
	Newest  time.Time // newest delivery; zero if none
	Verdict Verdict
}

// Incident is one open incident.
type Incident struct {
	ID, Kind, Account, Region, Severity, Summary string
	Since                                        time.Time
}

// Finding is one open security finding.
type Finding struct {
	Account, Region, Code, Summary string
	At                             time.Time
}

// Coverage compares the accounts trailwarden knows with Organizations.
type Coverage struct {
	Known        int            `json:"known"`
	ByStatus     map[string]int `json:"byStatus"`
	Organization int            `json:"organization"` // -1: Organizations not asked
	Missing      []string       `json:"missing"`      // in Organizations, unknown to trailwarden
	Departed     []string       `json:"departed"`     // known, no longer in Organizations
}

func coverage(in Input) Coverage {
	c := Coverage{Known: len(in.Accounts), ByStatus: map[string]int{}, Organization: -1, Missing: []string{}, Departed: []string{}}
	known := map[string]bool{}
	for _, a := range in.Accounts {
		c.ByStatus[a.Status]++
		known[a.ID] = true
	}
	if in.Organization == nil {
		return c
	}
	c.Organization = len(in.Organization)
	org := map[string]bool{}
	for _, id := range in.Organization {
		org[id] = true
		if !known[id] {
			c.Missing = append(c.Missing, id)
		}
	}
	for _, a := range in.Accounts {
		if !org[a.ID] {
			c.Departed = append(c.Departed, a.ID)
		}
	}
	sort.Strings(c.Missing)
	sort.Strings(c.Departed)
	return c
}

// data is the page's JSON: rows as arrays, verdicts as one character per
// Region, ages in minutes (-1: none), OUs by index.
type data struct {
	At        string     `json:"at"`
	Regions   []string   `json:"regions"`
	OUs       []string   `json:"ous"`
	Accounts  [][]any    `json:"a"` // [id, name, ou index, status, verdicts, ages]
	Coverage  Coverage   `json:"cov"`
	Incidents [][]string `json:"inc"` // [id, kind, account, region, severity, since, summary]
	Findings  [][]string `json:"fnd"` // [account, region, code, at, summary]
}

func build(in Input) (data, error) {
	d := data{At: in.At.UTC().Format(time.RFC3339), Regions: in.Regions, Coverage: coverage(in),
		Accounts: make([][]any, 0, len(in.Accounts)), Incidents: [][]string{}, Findings: [][]string{}}
	col := map[string]int{}
	for i, r := range in.Regions {
		if _, dup := col[r]; dup || r == "" {
			return data{}, fmt.Errorf("region %q is empty or listed twice", r)
		}
		col[r] = i
	}
	ous := map[string]int{}
	for _, a := range in.Accounts {
		if a.ID == "" {
			return data{}, errors.New("an account has no id")
		}
		ou, ok := ous[a.OU]
		if !ok {
			ou = len(d.OUs)
			ous[a.OU] = ou
			d.OUs = append(d.OUs, a.OU)
		}
		codes := []byte(strings.Repeat(string(verdictCode[None]), len(in.Regions)))
		ages := make([]int, len(in.Regions))
		for i := range ages {
			ages[i] = -1
		}
		for _, c := range a.Cells {
			i, ok := col[c.Region]
			if !ok {
				return data{}, fmt.Errorf("account %s: region %q is not a column", a.ID, c.Region)
			}
			code, ok := verdictCode[c.Verdict]
			if !ok {
				return data{}, fmt.Errorf("account %s, %s: verdict %q is not fresh, stale, never or none", a.ID, c.Region, c.Verdict)
			}
			codes[i] = code
			if !c.Newest.IsZero() {
				ages[i] = max(0, int(in.At.Sub(c.Newest).Minutes()))
			}
		}
		d.Accounts = append(d.Accounts, []any{a.ID, a.Name, ou, a.Status, string(codes), ages})
	}
	for _, i := range in.Incidents {
		d.Incidents = append(d.Incidents, []string{i.ID, i.Kind, i.Account, i.Region, i.Severity, stamp(i.Since), i.Summary})
	}
	for _, f := range in.Findings {
		d.Findings = append(d.Findings, []string{f.Account, f.Region, f.Code, stamp(f.At), f.Summary})
	}
	return d, nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Parse(pageHTML))

// Render writes the page for in to w.
func Render(w io.Writer, in Input) error {
	d, err := build(in)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	// encoding/json escapes <, > and & in strings, so the JSON cannot end
	// the script element it sits in.
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("report: encode data: %w", err)
	}
	title := in.Title
	if title == "" {
		title = "trailwarden: the organization's CloudTrail map"
	}
	err = page.Execute(w, struct {
		Title string
		At    string
		Data  template.JS
	}{title, d.At, template.JS(b)})
	if err != nil {
		return fmt.Errorf("report: write page: %w", err)
	}
	return nil
}
