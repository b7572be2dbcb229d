package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/internal/flow"
)

func TestMain(m *testing.M) { emulator.RunTests(m) }

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, getenv map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cmdEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return getenv[k] }}
	code := runEnv(context.Background(), args, env)
	return result{code, out.String(), errb.String()}
}

// commandNames are the commands that run (not help topics).
func commandNames() []string {
	var names []string
	for _, c := range newRoot(&cmdEnv{getenv: func(string) string { return "" }}).Commands() {
		if c.IsAvailableCommand() && c.Name() != "help" {
			names = append(names, c.Name())
		}
	}
	return names
}

func repoFile(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

func TestUsageAndHelp(t *testing.T) {
	if r := runCLI(t, nil); r.code != exitUsage || !strings.Contains(r.stdout, "Commands:") {
		t.Fatalf("no args: %+v", r)
	}
	for _, name := range commandNames() {
		r := runCLI(t, nil, "help", name)
		if r.code != exitOK || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("help %s lacks an example: %q", name, r.stdout)
		}
	}
	if r := runCLI(t, nil, "help", "frobnicate"); r.code != exitUsage {
		t.Fatalf("help for an unknown command: %+v", r)
	}
	if r := runCLI(t, nil, "frobnicate"); r.code != exitUsage {
		t.Fatalf("unknown command: %+v", r)
	}
}

