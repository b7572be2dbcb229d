package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func small() Input {
	return Input{
		At:      at,
		Regions: []string{"eu-west-1", "us-east-1", "us-west-2"},
		Accounts: []Account{
			{ID: "222222222222", Name: "prod", OU: "Workloads", Status: "enabled", Cells: []Cell{
				{Region: "eu-west-1", Newest: at.Add(-5 * time.Minute), Verdict: Fresh},
				{Region: "us-east-1", Newest: at.Add(-3 * time.Hour), Verdict: Stale}}},
			{ID: "333333333333", Name: "new </script><b>", OU: "Sandbox", Status: "enabled", Cells: []Cell{
				{Region: "eu-west-1", Verdict: Never}}},
		},
		Organization: []string{"222222222222", "333333333333", "444444444444"},
		Incidents: []Incident{{ID: "stale#222222222222#us-east-1", Kind: "stale", Account: "222222222222",
			Region: "us-east-1", Severity: "high", Summary: "logging stopped", Since: at.Add(-3 * time.Hour)}},
		Findings: []Finding{{Account: "555555555555", Region: "us-east-1", Code: "foreign-account", Summary: "not a member", At: at}},
	}
}

func render(t *testing.T, in Input) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func pageData(t *testing.T, page string) data {
	t.Helper()
	m := regexp.MustCompile(`const DATA = (.*);\n`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no DATA in the page")
	}
	var d data
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRenderData(t *testing.T) {
	p := render(t, small())
	d := pageData(t, p)
	if got := fmt.Sprint(d.Accounts[0][4], "|", d.Accounts[1][4]); got != "013|233" {
		t.Errorf("verdict codes %s, want 013 233", got)
	}
	if got := fmt.Sprint(d.Accounts[0][5]); got != "[5 180 -1]" {
		t.Errorf("ages %s", got)
	}
	if d.Coverage.Organization != 3 || fmt.Sprint(d.Coverage.Missing) != "[444444444444]" || d.Coverage.Known != 2 {
		t.Errorf("coverage %+v", d.Coverage)
	}
	if len(d.Incidents) != 1 || len(d.Findings) != 1 {
		t.Errorf("incidents %v findings %v", d.Incidents, d.Findings)
	}
	if strings.Contains(p, "</script><b>") {
		t.Error("an account name closes the script element")
	}
	for _, ext := range []string{"src=", "href=", "@import", "url("} {
		if strings.Contains(p, ext) {
			t.Errorf("the page references an external asset (%s)", ext)
		}
	}
}

func TestRenderRejects(t *testing.T) {
	for name, mut := range map[string]func(*Input){
		"duplicate region": func(in *Input) { in.Regions = append(in.Regions, "eu-west-1") },
		"unknown region":   func(in *Input) { in.Accounts[0].Cells[0].Region = "ap-south-2" },
		"bad verdict":      func(in *Input) { in.Accounts[0].Cells[0].Verdict = "green" },
		"no id":            func(in *Input) { in.Accounts[1].ID = "" },
	} {
		in := small()
		mut(&in)
		if err := Render(&bytes.Buffer{}, in); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
}

func TestCoverageNotAsked(t *testing.T) {
	in := small()
	in.Organization = nil
	if d := pageData(t, render(t, in)); d.Coverage.Organization != -1 || len(d.Coverage.Missing) != 0 {
		t.Errorf("coverage %+v", d.Coverage)
	}
}
