package ledger_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/ledgertest"
)

var seventeen = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-central-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
	"ap-northeast-3", "ap-southeast-1", "ap-southeast-2"}

// activeItem is an account's item after two days of digests in 17 Regions
// and log files in the first active of them (counts of both days kept),
// journaled by a verifier and folded by the watchdog.
func activeItem(t *testing.T, active int) map[string]ddbtypes.AttributeValue {
	t.Helper()
	p := newPipeline(t, 1, t0)
	n := 0
	for day := 0; day < 2; day++ {
		at := t0.Add(time.Duration(day) * 24 * time.Hour)
		p.advance(at)
		for _, r := range seventeen {
			p.writers[0].Record(digestArrival(r, at))
		}
		for _, r := range seventeen[:active] {
			for i := 0; i < 100; i++ {
				n++
				p.writers[0].Record(logArrival(r, at.Add(time.Duration(i)*time.Second).Truncate(time.Minute), unique16(n)))
			}
		}
		p.flush(0)
	}
	p.advance(p.now.Add(90 * time.Minute))
	return p.db.Item(acct)
}

// previousLayout renders an item as the previous release wrote it: one
// attribute per Region and field (L#, D#, K# with the compact name, C# per
// day).
func previousLayout(it ledger.Item) map[string]ddbtypes.AttributeValue {
	av := map[string]ddbtypes.AttributeValue{ledger.KeyAttribute: str(it.AccountID), ledger.UpdatedAtAttribute: num(it.UpdatedAt.Unix())}
	for r, rs := range it.Regions {
		if !rs.LastLog.IsZero() {
			av[ledger.PrefixLog+r] = num(rs.LastLog.Unix())
		}
		if !rs.LastDigest.IsZero() {
			av[ledger.PrefixDigest+r] = num(rs.LastDigest.Unix())
		}
		if rs.LastKey != "" {
			// <YYYYMMDDTHHmmZ>_<unique>: 31 bytes.
			av[ledger.PrefixKey+r] = str(rs.LastKey[len(it.AccountID+"_CloudTrail_"+r+"_") : len(rs.LastKey)-len(".json.gz")])
		}
		for day, c := range rs.Counts {
			av[ledger.PrefixCount+day+"#"+r] = &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(c, 10)}
		}
	}
	return av
}

// TestItemSizeByActiveRegions measures an item at 1 to 17 Regions with
// log files, packed (as the watchdog writes it) and in the previous
// release's layout, which reads the same: under 1 KB (one write unit) at
// 17 active Regions.
func TestItemSizeByActiveRegions(t *testing.T) {
	for active := 1; active <= len(seventeen); active++ {
		item := activeItem(t, active)
		now, err := ledger.Decode(item)
		if err != nil {
			t.Fatal(err)
		}
		old := previousLayout(now)
		prev, err := ledger.Decode(old)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(prev.Regions) != fmt.Sprint(now.Regions) {
			t.Fatalf("%d active: the layouts read differently:\n%v\n%v", active, prev.Regions, now.Regions)
		}
		for _, r := range seventeen[:active] {
			if rs := now.Regions[r]; rs.LastKey == "" || len(rs.Counts) != 2 || rs.Counts["20260315"] != 100 {
				t.Fatalf("%s: %+v", r, rs)
			}
		}
		before, after := ledgertest.ItemSize(old), ledgertest.ItemSize(item)
		if after >= 1024 {
			t.Errorf("%d active Regions: %d B, want under 1 KB", active, after)
		}
		t.Logf("%2d active Regions: previous layout %d B (%d WCU), packed %d B (%d WCU)", active,
			before, (before+1023)/1024, after, (after+1023)/1024)
	}
}
