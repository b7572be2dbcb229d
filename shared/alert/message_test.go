package alert

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

var (
	since = time.Date(2026, 3, 1, 9, 58, 0, 0, time.UTC)
	at    = time.Date(2026, 3, 1, 10, 18, 0, 0, time.UTC)
)

const base = "https://github.com/example/trailwarden/blob/main/docs/runbooks"

// cases: one per alert kind and incident transition.
var cases = map[string]Alert{
	"delivery-stopped-opened": {Kind: KindDeliveryStopped, Severity: "high", IncidentID: "cause#111122223333#trail",
		Transition: TransitionOpened, Version: 1, OpenedAt: at, Account: "111122223333", AccountName: "analytics", OU: "ou-ab12-workloads",
		Regions: []string{"eu-west-1", "us-east-1"}, TrailARN: "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-audit",
		Code: "logging-stopped", Cause: "stopped", Since: since, Reason: "logging stopped at 2026-03-01T09:57:00Z",
		Action: "re-converge the account (StartLogging) and find out who stopped it (StopLogging events in the member account)",
		Repair: "re-converge requested through the enabler's request queue at 2026-03-01T10:18:00Z", At: at},
	"delivery-stopped-updated": {Kind: KindDeliveryStopped, Severity: "high", IncidentID: "cause#111122223333#delivery-error",
		Transition: TransitionUpdated, Version: 2, Change: "Region ap-south-1 went silent too", Account: "111122223333",
		Regions: []string{"ap-south-1", "eu-west-1"},
		Code:    "bucket-access-denied", Cause: "delivery-error", Since: since,
		Reason: "CloudTrail cannot write to the bucket (1 of 2 Regions still silent: ap-south-1)",
		Detail: "LatestDeliveryError: AccessDenied", Action: "check the bucket policy grants cloudtrail.amazonaws.com s3:PutObject", At: at},
	"trail-tampered-opened": {Kind: KindTampered, Severity: "critical", IncidentID: "cause#111122223333#trail",
		Transition: TransitionOpened, Version: 1, Account: "111122223333", AccountName: "analytics",
		TrailARN: "arn:aws-us-gov:cloudtrail:us-gov-west-1:111122223333:trail/org-audit", Code: "StopLogging", Cause: "tampered",
		Event: &Event{Name: "StopLogging", ID: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", Time: since,
			Actor: "arn:aws-us-gov:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com", SourceIP: "203.0.113.77"},
		Since: since, Reason: "arn:aws-us-gov:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/(e-mail address withheld) called StopLogging on trail org-audit from 203.0.113.77",
		Action: "ask the principal's owner whether the change was authorised", Repair: "repair started at 2026-03-01T09:58:05Z", At: at},
	"recovered-resolved": {Kind: KindRecovered, Severity: "info", IncidentID: "cause#111122223333#trail", Transition: TransitionResolved,
		Version: 2, Account: "111122223333", AccountName: "analytics", Regions: []string{"eu-west-1", "us-east-1"},
		TrailARN: "arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/org-audit", Code: "logging-stopped", Cause: "stopped", Since: since,
		Reason: "deliveries resumed in all 2 Regions (eu-west-1, us-east-1) and stayed up; 1h0m0s after it began (incident was: logging stopped)",
		Repair: "re-converge requested through the enabler's request queue at 2026-03-01T10:18:00Z", At: at.Add(40 * time.Minute)},
	"never-started-opened": {Kind: KindNeverStarted, Severity: "critical", IncidentID: "cause#111122223333#never-started",
		Transition: TransitionOpened, Version: 1, Account: "111122223333", Regions: []string{"us-east-1"}, Code: "trail-healthy-deliveries-missing",
		Cause: "never-started", Since: since, Reason: "trail healthy, deliveries missing", Action: "escalate: open a case with AWS Support", At: at},
	"security-finding": {Kind: KindSecurityFinding, Severity: "high", IncidentID: "finding#999999999999#foreign-account#56aa",
		Account: "999999999999", Region: "us-east-1", Code: "foreign-account", Bucket: "acme-org-cloudtrail",
		ObjectKey: "cloudtrail/AWSLogs/999999999999/CloudTrail/us-east-1/2026/03/01/x.json.gz",
		Reason:    "foreign-account: account 999999999999 is not a member of the organization <o-abc>", At: at},
	"enable-failed": {Kind: KindEnableFailed, Severity: "high", IncidentID: "alert#enable-failed#111122223333#msg-1", Account: "111122223333",
		Region: "us-east-1", Reason: "converge failed: MaximumNumberOfTrailsExceededException", Detail: "the account already has 5 trails",
		Action: "fix the cause named here, then run `trailwarden enable --account 111122223333 --yes`", At: at},
	"enable-overdue": EnableOverdue("111122223333", "analytics", "ou-ab12-workloads", since.Add(-2*time.Hour), at, "AccessDenied", "not authorized"),
	"trail-repaired": {Kind: KindRepaired, Severity: "high", IncidentID: "alert#trail-repaired#111122223333#evt-2", Account: "111122223333",
		Region: "eu-west-1", Reason: "trail org-audit restored after StopLogging made through trailwarden's own role", Repair: "done", At: at},
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

// TestBodiesGolden: the e-mail text and the JSON document of every alert
// kind (testdata/golden/<case>.email.txt and .json; -update rewrites).
func TestBodiesGolden(t *testing.T) {
	for name, a := range cases {
		t.Run(name, func(t *testing.T) {
			a.Summarize()
			golden(t, name+".email.txt", []byte(Email(a, base)))
			doc, err := JSON(a)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".json", append(doc, '\n'))
		})
	}
}

