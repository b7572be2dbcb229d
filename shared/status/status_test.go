package status

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
)

// Fakes of the three tables (the emulator-backed path is covered by the CLI
// test after the demo).
type fakeAccounts []accounts.Account

func (f fakeAccounts) List(context.Context, int) ([]accounts.Account, error) { return f, nil }

type fakeLedger []ledger.Item

func (f fakeLedger) Scan(_ context.Context, _ time.Time, _ int, fn func(ledger.Item) error) (ledger.ScanStats, error) {
	for _, it := range f {
		if err := fn(it); err != nil {
			return ledger.ScanStats{}, err
		}
	}
	st := ledger.ScanStats{}
	st.Items = len(f)
	return st, nil
}

type fakeIncidents []incident.Incident

func (f fakeIncidents) Active(context.Context, int) ([]incident.Incident, error) { return f, nil }

func TestBuildOrdersProblemsFirstAndWorstRegionFirst(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	v, err := Build(context.Background(), Sources{
		Accounts: fakeAccounts{
			{AccountID: "111111111111", Name: "ok", Status: accounts.StatusEnabled, TrailARN: "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-audit"},
			{AccountID: "222222222222", Name: "stopped", Status: accounts.StatusEnabled, OUPath: []string{"ou-ab12-cdef3456"}},
			{AccountID: "333333333333", Name: "new", Status: accounts.StatusPending},
		},
		Ledger: fakeLedger{{AccountID: "111111111111", Regions: map[string]ledger.RegionState{
			"us-east-1": {LastLog: now.Add(-2 * time.Minute)},
			"eu-west-1": {LastDigest: now.Add(-50 * time.Minute)},
		}}},
		Incidents: fakeIncidents{{ID: "stale#222222222222#us-east-1", Kind: "stale", Account: "222222222222", Region: "us-east-1",
			State: incident.StateOpen, Summary: "logging stopped at 2026-11-25T11:00:00Z"}},
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range v.Rows {
		order = append(order, r.Account)
	}
	if strings.Join(order, ",") != "222222222222,333333333333,111111111111" || v.Problems() != 2 {
		t.Fatalf("order %v problems %d", order, v.Problems())
	}
	if v.Rows[0].Logging != "stopped" || v.Rows[0].OU != "ou-ab12-cdef3456" || v.Rows[2].Trail != "org-audit" || v.Rows[2].Logging != "on" {
		t.Fatalf("rows: %+v", v.Rows)
	}
	if v.Rows[2].Regions[0].Region != "eu-west-1" {
		t.Fatalf("worst Region first: %+v", v.Rows[2].Regions)
	}
	var b bytes.Buffer
	if err := WriteTable(&b, v); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"eu-west-1 50m0s ago, us-east-1 2m0s ago", "stale us-east-1: logging stopped", "3 account(s), 2 need attention", "never"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
