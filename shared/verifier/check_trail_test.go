package verifier

import (
	"testing"
	"time"
)

func TestDigestOfAnotherTrailIsAFinding(t *testing.T) {
	r := Rules{Bucket: "acme-org-cloudtrail", Prefix: "cloudtrail", PrefixSet: true, TrailNames: []string{"org-audit"}, HomeRegion: "us-east-1"}
	const ours = "cloudtrail/AWSLogs/333333333333/CloudTrail-Digest/eu-west-1/2026/11/25/333333333333_CloudTrail-Digest_eu-west-1_org-audit_us-east-1_20261125T100000Z.json.gz"
	cases := map[string]struct {
		key  string
		want Code
	}{
		"our trail":          {ours, ""},
		"decoy trail":        {"cloudtrail/AWSLogs/333333333333/CloudTrail-Digest/eu-west-1/2026/11/25/333333333333_CloudTrail-Digest_eu-west-1_decoy_us-east-1_20261125T100000Z.json.gz", CodeForeignTrail},
		"other home Region":  {"cloudtrail/AWSLogs/333333333333/CloudTrail-Digest/eu-west-1/2026/11/25/333333333333_CloudTrail-Digest_eu-west-1_org-audit_eu-west-1_20261125T100000Z.json.gz", CodeForeignTrail},
		"log files unjudged": {"cloudtrail/AWSLogs/333333333333/CloudTrail/eu-west-1/2026/11/25/333333333333_CloudTrail_eu-west-1_20261125T1000Z_aBcDeFgHiJkLmNoP.json.gz", ""},
	}
	for name, c := range cases {
		o := r.Check("acme-org-cloudtrail", c.key, time.Time{})
		if o.Code != c.want {
			t.Errorf("%s: code %q (%s), want %q", name, o.Code, o.Reason, c.want)
		}
	}
}
