package logkey_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/shared/logkey"
)

// FuzzParseKey checks that Parse never panics, that every error is an
// *Error naming the input, and that every accepted key renders back to
// itself and holds only substrings of the input. Seeds: testdata/fuzz/FuzzParseKey.
func FuzzParseKey(f *testing.F) {
	f.Add("cloudtrail/AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail/eu-west-1/2026/03/14/333333333333_CloudTrail_eu-west-1_20260314T1205Z_aBcDeFgHiJkLmNoP.json.gz")
	f.Fuzz(func(t *testing.T, key string) {
		k, err := logkey.Parse(key)
		if err != nil {
			var le *logkey.Error
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not *logkey.Error", err)
			}
			if le.Key != key || le.Reason == "" {
				t.Fatalf("error %+v does not name the input and a reason", le)
			}
			if k.Kind != logkey.KindUnknown {
				t.Fatalf("Kind %v with an error", k.Kind)
			}
			return
		}
		if k.Kind == logkey.KindUnknown {
			t.Fatal("KindUnknown without an error")
		}
		if s := k.String(); s != key {
			t.Fatalf("String() = %q, want %q", s, key)
		}
		for _, s := range []string{k.Prefix, k.OrgID, k.Account, k.FileAccount, k.Folder, k.Region, k.FileRegion, k.Date, k.Unique, k.TrailName, k.HomeRegion} {
			if !strings.Contains(key, s) {
				t.Fatalf("field %q is not part of the key", s)
			}
		}
		if k.Kind != logkey.KindMarker {
			if k.Account == "" || k.Region == "" || k.Time.IsZero() || len(k.Date) != 10 {
				t.Fatalf("file key with missing fields: %+v", k)
			}
			if (k.Account != k.FileAccount) != k.Flags.Has(logkey.FlagAccountMismatch) {
				t.Fatalf("account flag wrong: %+v", k)
			}
		}
		// A valid key contains no '%' or '+', so it is its own S3 event form.
		if k2, err := logkey.ParseS3EventKey(key); err != nil || k2 != k {
			t.Fatalf("ParseS3EventKey differs: %+v %v", k2, err)
		}
	})
}
