package orgevent

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/shared/fault"
)

var update = flag.Bool("update", false, "rewrite testdata/decisions.golden.json and the fuzz seed corpora from the fixtures")

const (
	orgDir    = "../../events/organizations"
	tamperDir = "../../events/tamper"
)

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mutate decodes a fixture, lets f change it, and encodes it again.
func mutate(t testing.TB, path string, f func(ev map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readFixture(t, path), &ev); err != nil {
		t.Fatal(err)
	}
	f(ev)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func detailOf(ev map[string]any) map[string]any { return ev["detail"].(map[string]any) }

func TestDecideFixtures(t *testing.T) {
	tests := []struct {
		file      string
		action    Action
		account   string
		joinedVia JoinMethod
		reason    string // substring
		reject    bool
	}{
		{"organizations/create-account-result-succeeded.json", ActionEnable, "333333333333", JoinedCreated, "account created (car-3fbd74c0f2fa11ed8b6e0a41b5dcf48f)", false},
		{"organizations/create-account-result-failed.json", ActionRecord, "", "", "account creation failed: EMAIL_ALREADY_EXISTS", false},
		{"organizations/create-account.json", ActionRecord, "", "", "in progress", false},
		{"organizations/accept-handshake-invite-account.json", ActionEnable, "444444444444", JoinedInvited, "sent to an account id", false},
		{"organizations/accept-handshake-invite-email.json", ActionEnable, "444444444444", JoinedInvited, "sent to an e-mail address", false},
		{"organizations/accept-handshake-enable-all-features.json", ActionIgnore, "", "", `"ENABLE_ALL_FEATURES" is not an invitation`, false},
		{"organizations/accept-handshake-failed.json", ActionIgnore, "", "", "errorCode HandshakeConstraintViolationException", false},
		{"organizations/account-joined-organization.json", ActionEnable, "444444444444", JoinedInvited, "joined the organization (invited)", false},
		{"organizations/account-departed-organization.json", ActionRecord, "333333333333", "", "departed the organization (method removed)", false},
		{"organizations/move-account.json", ActionReevaluate, "333333333333", "", "moved from r-a1b2 to ou-a1b2-f6g7h8i9", false},
		{"organizations/invite-account-to-organization.json", ActionRecord, "444444444444", "", "an invitation is not a join", false},
		{"organizations/other-service-ec2.json", ActionIgnore, "", "", `source "aws.ec2"`, false},
		{"organizations/malformed-truncated.json", ActionReject, "", "", "malformed event JSON", true},
		{"organizations/malformed-missing-detail.json", ActionReject, "", "", "missing detail", true},
		{"organizations/malformed-detail-not-object.json", ActionReject, "", "", "detail is not a JSON object", true},
		{"organizations/malformed-event-name-number.json", ActionReject, "", "", "eventName of type string", true},
		{"organizations/malformed-succeeded-without-account-id.json", ActionReject, "", "", "SUCCEEDED without accountId", true},
		{"organizations/malformed-account-id-number.json", ActionReject, "", "", "accountId of type string", true},
		{"organizations/malformed-move-account-bad-id.json", ActionReject, "", "", "not a 12-digit account id", true},
		{"tamper/stop-logging.json", ActionDrift, "333333333333", "", "StopLogging on trail org-audit", false},
		{"tamper/delete-trail.json", ActionDrift, "333333333333", "", "DeleteTrail on trail org-audit", false},
		{"tamper/update-trail-other-bucket.json", ActionDrift, "333333333333", "", "UpdateTrail on trail org-audit", false},
		{"tamper/put-event-selectors.json", ActionDrift, "333333333333", "", "PutEventSelectors on trail org-audit", false},
		{"tamper/put-insight-selectors.json", ActionDrift, "333333333333", "", "PutInsightSelectors on trail org-audit", false},
		{"tamper/remove-tags.json", ActionDrift, "333333333333", "", "RemoveTags on trail org-audit", false},
		{"tamper/stop-logging-other-trail.json", ActionDrift, "333333333333", "", "team-sandbox-trail", false},
		{"tamper/stop-logging-by-trailwarden.json", ActionDrift, "333333333333", "", "StopLogging on trail org-audit", false},
		{"tamper/stop-logging-access-denied.json", ActionIgnore, "", "", "errorCode AccessDenied", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			d, err := Decide(readFixture(t, filepath.Join("../../events", tt.file)))
			if d.Action != tt.action {
				t.Errorf("action = %q, want %q (reason %q)", d.Action, tt.action, d.Reason)
			}
			if d.Account != tt.account {
				t.Errorf("account = %q, want %q", d.Account, tt.account)
			}
			if d.JoinedVia != tt.joinedVia {
				t.Errorf("joinedVia = %q, want %q", d.JoinedVia, tt.joinedVia)
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", d.Reason, tt.reason)
			}
			if (err != nil) != tt.reject {
				t.Fatalf("err = %v, want reject %v", err, tt.reject)
			}
			if err != nil {
				if fault.KindOf(err) != fault.Poison || fault.Code(err) != CodeMalformedEvent {
					t.Errorf("err kind %v code %q, want poison %s", fault.KindOf(err), fault.Code(err), CodeMalformedEvent)
				}
				if r, ok := IsReject(err); !ok || r != d.Reason {
					t.Errorf("IsReject = %q, %v; want the decision's reason %q", r, ok, d.Reason)
				}
			}
		})
	}
	// Every fixture but the SQS one (TestDecideSQSEventFixture) has a row.
	for _, dir := range []string{orgDir, tamperDir} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range files {
			rel := filepath.Base(dir) + "/" + filepath.Base(f)
			if !seen[rel] && !strings.HasPrefix(filepath.Base(f), "sqs-") {
				t.Errorf("fixture %s has no expectation", rel)
			}
		}
	}
}

