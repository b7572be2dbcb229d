package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/report"
	"github.com/trailwarden/trailwarden/shared/status"
)

func TestReportInput(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	v := status.View{At: at, Rows: []status.Row{
		{Account: "222222222222", OU: "Workloads", Status: accounts.StatusEnabled, Regions: []status.RegionDelivery{
			{Region: "us-east-1", Last: at.Add(-3 * time.Hour)}, {Region: "eu-west-1", Last: at.Add(-time.Minute)}}},
		{Account: "333333333333", OU: "Sandbox", Status: accounts.StatusEnabled, Regions: []status.RegionDelivery{}},
	}}
	open := []incident.Incident{
		{ID: incident.StaleID("222222222222", "us-east-1"), Kind: incident.KindStale, Account: "222222222222", Region: "us-east-1", State: incident.StateOpen},
		{ID: incident.NeverID("333333333333"), Kind: incident.KindNeverStarted, Account: "333333333333", State: incident.StateOpen},
		{ID: incident.StaleID("222222222222", "eu-west-1"), Kind: incident.KindStale, Account: "222222222222", Region: "eu-west-1", State: incident.StateResolved},
	}
	in := report.FromStatus(v, open, nil)
	if strings.Join(in.Regions, ",") != "eu-west-1,us-east-1" || len(in.Incidents) != 2 {
		t.Fatalf("regions %v incidents %d", in.Regions, len(in.Incidents))
	}
	got := map[string]report.Verdict{}
	for _, a := range in.Accounts {
		for _, c := range a.Cells {
			got[a.ID+"/"+c.Region] = c.Verdict
		}
	}
	want := map[string]report.Verdict{"222222222222/us-east-1": report.Stale, "222222222222/eu-west-1": report.Fresh,
		"333333333333/us-east-1": report.Never, "333333333333/eu-west-1": report.Never}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
}

func TestReportNeedsFile(t *testing.T) {
	if r := runCLI(t, nil, "report"); r.code != exitUsage || !strings.Contains(r.stderr, "--html") {
		t.Fatalf("%+v", r)
	}
}

// TestReportAfterDemo: `trailwarden report --html` against the emulator
// after the demo writes one self-contained page with the demo's accounts.
func TestReportAfterDemo(t *testing.T) {
	var out bytes.Buffer
	res, err := demo.Run(t.Context(), demo.Options{Out: &out, Server: emulator.Shared(t), Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	vars := map[string]string{}
	for k, v := range res.Env {
		if strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, v)
		} else {
			vars[k] = v
		}
	}
	file := filepath.Join(t.TempDir(), "map.html")
	r := runCLI(t, vars, "report", "--html", file, "--organization", "--at", res.Simulated.Format(time.RFC3339))
	if r.code != exitOK {
		t.Fatalf("report: %+v", r)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"payments", "analytics", "555555555555", `"organization":`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(string(b), `"organization":-1`) {
		t.Error("--organization did not list the organization")
	}
}
