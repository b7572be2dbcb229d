package ledger

import (
	"testing"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestKeyName(t *testing.T) {
	const acct, region = "333333333333", "ap-southeast-2"
	for _, tc := range []struct{ name, stored string }{
		{"333333333333_CloudTrail_ap-southeast-2_20260314T1205Z_AbCdEfGhIjKlMnOp.json.gz", "20260314T1205Z_AbCdEfGhIjKlMnOp"},
		// Not this account's or Region's, or not the grammar: kept whole.
		{"444444444444_CloudTrail_ap-southeast-2_20260314T1205Z_AbCdEfGhIjKlMnOp.json.gz", "444444444444_CloudTrail_ap-southeast-2_20260314T1205Z_AbCdEfGhIjKlMnOp.json.gz"},
		{"333333333333_CloudTrail_eu-west-1_20260314T1205Z_AbCdEfGhIjKlMnOp.json.gz", "333333333333_CloudTrail_eu-west-1_20260314T1205Z_AbCdEfGhIjKlMnOp.json.gz"},
		{"333333333333_CloudTrail_ap-southeast-2_20260314T1205Z_AbCdEfGhIjKlMnO.json.gz", "333333333333_CloudTrail_ap-southeast-2_20260314T1205Z_AbCdEfGhIjKlMnO.json.gz"},
		{"333333333333_CloudTrail_ap-southeast-2_20260314T1205Z_AbCdEfGh-jKlMnOp.json.gz", "333333333333_CloudTrail_ap-southeast-2_20260314T1205Z_AbCdEfGh-jKlMnOp.json.gz"},
		{"333333333333_CloudTrail_ap-southeast-2_2026031XT1205Z_AbCdEfGhIjKlMnOp.json.gz", "333333333333_CloudTrail_ap-southeast-2_2026031XT1205Z_AbCdEfGhIjKlMnOp.json.gz"},
		{"333333333333_CloudTrail_ap-southeast-2_20260314T1205Z_AbCdEfGhIjKlMnOp.json", "333333333333_CloudTrail_ap-southeast-2_20260314T1205Z_AbCdEfGhIjKlMnOp.json"},
		{"cloudtrail/AWSLogs/333333333333/CloudTrail/ap-southeast-2/2026/03/14/x.json.gz", "cloudtrail/AWSLogs/333333333333/CloudTrail/ap-southeast-2/2026/03/14/x.json.gz"},
	} {
		if got := compactKeyName(acct, region, tc.name); got != tc.stored {
			t.Errorf("compactKeyName(%q) = %q, want %q", tc.name, got, tc.stored)
		}
		if got := expandKeyName(acct, region, tc.stored); got != tc.name {
			t.Errorf("expandKeyName(%q) = %q, want %q", tc.stored, got, tc.name)
		}
	}
}

// An item written by the previous release (K# holds the whole file name)
// and one written now (the compact form) read the same.
func TestDecodeReadsBothKeyForms(t *testing.T) {
	const name = "333333333333_CloudTrail_eu-west-1_20260314T1205Z_AbCdEfGhIjKlMnOp.json.gz"
	for _, stored := range []string{name, "20260314T1205Z_AbCdEfGhIjKlMnOp"} {
		it, err := Decode(map[string]ddbtypes.AttributeValue{
			KeyAttribute:           &ddbtypes.AttributeValueMemberS{Value: "333333333333"},
			"L#eu-west-1":          &ddbtypes.AttributeValueMemberN{Value: "1773489900"},
			"K#eu-west-1":          &ddbtypes.AttributeValueMemberS{Value: stored},
			"D#us-east-1":          &ddbtypes.AttributeValueMemberN{Value: "1773489000"},
			UpdatedAtAttribute:     &ddbtypes.AttributeValueMemberN{Value: "1773490000"},
			"C#20260314#eu-west-1": &ddbtypes.AttributeValueMemberN{Value: "7"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := it.Regions["eu-west-1"].LastKey; got != name {
			t.Errorf("K# %q read as %q, want %q", stored, got, name)
		}
	}
}

// FuzzKeyName: what the writer stores reads back as the name it was given,
// and any stored value reads as itself or as a name that stores as it.
func FuzzKeyName(f *testing.F) {
	f.Add("333333333333", "eu-west-1", "333333333333_CloudTrail_eu-west-1_20260314T1205Z_AbCdEfGhIjKlMnOp.json.gz")
	f.Add("333333333333", "eu-west-1", "20260314T1205Z_AbCdEfGhIjKlMnOp")
	f.Add("333333333333", "eu-west-1", "")
	f.Fuzz(func(t *testing.T, account, region, s string) {
		// A name of the compact shape itself is no CloudTrail file name
		// (those start with the account), so the writer never gets one.
		if got := expandKeyName(account, region, compactKeyName(account, region, s)); got != s && !isCompactKey(s) {
			t.Fatalf("round trip of %q: %q", s, got)
		}
		if e := expandKeyName(account, region, s); e != s && compactKeyName(account, region, e) != s {
			t.Fatalf("stored %q reads as %q, which stores as %q", s, e, compactKeyName(account, region, e))
		}
	})
}