// TestDecideGolden pins the whole decision for every fixture.
func TestDecideGolden(t *testing.T) {
	var files []string
	for _, dir := range []string{orgDir, tamperDir} {
		f, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		files = append(files, f...)
	}
	got := map[string][]RecordDecision{}
	for _, f := range files {
		rds, err := Explain(readFixture(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		got[filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f)] = rds
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	golden := filepath.Join("testdata", "decisions.golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("decisions differ from %s; run go test ./shared/orgevent -update and review the diff", golden)
	}
}

func TestDecideMalformed(t *testing.T) {
	big := append([]byte(`{"source":"aws.organizations","detail":{"x":"`), bytes.Repeat([]byte("a"), MaxEventSize)...)
	big = append(big, `"}}`...)
	tests := []struct {
		name, in, reason string
	}{
		{"empty", "", "empty input"},
		{"spaces", " \n\t", "empty input"},
		{"null", "null", "not a JSON object"},
		{"array", "[]", "not a JSON object"},
		{"string", `"x"`, "not a JSON object"},
		{"truncated", `{"source":`, "malformed event JSON"},
		{"empty object", "{}", "not an EventBridge event"},
		{"sqs event", `{"Records":[{"body":"{}"}]}`, "DecideSQSEvent"},
		{"detail null", `{"source":"aws.organizations","detail-type":"x","detail":null}`, "missing detail"},
		{"detail array", `{"source":"aws.organizations","detail-type":"x","detail":[1]}`, "detail is not a JSON object"},
		{"no source", `{"detail-type":"x","detail":{}}`, "missing source"},
		{"source number", `{"source":1,"detail":{}}`, "malformed event JSON"},
		{"resources not list", `{"source":"aws.organizations","resources":"r","detail":{}}`, "malformed event JSON"},
		{"userIdentity string", `{"source":"aws.organizations","detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"AcceptHandshake","userIdentity":"me"}}`, "malformed Organizations detail"},
		{"sed not object", `{"source":"aws.organizations","detail":{"eventName":"CreateAccountResult","serviceEventDetails":5}}`, "not a JSON object"},
		{"sed missing", `{"source":"aws.organizations","detail":{"eventName":"CreateAccountResult"}}`, "without serviceEventDetails"},
		{"status missing", `{"source":"aws.organizations","detail":{"eventName":"CreateAccountResult","serviceEventDetails":{}}}`, "without serviceEventDetails.createAccountStatus"},
		{"state missing", `{"source":"aws.organizations","detail":{"eventName":"CreateAccountResult","serviceEventDetails":{"createAccountStatus":{"id":"car-1"}}}}`, "without state"},
		{"bad account id", `{"source":"aws.organizations","detail":{"eventName":"CreateAccountResult","serviceEventDetails":{"createAccountStatus":{"state":"SUCCEEDED","accountId":"1234"}}}}`, "not a 12-digit account id"},
		{"move no params", `{"source":"aws.organizations","detail":{"eventName":"MoveAccount"}}`, "without requestParameters"},
		{"too large", string(big), "the limit is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decide([]byte(tt.in))
			if d.Action != ActionReject {
				t.Fatalf("action = %q (%s), want reject", d.Action, d.Reason)
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", d.Reason, tt.reason)
			}
			if _, ok := IsReject(err); !ok || fault.KindOf(err) != fault.Poison {
				t.Errorf("err = %v, want a poison reject", err)
			}
		})
	}
}

// TestCapitalSBug guards against the bug found in public code: matching
// "AcceptHandShake" or reading responseElements outside detail.
func TestCapitalSBug(t *testing.T) {
	path := filepath.Join(orgDir, "accept-handshake-invite-account.json")
	if d, _ := Decide(readFixture(t, path)); d.Action != ActionEnable {
		t.Fatalf("the real AcceptHandshake event: action %q, want enable", d.Action)
	}
	wrongName := mutate(t, path, func(ev map[string]any) { detailOf(ev)["eventName"] = "AcceptHandShake" })
	if d, _ := Decide(wrongName); d.Action != ActionIgnore {
		t.Errorf("eventName AcceptHandShake: action %q, want ignore (AWS never sends it)", d.Action)
	}
	topLevel := mutate(t, path, func(ev map[string]any) {
		dt := detailOf(ev)
		ev["responseElements"] = dt["responseElements"]
		dt["responseElements"] = nil
	})
	if d, _ := Decide(topLevel); d.Action == ActionEnable {
		t.Errorf("responseElements outside detail must not be read; got enable")
	}
}

func TestCaseInsensitiveValues(t *testing.T) {
	hs := filepath.Join(orgDir, "accept-handshake-invite-account.json")
	car := filepath.Join(orgDir, "create-account-result-succeeded.json")
	joined := filepath.Join(orgDir, "account-joined-organization.json")
	setHandshake := func(k, v string) func(map[string]any) {
		return func(ev map[string]any) {
			detailOf(ev)["responseElements"].(map[string]any)["handshake"].(map[string]any)[k] = v
		}
	}
	setJoined := func(v string) func(map[string]any) {
		return func(ev map[string]any) {
			detailOf(ev)["serviceEventDetails"].(map[string]any)["joinedMethod"] = v
		}
	}
	tests := []struct {
		name   string
		in     []byte
		action Action
		via    JoinMethod
	}{
		{"action invite", mutate(t, hs, setHandshake("action", "invite")), ActionEnable, JoinedInvited},
		{"action Invite", mutate(t, hs, setHandshake("action", "Invite")), ActionEnable, JoinedInvited},
		{"state accepted", mutate(t, hs, setHandshake("state", "accepted")), ActionEnable, JoinedInvited},
		{"state OPEN", mutate(t, hs, setHandshake("state", "OPEN")), ActionIgnore, ""},
		{"action APPROVE_ALL_FEATURES", mutate(t, hs, setHandshake("action", "APPROVE_ALL_FEATURES")), ActionIgnore, ""},
		{"state succeeded", mutate(t, car, func(ev map[string]any) {
			detailOf(ev)["serviceEventDetails"].(map[string]any)["createAccountStatus"].(map[string]any)["state"] = "succeeded"
		}), ActionEnable, JoinedCreated},
		{"joined INVITED", mutate(t, joined, setJoined("INVITED")), ActionEnable, JoinedInvited},
		{"joined invited", mutate(t, joined, setJoined("invited")), ActionEnable, JoinedInvited},
		{"joined CREATED", mutate(t, joined, setJoined("CREATED")), ActionEnable, JoinedCreated},
		{"joined Created", mutate(t, joined, setJoined("Created")), ActionEnable, JoinedCreated},
		{"joined unknown", mutate(t, joined, setJoined("Transferred")), ActionEnable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decide(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.action || d.JoinedVia != tt.via {
				t.Errorf("got %q/%q (%s), want %q/%q", d.Action, d.JoinedVia, d.Reason, tt.action, tt.via)
			}
		})
	}
}

func TestAcceptHandshakeCrossChecks(t *testing.T) {
	path := filepath.Join(orgDir, "accept-handshake-invite-account.json")
	tests := []struct {
		name    string
		f       func(map[string]any)
		action  Action
		account string
	}{
		{"recipient differs", func(ev map[string]any) { detailOf(ev)["recipientAccountId"] = "333333333333" }, ActionReject, ""},
		{"account party differs", func(ev map[string]any) {
			hs := detailOf(ev)["responseElements"].(map[string]any)["handshake"].(map[string]any)
			hs["parties"] = []any{map[string]any{"type": "ORGANIZATION", "id": "o-a1b2c3d4e5"}, map[string]any{"type": "ACCOUNT", "id": "333333333333"}}
		}, ActionReject, ""},
		{"no caller, recipient only", func(ev map[string]any) { delete(detailOf(ev), "userIdentity") }, ActionEnable, "444444444444"},
		{"no account at all", func(ev map[string]any) {
			delete(detailOf(ev), "userIdentity")
			delete(detailOf(ev), "recipientAccountId")
		}, ActionReject, ""},
		{"no responseElements", func(ev map[string]any) { detailOf(ev)["responseElements"] = nil }, ActionRecord, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := Decide(mutate(t, path, tt.f))
			if d.Action != tt.action || d.Account != tt.account {
				t.Errorf("got %q %q (%s), want %q %q", d.Action, d.Account, d.Reason, tt.action, tt.account)
			}
		})
	}
}

