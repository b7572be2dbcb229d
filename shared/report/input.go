package report

import (
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/status"
)

// FromStatus is the page's input from the operator's status view and the
// open incidents (the CLI's report and the demo): a cell's verdict is the
// watchdog's (an open stale or never-started incident), otherwise fresh
// when a delivery is recorded.
func FromStatus(v status.View, open []incident.Incident, org []string) Input {
	in := Input{At: v.At, Organization: org}
	stale := map[string]bool{}
	never := map[string]bool{}
	regions := map[string]bool{}
	for _, i := range open {
		if !i.PerRegion() || !i.Open() {
			continue
		}
		switch i.Kind {
		case incident.KindStale:
			stale[i.Account+"/"+i.Region] = true
			regions[i.Region] = true
		case incident.KindNeverStarted:
			never[i.Account] = true
		}
		in.Incidents = append(in.Incidents, Incident{ID: i.ID, Kind: i.Kind, Account: i.Account, Region: i.Region,
			Severity: i.Severity, Summary: i.Summary, Since: i.Since})
	}
	for _, r := range v.Rows {
		a := Account{ID: r.Account, Name: r.Name, OU: r.OU, Status: string(r.Status)}
		seen := map[string]bool{}
		for _, d := range r.Regions {
			verdict := Fresh
			if stale[r.Account+"/"+d.Region] {
				verdict = Stale
			}
			a.Cells = append(a.Cells, Cell{Region: d.Region, Newest: d.Last, Verdict: verdict})
			seen[d.Region], regions[d.Region] = true, true
		}
		for key := range stale {
			if acct, region, _ := strings.Cut(key, "/"); acct == r.Account && !seen[region] {
				a.Cells = append(a.Cells, Cell{Region: region, Verdict: Stale})
			}
		}
		in.Accounts = append(in.Accounts, a)
	}
	for region := range regions {
		in.Regions = append(in.Regions, region)
	}
	sort.Strings(in.Regions)
	for i, a := range in.Accounts {
		if never[a.ID] && len(in.Regions) > 0 && len(a.Cells) == 0 {
			for _, region := range in.Regions {
				in.Accounts[i].Cells = append(in.Accounts[i].Cells, Cell{Region: region, Verdict: Never})
			}
		}
	}
	return in
}
