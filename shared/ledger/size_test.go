package ledger_test

import (
	"context"
	"fmt"
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
// and log files in the first active of them (counts of both days kept).
func activeItem(t *testing.T, active int) map[string]ddbtypes.AttributeValue {
	t.Helper()
	db := ledgertest.NewTable()
	c := &clock{t: t0}
	w := newWriter(db, c)
	for day := 0; day < 2; day++ {
		at := t0.Add(time.Duration(day) * 24 * time.Hour)
		c.t = at
		for _, r := range seventeen {
			w.Record(digestArrival(r, at))
		}
		for _, r := range seventeen[:active] {
			for i := 0; i < 100; i++ {
				w.Record(logArrival(r, at.Add(time.Duration(i)*time.Second), fmt.Sprintf("FFFFFFFFFFFF%04d", day*1000+i)))
			}
		}
		w.Flush(context.Background(), ledger.FlushAll)
	}
	return db.Item(acct)
}

// TestItemSizeByActiveRegions measures an item at 1 to 17 Regions with
// log files, as written now and with K# as the previous release wrote it
// (the whole file name): the compact K# is 33 bytes plus the Region's name
// shorter per active Region, and both forms read the same.
func TestItemSizeByActiveRegions(t *testing.T) {
	for active := 1; active <= len(seventeen); active++ {
		item := activeItem(t, active)
		now, err := ledger.Decode(item)
		if err != nil {
			t.Fatal(err)
		}
		old := map[string]ddbtypes.AttributeValue{}
		for k, v := range item {
			old[k] = v
		}
		for r, rs := range now.Regions {
			if rs.LastKey != "" {
				old[ledger.PrefixKey+r] = &ddbtypes.AttributeValueMemberS{Value: rs.LastKey}
			}
		}
		prev, err := ledger.Decode(old)
		if err != nil {
			t.Fatal(err)
		}
		saved := 0
		for _, r := range seventeen[:active] {
			rs := now.Regions[r]
			if rs.LastKey == "" || rs.LastKey != prev.Regions[r].LastKey {
				t.Fatalf("%s: key %q, previous release's item reads %q", r, rs.LastKey, prev.Regions[r].LastKey)
			}
			// "<account>_CloudTrail_<region>_" and ".json.gz" are not stored.
			saved += len(acct+"_CloudTrail_"+r+"_") + len(".json.gz")
		}
		before, after := ledgertest.ItemSize(old), ledgertest.ItemSize(item)
		if before-after != saved {
			t.Errorf("%d active Regions: %d B before, %d B after: want %d B less", active, before, after, saved)
		}
		t.Logf("%2d active Regions: previous release %d B (%d WCU), now %d B (%d WCU)", active,
			before, (before+1023)/1024, after, (after+1023)/1024)
	}
}