// TestMembershipEventShapes covers the places an AccountJoinedOrganization
// (no public sample yet) may carry its fields.
func TestMembershipEventShapes(t *testing.T) {
	path := filepath.Join(orgDir, "account-joined-organization.json")
	withSED := func(sed any) func(map[string]any) {
		return func(ev map[string]any) { detailOf(ev)["serviceEventDetails"] = sed }
	}
	tests := []struct {
		name    string
		f       func(map[string]any)
		action  Action
		account string
		via     JoinMethod
	}{
		{"account object", withSED(map[string]any{"account": map[string]any{"id": "444444444444"}, "joinedMethod": "CREATED"}), ActionEnable, "444444444444", JoinedCreated},
		{"nested object", withSED(map[string]any{"accountJoinedOrganization": map[string]any{"accountId": "444444444444", "joinMethod": "Invited"}}), ActionEnable, "444444444444", JoinedInvited},
		{"requestParameters", func(ev map[string]any) {
			delete(detailOf(ev), "serviceEventDetails")
			detailOf(ev)["requestParameters"] = map[string]any{"accountId": "444444444444", "joinMethod": "INVITED"}
		}, ActionEnable, "444444444444", JoinedInvited},
		{"resources ARN", func(ev map[string]any) {
			delete(detailOf(ev), "serviceEventDetails")
			ev["resources"] = []any{"arn:aws:organizations::111111111111:account/o-a1b2c3d4e5/444444444444"}
		}, ActionEnable, "444444444444", ""},
		{"string-encoded serviceEventDetails", withSED(`{"accountId":"444444444444","joinedMethod":"Created"}`), ActionEnable, "444444444444", JoinedCreated},
		{"dedicated detail-type, flat detail", func(ev map[string]any) {
			ev["detail-type"] = "Account Joined Organization"
			ev["detail"] = map[string]any{"accountId": "444444444444", "joinedMethod": "INVITED", "joinedTime": "2026-06-02T16:00:01Z"}
		}, ActionEnable, "444444444444", JoinedInvited},
		{"two accounts", withSED(map[string]any{"accountId": "444444444444", "account": map[string]any{"id": "333333333333"}}), ActionReject, "", ""},
		{"no account", withSED(map[string]any{"joinedMethod": "Invited"}), ActionReject, "", ""},
		{"account id number", withSED(map[string]any{"accountId": 444444444444}), ActionReject, "", ""},
		{"method number", withSED(map[string]any{"accountId": "444444444444", "joinedMethod": 1}), ActionReject, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := Decide(mutate(t, path, tt.f))
			if d.Action != tt.action || d.Account != tt.account || d.JoinedVia != tt.via {
				t.Errorf("got %q %q %q (%s), want %q %q %q", d.Action, d.Account, d.JoinedVia, d.Reason, tt.action, tt.account, tt.via)
			}
		})
	}
	departed := filepath.Join(orgDir, "account-departed-organization.json")
	d, _ := Decide(mutate(t, departed, func(ev map[string]any) {
		ev["detail-type"] = "AWS Organizations Account Departed Organization"
		ev["detail"] = map[string]any{"accountId": "333333333333", "departedMethod": "LEFT"}
	}))
	if d.Action != ActionRecord || d.Account != "333333333333" || !strings.Contains(d.Reason, "left") {
		t.Errorf("departed via dedicated detail-type: %+v", d)
	}
}

