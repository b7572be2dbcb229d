package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/ledgertest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

const acct = "333333333333"

func logArrival(region string, at time.Time, unique string) ledger.Arrival {
	key := fmt.Sprintf("cloudtrail/AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%s.json.gz", acct, region,
		at.Format("2006/01/02"), acct, region, at.Format("20060102T1504Z"), unique)
	return ledger.Arrival{Account: acct, Region: region, Kind: ledger.ArrivalLog, Time: at, Key: key}
}

func digestArrival(region string, at time.Time) ledger.Arrival {
	return ledger.Arrival{Account: acct, Region: region, Kind: ledger.ArrivalDigest, Time: at}
}

func newWriter(db ledger.WriteAPI, c *clock) *ledger.Writer {
	return ledger.NewWriter(db, "ledger", ledger.WriterOptions{Now: c.Now, Journal: ledger.Journal{DB: ledgertest.NewJournal(), Table: "journal"}})
}

func read(t *testing.T, db *ledgertest.Table) ledger.Item {
	t.Helper()
	it, err := (&ledger.Reader{DB: db, Table: "ledger"}).Get(context.Background(), time.Time{}, acct)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// Arrivals within an item interval make one item write, after the
// interval; the journal carries their times meanwhile.
func TestItemWrittenOncePerInterval(t *testing.T) {
	ctx := context.Background()
	db := ledgertest.NewTable()
	c := &clock{t: t0}
	w := newWriter(db, c)
	for i := 0; i <= 40; i++ {
		res := w.Record(logArrival("us-east-1", t0.Add(time.Duration(i)*6*time.Second), fmt.Sprintf("AAAAAAAAAAAAA%03d", i)))
		if res != ledger.RecordPending {
			t.Fatalf("arrival %d: %v, want pending", i, res)
		}
		r := w.Flush(ctx, ledger.FlushDue)
		if r.Writes != 0 || r.JournalWrites != 1 || r.Held != 1 {
			t.Fatalf("flush %d: %+v, want a journal write and no item write", i, r)
		}
		c.Add(6 * time.Second)
	}
	w.Record(digestArrival("us-east-1", t0.Add(5*time.Minute)))
	c.t = t0.Add(59 * time.Minute)
	if r := w.Flush(ctx, ledger.FlushDue); r.Writes != 0 {
		t.Fatalf("flush before the interval: %+v", r)
	}
	c.t = t0.Add(61 * time.Minute)
	if r := w.Flush(ctx, ledger.FlushDue); r.Writes != 1 || r.Held != 0 {
		t.Fatalf("interval flush: %+v, want one write and nothing held", r)
	}
	if st := db.Stats(); st.UpdateItem != 1 {
		t.Fatalf("UpdateItem calls %d, want 1 for 41 files and a digest", st.UpdateItem)
	}
	rs := read(t, db).Regions["us-east-1"]
	if !rs.LastLog.Equal(t0.Add(4*time.Minute)) || !rs.LastDigest.Equal(t0.Add(5*time.Minute)) || rs.Counts["20260314"] != 41 ||
		!strings.HasSuffix(rs.LastKey, "_AAAAAAAAAAAAA040.json.gz") {
		t.Fatalf("ledger: %+v", rs)
	}
}

// A written account is forgotten: what the instance holds is what it has
// not written.
func TestWriterForgetsWrittenAccounts(t *testing.T) {
	ctx := context.Background()
	db := ledgertest.NewTable()
	c := &clock{t: t0}
	w := newWriter(db, c)
	for a := range 50 {
		id := fmt.Sprintf("%012d", 100000000000+a)
		w.Record(ledger.Arrival{Account: id, Region: "eu-west-1", Kind: ledger.ArrivalDigest, Time: t0})
	}
	if r := w.Flush(ctx, ledger.FlushDue); r.Held != 50 {
		t.Fatalf("%+v", r)
	}
	if r := w.Flush(ctx, ledger.FlushAll); r.Writes != 50 || r.Held != 0 {
		t.Fatalf("%+v, want 50 writes and nothing held", r)
	}
	// An older digest after the write is journaled and written again: the
	// condition keeps the item's newer time.
	w.Record(ledger.Arrival{Account: "100000000000", Region: "eu-west-1", Kind: ledger.ArrivalDigest, Time: t0.Add(-time.Hour)})
	if r := w.Flush(ctx, ledger.FlushAll); r.Conflicts != 1 || len(r.ItemErrors) != 0 || r.Held != 0 {
		t.Fatalf("%+v", r)
	}
	it, err := (&ledger.Reader{DB: db, Table: "ledger"}).Get(ctx, time.Time{}, "100000000000")
	if err != nil || !it.Regions["eu-west-1"].LastDigest.Equal(t0) {
		t.Fatalf("%+v %v", it, err)
	}
}

func TestOutOfOrderAndDuplicates(t *testing.T) {
	ctx := context.Background()
	db := ledgertest.NewTable()
	c := &clock{t: t0.Add(time.Hour)}
	a, b := newWriter(db, c), newWriter(db, c) // two warm instances
	newest := logArrival("us-east-1", t0.Add(30*time.Minute), "CCCCCCCCCCCCCCC1")
	older := logArrival("us-east-1", t0.Add(10*time.Minute), "CCCCCCCCCCCCCCC0")
	a.Record(newest)
	a.Record(digestArrival("us-east-1", t0.Add(20*time.Minute)))
	if r := a.Flush(ctx, ledger.FlushAll); r.Writes != 1 {
		t.Fatalf("%+v", r)
	}
	// b sees an older file and an older digest: the times must not move
	// back, the count must still be added.
	b.Record(older)
	b.Record(digestArrival("us-east-1", t0.Add(5*time.Minute)))
	r := b.Flush(ctx, ledger.FlushAll)
	if r.Writes != 1 || r.Conflicts != 1 || r.Failed != nil {
		t.Fatalf("out of order: %+v", r)
	}
	// Duplicates: the same key again at a is dropped; a duplicate of a's key
	// at b is counted (another instance's memory).
	if got := a.Record(newest); got != ledger.RecordIgnored {
		t.Fatalf("duplicate: %v", got)
	}
	b.Record(newest)
	if r := b.Flush(ctx, ledger.FlushAll); r.Failed != nil {
		t.Fatalf("%+v", r)
	}
	rs := read(t, db).Regions["us-east-1"]
	if !rs.LastLog.Equal(newest.Time) || rs.LastKey != path.Base(newest.Key) || !rs.LastDigest.Equal(t0.Add(20*time.Minute)) {
		t.Fatalf("times moved back: %+v", rs)
	}
	if rs.Counts["20260314"] != 3 {
		t.Fatalf("counts %v, want 3 (one cross-instance duplicate)", rs.Counts)
	}
}

func TestOldCountsRemoved(t *testing.T) {
	ctx := context.Background()
	db := ledgertest.NewTable()
	c := &clock{t: t0}
	w := newWriter(db, c)
	w.Record(logArrival("us-east-1", t0, "DDDDDDDDDDDDDDD0"))
	w.Flush(ctx, ledger.FlushAll)
	c.Add(24 * time.Hour)
	w.Record(logArrival("us-east-1", t0.Add(24*time.Hour), "DDDDDDDDDDDDDDD1"))
	w.Flush(ctx, ledger.FlushAll)
	if got := read(t, db).Regions["us-east-1"].Counts; len(got) != 2 {
		t.Fatalf("two days kept: %v", got)
	}
	c.Add(48 * time.Hour)
	w.Record(logArrival("us-east-1", t0.Add(72*time.Hour), "DDDDDDDDDDDDDDD2"))
	// A late file from three days ago updates nothing but is not counted.
	w.Record(logArrival("us-east-1", t0.Add(time.Minute), "DDDDDDDDDDDDDDD3"))
	w.Flush(ctx, ledger.FlushAll)
	got := read(t, db).Regions["us-east-1"].Counts
	if len(got) != 1 || got["20260317"] != 1 {
		t.Fatalf("old days not removed: %v", got)
	}
	// A fresh instance (no knowledge of the item) removes the days just
	// before the cutoff too.
	c.Add(48 * time.Hour)
	w2 := newWriter(db, c)
	w2.Record(logArrival("us-east-1", t0.Add(120*time.Hour), "DDDDDDDDDDDDDDD4"))
	w2.Flush(ctx, ledger.FlushAll)
	if got := read(t, db).Regions["us-east-1"].Counts; len(got) != 1 || got["20260319"] != 1 {
		t.Fatalf("fresh instance: %v", got)
	}
}

// failingDB fails UpdateItem while fail is set.
type failingDB struct {
	*ledgertest.Table
	mu   sync.Mutex
	fail error
}

func (f *failingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.mu.Lock()
	err := f.fail
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return f.Table.UpdateItem(ctx, in, o...)
}

func TestFailedWriteStaysPending(t *testing.T) {
	ctx := context.Background()
	db := &failingDB{Table: ledgertest.NewTable(), fail: errors.New("throttled")}
	c := &clock{t: t0}
	w := newWriter(db, c)
	w.Record(logArrival("us-east-1", t0, "EEEEEEEEEEEEEEE0"))
	w.Record(logArrival("us-east-1", t0.Add(time.Minute), "EEEEEEEEEEEEEEE1"))
	r := w.Flush(ctx, ledger.FlushAll)
	if r.ItemErrors[acct] == nil || len(r.Failed) != 0 || r.Held != 1 {
		t.Fatalf("%+v", r)
	}
	db.mu.Lock()
	db.fail = nil
	db.mu.Unlock()
	w.Record(logArrival("us-east-1", t0.Add(2*time.Minute), "EEEEEEEEEEEEEEE2"))
	// Retried at the next flush, whatever the interval.
	if r := w.Flush(ctx, ledger.FlushDue); r.Writes != 1 || r.Held != 0 {
		t.Fatalf("%+v", r)
	}
	rs := read(t, db.Table).Regions["us-east-1"]
	if rs.Counts["20260314"] != 3 || !rs.LastLog.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("%+v", rs)
	}
}

