package orgevent

import (
	"path/filepath"
	"strings"
	"testing"
)

var ours = Origin{ManagementAccount: "111111111111", OrganizationID: "o-a1b2c3d4e5", Partition: "aws"}

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
		{"created, a GovCloud Region", "create-account-result-succeeded.json",
			func(ev map[string]any) { ev["region"] = "us-gov-west-1" }, ActionIgnore, "partition aws-us-gov"},
		{"created, a China awsRegion", "create-account-result-succeeded.json",
			func(ev map[string]any) { detail(ev)["awsRegion"] = "cn-north-1" }, ActionIgnore, "partition aws-cn"},
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

// TestTamperOriginIsVerified: a tamper event is acted on only when it is
// CloudTrail's own record, its envelope's account is the recording account
// (a member's forwarding path) and its Regions are in our partition.
func TestTamperOriginIsVerified(t *testing.T) {
	f := filepath.Join(tamperDir, "stop-logging.json")
	cases := []struct {
		name   string
		change func(ev map[string]any)
		want   Action
		reason string
	}{
		{"ours", func(map[string]any) {}, ActionDrift, ""},
		{"no eventSource", func(ev map[string]any) { delete(detail(ev), "eventSource") }, ActionIgnore, "eventSource"},
		{"eventSource of another service", func(ev map[string]any) { detail(ev)["eventSource"] = "s3.amazonaws.com" }, ActionIgnore, "eventSource"},
		{"look-alike eventSource", func(ev map[string]any) { detail(ev)["eventSource"] = "cloudtrail.amazonaws.com.evil.example" }, ActionIgnore, "eventSource"},
		{"re-wrapped on another account's bus", func(ev map[string]any) { ev["account"] = "999999999999" }, ActionIgnore, "bus"},
		{"recipient another account", func(ev map[string]any) { detail(ev)["recipientAccountId"] = "999999999999" }, ActionIgnore, "recipientAccountId"},
		{"recipient missing", func(ev map[string]any) { delete(detail(ev), "recipientAccountId") }, ActionIgnore, "recipientAccountId"},
		{"a GovCloud Region", func(ev map[string]any) { ev["region"] = "us-gov-west-1" }, ActionIgnore, "partition aws-us-gov"},
		{"a China awsRegion", func(ev map[string]any) { detail(ev)["awsRegion"] = "cn-northwest-1" }, ActionIgnore, "partition aws-cn"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := DecideFrom(mutate(t, f, tc.change), ours)
			if err != nil || d.Action != tc.want {
				t.Fatalf("decision %s (%s), err %v; want %s", d.Action, d.Reason, err, tc.want)
			}
			if tc.reason != "" && (!strings.HasPrefix(d.Reason, ReasonUnverified) || !strings.Contains(d.Reason, tc.reason)) {
				t.Fatalf("reason %q lacks %q", d.Reason, tc.reason)
			}
		})
	}
	// Without a policy only a present eventSource is judged.
	if d, err := Decide(mutate(t, f, func(ev map[string]any) { ev["account"] = "999999999999" })); err != nil || d.Action != ActionDrift {
		t.Fatalf("zero origin: %+v %v", d, err)
	}
}
