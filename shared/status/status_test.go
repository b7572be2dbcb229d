package status

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Fakes of the sources (the emulator-backed path is covered by the CLI's
// status tests).
type fakeAccounts []accounts.Account

func (f fakeAccounts) List(context.Context, int) ([]accounts.Account, error) { return f, nil }

type fakeLedger []ledger.Item

func (f fakeLedger) Scan(_ context.Context, _ time.Time, _ int, fn func(ledger.Item) error) (ledger.ScanStats, error) {
	for _, it := range f {
		if err := fn(it); err != nil {
			return ledger.ScanStats{}, err
		}
	}
	return ledger.ScanStats{}, nil
}

type fakeIncidents []incident.Incident

func (f fakeIncidents) Active(context.Context, int) ([]incident.Incident, error) { return f, nil }

type fakeFindings []incident.Incident

func (f fakeFindings) Open(context.Context, time.Time, int) ([]incident.Incident, error) {
	return f, nil
}

type fakeOrg []string

func (f fakeOrg) ActiveAccounts(context.Context) ([]string, error) { return f, nil }

type fakeLive map[string]bool

func (f fakeLive) IsLogging(_ context.Context, account, _ string) (bool, error) {
	on, ok := f[account]
	if !ok {
		return false, errors.New("AccessDenied")
	}
	return on, nil
}

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func report(t *testing.T, logging bool) string {
	t.Helper()
	s, err := accounts.Report{Report: converge.Report{Trail: "org-audit", Region: "us-east-1", IsLogging: logging}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const trailARN = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-audit"

// broken is an organization with a stopped trail (per its last converge),
// a HIGH security finding, a stale incident, a pending and an excluded
// account, and an ACTIVE member trailwarden does not know.
func broken(t *testing.T) Sources {
	return Sources{
		Accounts: fakeAccounts{
			{AccountID: "111111111111", Name: "ok", Status: accounts.StatusEnabled, TrailARN: trailARN,
				LastReport: report(t, true), LastConvergeAt: now.Add(-30 * time.Minute)},
			{AccountID: "222222222222", Name: "stopped", Status: accounts.StatusEnabled, OUPath: []string{"ou-ab12-cdef3456"},
				TrailARN: "arn:aws:cloudtrail:us-east-1:222222222222:trail/org-audit", LastReport: report(t, false), LastConvergeAt: now.Add(-3 * time.Hour)},
			{AccountID: "333333333333", Name: "new", Status: accounts.StatusPending},
			{AccountID: "444444444444", Name: "sandbox", Status: accounts.StatusExcluded},
		},
		Ledger: fakeLedger{{AccountID: "111111111111", Regions: map[string]ledger.RegionState{
			"us-east-1": {LastLog: now.Add(-2 * time.Minute)},
			"eu-west-1": {LastDigest: now.Add(-50 * time.Minute)},
		}}},
		Incidents: fakeIncidents{
			{ID: "stale#222222222222#us-east-1", Kind: "stale", Account: "222222222222", Region: "us-east-1",
				State: incident.StateOpen, Since: now.Add(-2 * time.Hour), Summary: "no delivery for 2h"},
			{ID: "stale#111111111111#eu-west-1", Kind: "stale", Account: "111111111111", Region: "eu-west-1", State: incident.StateWatch},
		},
		Findings: fakeFindings{{ID: "finding#111111111111#ForeignObject#00000000000000aa", Kind: "security-finding", Account: "111111111111",
			Region: "us-east-1", OpenedAt: now.Add(-10 * time.Minute), Reason: "ForeignObject: not written by CloudTrail"}},
		Organization: fakeOrg{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -run %s -update):\n%s", path, t.Name(), got)
	}
}

func TestBrokenOrganizationNeedsAttention(t *testing.T) {
	v, err := Build(context.Background(), broken(t), now)
	if err != nil {
		t.Fatal(err)
	}
	if v.Healthy() || v.Summary.OpenFindings != 1 || v.Summary.OpenIncidents != 1 || v.Problems() != 3 {
		t.Fatalf("summary %+v", v.Summary)
	}
	var order []string
	for _, r := range v.Rows {
		order = append(order, r.Account+":"+r.Logging)
	}
	// 111 needs attention for its finding alone: its trail is on.
	if got := strings.Join(order, ","); got != "111111111111:on,222222222222:stopped,333333333333:-,444444444444:-" {
		t.Fatalf("rows %s", got)
	}
	// 111's us-east-1 has an open finding: it needs attention and comes
	// first; its eu-west-1 (a watched, not open, incident) is healthy.
	if rs := v.Rows[0].Regions; len(rs) != 2 || rs[0].Region != "us-east-1" || rs[0].Verdict != RegionNeedsAttention ||
		rs[1].Region != "eu-west-1" || rs[1].Verdict != RegionHealthy {
		t.Fatalf("verdict per Region, worst first: %+v", rs)
	}
	// 222 has no delivery, and a stale incident in us-east-1.
	if rs := v.Rows[1].Regions; len(rs) != 1 || rs[0].Region != "us-east-1" || !rs[0].Last.IsZero() || rs[0].Reasons[0] != "stale" {
		t.Fatalf("a Region known from its incident: %+v", rs)
	}
	var j, tb bytes.Buffer
	if err := WriteJSON(&j, v); err != nil {
		t.Fatal(err)
	}
	golden(t, "broken.golden.json", j.Bytes())
	if err := WriteTable(&tb, v); err != nil {
		t.Fatal(err)
	}
	golden(t, "broken.golden.txt", tb.Bytes())
}

func TestLoggingIsNeverInferredFromIncidentText(t *testing.T) {
	src := broken(t)
	src.Incidents = fakeIncidents{{ID: "stale#111111111111#us-east-1", Kind: "stale", Account: "111111111111", Region: "us-east-1",
		State: incident.StateOpen, Summary: "logging stopped at 2026-11-25T11:00:00Z"}}
	v, err := BuildFiltered(context.Background(), src, now, Filter{Account: "111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Rows) != 1 || v.Rows[0].Logging != "on" || v.Rows[0].LoggingSource != "report" || !v.Rows[0].LoggingAt.Equal(now.Add(-30*time.Minute)) {
		t.Fatalf("row %+v", v.Rows)
	}
	src.Live = fakeLive{"111111111111": false, "222222222222": true}
	v, err = BuildFiltered(context.Background(), src, now, Filter{Account: "111111111111"})
	if err != nil || v.Rows[0].Logging != "stopped" || v.Rows[0].LoggingSource != "live" {
		t.Fatalf("live: %v %+v", err, v.Rows)
	}
	src.Live = fakeLive{}
	if _, err := Build(context.Background(), src, now); err == nil {
		t.Fatal("a live read that fails must fail the status, not guess")
	}
}

func TestEmptyOrganizationNeedsAttention(t *testing.T) {
	src := Sources{Accounts: fakeAccounts{}, Ledger: fakeLedger{}, Organization: fakeOrg{"111111111111", "222222222222"}}
	v, err := Build(context.Background(), src, now)
	if err != nil {
		t.Fatal(err)
	}
	if v.Healthy() || len(v.Summary.Reasons) != 1 || !strings.Contains(v.Summary.Reasons[0], "knows none") {
		t.Fatalf("%+v", v.Summary)
	}
	src.Organization = nil
	if v, _ := Build(context.Background(), src, now); !v.Healthy() {
		t.Fatalf("no org reader, no accounts: nothing to judge: %+v", v.Summary)
	}
}

func TestFilters(t *testing.T) {
	cases := []struct {
		f                         Filter
		rows, findings, incidents int
	}{
		{Filter{}, 4, 1, 1},
		{Filter{Problems: true}, 3, 1, 1},
		{Filter{Account: "222222222222"}, 1, 0, 1},
		{Filter{Region: "eu-west-1"}, 4, 0, 0},
		{Filter{OU: "ou-ab12-cdef3456"}, 1, 0, 1},
		{Filter{OU: "ou-none-00000000"}, 0, 0, 0},
	}
	for _, c := range cases {
		v, err := BuildFiltered(context.Background(), broken(t), now, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Rows) != c.rows || len(v.Findings) != c.findings || len(v.Incidents) != c.incidents {
			t.Errorf("%+v: rows %d findings %d incidents %d", c.f, len(v.Rows), len(v.Findings), len(v.Incidents))
		}
	}
}

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{45 * time.Second: "45s ago", 30 * time.Minute: "30m ago",
		5 * time.Hour: "5h ago", 72 * time.Hour: "3d ago", -time.Second: "in the future"} {
		if got := Age(d); got != want {
			t.Errorf("Age(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestRegionFilterKeepsVerdicts: --region keeps that Region's verdict only.
func TestRegionFilterKeepsVerdicts(t *testing.T) {
	for region, want := range map[string]string{"eu-west-1": RegionHealthy, "us-east-1": RegionNeedsAttention} {
		v, err := BuildFiltered(context.Background(), broken(t), now, Filter{Account: "111111111111", Region: region})
		if err != nil {
			t.Fatal(err)
		}
		if rs := v.Rows[0].Regions; len(rs) != 1 || rs[0].Region != region || rs[0].Verdict != want {
			t.Errorf("--region %s: %+v", region, rs)
		}
	}
}
