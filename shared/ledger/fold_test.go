package ledger_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/ledger"
)

var foldAccounts = []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "666666666666"}

// traffic drives a pipeline for hours: every minute each account delivers
// a log file in two Regions, every hour a digest in three, batches handed
// to the instances in turn. It returns the log files per account × Region.
func traffic(p *pipeline, hours int) map[string]int {
	files := map[string]int{}
	p.files = files
	start := p.now
	n := 0
	for m := 0; m < hours*60; m++ {
		at := start.Add(time.Duration(m) * time.Minute)
		p.advance(at.Add(20 * time.Second))
		w := m % len(p.writers)
		for _, a := range foldAccounts {
			for _, r := range []string{"us-east-1", "eu-west-1"} {
				n++
				p.writers[w].Record(logOf(a, r, at, unique16(n)))
				files[a+"/"+r]++
			}
			if m%60 == 7 {
				for _, r := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
					p.writers[w].Record(digestOf(a, r, at.Add(-7*time.Minute)))
				}
			}
		}
		p.flush(w)
	}
	return files
}

// The watchdog writes each account's item about once per interval
// whatever the number of verifier instances; every pass reads every log
// file counted so far (items and the journal since their fold); and once
// the journal has been folded the items alone hold every time, every count
// and a recent key: nothing is lost though no verifier ever writes an
// item.
func TestFoldOncePerIntervalWhateverTheInstances(t *testing.T) {
	const hours = 3
	var writes []int
	for _, instances := range []int{1, 2, 5} {
		p := newPipeline(t, instances, t0)
		files := traffic(p, hours)
		end := p.now
		// Drain: the last window of every account is folded an interval
		// and two slots after it ends.
		p.advance(end.Add(time.Hour + 15*time.Minute))
		st := p.db.Stats()
		writes = append(writes, st.UpdateItem)
		if p.fold.Failed+p.fold.Conflicts+p.fold.Partial != 0 || st.MaxItemBytes >= 1024 {
			t.Fatalf("%d instances: folds %+v, largest item %d B", instances, p.fold, st.MaxItemBytes)
		}
		last := end.Add(-20 * time.Second).Truncate(time.Minute)
		for _, a := range foldAccounts {
			it := p.item(a)
			for _, r := range []string{"us-east-1", "eu-west-1"} {
				rs := it.Regions[r]
				if !rs.LastLog.Equal(last) || rs.Counts["20260314"] != int64(files[a+"/"+r]) {
					t.Fatalf("%d instances, %s %s: %+v, want last log %v and %d files", instances, a, r, rs, last, files[a+"/"+r])
				}
				if !strings.HasPrefix(rs.LastKey, a+"_CloudTrail_"+r+"_") || rs.LastLog.Sub(keyStamp(t, rs.LastKey)) > ledger.DefaultKeyEvery {
					t.Fatalf("%d instances, %s %s: key %q too old for %v", instances, a, r, rs.LastKey, rs.LastLog)
				}
			}
			if rs := it.Regions["ap-south-1"]; !rs.LastDigest.Equal(t0.Add(time.Duration(hours-1) * time.Hour)) {
				t.Fatalf("%s ap-south-1: %+v", a, rs)
			}
		}
		perHour := float64(st.UpdateItem) / float64(len(foldAccounts)) / (hours + 1.25)
		t.Logf("%d instances: %d item writes (%.2f per account-hour over %.2f h), %d journal items, largest item %d B",
			instances, st.UpdateItem, perHour, hours+1.25, p.journal.Stats().PutItem, st.MaxItemBytes)
	}
	for _, w := range writes[1:] {
		if w != writes[0] {
			t.Fatalf("item writes %v by 1, 2 and 5 instances: they must not grow with instances", writes)
		}
	}
	// One write per account per interval, plus the first.
	if max := len(foldAccounts) * (hours + 2); writes[0] > max {
		t.Fatalf("%d item writes, want at most %d", writes[0], max)
	}
}

