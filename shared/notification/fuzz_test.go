package notification_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trailwarden/trailwarden/shared/notification"
)

// FuzzParseBody checks that Parse never panics, that its outcome and error
// agree, that it never accepts what json.Valid rejects (and never calls
// valid JSON a syntax error), and that the bucket and keys it reads equal
// what encoding/json reads. Seeds: testdata/fuzz/FuzzParseBody (every
// fixture body).
func FuzzParseBody(f *testing.F) {
	f.Add(`{"s3Bucket":"acme-org-cloudtrail","s3ObjectKey":["a","b"]}`)
	f.Fuzz(func(t *testing.T, body string) {
		m, err := notification.Parse(body)
		if (err != nil) != (m.Outcome == notification.OutcomeMalformed) {
			t.Fatalf("outcome %v with err %v", m.Outcome, err)
		}
		var p notification.Parser
		m2, _ := p.Parse(body)
		if m2.Outcome != m.Outcome || m2.Reason != m.Reason || strings.Join(m2.Keys, "\x00") != strings.Join(m.Keys, "\x00") {
			t.Fatalf("Parser and Parse differ: %+v %+v", m, m2)
		}
		valid := json.Valid([]byte(body))
		validationText := strings.TrimSpace(body) == notification.ValidationMessage
		if !valid && !validationText && m.Outcome != notification.OutcomeMalformed {
			t.Fatalf("invalid JSON gave %v", m.Outcome)
		}
		if valid && m.Outcome == notification.OutcomeMalformed && strings.HasPrefix(m.Reason, "invalid JSON") &&
			!strings.Contains(m.Reason, "nesting too deep") {
			t.Fatalf("valid JSON called %q", m.Reason)
		}
		if m.Outcome != notification.OutcomeOK {
			if len(m.Keys) != 0 {
				t.Fatalf("keys on %v", m.Outcome)
			}
			return
		}
		if m.Bucket == "" || len(m.Keys) == 0 || len(m.Keys) > notification.MaxKeys {
			t.Fatalf("ok without bucket or keys: %+v", m)
		}
		for _, k := range m.Keys {
			if k == "" || len(k) > notification.MaxKeyLen {
				t.Fatalf("bad key %q", k)
			}
		}
		// Differential check against encoding/json for the CloudTrail shapes.
		text := body
		if m.Source == notification.SourceS3EventBridge {
			return
		}
		if m.Source == notification.SourceSNSEnvelope {
			var env map[string]json.RawMessage
			if json.Unmarshal([]byte(body), &env) != nil || !exactFields(env, "Message") {
				return
			}
			if json.Unmarshal(env["Message"], &text) != nil {
				t.Fatalf("encoding/json cannot read Message of an accepted envelope")
			}
		}
		var doc map[string]json.RawMessage
		if json.Unmarshal([]byte(text), &doc) != nil {
			t.Fatalf("encoding/json rejects an accepted CloudTrail body %q", text)
		}
		if !exactFields(doc, "s3Bucket", "s3ObjectKey") {
			return
		}
		var bucket string
		var keys []string
		if json.Unmarshal(doc["s3Bucket"], &bucket) != nil || json.Unmarshal(doc["s3ObjectKey"], &keys) != nil {
			t.Fatalf("encoding/json cannot read fields of %q", text)
		}
		if len(keys) > notification.MaxKeys {
			keys = keys[:notification.MaxKeys]
		}
		same := bucket == m.Bucket && len(keys) == len(m.Keys)
		for i := 0; same && i < len(keys); i++ {
			if utf8.ValidString(m.Keys[i]) {
				same = keys[i] == m.Keys[i]
			}
		}
		if !same {
			t.Fatalf("encoding/json reads %q %q, Parse %q %q", bucket, keys, m.Bucket, m.Keys)
		}
	})
}

// exactFields reports whether doc spells every name exactly and has no
// other key equal to one of them under case folding (encoding/json matches
// names case-insensitively; this package does not).
func exactFields(doc map[string]json.RawMessage, names ...string) bool {
	for k := range doc {
		for _, n := range names {
			if strings.EqualFold(k, n) && k != n {
				return false
			}
		}
	}
	for _, n := range names {
		if _, ok := doc[n]; !ok {
			return false
		}
	}
	return true
}
