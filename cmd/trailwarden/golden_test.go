package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/shared/converge"
)

// commandPaths are the argument paths of every command and help topic
// under c ("" for the root).
func commandPaths(c *cobra.Command, prefix []string) [][]string {
	out := [][]string{prefix}
	for _, s := range c.Commands() {
		out = append(out, commandPaths(s, append(append([]string{}, prefix...), s.Name()))...)
	}
	return out
}

// TestHelpGolden: --help of the root and of every command and subcommand,
// and -h, print the same help (exit 0), as the golden files hold it.
func TestHelpGolden(t *testing.T) {
	vars := map[string]string{envConfig: filepath.Join(t.TempDir(), "none.json")}
	paths := commandPaths(newRoot(&cmdEnv{getenv: func(string) string { return "" }}), nil)
	if len(paths) < 18 {
		t.Fatalf("only %d commands", len(paths))
	}
	for _, p := range paths {
		name := strings.Join(append([]string{"trailwarden"}, p...), "_")
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, vars, append(append([]string{}, p...), "--help")...)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("--help: %+v", r)
			}
			golden(t, filepath.Join("testdata", "help", name+".txt"), r.stdout)
			if h := runCLI(t, vars, append(append([]string{}, p...), "-h")...); h.stdout != r.stdout || h.code != exitOK {
				t.Errorf("-h differs from --help: %+v", h)
			}
		})
	}
}

// TestExitCodesTopic: 'help exit-codes' prints the one table, and the
// root's help carries it too.
func TestExitCodesTopic(t *testing.T) {
	r := runCLI(t, nil, "help", "exit-codes")
	if r.code != exitOK || !strings.Contains(r.stdout, exitCodeTable) {
		t.Fatalf("%+v", r)
	}
	golden(t, filepath.Join("testdata", "help", "exit-codes.txt"), r.stdout)
	if root := runCLI(t, nil, "--help"); !strings.Contains(root.stdout, exitCodeTable) || !strings.Contains(root.stdout, "exit-codes") {
		t.Fatalf("root help lacks the exit codes: %s", root.stdout)
	}
}

// TestCompletionScripts: each shell's script is produced and knows the
// commands.
func TestCompletionScripts(t *testing.T) {
	for shell, marker := range map[string]string{"bash": "complete -o default", "zsh": "#compdef trailwarden", "fish": "complete -c trailwarden"} {
		r := runCLI(t, nil, "completion", shell)
		if r.code != exitOK || !strings.Contains(r.stdout, marker) {
			t.Errorf("%s: exit %d, script lacks %q:\n%.300s", shell, r.code, marker, r.stdout)
		}
		// The scripts ask the binary for its commands (__complete); the
		// answer lists them.
		c := runCLI(t, nil, "__complete", "")
		for _, name := range []string{"status", "plan", "backfill", "integrity", "completion"} {
			if !strings.Contains(c.stdout, name) {
				t.Errorf("__complete lacks %s: %s", name, c.stdout)
			}
		}
	}
	if r := runCLI(t, nil, "__complete", "status", "--output", ""); !strings.Contains(r.stdout, "table\njson") {
		t.Errorf("--output values: %q", r.stdout)
	}
	if r := runCLI(t, nil, "completion", "tcsh"); r.code != exitUsage {
		t.Errorf("unknown shell: %+v", r)
	}
}

// TestPlanOutputGolden: the shapes of plan --all's (and backfill
// --dry-run's) table and JSON.
func TestPlanOutputGolden(t *testing.T) {
	lines := []planLine{
		{Account: "333333333333", Name: "payments", OU: "ou-ab12-cdef3456", Decision: "create", Changes: 2, Report: &converge.Report{
			Trail: "org-audit", Region: "us-east-1", Created: true, DryRun: true, Calls: []string{"cloudtrail:GetTrail"},
			Changes: []converge.Change{{Field: "trail", To: "create org-audit"}, {Field: "logging", To: "started"}}}},
		{Account: "444444444444", Name: "analytics", Decision: "no change", Report: &converge.Report{Trail: "org-audit", Region: "us-east-1",
			Changes: []converge.Change{}, Calls: []string{"cloudtrail:GetTrail", "cloudtrail:GetTrailStatus"}, IsLogging: true}},
		{Account: "555555555555", Name: "sandbox", Decision: "excluded"},
		{Account: "666666666666", Decision: "error", Error: "assume trailwarden-operator-read in 666666666666: access denied"},
	}
	sum := summarizePlan(lines, 1234*time.Millisecond)
	for _, output := range []outputFlag{"table", "json"} {
		var out strings.Builder
		if err := writePlan(&cmdEnv{stdout: &out}, output, lines, sum); err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join("testdata", "plan-all."+string(output)+".golden"), out.String())
	}
}
