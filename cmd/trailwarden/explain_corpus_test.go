package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainAgreesOnHostileRequests: explain, given the policy, prints for
// every hostile request-queue input the decision recorded beside it (the
// enabler's handler is held to the same files in shared/enabler).
func TestExplainAgreesOnHostileRequests(t *testing.T) {
	files, err := filepath.Glob(repoFile("shared", "enabler", "testdata", "hostile", "*.json"))
	if err != nil || len(files) < 150 {
		t.Fatalf("%d inputs, %v", len(files), err)
	}
	pol := repoFile("examples", "policy.yaml")
	for _, f := range files {
		base := strings.TrimSuffix(strings.TrimSuffix(f, ".json"), ".record")
		t.Run(filepath.Base(base), func(t *testing.T) {
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(base + ".want")
			if err != nil {
				t.Fatal(err)
			}
			// Explain reads what the handler reads: one SQS record.
			if !strings.HasSuffix(f, ".record.json") {
				payload, _ = json.Marshal(map[string]any{"messageId": "m-1", "body": string(payload), "eventSource": "aws:sqs"})
			}
			payload = append(append([]byte(`{"Records":[`), payload...), "]}"...)
			var out, errb bytes.Buffer
			env := &cmdEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
			// A rejected record is exit 1; only an error (2) stops here.
			if err := explainOrganizations(env, payload, pol); exitCode(err) == exitUsage {
				t.Fatalf("%v: %s", err, errb.String())
			}
			var got struct {
				Decisions []orgDecision `json:"decisions"`
			}
			if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got.Decisions) != 1 {
				t.Fatalf("output %s: %v", out.String(), err)
			}
			if a := got.Decisions[0].Action; a != strings.TrimSpace(string(want)) {
				t.Fatalf("explain says %s (%s), recorded %s", a, got.Decisions[0].Reason, want)
			}
		})
	}
}
