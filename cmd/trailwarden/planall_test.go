package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/internal/flow"
)

// planAllMembers is the organization's size: TRAILWARDEN_PLAN_ALL_ACCOUNTS
// (e.g. 300) or a small default that keeps the test quick.
func planAllMembers(t *testing.T) int {
	if v := os.Getenv("TRAILWARDEN_PLAN_ALL_ACCOUNTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			t.Fatalf("TRAILWARDEN_PLAN_ALL_ACCOUNTS=%q: want a number ≥ 2", v)
		}
		return n
	}
	return 10
}

type planAllJSON struct {
	Summary  planSummary `json:"summary"`
	Accounts []planLine  `json:"accounts"`
}

func planAll(t *testing.T, vars map[string]string, want int, args ...string) planAllJSON {
	t.Helper()
	start := time.Now()
	r := runCLI(t, vars, append([]string{"plan", "--output", "json"}, args...)...)
	var v planAllJSON
	if r.code != want || json.Unmarshal([]byte(r.stdout), &v) != nil {
		t.Fatalf("plan %v: want exit %d: %+v", args, want, r)
	}
	if strings.Contains(r.stderr, "\r") {
		t.Fatalf("progress frames on a stderr that is not a terminal: %q", r.stderr)
	}
	t.Logf("plan %v: %d account(s) in %s", args, v.Summary.Accounts, time.Since(start).Round(time.Millisecond))
	return v
}

// TestPlanAllOrganization: plan --all over an emulated organization plans
// every ACTIVE account (exit 1: trails would be created), --ou only the
// OU's, nothing is written, and after a backfill it finds nothing to
// change (exit 0).
func TestPlanAllOrganization(t *testing.T) {
	n := planAllMembers(t)
	specs := make([]emulator.MemberSpec, n)
	for i := range specs {
		specs[i] = emulator.MemberSpec{Name: fmt.Sprintf("member-%04d", i)}
		if i%2 == 0 {
			specs[i].OU = "Pilot"
		}
	}
	env, res, vars := emulatorEnvWith(t, emulator.WorldSpec{OUs: []string{"Pilot"}, Members: specs})
	v := planAll(t, vars, exitProblem, "--all", "--workers", "8")
	if v.Summary.Errors != 0 || v.Summary.Decisions["create"] < n || len(v.Accounts) != v.Summary.Accounts {
		t.Fatalf("summary %+v", v.Summary)
	}
	for _, l := range v.Accounts {
		if l.Decision == "create" && (l.Report == nil || !l.Report.DryRun || l.Report.Writes != 0) {
			t.Fatalf("a plan must write nothing: %+v", l)
		}
	}
	// backfill --dry-run is the same plan, with the same exit code.
	dry := planAll(t, vars, exitProblem, "--all")
	r := runCLI(t, vars, "backfill", "--dry-run", "-o", "json", "--workers", "4")
	var dv planAllJSON
	if r.code != exitProblem || json.Unmarshal([]byte(r.stdout), &dv) != nil {
		t.Fatalf("backfill --dry-run: %+v", r)
	}
	dv.Summary.Elapsed, dry.Summary.Elapsed = "", ""
	if !reflect.DeepEqual(dv, dry) {
		t.Fatalf("backfill --dry-run differs from plan --all:\n%+v\n%+v", dv.Summary, dry.Summary)
	}
	if hasTrail(t, env, env.MustMember("member-0001").ID) {
		t.Fatal("plan --all or backfill --dry-run created a trail")
	}
	pilot := planAll(t, vars, exitProblem, "--ou", env.OUs["Pilot"])
	if pilot.Summary.Accounts != (n+1)/2 {
		t.Fatalf("--ou planned %d account(s), want %d", pilot.Summary.Accounts, (n+1)/2)
	}
	if r := runCLI(t, vars, "plan", "--all", "-o", "yaml"); r.code != exitUsage {
		t.Fatalf("unknown format: %+v", r)
	}
	vars["TRAILWARDEN_ACCOUNTS_TABLE"] = flow.AccountsTable
	vars["TRAILWARDEN_ALERTS_TOPIC_ARN"] = res.AlertsTopicARN
	if r := runCLI(t, vars, "backfill", "--direct", "--workers", "8"); r.code != exitOK {
		t.Fatalf("backfill: %+v", r)
	}
	v = planAll(t, vars, exitOK, "--all")
	if v.Summary.Changing != 0 || v.Summary.Decisions["no change"] < n {
		t.Fatalf("after backfill: %+v", v.Summary)
	}
	if r := runCLI(t, vars, "backfill", "--dry-run"); r.code != exitOK || !strings.Contains(r.stdout, "0 would change") {
		t.Fatalf("backfill --dry-run after backfill: %+v", r)
	}
	r = runCLI(t, vars, "plan", "--all")
	if r.code != exitOK || !strings.Contains(r.stdout, "no change") || !strings.Contains(r.stdout, "0 would change") {
		t.Fatalf("table: %+v", r)
	}
}
