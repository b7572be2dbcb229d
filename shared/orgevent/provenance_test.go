package orgevent

import (
	"path/filepath"
	"strings"
	"testing"
)

var ours = Origin{ManagementAccount: "111111111111", OrganizationID: "o-a1b2c3d4e5"}

func detail(ev map[string]any) map[string]any { return ev["detail"].(map[string]any) }

// TestOriginIsVerified: every Organizations event that would act is
// checked against the policy's management account and organization; a
// forged or re-wrapped one is ignored with ReasonUnverified.
func TestOriginIsVerified(t *testing.T) {
	f := func(name string) string { return filepath.Join(orgDir, name) }
	cases := []struct {
		name, fixture string
		change        func(ev map[string]any)
		want          Action
		reason        string
	}{
		{"created, ours", "create-account-result-succeeded.json", func(map[string]any) {}, ActionEnable, ""},
		{"created, from a member's bus", "create-account-result-succeeded.json",
			func(ev map[string]any) { ev["account"] = "333333333333" }, ActionIgnore, "bus"},
		{"created, recipient another account", "create-account-result-succeeded.json",
			func(ev map[string]any) { detail(ev)["recipientAccountId"] = "999999999999" }, ActionIgnore, "recipientAccountId"},
		{"created, userIdentity of another account", "create-account-result-succeeded.json",
			func(ev map[string]any) { detail(ev)["userIdentity"].(map[string]any)["accountId"] = "999999999999" }, ActionIgnore, "userIdentity"},
		{"created, eventSource not Organizations", "create-account-result-succeeded.json",
			func(ev map[string]any) { detail(ev)["eventSource"] = "organizations.amazonaws.com.evil.example" }, ActionIgnore, "eventSource"},
		{"created, no eventSource", "create-account-result-succeeded.json",
			func(ev map[string]any) { delete(detail(ev), "eventSource") }, ActionIgnore, "eventSource"},
		{"created, resources of another organization", "create-account-result-succeeded.json",
			func(ev map[string]any) {
				ev["resources"] = []any{"arn:aws:organizations::111111111111:account/o-zzzzzzzzzz/333333333333"}
			}, ActionIgnore, "organization o-zzzzzzzzzz"},
		{"joined, ours", "account-joined-organization.json", func(map[string]any) {}, ActionEnable, ""},
		{"joined, another organization", "account-joined-organization.json",
			func(ev map[string]any) {
				detail(ev)["serviceEventDetails"].(map[string]any)["organizationId"] = "o-zzzzzzzzzz"
			}, ActionIgnore, "organization"},
		{"moved, ours", "move-account.json", func(map[string]any) {}, ActionReevaluate, ""},
		{"moved, from a member's bus", "move-account.json", func(ev map[string]any) { ev["account"] = "333333333333" }, ActionIgnore, "bus"},
		{"departed, ours", "account-departed-organization.json", func(map[string]any) {}, ActionRecord, ""},
		{"departed, another organization", "account-departed-organization.json",
			func(ev map[string]any) {
				detail(ev)["serviceEventDetails"].(map[string]any)["organizationId"] = "o-zzzzzzzzzz"
			}, ActionIgnore, "organization"},
		{"accepted, ours (the member's own call)", "accept-handshake-invite-account.json", func(map[string]any) {}, ActionEnable, ""},
		{"accepted, another organization", "accept-handshake-invite-account.json", func(ev map[string]any) {
			h := detail(ev)["responseElements"].(map[string]any)["handshake"].(map[string]any)
			h["parties"].([]any)[0].(map[string]any)["id"] = "o-zzzzzzzzzz"
		}, ActionIgnore, "ORGANIZATION party"},
		{"accepted, another management account", "accept-handshake-invite-account.json", func(ev map[string]any) {
			h := detail(ev)["responseElements"].(map[string]any)["handshake"].(map[string]any)
			h["arn"] = "arn:aws:organizations::999999999999:handshake/o-a1b2c3d4e5/invite/h-a1b2c3d4e5f60718"
		}, ActionIgnore, "management account"},
		{"accepted, re-wrapped on another account's bus", "accept-handshake-invite-account.json",
			func(ev map[string]any) { ev["account"] = "999999999999" }, ActionIgnore, "bus"},
		{"accepted, no organization named", "accept-handshake-invite-account.json", func(ev map[string]any) {
			h := detail(ev)["responseElements"].(map[string]any)["handshake"].(map[string]any)
			h["parties"] = []any{map[string]any{"type": "ACCOUNT", "id": "444444444444"}}
			delete(h, "arn")
		}, ActionIgnore, "names no organization"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := DecideFrom(mutate(t, f(tc.fixture), tc.change), ours)
			if err != nil || d.Action != tc.want {
				t.Fatalf("decision %s (%s), err %v; want %s", d.Action, d.Reason, err, tc.want)
			}
			if tc.reason != "" && (!strings.HasPrefix(d.Reason, ReasonUnverified) || !strings.Contains(d.Reason, tc.reason)) {
				t.Fatalf("reason %q lacks %q", d.Reason, tc.reason)
			}
		})
	}
}

// TestZeroOriginKeepsDecisions: without a policy (explain alone) only the
// eventSource is checked.
func TestZeroOriginKeepsDecisions(t *testing.T) {
	d, err := Decide(mutate(t, filepath.Join(orgDir, "create-account-result-succeeded.json"), func(ev map[string]any) { ev["account"] = "333333333333" }))
	if err != nil || d.Action != ActionEnable {
		t.Fatalf("%+v %v", d, err)
	}
}
