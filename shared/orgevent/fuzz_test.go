package orgevent

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

var validActions = map[Action]bool{
	ActionEnable: true, ActionReevaluate: true, ActionRecord: true,
	ActionIgnore: true, ActionReject: true, ActionDrift: true,
}

// checkDecision asserts the invariants every decision keeps, whatever the input.
func checkDecision(t *testing.T, d Decision, err error) {
	t.Helper()
	if !validActions[d.Action] {
		t.Fatalf("unknown action %q", d.Action)
	}
	if (d.Action == ActionReject) != (err != nil) {
		t.Fatalf("action %q with err %v", d.Action, err)
	}
	if err != nil {
		if r, ok := IsReject(err); !ok || r != d.Reason {
			t.Fatalf("err %v does not carry the reason %q", err, d.Reason)
		}
	}
	if d.Reason == "" {
		t.Fatal("empty reason")
	}
	if d.Account != "" && !awsid.IsAccountID(d.Account) {
		t.Fatalf("account %q is not a 12-digit id", d.Account)
	}
	switch d.Action {
	case ActionEnable, ActionReevaluate, ActionDrift:
		if d.Account == "" {
			t.Fatalf("%s without an account", d.Action)
		}
	}
	if d.Action == ActionDrift && d.TrailName == "" {
		t.Fatal("drift without a trail name")
	}
	switch d.JoinedVia {
	case "", JoinedCreated, JoinedInvited:
	default:
		t.Fatalf("joinedVia %q", d.JoinedVia)
	}
	if d.JoinedVia != "" && d.Action != ActionEnable {
		t.Fatalf("joinedVia on %s", d.Action)
	}
	for _, s := range stringsIn(reflect.ValueOf(d)) {
		if strings.Contains(s, "@") {
			t.Fatalf("decision field holds %q", s)
		}
		if len(s) > maxReason+len("…") {
			t.Fatalf("field of %d bytes", len(s))
		}
	}
	if _, err := json.Marshal(d); err != nil {
		t.Fatalf("decision does not encode: %v", err)
	}
}

func FuzzDecide(f *testing.F) {
	f.Add([]byte(`{"source":"aws.organizations","detail":{"eventName":"AccountJoinedOrganization","serviceEventDetails":"{\"accountId\":\"444444444444\"}"}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		d, err := Decide(payload)
		checkDecision(t, d, err)
		if d.Action == ActionDrift {
			_ = MatchesTrail(d, d.TrailName)
			_ = IsOwnActor(d, []string{"TrailwardenMemberRole", "OrganizationAccountAccessRole/trailwarden-*"})
			if !MatchesTrail(d, d.TrailName) {
				t.Fatalf("drift decision does not match its own trail %q", d.TrailName)
			}
		}
	})
}

func FuzzDecideSQSEvent(f *testing.F) {
	f.Add([]byte(`{"Records":[{"messageId":"m","body":"{\"source\":\"aws.cloudtrail\"}"}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		rds, err := DecideSQSEvent(payload)
		if err != nil {
			if rds != nil {
				t.Fatal("records together with an error")
			}
			if _, ok := IsReject(err); !ok {
				t.Fatalf("err %v is not a reject", err)
			}
			if strings.Contains(err.Error(), "@") {
				t.Fatalf("error holds an @: %v", err)
			}
			return
		}
		for _, rd := range rds {
			if strings.Contains(rd.MessageID, "@") {
				t.Fatalf("message id %q", rd.MessageID)
			}
			checkDecision(t, rd.Decision, rd.Err)
		}
		_ = DetectKind(payload)
	})
}

// wrapSQS puts body into a one-record Lambda SQS event.
func wrapSQS(t testing.TB, id string, body []byte) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"messageId": id, "body": string(body), "eventSource": "aws:sqs",
		"eventSourceARN": "arn:aws:sqs:us-east-1:222222222222:trailwarden-requests", "awsRegion": "us-east-1",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seedFile(b []byte) []byte { return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b) }

// TestFuzzSeeds keeps testdata/fuzz in step with the fixtures: every fixture
// seeds FuzzDecide; the SQS fixture and a few wrapped fixtures seed
// FuzzDecideSQSEvent. Run with -update to rewrite them.
func TestFuzzSeeds(t *testing.T) {
	want := map[string][]byte{}
	for _, dir := range []string{orgDir, tamperDir} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range files {
			name := filepath.Base(dir) + "-" + strings.TrimSuffix(filepath.Base(f), ".json")
			b := readFixture(t, f)
			if strings.HasPrefix(filepath.Base(f), "sqs-") {
				want[filepath.Join("FuzzDecideSQSEvent", name)] = seedFile(b)
				continue
			}
			want[filepath.Join("FuzzDecide", name)] = seedFile(b)
		}
	}
	for _, f := range []string{
		filepath.Join(orgDir, "accept-handshake-invite-email.json"),
		filepath.Join(orgDir, "account-joined-organization.json"),
		filepath.Join(orgDir, "malformed-truncated.json"),
		filepath.Join(tamperDir, "stop-logging.json"),
	} {
		name := "wrapped-" + filepath.Base(filepath.Dir(f)) + "-" + strings.TrimSuffix(filepath.Base(f), ".json")
		want[filepath.Join("FuzzDecideSQSEvent", name)] = seedFile(wrapSQS(t, "seed-"+name, readFixture(t, f)))
	}
	for rel, b := range want {
		path := filepath.Join("testdata", "fuzz", rel)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != string(b) {
			t.Errorf("seed %s is missing or stale; run go test ./shared/orgevent -run TestFuzzSeeds -update", path)
		}
	}
}
