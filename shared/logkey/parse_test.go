package logkey_test

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/logkey"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestParse(t *testing.T) {
	ts := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name string
		key  string
		want logkey.Key
	}{
		{
			name: "log, documented example file name",
			key:  "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
			want: logkey.Key{Kind: logkey.KindLog, Account: "111122223333", FileAccount: "111122223333", Folder: "CloudTrail",
				Region: "us-east-2", FileRegion: "us-east-2", Date: "2015/08/01", Time: ts("2015-08-01T02:10:00Z"), Unique: "Mu0KsOhtH1ar15ZZ"},
		},
		{
			name: "digest, documented example",
			key:  "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",
			want: logkey.Key{Kind: logkey.KindDigest, Account: "111122223333", FileAccount: "111122223333", Folder: "CloudTrail-Digest",
				Region: "us-east-2", FileRegion: "us-east-2", Date: "2015/08/17", Time: ts("2015-08-17T15:01:31Z"),
				TrailName: "your-trail-name", HomeRegion: "us-east-2"},
		},
		{
			name: "digest backfill, trail name with underscores and a Region-like part",
			key:  "cloudtrail/AWSLogs/o-a1b2c3d4e5/444444444444/CloudTrail-Digest/ap-southeast-2/2026/03/14/444444444444_CloudTrail-Digest_ap-southeast-2_trail_us-east-1_us-east-1_20260314T130512Z_backfill.json.gz",
			want: logkey.Key{Kind: logkey.KindDigest, Prefix: "cloudtrail", OrgID: "o-a1b2c3d4e5", Account: "444444444444", FileAccount: "444444444444",
				Folder: "CloudTrail-Digest", Region: "ap-southeast-2", FileRegion: "ap-southeast-2", Date: "2026/03/14", Time: ts("2026-03-14T13:05:12Z"),
				TrailName: "trail_us-east-1", HomeRegion: "us-east-1", Backfill: true},
		},
		{
			name: "insight, prefix equal to the organization id (Landing Zone Accelerator docs)",
			key:  "o-fxozgwu6rc/AWSLogs/o-fxozgwu6rc/123456789015/CloudTrail-Insight/ca-central-1/2020/09/23/123456789015_CloudTrail-Insight_ca-central-1_20200923T0516Z_KL5e9VCV2SS7IqzB.json.gz",
			want: logkey.Key{Kind: logkey.KindInsight, Prefix: "o-fxozgwu6rc", OrgID: "o-fxozgwu6rc", Account: "123456789015", FileAccount: "123456789015",
				Folder: "CloudTrail-Insight", Region: "ca-central-1", FileRegion: "ca-central-1", Date: "2020/09/23", Time: ts("2020-09-23T05:16:00Z"), Unique: "KL5e9VCV2SS7IqzB"},
		},
		{
			name: "prefix containing AWSLogs",
			key:  "a/AWSLogs/b/AWSLogs/333333333333/CloudTrail/us-east-1/2026/03/14/333333333333_CloudTrail_us-east-1_20260314T1205Z_aBcDeFgHiJkLmNoP.json.gz",
			want: logkey.Key{Kind: logkey.KindLog, Prefix: "a/AWSLogs/b", Account: "333333333333", FileAccount: "333333333333", Folder: "CloudTrail",
				Region: "us-east-1", FileRegion: "us-east-1", Date: "2026/03/14", Time: ts("2026-03-14T12:05:00Z"), Unique: "aBcDeFgHiJkLmNoP"},
		},
		{
			name: "account mismatch is a flag",
			key:  "cloudtrail/AWSLogs/333333333333/CloudTrail/us-east-1/2026/03/14/999999999999_CloudTrail_us-east-1_20260314T1205Z_aBcDeFgHiJkLmNoP.json.gz",
			want: logkey.Key{Kind: logkey.KindLog, Prefix: "cloudtrail", Account: "333333333333", FileAccount: "999999999999", Folder: "CloudTrail",
				Region: "us-east-1", FileRegion: "us-east-1", Date: "2026/03/14", Time: ts("2026-03-14T12:05:00Z"), Unique: "aBcDeFgHiJkLmNoP",
				Flags: logkey.FlagAccountMismatch},
		},
		{
			name: "unknown Region is a flag",
			key:  "cloudtrail/AWSLogs/333333333333/CloudTrail/xy-mars-1/2026/03/14/333333333333_CloudTrail_xy-mars-1_20260314T1205Z_aBcDeFgHiJkLmNoP.json.gz",
			want: logkey.Key{Kind: logkey.KindLog, Prefix: "cloudtrail", Account: "333333333333", FileAccount: "333333333333", Folder: "CloudTrail",
				Region: "xy-mars-1", FileRegion: "xy-mars-1", Date: "2026/03/14", Time: ts("2026-03-14T12:05:00Z"), Unique: "aBcDeFgHiJkLmNoP",
				Flags: logkey.FlagUnknownRegion},
		},
		{
			name: "marker",
			key:  "cloudtrail/AWSLogs/222222222222/CloudTrail/",
			want: logkey.Key{Kind: logkey.KindMarker, Prefix: "cloudtrail", Account: "222222222222", Folder: "CloudTrail"},
		},
		{
			name: "partial date folder object",
			key:  "cloudtrail/AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail-Digest/us-east-1/2026/03/",
			want: logkey.Key{Kind: logkey.KindMarker, Prefix: "cloudtrail", OrgID: "o-a1b2c3d4e5", Account: "333333333333", Folder: "CloudTrail-Digest",
				Region: "us-east-1", Date: "2026/03"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := logkey.Parse(tt.key)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tt.want {
				t.Errorf("Parse =\n %+v\nwant\n %+v", got, tt.want)
			}
			if s := got.String(); s != tt.key {
				t.Errorf("String() = %q, want the parsed key back", s)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	const good = "cloudtrail/AWSLogs/333333333333/CloudTrail/us-east-1/2026/03/14/333333333333_CloudTrail_us-east-1_20260314T1205Z_aBcDeFgHiJkLmNoP.json.gz"
	tests := []struct {
		key  string
		want logkey.Reason
	}{
		{"", logkey.ReasonEmpty},
		{strings.Repeat("a/", 600), logkey.ReasonTooLong},
		{strings.Replace(good, "2026/03/14", "2026/02/30", 1), logkey.ReasonBadDate},
		{strings.Replace(good, "20260314T", "20260315T", 1), logkey.ReasonDateMismatch},
		{strings.Replace(good, "T1205Z", "T2460Z", 1), logkey.ReasonBadTimestamp},
		{strings.Replace(good, ".json.gz", ".json", 1), logkey.ReasonBadExtension},
		{strings.Replace(good, "aBcDeFgHiJkLmNoP", "short", 1), logkey.ReasonBadUnique},
		{strings.Replace(good, "aBcDeFgHiJkLmNoP", "aBcDeFgHiJkLmN-P", 1), logkey.ReasonBadUnique},
		{strings.ReplaceAll(good, "333333333333", "33333333333"), logkey.ReasonBadAccount},
		{strings.Replace(good, "cloudtrail/", "cloudtrail//", 1), logkey.ReasonBadSegment},
		{strings.Replace(good, "cloudtrail/", "cloudtrail/../", 1), logkey.ReasonBadSegment},
		{strings.Replace(good, "cloudtrail/", "./", 1), logkey.ReasonBadSegment},
		{"/" + good, logkey.ReasonBadSegment},
		{strings.ReplaceAll(good, "us-east-1", "US-EAST-1"), logkey.ReasonBadRegion},
		{strings.Replace(good, "2026/03/14", "2026/3/14", 1), logkey.ReasonBadDate},
		{strings.Replace(good, "AWSLogs/", "AWSLogs/O-A1B2C3D4E5/", 1), logkey.ReasonBadFolderLayout},
		{strings.Replace(good, "AWSLogs/", "AWSLogs/o-a1b2/", 1), logkey.ReasonBadOrgID},
		{strings.Replace(good, "cloudtrail/", "cloud%20trail/", 1), logkey.ReasonEncoded},
		{strings.Replace(good, "cloudtrail/", "cloud+trail/", 1), logkey.ReasonEncoded},
		{strings.Replace(good, "cloudtrail/", "cloud trail/", 1), logkey.ReasonBadCharacter},
		{strings.Replace(good, "cloudtrail/", "cloud\x00trail/", 1), logkey.ReasonBadCharacter},
		{strings.Replace(good, "cloudtrail/", "cloud\xfftrail/", 1), logkey.ReasonBadCharacter},
		{strings.Replace(good, "/14/", "/14/extra/", 1), logkey.ReasonBadFolderLayout},
		{strings.Replace(good, "_CloudTrail_", "_CloudTrail-Insight_", 1), logkey.ReasonFolderMismatch},
		{strings.Replace(good, "_CloudTrail_", "_Cloudtrail_", 1), logkey.ReasonBadFileName},
		{strings.Replace(good, "2026/03/14", "2012/03/14", 1), logkey.ReasonBadDate},
		{"cloudtrail/AWSLogs/333333333333/CloudTrail-Digest/us-east-1/2026/03/14/333333333333_CloudTrail-Digest_us-east-1_my--trail_us-east-1_20260314T120500Z.json.gz", logkey.ReasonBadTrailName},
		{"cloudtrail/AWSLogs/333333333333/CloudTrail-Digest/us-east-1/2026/03/14/333333333333_CloudTrail-Digest_us-east-1_192.168.5.4_us-east-1_20260314T120500Z.json.gz", logkey.ReasonBadTrailName},
		{"cloudtrail/AWSLogs/333333333333/CloudTrail-Digest/us-east-1/2026/03/14/333333333333_CloudTrail-Digest_us-east-1_trail_us-east-1_20260314T1205Z.json.gz", logkey.ReasonBadTimestamp},
		{"cloudtrail/AWSLogs/333333333333/CloudTrail-Digest/us-east-1/2026/03/14/333333333333_CloudTrail-Digest_us-east-1_trail_us-east-1_20260314T120560Z.json.gz", logkey.ReasonBadTimestamp},
		{"cloudtrail/AWSLogs/333333333333/Config/us-east-1/2026/3/14/ConfigHistory/333333333333_Config_us-east-1_ConfigHistory_AWS__EC2__Instance_20260314T120500Z_20260314T130500Z_1.json.gz", logkey.ReasonNotCloudTrail},
		{"AWSLogs/333333333333/elasticloadbalancing/us-east-1/2026/03/14/x.log.gz", logkey.ReasonNotCloudTrail},
		{"some/other/object.txt", logkey.ReasonNotCloudTrail},
		{"cloudtrail/", logkey.ReasonNotCloudTrail},
		{"AWSLogs/333333333333/CloudTrail/us-east-1/2026/03/14/15/", logkey.ReasonBadFolderLayout},
		{"AWSLogs/333333333333/CloudTrail/us-east-1/2026/13/", logkey.ReasonBadDate},
	}
	for _, tt := range tests {
		t.Run(string(tt.want), func(t *testing.T) {
			got, err := logkey.Parse(tt.key)
			var le *logkey.Error
			if !errors.As(err, &le) {
				t.Fatalf("Parse(%q) = %+v, %v; want *logkey.Error", tt.key, got, err)
			}
			if le.Reason != tt.want {
				t.Errorf("Parse(%q) reason = %q (%v), want %q", tt.key, le.Reason, err, tt.want)
			}
			if le.Key != tt.key {
				t.Errorf("Error.Key = %q, want the input", le.Key)
			}
			if got.Kind != logkey.KindUnknown {
				t.Errorf("Kind = %v on error, want unknown", got.Kind)
			}
			if !errors.Is(err, &logkey.Error{Reason: tt.want}) {
				t.Errorf("errors.Is by reason failed")
			}
		})
	}
}

func TestDecodeS3EventKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"AWSLogs/1/CloudTrail/", "AWSLogs/1/CloudTrail/"},
		{"cloud+trail/a%3Db", "cloud trail/a=b"},
		{"a%2Fb", "a/b"},
		{"%41%62", "Ab"},
	}
	for _, tt := range tests {
		got, err := logkey.DecodeS3EventKey(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("DecodeS3EventKey(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"a%", "a%4", "a%zz", "%"} {
		if _, err := logkey.DecodeS3EventKey(bad); !errors.Is(err, &logkey.Error{Reason: logkey.ReasonBadEncoding}) {
			t.Errorf("DecodeS3EventKey(%q) err = %v, want ReasonBadEncoding", bad, err)
		}
	}
	// An encoded prefix decodes to a space, which CloudTrail keys never hold.
	_, err := logkey.ParseS3EventKey("cloud+trail/AWSLogs/333333333333/CloudTrail/")
	if !errors.Is(err, &logkey.Error{Reason: logkey.ReasonBadCharacter}) {
		t.Errorf("ParseS3EventKey with a space: %v", err)
	}
	k, err := logkey.ParseS3EventKey("cloudtrail/AWSLogs/333333333333/CloudTrail/us-east-1/2026/03/14/333333333333_CloudTrail_us-east-1_20260314T1205Z_aBcDeFgHiJkLmNoP.json.gz")
	if err != nil || k.Kind != logkey.KindLog {
		t.Errorf("ParseS3EventKey: %+v %v", k, err)
	}
}

func TestValidTrailName(t *testing.T) {
	for _, ok := range []string{"abc", "my-trail", "my_trail.v2", "trail_us-east-1", "A1b", strings.Repeat("a", 128), "1.2.3"} {
		if !logkey.ValidTrailName(ok) {
			t.Errorf("ValidTrailName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"ab", "-abc", "abc-", "my-_namespace", "my--namespace", "a..b", "192.168.5.4", "a b", strings.Repeat("a", 129), "trail/x"} {
		if logkey.ValidTrailName(bad) {
			t.Errorf("ValidTrailName(%q) = true", bad)
		}
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	keys := []string{
		"cloudtrail/AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail/eu-west-1/2026/03/14/333333333333_CloudTrail_eu-west-1_20260314T1205Z_aBcDeFgHiJkLmNoP.json.gz",
		"cloudtrail/AWSLogs/o-a1b2c3d4e5/444444444444/CloudTrail-Digest/ap-southeast-2/2026/03/14/444444444444_CloudTrail-Digest_ap-southeast-2_trailwarden_org_trail_us-east-1_20260314T130512Z.json.gz",
		"cloudtrail/AWSLogs/222222222222/CloudTrail/",
	}
	for _, key := range keys {
		n := testing.AllocsPerRun(100, func() {
			if _, err := logkey.Parse(key); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("Parse(%q) allocates %v times", key, n)
		}
	}
}

// TestGolden parses every key in testdata/keys.txt and compares the result
// with testdata/keys.golden; run with -update to rewrite it.
func TestGolden(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "keys.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fmt.Fprintf(&out, "%s\n\t%s\n", line, describe(line))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "keys.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if out.String() != string(want) {
		t.Errorf("golden mismatch; run go test ./shared/logkey -run TestGolden -update and review the diff\n%s", out.String())
	}
}

func describe(key string) string {
	k, err := logkey.Parse(key)
	if err != nil {
		var le *logkey.Error
		errors.As(err, &le)
		return fmt.Sprintf("error reason=%q detail=%q", le.Reason, le.Detail)
	}
	s := fmt.Sprintf("kind=%s prefix=%q org=%q account=%s fileAccount=%s folder=%s region=%s fileRegion=%s date=%s",
		k.Kind, k.Prefix, k.OrgID, k.Account, k.FileAccount, k.Folder, k.Region, k.FileRegion, k.Date)
	if !k.Time.IsZero() {
		s += " time=" + k.Time.Format(time.RFC3339)
	}
	if k.Unique != "" {
		s += " unique=" + k.Unique
	}
	if k.Kind == logkey.KindDigest {
		s += fmt.Sprintf(" trail=%q home=%s backfill=%v", k.TrailName, k.HomeRegion, k.Backfill)
	}
	if k.Flags != 0 {
		s += " flags=" + k.Flags.String()
	}
	return s
}
