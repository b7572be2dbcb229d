package verifier_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/explain")

func loadPolicy(t testing.TB) *policy.Policy {
	t.Helper()
	p, err := policy.Load("../../examples/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestExplainGolden explains every delivery fixture with the example policy
// and both members, and compares with testdata/explain/<fixture>.golden.
func TestExplainGolden(t *testing.T) {
	pol := loadPolicy(t)
	entries, err := os.ReadDir(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			payload, err := os.ReadFile(filepath.Join(fixtures, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			ex, err := verifier.Explain(payload, verifier.ExplainOptions{Policy: pol, Members: []string{"222222222222", "333333333333", "444444444444"}})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.MarshalIndent(ex, "", "  ")
			got = append(got, '\n')
			golden := filepath.Join("testdata", "explain", strings.TrimSuffix(e.Name(), ".json")+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("explanation differs from %s:\n%s", golden, got)
			}
		})
	}
}

// TestExplainInputs covers each accepted input shape and the option
// switches.
func TestExplainInputs(t *testing.T) {
	ev := loadEvent(t, "sqs-sns-envelope.json")
	envelope := ev.Records[0].Body
	tests := []struct {
		name    string
		payload string
		opts    verifier.ExplainOptions
		outcome string
		verdict string
		reason  string
	}{
		{"bare SNS envelope", envelope, verifier.ExplainOptions{}, "ok", "accepted", "membership not judged"},
		{"bare raw", loadEvent(t, "sqs-raw.json").Records[0].Body, verifier.ExplainOptions{}, "ok", "accepted", "no --policy"},
		{"validation text", "CloudTrail validation message.", verifier.ExplainOptions{}, "validation", "", ""},
		{"S3 EventBridge event", loadEvent(t, "sqs-digest-backfill.json").Records[0].Body, verifier.ExplainOptions{}, "ok", "accepted", "digest"},
		{"members judged", envelope, verifier.ExplainOptions{Members: []string{"444444444444"}}, "ok", "rejected", "foreign-account"},
		{"policy judged", loadEvent(t, "sqs-wrong-prefix.json").Records[0].Body, verifier.ExplainOptions{Policy: loadPolicy(t)}, "ok", "rejected", "wrong-prefix"},
		{"no policy, wrong prefix passes", loadEvent(t, "sqs-wrong-prefix.json").Records[0].Body, verifier.ExplainOptions{}, "ok", "accepted", ""},
		{"garbage", "{{{", verifier.ExplainOptions{}, "malformed", "", "DLQ"},
		{"organizations event", `{"version":"0","id":"x","detail-type":"AWS Service Event via CloudTrail","source":"aws.organizations","detail":{}}`, verifier.ExplainOptions{}, "not-cloudtrail", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex, err := verifier.Explain([]byte(tc.payload), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if ex.Input != "delivery-notification" || len(ex.Messages) != 1 || ex.Messages[0].Outcome != tc.outcome {
				t.Fatalf("%+v", ex)
			}
			if tc.verdict == "" {
				if len(ex.Objects) != 0 {
					t.Fatalf("objects %+v", ex.Objects)
				}
				if !strings.Contains(ex.Messages[0].Reason, tc.reason) {
					t.Fatalf("reason %q", ex.Messages[0].Reason)
				}
				return
			}
			if len(ex.Objects) != 1 || ex.Objects[0].Verdict != tc.verdict || !strings.Contains(ex.Objects[0].Reason, tc.reason) {
				t.Fatalf("objects %+v", ex.Objects)
			}
		})
	}
	if ex, _ := verifier.Explain([]byte(`{"version":"0","source":"aws.organizations"}`), verifier.ExplainOptions{}); ex.Recognized() {
		t.Error("an Organizations event is recognized as a delivery notification")
	}
	if ex, _ := verifier.Explain([]byte(envelope), verifier.ExplainOptions{}); !ex.Recognized() {
		t.Error("an SNS envelope is not recognized")
	}
}

// FuzzExplain: any payload gives an explanation (never a panic), whose
// JSON always has the documented shape.
func FuzzExplain(f *testing.F) {
	entries, _ := os.ReadDir(fixtures)
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join(fixtures, e.Name())); err == nil && !e.IsDir() {
			f.Add(b)
		}
	}
	f.Add([]byte("CloudTrail validation message."))
	f.Add([]byte(`{"Records":[{"eventSource":"aws:sqs","body":"{}"}]}`))
	pol, err := policy.Load("../../examples/policy.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		ex, err := verifier.Explain(payload, verifier.ExplainOptions{Policy: pol, Members: []string{"333333333333"}})
		if err != nil {
			return
		}
		if ex.Input != verifier.InputKind || ex.Messages == nil || ex.Objects == nil {
			t.Fatalf("shape: %+v", ex)
		}
		for _, o := range ex.Objects {
			switch o.Verdict {
			case "accepted":
				if o.Account != "333333333333" || o.Kind == "unknown" || o.Bucket != "acme-org-cloudtrail" {
					t.Fatalf("accepted a foreign object: %+v", o)
				}
			case "rejected", "ignored":
			default:
				t.Fatalf("verdict %q", o.Verdict)
			}
		}
	})
}
