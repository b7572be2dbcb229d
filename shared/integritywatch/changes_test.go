package integritywatch_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/shared/integritywatch"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "objects", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestChangeSamples(t *testing.T) {
	tests := []struct {
		file, code, account, region, reason string
	}{
		{"object-deleted.json", integritywatch.CodeLogObjectDeleted, "333333333333", "us-east-1", "deleted by 333333333333 from 203.0.113.24"},
		{"object-deleted-digest.json", integritywatch.CodeLogObjectDeleted, "444444444444", "eu-west-1", "Permanently Deleted"},
		{"object-deleted-lifecycle.json", "", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			c, err := integritywatch.ParseChange(sample(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			f, ok, why := integritywatch.JudgeChange(c, "acme-org-cloudtrail", "cloudtrail")
			if ok != (tc.code != "") {
				t.Fatalf("finding %v (%s), want %q", ok, why, tc.code)
			}
			if !ok {
				if !strings.Contains(why, "lifecycle") {
					t.Errorf("why = %q", why)
				}
				return
			}
			if f.Code != tc.code || f.Account != tc.account || f.Region != tc.region || f.Key != c.Key ||
				f.Bucket != "acme-org-cloudtrail" || !strings.Contains(f.Reason, tc.reason) {
				t.Errorf("finding %+v", f)
			}
		})
	}
}

func TestJudgeChangeScope(t *testing.T) {
	c, err := integritywatch.ParseChange(sample(t, "object-deleted.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ bucket, prefix, why string }{
		"other bucket": {"other-bucket", "cloudtrail", "not the central bucket"},
		"other prefix": {"acme-org-cloudtrail", "logs", "outside logs/AWSLogs/"},
		"no prefix":    {"acme-org-cloudtrail", "", "outside AWSLogs/"},
	} {
		if _, ok, why := integritywatch.JudgeChange(c, tc.bucket, tc.prefix); ok || !strings.Contains(why, tc.why) {
			t.Errorf("%s: ok=%v why=%q", name, ok, why)
		}
	}
}

// Every way a body can be wrong is an ErrBadChange, never a panic.
func TestParseChangeStrict(t *testing.T) {
	good := string(sample(t, "object-deleted.json"))
	tests := map[string]string{
		"not JSON":          "{",
		"duplicate key":     strings.Replace(good, `"reason": "DeleteObject",`, `"reason": "DeleteObject", "reason": "Lifecycle Expiration",`, 1),
		"bad time":          strings.Replace(good, `"2026-03-14T15:41:07Z"`, `"yesterday"`, 1),
		"reason unknown":    strings.Replace(good, `"DeleteObject"`, `"DeleteObjects"`, 1),
		"deletion type":     strings.Replace(good, `"Delete Marker Created"`, `"Gone"`, 1),
		"no deletion type":  strings.Replace(good, `"deletion-type": "Delete Marker Created"`, `"x": 1`, 1),
		"key not a string":  strings.Replace(good, `"key": "cloudtrail/`, `"key": 5, "k": "`, 1),
		"key bad escape":    strings.Replace(good, `"key": "cloudtrail/`, `"key": "%zz/`, 1),
		"no requester":      strings.Replace(good, `"requester": "333333333333",`, ``, 1),
		"no id":             strings.Replace(good, `"id": "2ee9cc15-d022-99ea-1fb8-1b1bac4850f9",`, ``, 1),
		"detail not object": `{"version":"0","id":"x","detail-type":"Object Deleted","source":"aws.s3","time":"2026-03-14T15:41:07Z","detail":[]}`,
		"too large":         good + strings.Repeat(" ", integritywatch.MaxChangeSize),
	}
	for name, body := range tests {
		if _, err := integritywatch.ParseChange([]byte(body)); !errors.Is(err, integritywatch.ErrBadChange) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, body := range map[string]string{
		"other source":   strings.Replace(good, `"aws.s3"`, `"aws.ec2"`, 1),
		"object created": strings.Replace(good, `"Object Deleted"`, `"Object Created"`, 1),
	} {
		if _, err := integritywatch.ParseChange([]byte(body)); !errors.Is(err, integritywatch.ErrNotDeletion) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzParseChange(f *testing.F) {
	for _, n := range []string{"object-deleted.json", "object-deleted-digest.json", "object-deleted-lifecycle.json"} {
		f.Add(sample(f, n))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := integritywatch.ParseChange(body)
		if err != nil {
			if !errors.Is(err, integritywatch.ErrBadChange) && !errors.Is(err, integritywatch.ErrNotDeletion) {
				t.Fatalf("error neither ErrBadChange nor ErrNotDeletion: %v", err)
			}
			return
		}
		if c.Key == "" || c.Bucket == "" || c.EventID == "" || c.Requester == "" {
			t.Fatalf("accepted without key, bucket, id or requester: %+v", c)
		}
		if f, ok, _ := integritywatch.JudgeChange(c, c.Bucket, ""); ok && (f.Code != integritywatch.CodeLogObjectDeleted || f.Key != c.Key) {
			t.Fatalf("finding %+v for %+v", f, c)
		}
	})
}
