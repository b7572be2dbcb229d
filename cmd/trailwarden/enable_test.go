package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/internal/flow"
	"github.com/trailwarden/trailwarden/shared/accounts"
)

// withPolicy rewrites the CLI's policy file with o (the central resources
// and organization filled in) and names the accounts table.
func withPolicy(t *testing.T, env *emulator.Env, res *central.Resources, vars map[string]string, o central.PolicyOptions) {
	o.OrganizationID, o.ManagementAccount, o.LoggingAccount = env.OrganizationID, emulator.ManagementAccountID, env.Logging.ID
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, []byte(res.PolicyYAML(o)), 0o600); err != nil {
		t.Fatal(err)
	}
	vars["TRAILWARDEN_POLICY_FILE"] = pol
	vars["TRAILWARDEN_ACCOUNTS_TABLE"] = flow.AccountsTable
}

// hasTrail reports whether the account has trailwarden's trail.
func hasTrail(t *testing.T, env *emulator.Env, account string) bool {
	t.Helper()
	cfg, err := env.Assume(t.Context(), account, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = cloudtrail.NewFromConfig(cfg).GetTrail(t.Context(), &cloudtrail.GetTrailInput{Name: aws.String("org-audit")})
	return err == nil
}

// accountItem is the account's item in the accounts table, nil if none.
func accountItem(t *testing.T, env *emulator.Env, account string) *accounts.Account {
	t.Helper()
	a, err := (&accounts.Store{DB: dynamodb.NewFromConfig(env.Management), Table: flow.AccountsTable}).Get(t.Context(), account)
	if errors.Is(err, accounts.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func decision(t *testing.T, r result) map[string]any {
	t.Helper()
	var v map[string]any
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &v) != nil {
		t.Fatalf("%+v", r)
	}
	return v
}

// TestPlanAndEnableExcludedAccount: plan and enable of an account the
// policy excludes say so and create nothing; plan records nothing, enable
// --yes records the exclusion as the enabler does.
func TestPlanAndEnableExcludedAccount(t *testing.T) {
	env, res, vars := emulatorEnv(t)
	member := env.MustMember("member-1").ID
	withPolicy(t, env, res, vars, central.PolicyOptions{ExcludeAccounts: []string{member}})
	for _, args := range [][]string{{"plan"}, {"enable"}, {"enable", "--yes"}} {
		r := runCLI(t, vars, append(args, "--account", member)...)
		if v := decision(t, r); v["status"] != "excluded" || !strings.Contains(r.stderr, "excluded") {
			t.Fatalf("%v: %+v", args, r)
		}
		if hasTrail(t, env, member) {
			t.Fatalf("%v created a trail in an excluded account", args)
		}
		a := accountItem(t, env, member)
		if dry := len(args) == 1; dry && a != nil {
			t.Fatalf("%v wrote the accounts table: %+v", args, a)
		} else if !dry && (a == nil || a.Status != accounts.StatusExcluded) {
			t.Fatalf("%v: accounts item %+v", args, a)
		}
	}
}

// TestEnableMemberInOrganizationTrailMode: in organization-trail mode a
// member is reported (and recorded) as covered by the management account's
// organization trail, and gets no trail of its own.
func TestEnableMemberInOrganizationTrailMode(t *testing.T) {
	env, res, vars := emulatorEnv(t)
	member := env.MustMember("member-1").ID
	withPolicy(t, env, res, vars, central.PolicyOptions{Mode: "organization-trail"})
	for _, args := range [][]string{{"plan"}, {"enable", "--yes"}} {
		r := runCLI(t, vars, append(args, "--account", member)...)
		v := decision(t, r)
		cov, _ := v["coveredBy"].(string)
		if !strings.Contains(cov, ":"+emulator.ManagementAccountID+":trail/org-audit") || !strings.Contains(r.stderr, "organization trail") {
			t.Fatalf("%v: %+v", args, r)
		}
		if hasTrail(t, env, member) {
			t.Fatalf("%v created a trail in a member in organization-trail mode", args)
		}
	}
	if a := accountItem(t, env, member); a == nil || a.Status != accounts.StatusEnabled || !strings.Contains(a.TrailARN, ":"+emulator.ManagementAccountID+":") {
		t.Fatalf("accounts item %+v", a)
	}
}

// TestEnableRecordsAccountsItem: with --accounts-table, plan writes
// nothing and enable --yes records the converge as the enabler does.
func TestEnableRecordsAccountsItem(t *testing.T) {
	env, res, vars := emulatorEnv(t)
	member := env.MustMember("member-1").ID
	withPolicy(t, env, res, vars, central.PolicyOptions{})
	if r := runCLI(t, vars, "plan", "--account", member); r.code != exitProblem || !strings.Contains(r.stdout, `"created": true`) {
		t.Fatalf("plan: %+v", r)
	}
	if a := accountItem(t, env, member); a != nil {
		t.Fatalf("plan wrote the accounts table: %+v", a)
	}
	if r := runCLI(t, vars, "enable", "--account", member, "--yes"); r.code != exitOK {
		t.Fatalf("enable: %+v", r)
	}
	a := accountItem(t, env, member)
	if a == nil || a.Status != accounts.StatusEnabled || !strings.Contains(a.TrailARN, ":"+member+":trail/org-audit") ||
		a.PolicyHash == "" || a.LastReport == "" {
		t.Fatalf("accounts item %+v", a)
	}
}
