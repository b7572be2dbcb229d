package verifier_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

func objectEvent(t *testing.T, name string, edit func(string) string) events.SQSEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "objects", name))
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	if edit != nil {
		body = edit(body)
	}
	return events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-" + name, Body: body, EventSource: "aws:sqs"}}}
}

// S3 "Object Deleted" events under AWSLogs/ are findings with the
// account, Region, key and actor; the bucket's own lifecycle expirations
// are not; a malformed deletion event is left for the DLQ and counted.
func TestObjectDeletedEvents(t *testing.T) {
	tests := map[string]struct {
		file     string
		edit     func(string) string
		findings []string
		failed   int
		metric   string
	}{
		"log file deleted":     {file: "object-deleted.json", findings: []string{"log-object-deleted"}, metric: `"SecurityFindings":1`},
		"digest deleted":       {file: "object-deleted-digest.json", findings: []string{"log-object-deleted"}},
		"lifecycle expiration": {file: "object-deleted-lifecycle.json"},
		"outside AWSLogs": {file: "object-deleted.json", edit: func(s string) string {
			return strings.Replace(s, "cloudtrail/AWSLogs/", "cloudtrail/exports/", 1)
		}},
		"malformed": {file: "object-deleted.json", failed: 1, metric: `"MalformedNotifications":1`, edit: func(s string) string {
			return strings.Replace(s, `"deletion-type": "Delete Marker Created"`, `"deletion-type": 7`, 1)
		}},
		"other S3 event": {file: "object-deleted.json", edit: func(s string) string {
			return strings.Replace(s, `"Object Deleted"`, `"Object Restore Completed"`, 1)
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			resp := r.p.Handle(context.Background(), objectEvent(t, tc.file, tc.edit))
			if len(resp.BatchItemFailures) != tc.failed {
				t.Errorf("failures %v, want %d\n%s", failures(resp), tc.failed, r.logs)
			}
			if got := r.alerts.codes(); !slices.Equal(got, tc.findings) {
				t.Errorf("findings %v, want %v\n%s", got, tc.findings, r.logs)
			}
			if tc.metric != "" && !strings.Contains(r.logs.String(), tc.metric) {
				t.Errorf("%s not in metrics:\n%s", tc.metric, r.logs)
			}
			if len(tc.findings) == 0 {
				return
			}
			al := r.alerts.got[0]
			if al.Account == "" || al.Region == "" || !strings.Contains(al.Detail, "s3://acme-org-cloudtrail/cloudtrail/AWSLogs/") ||
				!strings.Contains(al.Reason, "deleted by ") {
				t.Errorf("alert %+v lacks account, Region, key or actor", al)
			}
		})
	}
}

// The codes the verifier declares (with their runbooks) are the ones
// integritywatch reports.
func TestIntegrityCodesAgree(t *testing.T) {
	for v, w := range map[verifier.Code]string{
		verifier.CodeLogObjectDeleted: integritywatch.CodeLogObjectDeleted, verifier.CodeLogObjectOverwritten: integritywatch.CodeLogObjectOverwritten,
		verifier.CodeDigestInvalid: integritywatch.CodeDigestInvalid, verifier.CodeDigestLinkBroken: integritywatch.CodeDigestLinkBroken,
		verifier.CodeLogFileInvalid: integritywatch.CodeLogFileInvalid, verifier.CodeLogFileMissing: integritywatch.CodeLogFileMissing,
	} {
		if string(v) != w {
			t.Errorf("verifier %q, integritywatch %q", v, w)
		}
	}
}

// A finding that carries its time (the watchdog's pass) is alerted and
// deduplicated at that time, not at the Findings clock.
func TestFindingAt(t *testing.T) {
	r := newRig(t)
	at := r.now.Add(3 * time.Hour)
	fd := verifier.Finding{At: at, Account: "333333333333", Region: "eu-west-1", Code: verifier.CodeDigestsMissing, Reason: "x",
		Bucket: "acme-org-cloudtrail", Key: "cloudtrail/AWSLogs/333333333333/CloudTrail-Digest/eu-west-1/2026/03/14/d.json.gz"}
	if sent, err := r.p.Findings.Report(context.Background(), fd); err != nil || !sent {
		t.Fatalf("sent %v, %v", sent, err)
	}
	if got := r.alerts.got[0].At; !got.Equal(at) {
		t.Errorf("alert at %s, want %s", got, at)
	}
}