func keyStamp(t *testing.T, name string) time.Time {
	t.Helper()
	parts := strings.Split(name, "_")
	ts, err := time.Parse("20060102T1504Z", parts[len(parts)-2])
	if err != nil {
		t.Fatalf("key %q: %v", name, err)
	}
	return ts
}

// overlapDB runs a whole second watchdog pass inside the first pass's
// first item write: both read the same items and journal; the second
// writes first, so every write of the first must fail its condition and
// no slot is counted twice.
type overlapDB struct {
	ledger.WriteAPI
	once  sync.Once
	inner func()
}

func (o *overlapDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	o.once.Do(o.inner)
	return o.WriteAPI.UpdateItem(ctx, in, opt...)
}

func TestFoldCountsEachSlotOnceWhenPassesOverlap(t *testing.T) {
	p := newPipeline(t, 2, t0)
	files := traffic(p, 2)
	p.advance(p.now.Add(40 * time.Minute))
	ctx := context.Background()
	before := p.fold
	at := p.now.Add(5 * time.Minute)
	var second ledger.ScanStats
	odb := &overlapDB{WriteAPI: p.db}
	odb.inner = func() {
		var err error
		if second, err = p.reader().Scan(ctx, at, 1, func(ledger.Item) error { return nil }); err != nil {
			t.Error(err)
		}
	}
	r := p.reader()
	r.Fold.DB = odb
	first, err := r.Scan(ctx, at, 1, func(ledger.Item) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if second.Fold.Accounts == 0 || first.Fold.Accounts != 0 || first.Fold.Conflicts != second.Fold.Accounts {
		t.Fatalf("overlapping passes: first %+v, second %+v", first.Fold, second.Fold)
	}
	p.lastPass, p.fold = at, before
	p.advance(at.Add(90 * time.Minute))
	for _, a := range foldAccounts {
		if got := p.item(a).Regions["us-east-1"].Counts["20260314"]; got != int64(files[a+"/us-east-1"]) {
			t.Fatalf("%s: %d files counted, want %d", a, got, files[a+"/us-east-1"])
		}
	}
}

// An item of the previous layout (L#, D#, K#, C# attributes, written by
// the previous release's verifier) reads as before, and its first fold
// rewrites it packed, with the journal's counts added to its own.
func TestFoldRewritesThePreviousLayout(t *testing.T) {
	p := newPipeline(t, 1, t0)
	ctx := context.Background()
	const a = "333333333333"
	old := logOf(a, "us-east-1", t0.Add(-time.Hour), "OOOOOOOOOOOOOOOO")
	_, err := p.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("ledger"),
		Key:              map[string]ddbtypes.AttributeValue{ledger.KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: a}},
		UpdateExpression: aws.String("SET #l = :l, #k = :k, #d = :d, #c = :c, #u = :u"),
		ExpressionAttributeNames: map[string]string{"#l": "L#us-east-1", "#k": "K#us-east-1", "#d": "D#ap-south-1",
			"#c": "C#20260314#us-east-1", "#u": ledger.UpdatedAtAttribute},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":l": num(old.Time.Unix()), ":k": str(old.Key[strings.LastIndexByte(old.Key, '/')+1:]),
			":d": num(t0.Add(-30 * time.Minute).Unix()), ":c": num(40), ":u": num(t0.Unix())}})
	if err != nil {
		t.Fatal(err)
	}
	before := p.item(a)
	for i := range 3 {
		p.writers[0].Record(logOf(a, "us-east-1", t0.Add(time.Duration(i)*time.Minute), unique16(i)))
	}
	p.flush(0)
	p.advance(t0.Add(90 * time.Minute))
	item := p.db.Item(a)
	for name := range item {
		if strings.Contains(name, "#") {
			t.Fatalf("attribute %s of the previous layout left: %v", name, item)
		}
	}
	after := p.item(a)
	rs := after.Regions["us-east-1"]
	if rs.Counts["20260314"] != 43 || !rs.LastLog.Equal(t0.Add(2*time.Minute)) || !strings.Contains(rs.LastKey, unique16(2)) ||
		!after.Regions["ap-south-1"].LastDigest.Equal(before.Regions["ap-south-1"].LastDigest) {
		t.Fatalf("folded item %+v (before %+v)", after.Regions, before.Regions)
	}
}

