package stacks

import (
	"regexp"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/settings"
)

// TestMemberRolesWriteNoIAM: no role of the member template may create,
// change or tag an IAM role (whoever assumes it could otherwise plant an
// admin role); the CloudWatch Logs delivery role is the template's own, and
// the watchdog assumes a role that only reads trails.
func TestMemberRolesWriteNoIAM(t *testing.T) {
	m := org(t).stacks.Member
	iamWrite := regexp.MustCompile(`"iam:(Create|Put|Update|Attach|Tag|Delete|AddRoleTo)[A-Za-z]*"`)
	for id, p := range resources(t, m.Stack, "AWS::IAM::Policy") {
		for _, a := range iamWrite.FindAllString(js(p), -1) {
			// An organization trail needs CloudTrail's service-linked role,
			// whose name and trust AWS fixes.
			if a != `"iam:CreateServiceLinkedRole"` {
				t.Errorf("%s allows %s", id, a)
			}
		}
	}
	roles := map[string]string{}
	for _, r := range resources(t, m.Stack, "AWS::IAM::Role") {
		if n, ok := r["RoleName"].(string); ok {
			roles[n] = js(r["AssumeRolePolicyDocument"])
		}
	}
	// The watchdog's role: trusted by the watchdog only.
	trust := roles[settings.WatchdogMemberRole]
	if !strings.Contains(trust, "role/trailwarden/watchdog/*") || strings.Contains(trust, "enabler") {
		t.Errorf("watchdog role trust: %q", trust)
	}
	// The delivery role: trusted by CloudTrail, no condition (CloudTrail
	// User Guide: this role does not support aws:SourceArn/SourceAccount).
	trust = roles[policy.LogsRoleName]
	if !strings.Contains(trust, `"Service":"cloudtrail.amazonaws.com"`) || strings.Contains(trust, "Condition") {
		t.Errorf("delivery role trust: %q", trust)
	}
	var watchdogPolicy, deliveryPolicy string
	for _, p := range resources(t, m.Stack, "AWS::IAM::Policy") {
		s := js(p)
		switch {
		case strings.Contains(s, "WatchdogRole"):
			watchdogPolicy = s
		case strings.Contains(s, "CloudWatchLogsRole"):
			deliveryPolicy = s
		}
	}
	for _, a := range regexp.MustCompile(`"(cloudtrail|iam|logs|sts):[A-Za-z*]+"`).FindAllString(watchdogPolicy, -1) {
		if a != `"cloudtrail:GetTrail"` && a != `"cloudtrail:GetTrailStatus"` {
			t.Errorf("watchdog role allows %s", a)
		}
	}
	// GetTrailStatus on the trail's shadow copies: any Region.
	if !strings.Contains(watchdogPolicy, `":cloudtrail:*:",{"Ref":"AWS::AccountId"},":trail/org-audit"`) {
		t.Errorf("watchdog role cannot read shadow trails: %s", watchdogPolicy)
	}
	for _, want := range []string{`"logs:CreateLogStream"`, `"logs:PutLogEvents"`, "log-group:/trailwarden/cloudtrail:log-stream:*", "log-group:/workloads/cloudtrail:log-stream:*"} {
		if !strings.Contains(deliveryPolicy, want) {
			t.Errorf("delivery role policy lacks %s: %s", want, deliveryPolicy)
		}
	}
}

// TestSynthRefusesAWSRoleNames: the member template would collide with a
// role AWS creates; synth refuses it with policy validate's rule.
func TestSynthRefusesAWSRoleNames(t *testing.T) {
	for _, name := range []string{"OrganizationAccountAccessRole", "AWSControlTowerExecution", "AWSReservedSSO_Admin_1", "aws-controltower-AdministratorRole"} {
		cfg := *org(t).cfg
		cfg.MemberRole = name
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "organization.memberRole") {
			t.Errorf("%s: synth accepts it (%v)", name, err)
		}
	}
}
