package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exitCase is one command line and the exit code the table gives it.
type exitCase struct {
	name   string
	args   []string
	code   int
	stderr string // a fragment stderr must hold
}

// TestExitCodes: every command follows the one table for what it can
// judge without AWS: usage errors (2, with where help is), refused inputs
// and findings (1), success (0).
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\norganization: {id: o-x, homeRegion: mars-1}\ntrail: {name: my--trail}\n"), 0o600)
	pol := repoFile("examples", "policy.yaml")
	vars := map[string]string{envConfig: filepath.Join(dir, "config.json")}
	cases := []exitCase{
		{"root alone", nil, exitUsage, ""},
		{"root help", []string{"--help"}, exitOK, ""},
		{"root version", []string{"--version"}, exitOK, ""},
		{"unknown command", []string{"stauts"}, exitUsage, "Did you mean this?\n\tstatus"},
		{"unknown flag", []string{"status", "--polcy", "p.yaml"}, exitUsage, "Did you mean this?\n\t--policy"},
		{"flag without value", []string{"plan", "--account"}, exitUsage, "Run 'trailwarden plan --help' for usage."},
		{"help unknown topic", []string{"help", "exit-kodes"}, exitUsage, "exit-codes"},
		{"help topic", []string{"help", "exit-codes"}, exitOK, ""},
		{"policy alone", []string{"policy"}, exitUsage, "render, validate"},
		{"policy unknown subcommand", []string{"policy", "valdate"}, exitUsage, "validate"},
		{"policy validate valid", []string{"policy", "validate", pol}, exitOK, ""},
		{"policy validate problem", []string{"policy", "validate", bad}, exitProblem, "problem(s)"},
		{"policy validate no file", []string{"policy", "validate"}, exitUsage, "FILE"},
		{"policy render no account", []string{"policy", "render", pol}, exitUsage, "--account"},
		{"policy render problem", []string{"policy", "render", bad, "--account", "444444444444"}, exitProblem, "problem(s)"},
		{"explain accepted", []string{"explain", repoFile("events", "tamper", "stop-logging.json")}, exitOK, ""},
		{"explain malformed", []string{"explain", repoFile("events", "delivery", "sqs-truncated-json.json")}, exitProblem, ""},
		{"explain rejected record", []string{"explain", repoFile("events", "organizations", "sqs-wrapped-create-account-result.json")}, exitProblem, ""},
		{"explain missing file", []string{"explain", filepath.Join(dir, "none.json")}, exitUsage, "no such file"},
		{"explain no file", []string{"explain"}, exitUsage, "FILE"},
		{"version", []string{"version"}, exitOK, ""},
		{"version json", []string{"version", "-o", "json"}, exitOK, ""},
		{"version unknown format", []string{"version", "-o", "yaml"}, exitUsage, "want table or json"},
		{"version argument", []string{"version", "extra"}, exitUsage, "no arguments"},
		{"use list", []string{"use"}, exitOK, "no contexts"},
		{"use bad name", []string{"use", "a b"}, exitUsage, "not a context name"},
		{"completion", []string{"completion", "fish"}, exitOK, ""},
		{"completion unknown shell", []string{"completion", "tcsh"}, exitUsage, "bash, zsh or fish"},
		{"status unknown format", []string{"status", "-o", "yaml"}, exitUsage, "want table or json"},
		{"status bad time", []string{"status", "--at", "noon"}, exitUsage, "RFC 3339"},
		{"plan nothing to plan", []string{"plan", "--policy", pol}, exitUsage, "--account"},
		{"plan account and all", []string{"plan", "--account", "333333333333", "--all"}, exitUsage, "give one"},
		{"plan unknown format", []string{"plan", "--all", "-o", "yaml"}, exitUsage, "want table or json"},
		{"plan no workers", []string{"plan", "--all", "--workers", "0"}, exitUsage, "at least 1"},
		{"enable no account", []string{"enable"}, exitUsage, "--account"},
		{"backfill dry run and direct", []string{"backfill", "--dry-run", "--direct"}, exitUsage, "give one"},
		{"backfill unknown format", []string{"backfill", "--dry-run", "-o", "yaml"}, exitUsage, "want table or json"},
		{"doctor no policy", []string{"doctor"}, exitUsage, "--policy"},
		{"doctor unknown format", []string{"doctor", "-o", "xml"}, exitUsage, "want table or json"},
		{"report no html", []string{"report"}, exitUsage, "--html"},
		{"integrity alone", []string{"integrity"}, exitUsage, "mirror, verify"},
		{"integrity verify no start", []string{"integrity", "verify", "--dir", dir}, exitUsage, "--start"},
		{"integrity verify unknown format", []string{"integrity", "verify", "-o", "yaml"}, exitUsage, "want table or json"},
		{"integrity mirror no bucket", []string{"integrity", "mirror"}, exitUsage, "--bucket"},
		{"invoke alone", []string{"invoke"}, exitUsage, "enabler, verifier, watchdog"},
		{"invoke enabler no event", []string{"invoke", "enabler"}, exitUsage, "--event"},
		{"invoke watchdog bad time", []string{"invoke", "watchdog", "--now", "noon"}, exitUsage, "--now"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, vars, c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.stderr) {
				t.Fatalf("%q: exit %d, want %d with %q on stderr:\n%s", c.args, r.code, c.code, c.stderr, r.stderr)
			}
			if n := strings.Count(r.stderr, "trailwarden: "); c.code == exitUsage && n > 1 && !strings.Contains(r.stderr, "problem(s)") {
				t.Errorf("the error is printed %d times:\n%s", n, r.stderr)
			}
		})
	}
}

// TestExitCodesOnAccessErrors: a command that cannot reach AWS, or has no
// credentials, judges nothing: exit 2, with what to do next.
func TestExitCodesOnAccessErrors(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	vars := map[string]string{envConfig: filepath.Join(dir, "none.json"), "TRAILWARDEN_POLICY_FILE": repoFile("examples", "policy.yaml"),
		"TRAILWARDEN_ACCOUNTS_TABLE": "a", "TRAILWARDEN_LEDGER_TABLE": "l", "TRAILWARDEN_JOURNAL_TABLE": "j", "TRAILWARDEN_INCIDENTS_TABLE": "i"}
	commands := [][]string{{"status"}, {"plan", "--all"}, {"backfill", "--dry-run"}, {"report", "--html", filepath.Join(dir, "r.html")},
		{"plan", "--account", "333333333333"}, {"doctor"}}
	for _, args := range commands {
		r := runCLI(t, vars, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "Unable to locate credentials") || strings.Count(r.stderr, "Unable") != 1 {
			t.Errorf("no credentials: %q: %+v", args, r)
		}
	}
	// Credentials, but nothing listening at the endpoint.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	for _, args := range commands {
		if r := runCLI(t, vars, args...); r.code != exitUsage || r.stderr == "" {
			t.Errorf("endpoint down: %q: %+v", args, r)
		}
	}
}
