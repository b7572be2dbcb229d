package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailwarden/trailwarden/internal/flow"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

type statusJSON struct {
	Accounts []struct {
		Account        string `json:"account"`
		Logging        string `json:"logging"`
		NeedsAttention bool   `json:"needsAttention"`
	} `json:"accounts"`
	Findings []struct {
		ID string `json:"id"`
	} `json:"findings"`
	Coverage struct {
		Organization *int `json:"organization"`
		Known        int  `json:"known"`
		Enabled      int  `json:"enabled"`
	} `json:"coverage"`
	Summary struct {
		Healthy        bool `json:"healthy"`
		NeedsAttention int  `json:"needsAttention"`
		OpenFindings   int  `json:"openFindings"`
	} `json:"summary"`
}

func statusOf(t *testing.T, vars map[string]string, want int, args ...string) statusJSON {
	t.Helper()
	r := runCLI(t, vars, append([]string{"status", "-o", "json"}, args...)...)
	var v statusJSON
	if r.code != want || json.Unmarshal([]byte(r.stdout), &v) != nil {
		t.Fatalf("status %v: want exit %d: %+v", args, want, r)
	}
	return v
}

// TestStatusFailsClosed: against the emulator, an organization trailwarden
// knows nothing of needs attention; once every account is enabled it is
// healthy; a security finding and a trail stopped behind trailwarden's
// back (seen with --live) need attention again.
func TestStatusFailsClosed(t *testing.T) {
	env, res, vars := emulatorEnv(t)
	for k, v := range map[string]string{"TRAILWARDEN_ACCOUNTS_TABLE": flow.AccountsTable, "TRAILWARDEN_LEDGER_TABLE": flow.LedgerTable,
		"TRAILWARDEN_JOURNAL_TABLE": flow.JournalTable, "TRAILWARDEN_INCIDENTS_TABLE": flow.IncidentsTable,
		"TRAILWARDEN_ALERTS_TOPIC_ARN": res.AlertsTopicARN, "TRAILWARDEN_REQUEST_QUEUE_URL": res.RequestQueueURL} {
		vars[k] = v
	}
	// An access error judges nothing: exit 2, not "healthy".
	missing := map[string]string{}
	for k, v := range vars {
		missing[k] = v
	}
	missing["TRAILWARDEN_INCIDENTS_TABLE"] = "no-such-table"
	if r := runCLI(t, missing, "status"); r.code != exitUsage || !strings.Contains(r.stderr, `table "no-such-table" not found`) ||
		!strings.Contains(r.stderr, "is the stack deployed in this Region?") || strings.Count(r.stderr, "trailwarden: ") != 1 {
		t.Fatalf("missing table: %+v", r)
	}
	// Empty: members exist, none known.
	v := statusOf(t, vars, exitProblem, "--organization")
	if v.Coverage.Organization == nil || *v.Coverage.Organization == 0 || v.Coverage.Known != 0 || v.Summary.Healthy {
		t.Fatalf("empty organization: %+v", v)
	}
	if r := runCLI(t, vars, "status", "--output", "yaml"); r.code != exitUsage {
		t.Fatalf("unknown format: %+v", r)
	}
	// Healthy.
	if r := runCLI(t, vars, "backfill", "--direct", "--workers", "2"); r.code != exitOK {
		t.Fatalf("backfill: %+v", r)
	}
	v = statusOf(t, vars, exitOK, "--organization")
	if !v.Summary.Healthy || v.Coverage.Enabled != v.Coverage.Known || v.Coverage.Known == 0 {
		t.Fatalf("healthy: %+v", v)
	}
	member := env.MustMember("member-1").ID
	for _, a := range v.Accounts {
		if a.Account == member && a.Logging != "on" {
			t.Fatalf("logging from the converge report: %+v", a)
		}
	}
	// Broken: a finding, and the member's trail stopped.
	db := dynamodb.NewFromConfig(env.Management)
	id := verifier.FindingID(verifier.Finding{Account: member, Code: "ForeignObject", Bucket: "acme-org-cloudtrail", Key: "cloudtrail/x.json"})
	if _, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(flow.IncidentsTable), Item: incident.Encode(incident.Incident{
		ID: id, Kind: "security-finding", Account: member, Reason: "ForeignObject: not written by CloudTrail",
		OpenedAt: time.Now(), ExpiresAt: time.Now().Add(24 * time.Hour)})}); err != nil {
		t.Fatal(err)
	}
	v = statusOf(t, vars, exitProblem, "--problems")
	if v.Summary.OpenFindings != 1 || len(v.Findings) != 1 || v.Findings[0].ID != id || len(v.Accounts) != 1 || !v.Accounts[0].NeedsAttention {
		t.Fatalf("finding: %+v", v)
	}
	cfg, err := env.Assume(t.Context(), member, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cloudtrail.NewFromConfig(cfg).StopLogging(t.Context(), &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	v = statusOf(t, vars, exitProblem, "--live", "--account", member)
	if len(v.Accounts) != 1 || v.Accounts[0].Logging != "stopped" {
		t.Fatalf("live logging: %+v", v)
	}
	r := runCLI(t, vars, "status", "--live", "--account", member)
	if r.code != exitProblem || !strings.Contains(r.stdout, "stopped (live)") || !strings.Contains(r.stdout, id) {
		t.Fatalf("table: %+v", r)
	}
}
