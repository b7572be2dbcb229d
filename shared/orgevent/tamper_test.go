package orgevent

import (
	"path/filepath"
	"testing"
)

func TestMatchesTrail(t *testing.T) {
	byName, _ := Decide(readFixture(t, filepath.Join(tamperDir, "stop-logging.json")))
	byARN, _ := Decide(readFixture(t, filepath.Join(tamperDir, "delete-trail.json")))
	other, _ := Decide(readFixture(t, filepath.Join(tamperDir, "stop-logging-other-trail.json")))
	const arn = "arn:aws:cloudtrail:us-east-1:333333333333:trail/org-audit"
	tests := []struct {
		name  string
		d     Decision
		trail string
		want  bool
	}{
		{"name/name", byName, "org-audit", true},
		{"name/arn", byName, arn, true},
		{"name/arn other account", byName, "arn:aws:cloudtrail:us-east-1:444444444444:trail/org-audit", false},
		{"arn/name", byARN, "org-audit", true},
		{"arn/arn", byARN, arn, true},
		{"arn/arn other region", byARN, "arn:aws:cloudtrail:eu-west-1:333333333333:trail/org-audit", false},
		{"other trail", other, "org-audit", false},
		{"other trail by arn", other, arn, false},
		{"empty trail", byName, "", false},
		{"bad arn", byName, "arn:aws:s3:::org-audit", false},
		{"no trail in decision", Decision{}, "org-audit", false},
		{"prefix is not a match", byName, "org-audi", false},
	}
	for _, tt := range tests {
		if got := MatchesTrail(tt.d, tt.trail); got != tt.want {
			t.Errorf("%s: MatchesTrail(%q) = %v, want %v", tt.name, tt.trail, got, tt.want)
		}
	}
}

func TestIsOwnActor(t *testing.T) {
	own, _ := Decide(readFixture(t, filepath.Join(tamperDir, "stop-logging-by-trailwarden.json")))
	human, _ := Decide(readFixture(t, filepath.Join(tamperDir, "stop-logging.json")))
	oaar, _ := Decide(mutate(t, filepath.Join(tamperDir, "stop-logging-by-trailwarden.json"), func(ev map[string]any) {
		u := detailOf(ev)["userIdentity"].(map[string]any)
		u["arn"] = "arn:aws:sts::333333333333:assumed-role/OrganizationAccountAccessRole/trailwarden-enabler-77"
		u["sessionContext"].(map[string]any)["sessionIssuer"].(map[string]any)["userName"] = "OrganizationAccountAccessRole"
	}))
	oaarHuman, _ := Decide(mutate(t, filepath.Join(tamperDir, "stop-logging-by-trailwarden.json"), func(ev map[string]any) {
		u := detailOf(ev)["userIdentity"].(map[string]any)
		u["arn"] = "arn:aws:sts::333333333333:assumed-role/OrganizationAccountAccessRole/bob"
		u["sessionContext"].(map[string]any)["sessionIssuer"].(map[string]any)["userName"] = "OrganizationAccountAccessRole"
	}))
	foreign, _ := Decide(mutate(t, filepath.Join(tamperDir, "stop-logging-by-trailwarden.json"), func(ev map[string]any) {
		u := detailOf(ev)["userIdentity"].(map[string]any)
		u["arn"] = "arn:aws:sts::444444444444:assumed-role/TrailwardenMemberRole/trailwarden-enabler-5f3a9c"
	}))
	mismatch, _ := Decide(mutate(t, filepath.Join(tamperDir, "stop-logging-by-trailwarden.json"), func(ev map[string]any) {
		u := detailOf(ev)["userIdentity"].(map[string]any)
		u["sessionContext"].(map[string]any)["sessionIssuer"].(map[string]any)["userName"] = "SomeoneElse"
	}))
	roles := []string{"TrailwardenMemberRole", "OrganizationAccountAccessRole/trailwarden-*"}
	tests := []struct {
		name  string
		d     Decision
		roles []string
		want  bool
	}{
		{"own role", own, roles, true},
		{"human via SSO", human, roles, false},
		{"OAAR trailwarden session", oaar, roles, true},
		{"OAAR other session", oaarHuman, roles, false},
		{"OAAR any session when listed bare", oaarHuman, []string{"OrganizationAccountAccessRole"}, true},
		{"exact session", oaar, []string{"OrganizationAccountAccessRole/trailwarden-enabler-77"}, true},
		{"exact session differs", oaar, []string{"OrganizationAccountAccessRole/trailwarden-enabler"}, false},
		{"bare star is not a wildcard", oaarHuman, []string{"OrganizationAccountAccessRole/*"}, false},
		{"role in another account", foreign, roles, false},
		{"issuer disagrees with ARN", mismatch, roles, false},
		{"no roles", own, nil, false},
		{"no actor", Decision{}, roles, false},
	}
	for _, tt := range tests {
		if got := IsOwnActor(tt.d, tt.roles); got != tt.want {
			t.Errorf("%s: IsOwnActor = %v, want %v (actor %+v)", tt.name, got, tt.want, tt.d.Actor)
		}
	}
}