// TestMessageRules checks the Publish rules for MessageStructure "json" on
// every case: a JSON object whose "default" is a string, every protocol's
// value a string; e-mail plain text, the others the versioned document;
// nothing HTML-escaped; the subject at most 99 printable ASCII characters.
func TestMessageRules(t *testing.T) {
	for name, a := range cases {
		msg, err := Message(a, base)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(msg, `\u003c`) || strings.Contains(msg, `\u0026`) {
			t.Errorf("%s: HTML-escaped: %s", name, msg)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(msg), &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range []string{"default", "email", "email-json", "sqs", "lambda", "http", "https"} {
			if _, ok := m[p].(string); !ok {
				t.Errorf("%s: %s is %T, want a string", name, p, m[p])
			}
		}
		var doc Document
		if err := json.Unmarshal([]byte(m["sqs"].(string)), &doc); err != nil || doc.SchemaVersion != SchemaVersion || doc.Kind != a.Kind {
			t.Errorf("%s: sqs body %v %+v", name, err, doc)
		}
		if m["default"] != m["sqs"] || strings.HasPrefix(m["email"].(string), "{") {
			t.Errorf("%s: default or email body wrong", name)
		}
		s := Subject(a)
		if len(s) > MaxSubject || s == "" {
			t.Errorf("%s: subject %d characters", name, len(s))
		}
		for _, r := range s {
			if r < 0x20 || r > 0x7e {
				t.Errorf("%s: subject has %q", name, r)
			}
		}
		if strings.Contains(msg, "@") {
			t.Errorf("%s: an e-mail address in the message", name)
		}
	}
	long := cases["delivery-stopped-opened"]
	long.AccountName = strings.Repeat("é", 120)
	if s := Subject(long); len(s) != MaxSubject || !strings.HasSuffix(s, "...") {
		t.Errorf("long subject %q (%d)", s, len(s))
	}
}

// TestConsoleURL: the trail in its home Region on its partition's console.
func TestConsoleURL(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:cloudtrail:eu-west-1:111122223333:trail/t":            "https://eu-west-1.console.aws.amazon.com/cloudtrailv2/home?region=eu-west-1#/trails/arn:aws:cloudtrail:eu-west-1:111122223333:trail/t",
		"arn:aws-us-gov:cloudtrail:us-gov-west-1:111122223333:trail/t": "https://console.amazonaws-us-gov.com/cloudtrailv2/home?region=us-gov-west-1#/trails/arn:aws-us-gov:cloudtrail:us-gov-west-1:111122223333:trail/t",
		"arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/t":        "https://console.amazonaws.cn/cloudtrailv2/home?region=cn-north-1#/trails/arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/t",
	} {
		if got := ConsoleURL(Alert{TrailARN: arn}); got != want {
			t.Errorf("%s: %s", arn, got)
		}
	}
	if got := ConsoleURL(Alert{Region: "ap-south-1"}); got != "https://ap-south-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-south-1#/trails" {
		t.Errorf("no ARN: %s", got)
	}
	if got := ConsoleURL(Alert{}); got != "" {
		t.Errorf("no Region: %s", got)
	}
}

func TestNoEmail(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:sts::1:assumed-role/R/alice@example.com": "arn:aws:sts::1:assumed-role/R/(e-mail address withheld)",
		"arn:aws:iam::1:user/bob":                         "arn:aws:iam::1:user/bob",
	} {
		if got := NoEmail(in); got != want {
			t.Errorf("%s: %s", in, got)
		}
	}
}

// FuzzSubject: whatever the fields hold, the subject is 1-99 printable
// ASCII characters and the message is a JSON object with a string default.
func FuzzSubject(f *testing.F) {
	f.Add("analytics", "eu-west-1", "stopped", "logging stopped <now>")
	f.Add(strings.Repeat("é", 200), "\n", "\x00", "\u2028")
	f.Fuzz(func(t *testing.T, name, region, cause, reason string) {
		a := Alert{Kind: KindDeliveryStopped, Severity: "high", Account: "111122223333", AccountName: name,
			Regions: []string{region}, Cause: cause, Reason: reason}
		s := Subject(a)
		if s == "" || len(s) > MaxSubject {
			t.Fatalf("subject %q", s)
		}
		for _, r := range s {
			if r < 0x20 || r > 0x7e {
				t.Fatalf("subject %q has %q", s, r)
			}
		}
		msg, err := Message(a, base)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(msg), &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["default"].(string); !ok {
			t.Fatal("no default")
		}
	})
}