func TestOrganizationsOtherEvents(t *testing.T) {
	base := filepath.Join(orgDir, "move-account.json")
	tests := []struct {
		name    string
		f       func(map[string]any)
		action  Action
		account string
	}{
		{"other event", func(ev map[string]any) { detailOf(ev)["eventName"] = "CreatePolicy" }, ActionIgnore, ""},
		{"failed move", func(ev map[string]any) { detailOf(ev)["errorCode"] = "AccountNotFoundException" }, ActionIgnore, ""},
		{"remove account", func(ev map[string]any) { detailOf(ev)["eventName"] = "RemoveAccountFromOrganization" }, ActionRecord, "333333333333"},
		{"leave", func(ev map[string]any) { detailOf(ev)["eventName"] = "LeaveOrganization" }, ActionRecord, "111111111111"},
		{"no eventName", func(ev map[string]any) { delete(detailOf(ev), "eventName") }, ActionIgnore, ""},
		{"create account sync success", func(ev map[string]any) {
			d := detailOf(ev)
			d["eventName"] = "CreateAccount"
			d["responseElements"] = map[string]any{"createAccountStatus": map[string]any{"id": "car-1234567890", "state": "SUCCEEDED", "accountId": "444444444444"}}
		}, ActionEnable, "444444444444"},
		{"invite by email", func(ev map[string]any) {
			d := detailOf(ev)
			d["eventName"] = "InviteAccountToOrganization"
			d["requestParameters"] = map[string]any{"target": map[string]any{"type": "EMAIL", "id": "someone@example.com"}}
		}, ActionRecord, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := Decide(mutate(t, base, tt.f))
			if d.Action != tt.action || d.Account != tt.account {
				t.Errorf("got %q %q (%s), want %q %q", d.Action, d.Account, d.Reason, tt.action, tt.account)
			}
		})
	}
}