func TestTamperEdges(t *testing.T) {
	stop := filepath.Join(tamperDir, "stop-logging.json")
	tests := []struct {
		name    string
		f       func(map[string]any)
		action  Action
		account string
		trail   string
	}{
		{"other call", func(ev map[string]any) { detailOf(ev)["eventName"] = "DescribeTrails" }, ActionIgnore, "", ""},
		{"start logging is not drift", func(ev map[string]any) { detailOf(ev)["eventName"] = "StartLogging" }, ActionIgnore, "", ""},
		{"service event", func(ev map[string]any) { ev["detail-type"] = "AWS Service Event via CloudTrail" }, ActionIgnore, "", ""},
		{"no recipient: envelope account", func(ev map[string]any) { delete(detailOf(ev), "recipientAccountId") }, ActionDrift, "333333333333", "org-audit"},
		{"no account anywhere", func(ev map[string]any) { delete(detailOf(ev), "recipientAccountId"); delete(ev, "account") }, ActionReject, "", ""},
		{"no requestParameters", func(ev map[string]any) { detailOf(ev)["requestParameters"] = nil }, ActionReject, "", ""},
		{"name missing", func(ev map[string]any) { detailOf(ev)["requestParameters"] = map[string]any{} }, ActionReject, "", ""},
		{"name number", func(ev map[string]any) { detailOf(ev)["requestParameters"] = map[string]any{"name": 5} }, ActionReject, "", ""},
		{"no eventName", func(ev map[string]any) { delete(detailOf(ev), "eventName") }, ActionReject, "", ""},
		{"remove tags on event data store", func(ev map[string]any) {
			d := detailOf(ev)
			d["eventName"] = "RemoveTags"
			d["requestParameters"] = map[string]any{"resourceId": "arn:aws:cloudtrail:us-east-1:333333333333:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE", "tagsList": []any{}}
		}, ActionIgnore, "", ""},
		{"insight selectors on event data store", func(ev map[string]any) {
			d := detailOf(ev)
			d["eventName"] = "PutInsightSelectors"
			d["requestParameters"] = map[string]any{"eventDataStore": "arn:aws:cloudtrail:us-east-1:333333333333:eventdatastore/x", "insightSelectors": []any{}}
		}, ActionIgnore, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := Decide(mutate(t, stop, tt.f))
			if d.Action != tt.action || d.Account != tt.account || d.TrailName != tt.trail {
				t.Errorf("got %q %q %q (%s), want %q %q %q", d.Action, d.Account, d.TrailName, d.Reason, tt.action, tt.account, tt.trail)
			}
		})
	}
	upd, _ := Decide(readFixture(t, filepath.Join(tamperDir, "update-trail-other-bucket.json")))
	if len(upd.ChangedSettings) != 1 || upd.ChangedSettings[0] != "s3BucketName" || upd.TrailARN == "" {
		t.Errorf("UpdateTrail: changed %v, arn %q", upd.ChangedSettings, upd.TrailARN)
	}
	if upd.Actor == nil || upd.Actor.RoleName != "AWSReservedSSO_AdministratorAccess_0123456789abcdef" || upd.SourceIP != "203.0.113.77" {
		t.Errorf("UpdateTrail actor %+v, source %q", upd.Actor, upd.SourceIP)
	}
}
