package verifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/verifier"
)

func rawBody(t *testing.T, keys ...string) events.SQSEvent {
	b, err := json.Marshal(map[string]any{"s3Bucket": "acme-org-cloudtrail", "s3ObjectKey": keys})
	if err != nil {
		t.Fatal(err)
	}
	return events.SQSEvent{Records: []events.SQSMessage{{MessageId: fmt.Sprintf("m-%d", len(keys)), Body: string(b), EventSource: "aws:sqs"}}}
}

// TestFindingDedupIsPerShape: a bad key of one shape does not silence bad
// keys of other shapes (or buckets) for the dedup period; repeats of one
// shape stay deduplicated.
func TestFindingDedupIsPerShape(t *testing.T) {
	r := newRig(t)
	for _, keys := range [][]string{
		{"cloudtrail/AWSLogs/123/CloudTrail/x.json.gz"},
		{"cloudtrail/AWSLogs/456/CloudTrail/y.json.gz"}, // same shape: digits folded
		{"cloudtrail/exfil/readme.txt"},
		{"other/place/readme.txt"},
	} {
		if resp := r.p.Handle(context.Background(), rawBody(t, keys...)); len(resp.BatchItemFailures) != 0 {
			t.Fatal(failures(resp))
		}
	}
	if got := r.alerts.codes(); len(got) != 3 {
		t.Fatalf("alerts %v, want three (one per key shape)", got)
	}
	ids := map[string]bool{}
	for _, k := range []string{"a/b/c.json", "a/b/d.json", "a/x/c.json"} {
		ids[verifier.FindingID(verifier.Finding{Code: verifier.CodeBadKey, Bucket: "acme-org-cloudtrail", Key: k})] = true
	}
	ids[verifier.FindingID(verifier.Finding{Code: verifier.CodeBadKey, Bucket: "other-bucket", Key: "a/b/c.json"})] = true
	if len(ids) != 3 {
		t.Fatalf("ids %v: want a/b shared, a/x and the other bucket distinct", ids)
	}
}

// TestFindingsOfOneMessageAreBounded: one notification listing a thousand
// foreign keys logs and reports at most MaxFindingsPerMessage findings and
// one summary line with the count of the rest.
func TestFindingsOfOneMessageAreBounded(t *testing.T) {
	r := newRig(t)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("cloudtrail/junk%d/f%c.txt", i, 'a'+i%26)
	}
	r.p.Handle(context.Background(), rawBody(t, keys...))
	logs := r.logs.String()
	if n := strings.Count(logs, `"msg":"security finding"`); n != verifier.MaxFindingsPerMessage {
		t.Fatalf("%d finding lines, want %d", n, verifier.MaxFindingsPerMessage)
	}
	if !strings.Contains(logs, `"count":990`) || !strings.Contains(logs, `"SecurityFindings":1000`) {
		t.Fatalf("summary or metric missing:\n%.2000s", logs)
	}
	if n := len(r.alerts.codes()); n > verifier.MaxFindingsPerMessage {
		t.Fatalf("%d alerts from one message", n)
	}
}

// TestFindingAlertSurvivesATableFailure: the incidents table fails on the
// first delivery (the claim cannot be taken): the record fails, and its
// retry alerts once.
func TestFindingAlertSurvivesATableFailure(t *testing.T) {
	r := newRig(t)
	ev := loadEvent(t, "sqs-foreign-account.json")
	r.inc.fail = errors.New("fake: ProvisionedThroughputExceededException")
	if resp := r.p.Handle(context.Background(), ev); len(resp.BatchItemFailures) != 1 || len(r.alerts.codes()) != 0 {
		t.Fatalf("first delivery: failures %v, alerts %v", failures(resp), r.alerts.codes())
	}
	r.inc.fail = nil
	for i := 0; i < 2; i++ {
		if resp := r.p.Handle(context.Background(), ev); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("retry %d: %v", i, failures(resp))
		}
	}
	if got := r.alerts.codes(); len(got) != 1 {
		t.Fatalf("alerts %v, want one", got)
	}
}