// stringsIn returns every string reachable in v (fields, pointers, slices).
func stringsIn(v reflect.Value) []string {
	switch v.Kind() {
	case reflect.String:
		return []string{v.String()}
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return stringsIn(v.Elem())
	case reflect.Struct:
		var out []string
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				out = append(out, stringsIn(v.Field(i))...)
			}
		}
		return out
	case reflect.Slice:
		var out []string
		for i := 0; i < v.Len(); i++ {
			out = append(out, stringsIn(v.Index(i))...)
		}
		return out
	}
	return nil
}

func assertNoAt(t testing.TB, d Decision, err error) {
	t.Helper()
	for _, s := range stringsIn(reflect.ValueOf(d)) {
		if strings.Contains(s, "@") {
			t.Fatalf("decision field holds %q", s)
		}
	}
	if err != nil && strings.Contains(err.Error(), "@") {
		t.Fatalf("error holds an @: %v", err)
	}
}

// TestNoEmailInDecision: no Decision field ever contains an "@" taken from
// the event, whichever field the address hides in.
func TestNoEmailInDecision(t *testing.T) {
	var inputs [][]byte
	for _, dir := range []string{orgDir, tamperDir} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range files {
			inputs = append(inputs, readFixture(t, f))
		}
	}
	const mail = "victim@example.com"
	org := filepath.Join(orgDir, "create-account-result-succeeded.json")
	tam := filepath.Join(tamperDir, "stop-logging.json")
	for _, f := range []func(map[string]any){
		func(ev map[string]any) { ev["id"] = mail; ev["region"] = mail; ev["detail-type"] = mail },
		func(ev map[string]any) { ev["source"] = mail },
		func(ev map[string]any) { detailOf(ev)["eventName"] = mail },
		func(ev map[string]any) { detailOf(ev)["errorCode"] = mail },
		func(ev map[string]any) { detailOf(ev)["eventID"] = mail; detailOf(ev)["awsRegion"] = mail },
		func(ev map[string]any) {
			s := detailOf(ev)["serviceEventDetails"].(map[string]any)["createAccountStatus"].(map[string]any)
			s["accountName"], s["id"], s["accountId"] = mail, "car-"+mail, mail
		},
		func(ev map[string]any) {
			s := detailOf(ev)["serviceEventDetails"].(map[string]any)["createAccountStatus"].(map[string]any)
			s["state"], s["failureReason"] = "FAILED", "address "+mail+" exists"
		},
		func(ev map[string]any) {
			s := detailOf(ev)["serviceEventDetails"].(map[string]any)["createAccountStatus"].(map[string]any)
			s["state"] = mail
		},
	} {
		inputs = append(inputs, mutate(t, org, f))
	}
	for _, f := range []func(map[string]any){
		func(ev map[string]any) { detailOf(ev)["requestParameters"] = map[string]any{"name": mail, mail: "x"} },
		func(ev map[string]any) {
			detailOf(ev)["requestParameters"] = map[string]any{"name": "arn:aws:cloudtrail:us-east-1:333333333333:trail/" + mail}
		},
		func(ev map[string]any) {
			detailOf(ev)["sourceIPAddress"] = mail
			detailOf(ev)["userAgent"] = "agent (" + mail + ")"
		},
		func(ev map[string]any) { detailOf(ev)["recipientAccountId"] = mail; ev["account"] = mail },
	} {
		inputs = append(inputs, mutate(t, tam, f))
	}
	inputs = append(inputs, []byte(`{"source":"aws.organizations","detail":{"eventName":"CreateAccountResult","serviceEventDetails":{"createAccountStatus":{"state":"SUCCEEDED","accountId":"`+mail+`"}}}}`))
	inputs = append(inputs, []byte(`{"a@b.c":1`), []byte(`@`), []byte(`{"source":"`+mail+`"`))
	for i, in := range inputs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			d, err := Decide(in)
			assertNoAt(t, d, err)
		})
	}
}

func TestLogValueHasNoEmail(t *testing.T) {
	d, _ := Decide(readFixture(t, filepath.Join(tamperDir, "stop-logging.json")))
	if s := d.LogValue().String(); strings.Contains(s, "@") || !strings.Contains(s, "333333333333") {
		t.Errorf("LogValue = %s", s)
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"arn:aws:sts::1:assumed-role/R/alice@example.com", "arn:aws:sts::1:assumed-role/R/<redacted>"},
		{"AROA:alice@example.com", "AROA:<redacted>"},
		{"invalid character '@' looking", "invalid character '<redacted>' looking"},
		{"a\nb", "a b"},
		{"\xff", "?"},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := clean(strings.Repeat("é", 300))
	if len(long) > maxField+len("…") || !strings.HasSuffix(long, "…") {
		t.Errorf("clean did not clip: %d bytes", len(long))
	}
}