func TestItemStaysUnderOneKB(t *testing.T) {
	// A busy account at the reference model's shape: 17 Regions of digests,
	// 3 active Regions with organization-trail keys, two days of counts.
	ctx := context.Background()
	db := ledgertest.NewTable()
	c := &clock{t: t0}
	w := newWriter(db, c)
	regions := []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1", "eu-central-1",
		"eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
		"ap-northeast-3", "ap-southeast-1", "ap-southeast-2"}
	for day := 0; day < 3; day++ {
		at := t0.Add(time.Duration(day) * 24 * time.Hour)
		c.t = at
		for _, r := range regions {
			w.Record(digestArrival(r, at))
		}
		for _, r := range []string{"ap-southeast-2", "ap-northeast-3", "eu-central-1"} {
			for i := 0; i < 100; i++ {
				w.Record(logArrival(r, at.Add(time.Duration(i)*time.Second), fmt.Sprintf("FFFFFFFFFFFF%04d", day*1000+i)))
			}
		}
		w.Flush(ctx, ledger.FlushAll)
	}
	if st := db.Stats(); st.MaxItemBytes > 900 {
		t.Errorf("largest item %d bytes: too close to 1 KB (two write units per write)", st.MaxItemBytes)
	} else {
		t.Logf("largest item %d bytes", st.MaxItemBytes)
	}
}

