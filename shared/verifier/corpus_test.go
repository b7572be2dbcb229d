package verifier_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

// TestHostileDeliveries runs every hostile delivery-queue body in
// testdata/hostile (NNN-name.body, its recorded outcome in NNN-name.want:
// the message outcome, then each object's verdict) through explain and the
// verifier's handler: no panic, explain prints the recorded verdicts, and
// the handler fails exactly the malformed bodies and alerts exactly the
// recorded finding codes.
func TestHostileDeliveries(t *testing.T) {
	pol, err := policy.Load(filepath.Join("..", "..", "examples", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "hostile", "*.body"))
	if err != nil || len(files) < 80 {
		t.Fatalf("%d inputs, %v", len(files), err)
	}
	members := []string{"222222222222", "333333333333", "444444444444"}
	for _, f := range files {
		base := strings.TrimSuffix(f, ".body")
		t.Run(filepath.Base(base), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			w, err := os.ReadFile(base + ".want")
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Fields(string(w))
			r := newRig(t)
			r.p.Rules = verifier.RulesFromPolicy(pol)
			ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-1", Body: string(body), EventSource: "aws:sqs"}}}

			// explain
			payload := sqsEventJSON(t, ev)
			ex, err := verifier.Explain(payload, verifier.ExplainOptions{Policy: pol, Members: members, Now: r.now})
			if err != nil || len(ex.Messages) != 1 {
				t.Fatalf("explain: %v %+v", err, ex)
			}
			got := []string{ex.Messages[0].Outcome}
			var codes []string
			for _, o := range ex.Objects {
				v := o.Verdict
				if v == "rejected" {
					code, _, _ := strings.Cut(o.Reason, ":")
					v += ":" + code
					codes = append(codes, code)
				}
				got = append(got, v)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("explain: %v (%s), recorded %v\n%+v", got, ex.Messages[0].Reason, want, ex.Objects)
			}

			// the handler
			resp := r.p.Handle(context.Background(), ev)
			if failed := len(resp.BatchItemFailures) == 1; failed != (want[0] == "malformed") {
				t.Fatalf("handler failed=%v for %s\n%s", failed, want[0], r.logs)
			}
			slices.Sort(codes)
			codes = slices.Compact(codes)
			if alerted := slices.Compact(r.alerts.codes()); !slices.Equal(alerted, codes) {
				t.Fatalf("handler alerted %v, recorded findings %v\n%s", alerted, codes, r.logs)
			}
		})
	}
}

func sqsEventJSON(t *testing.T, ev events.SQSEvent) []byte {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