func TestPolicyValidate(t *testing.T) {
	if r := runCLI(t, nil, "policy", "validate", repoFile("examples", "policy.yaml")); r.code != exitOK {
		t.Fatalf("example policy: %+v", r)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\norganization: {id: o-x, homeRegion: mars-1}\ntrail: {name: my--trail}\ndeployment: {objectChek: all}\n"), 0o600)
	r := runCLI(t, nil, "policy", "validate", bad)
	if r.code != exitProblem {
		t.Fatalf("bad policy: %+v", r)
	}
	for _, want := range []string{"trail.name", "organization.homeRegion", "problem(s)",
		bad + `:4:14: deployment.objectChek: unknown field (did you mean "objectCheck"?)`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestPolicyRender(t *testing.T) {
	r := runCLI(t, nil, "policy", "render", repoFile("examples", "policy.yaml"), "--account", "444444444444", "--ou", "ou-ab12-cdef3456")
	if r.code != exitOK {
		t.Fatalf("%+v", r)
	}
	var out struct {
		EffectivePolicy map[string]any `json:"effectivePolicy"`
		Requests        struct {
			CreateTrail         map[string]any
			PutEventSelectors   map[string]any
			PutInsightSelectors struct{ InsightSelectors []map[string]string }
		} `json:"requests"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Requests.CreateTrail["Name"] != "org-audit" || out.Requests.CreateTrail["S3BucketName"] != "acme-org-cloudtrail" {
		t.Errorf("CreateTrail: %v", out.Requests.CreateTrail)
	}
	if len(out.Requests.PutInsightSelectors.InsightSelectors) != 1 {
		t.Errorf("account override (insights) not applied: %+v", out.Requests.PutInsightSelectors)
	}
	if !strings.Contains(r.stdout, "AWS::S3::Object") {
		t.Errorf("OU override (S3 data events) not rendered")
	}
}

func TestExplainOrganizationsEvent(t *testing.T) {
	// The fixture's second record is malformed: a refused input, exit 1.
	r := runCLI(t, nil, "explain", repoFile("events", "organizations", "sqs-wrapped-create-account-result.json"))
	if r.code != exitProblem || !strings.Contains(r.stdout, `"input": "organizations-event"`) ||
		!strings.Contains(r.stdout, `"action": "enable"`) || !strings.Contains(r.stdout, `"action": "reject"`) {
		t.Fatalf("%+v", r)
	}
}

// emulatorEnv points the CLI's AWS clients at the emulator as the
// management account, with a provisioned central side.
func emulatorEnv(t *testing.T) (*emulator.Env, *central.Resources, map[string]string) {
	return emulatorEnvWith(t, emulator.WorldSpec{})
}

// emulatorEnvWith is emulatorEnv over the organization spec describes.
func emulatorEnvWith(t *testing.T, spec emulator.WorldSpec) (*emulator.Env, *central.Resources, map[string]string) {
	env := emulator.NewEnvWith(t, spec)
	// The automation side lives in the account whose credentials the CLI uses.
	res, err := central.Provision(t.Context(), env.Logging.Config, env.Management, env.Logging.ID, emulator.ManagementAccountID, central.Spec{
		OrganizationID: env.OrganizationID, Bucket: "acme-org-cloudtrail", KeyPrefix: "cloudtrail", TrailName: "org-audit", Tables: flow.Tables()})
	if err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(pol, []byte(res.PolicyYAML(central.PolicyOptions{OrganizationID: env.OrganizationID,
		ManagementAccount: emulator.ManagementAccountID, LoggingAccount: env.Logging.ID})), 0o600)
	t.Setenv("AWS_ENDPOINT_URL", env.Server.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "testing") // the emulator's placeholder keys: the management account
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", env.Region)
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	return env, res, map[string]string{"TRAILWARDEN_POLICY_FILE": pol}
}

func TestPlanThenEnable(t *testing.T) {
	env, _, vars := emulatorEnv(t)
	member := env.MustMember("member-1").ID
	// A change is exit 1, as kubectl diff exits.
	r := runCLI(t, vars, "plan", "--account", member)
	if r.code != exitProblem || !strings.Contains(r.stdout, `"created": true`) {
		t.Fatalf("plan: %+v", r)
	}
	r = runCLI(t, vars, "enable", "--account", member)
	if r.code != exitProblem || !strings.Contains(r.stderr, "add --yes") {
		t.Fatalf("enable without --yes must only plan: %+v", r)
	}
	r = runCLI(t, vars, "enable", "--account", member, "--yes")
	if r.code != exitOK {
		t.Fatalf("enable: %+v", r)
	}
	var trail map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &trail); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Name", "S3BucketName", "S3KeyPrefix", "SnsTopicName", "SnsTopicARN", "IncludeGlobalServiceEvents",
		"IsMultiRegionTrail", "TrailARN", "LogFileValidationEnabled", "KmsKeyId", "IsOrganizationTrail"} {
		if _, ok := trail[k]; !ok {
			t.Errorf("enable output lacks %s: %s", k, r.stdout)
		}
	}
	r = runCLI(t, vars, "plan", "--account", member)
	if r.code != exitOK || !strings.Contains(r.stdout, `"changes": []`) {
		t.Fatalf("plan after enable: %+v", r)
	}
}

func TestBackfillDirectAndInvokeEnabler(t *testing.T) {
	_, res, vars := emulatorEnv(t)
	vars["TRAILWARDEN_ACCOUNTS_TABLE"] = flow.AccountsTable
	vars["TRAILWARDEN_ALERTS_TOPIC_ARN"] = res.AlertsTopicARN
	vars["TRAILWARDEN_REQUEST_QUEUE_URL"] = res.RequestQueueURL
	r := runCLI(t, vars, "backfill", "--direct", "--workers", "4")
	if r.code != exitOK || !strings.Contains(r.stdout, "3 enabled (3 created") || !strings.Contains(r.stderr, "100%") {
		t.Fatalf("backfill: %+v", r)
	}
	r = runCLI(t, vars, "backfill")
	if r.code != exitOK || !strings.Contains(r.stdout, "enqueued 3") {
		t.Fatalf("backfill enqueue: %+v", r)
	}
	vars["TRAILWARDEN_INCIDENTS_TABLE"] = flow.IncidentsTable
	r = runCLI(t, vars, "invoke", "enabler", "--event", repoFile("events", "organizations", "sqs-wrapped-create-account-result.json"))
	// The fixture's good record comes from management account 111111111111,
	// not this organization's: ignored as unverified. The malformed record
	// is a batch item failure: exit 1.
	if r.code != exitProblem || strings.Count(r.stdout, "itemIdentifier") != 1 {
		t.Fatalf("invoke: %+v", r)
	}
}

func TestExplainTamperEvents(t *testing.T) {
	pol := repoFile("examples", "policy.yaml")
	r := runCLI(t, nil, "explain", "--policy", pol, repoFile("events", "tamper", "stop-logging.json"))
	if r.code != exitOK || !strings.Contains(r.stdout, `"action": "drift"`) {
		t.Fatalf("our trail: %+v", r)
	}
	r = runCLI(t, nil, "explain", "--policy", pol, repoFile("events", "tamper", "stop-logging-other-trail.json"))
	if r.code != exitOK || !strings.Contains(r.stdout, `"action": "ignore"`) || !strings.Contains(r.stdout, "not trailwarden's trail") {
		t.Fatalf("another trail: %+v", r)
	}
}

func TestExplainDeliveryNotification(t *testing.T) {
	r := runCLI(t, nil, "explain", "--policy", repoFile("examples", "policy.yaml"), "--members", "333333333333,444444444444",
		repoFile("events", "delivery", "sqs-foreign-account.json"))
	// A rejected delivery (a finding) and a malformed message are exit 1.
	if r.code != exitProblem || !strings.Contains(r.stdout, `"input": "delivery-notification"`) || !strings.Contains(r.stdout, `"verdict": "rejected"`) {
		t.Fatalf("%+v", r)
	}
	r = runCLI(t, nil, "explain", repoFile("events", "delivery", "sqs-truncated-json.json"))
	if r.code != exitProblem || !strings.Contains(r.stdout, `"outcome": "malformed"`) {
		t.Fatalf("truncated: %+v", r)
	}
}

// TestStatusAfterDemo: `trailwarden status` against the emulator after the
// demo shows the demo's picture, as a table and as JSON: its trails are
// on, and the foreign account's delivery is an open security finding, so
// the organization needs attention.
func TestStatusAfterDemo(t *testing.T) {
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
	at := res.Simulated.Format(time.RFC3339)
	r := runCLI(t, vars, "status", "--at", at)
	if r.code != exitProblem {
		t.Fatalf("status: %+v", r)
	}
	// The demo ends with the integrity steps' findings: a deleted log file
	// (payments) and a truncated digest chain (555555555555).
	for _, name := range []string{"payments", "analytics", "555555555555", "enabled", "on (", "2 need attention", "5 open finding(s)",
		"finding#999999999999#", "#log-object-deleted#", "#digests-missing#"} {
		if !strings.Contains(r.stdout, name) {
			t.Errorf("status lacks %q:\n%s", name, r.stdout)
		}
	}
	r = runCLI(t, vars, "status", "--output", "json", "--at", at)
	var v struct {
		Accounts []struct {
			Account string `json:"account"`
			Logging string `json:"logging"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || len(v.Accounts) != 3 {
		t.Fatalf("status json: %v %s", err, r.stdout)
	}
}