// overlapCheckingDB fails an update that ADDs and REMOVEs the same
// attribute, as DynamoDB does ("Two document paths overlap").
type overlapCheckingDB struct{ *ledgertest.Table }

func (o overlapCheckingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	expr := aws.ToString(in.UpdateExpression)
	if i := strings.Index(expr, " REMOVE "); i >= 0 {
		removed := map[string]bool{}
		for _, p := range strings.Split(expr[i+len(" REMOVE "):], ", ") {
			removed[in.ExpressionAttributeNames[strings.TrimSpace(p)]] = true
		}
		for p, name := range in.ExpressionAttributeNames {
			if removed[name] && strings.Contains(expr[:i], p+" ") {
				return nil, &ddbtypes.ResourceNotFoundException{Message: aws.String("fake ValidationException: two document paths overlap: " + name)}
			}
		}
	}
	return o.Table.UpdateItem(ctx, in, opt...)
}

// TestCountOfADayThatExpiresBeforeTheFlush: a file counted late on its
// day + 1 and flushed after the next midnight must not ADD and REMOVE the
// same count attribute in one update.
func TestCountOfADayThatExpiresBeforeTheFlush(t *testing.T) {
	ctx := context.Background()
	db := overlapCheckingDB{ledgertest.NewTable()}
	day0 := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	c := &clock{t: day0.Add(12 * time.Hour)}
	w := newWriter(db, c)
	w.Record(logArrival("us-east-1", day0.Add(12*time.Hour), "EEEEEEEEEEEEEEE0"))
	w.Flush(ctx, ledger.FlushAll)
	c.Add(35*time.Hour + 50*time.Minute)                                          // day 1, 23:50
	w.Record(logArrival("us-east-1", day0.Add(13*time.Hour), "EEEEEEEEEEEEEEE1")) // late file of day 0
	c.Add(20 * time.Minute)                                                       // past midnight: day 0 expires
	res := w.Flush(ctx, ledger.FlushAll)
	if len(res.Failed) != 0 {
		t.Fatalf("flush failed: %v", res.Failed)
	}
	if got := read(t, db.Table).Regions["us-east-1"].Counts; got["20260314"] != 0 {
		t.Fatalf("expired day still counted: %v", got)
	}
}