// The previous release's journal items (times only) are read and folded.
func TestFoldReadsThePreviousJournal(t *testing.T) {
	p := newPipeline(t, 1, t0)
	const a = "444444444444"
	// Version 1: base, one Region, one entry: account, Region 0, time
	// offset << 1 | digest.
	v1 := []byte{1}
	v1 = binaryUvarint(v1, uint64(t0.Unix()))
	v1 = append(v1, 1, 9)
	v1 = append(v1, "us-east-1"...)
	v1 = append(v1, 1)
	v1 = binaryUvarint(v1, 444444444444)
	v1 = append(v1, 0)
	v1 = binaryUvarint(v1, 60<<1|1)
	entries, err := ledger.DecodeJournal(v1)
	if err != nil || len(entries) != 1 || entries[0].Kind != ledger.ArrivalDigest || !entries[0].Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("version 1: %+v %v", entries, err)
	}
	if _, err := p.journal.PutItem(context.Background(), &dynamodb.PutItemInput{Item: map[string]ddbtypes.AttributeValue{
		ledger.JournalSlotAttribute:    num(t0.Truncate(ledger.JournalSlot).Unix()),
		ledger.JournalWriterAttribute:  str("old#1"),
		ledger.JournalEntriesAttribute: &ddbtypes.AttributeValueMemberB{Value: v1},
	}}); err != nil {
		t.Fatal(err)
	}
	p.advance(t0.Add(90 * time.Minute))
	if rs := p.item(a).Regions["us-east-1"]; !rs.LastDigest.Equal(t0.Add(time.Minute)) {
		t.Fatalf("%+v", rs)
	}
}

func num(n int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(n)}
}
func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }

func binaryUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// An account quiet for longer than the journal's horizon (its last fold
// is older than anything read) reads and folds its next files exactly.
func TestFoldAfterALongQuiet(t *testing.T) {
	p := newPipeline(t, 1, t0)
	const a = "222222222222"
	p.files = map[string]int{a + "/us-east-1": 1}
	p.writers[0].Record(logOf(a, "us-east-1", t0, unique16(1)))
	p.flush(0)
	p.advance(t0.Add(4 * time.Hour))
	p.files[a+"/us-east-1"] = 3
	for i := range 2 {
		p.writers[0].Record(logOf(a, "us-east-1", p.now.Truncate(time.Minute), unique16(10+i)))
	}
	p.flush(0)
	p.advance(p.now.Add(2 * time.Hour))
	if got := p.item(a).Regions["us-east-1"].Counts["20260314"]; got != 3 || p.fold.Partial != 0 {
		t.Fatalf("%d files folded (want 3); folds %+v", got, p.fold)
	}
}

// After an upgrade the items of the previous layout are rewritten over
// one interval, a twelfth per pass, not all in the first pass.
func TestUpgradeSpreadsOverAnInterval(t *testing.T) {
	p := newPipeline(t, 1, t0)
	ctx := context.Background()
	const n = 120
	for i := range n {
		if _, err := p.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("ledger"),
			Key:                       map[string]ddbtypes.AttributeValue{ledger.KeyAttribute: str(fmt.Sprintf("%012d", 100000000000+i))},
			UpdateExpression:          aws.String("SET #d = :d"),
			ExpressionAttributeNames:  map[string]string{"#d": "D#us-east-1"},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":d": num(t0.Add(-time.Hour).Unix())}}); err != nil {
			t.Fatal(err)
		}
	}
	var per []int
	for range 13 {
		p.advance(p.now.Add(5 * time.Minute))
		per = append(per, p.fold.Accounts)
		p.fold.Accounts = 0
	}
	total := 0
	for _, k := range per {
		if k > 2*n/12 {
			t.Fatalf("items rewritten per pass %v: more than two twelfths in one pass", per)
		}
		total += k
	}
	if total != n || p.db.Stats().UpdateItem != 2*n {
		t.Fatalf("items rewritten per pass %v (%d writes): want every item once", per, p.db.Stats().UpdateItem)
	}
}
