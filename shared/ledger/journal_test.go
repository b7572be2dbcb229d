package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/ledgertest"
)

var jt0 = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

func TestJournalRoundTrip(t *testing.T) {
	entries := []ledger.JournalEntry{
		{Account: "000000000001", Region: "us-east-1", Kind: ledger.ArrivalLog, Time: jt0.Add(5 * time.Minute)},
		{Account: "999999999999", Region: "ap-southeast-2", Kind: ledger.ArrivalDigest, Time: jt0.Add(59*time.Minute + 31*time.Second)},
		{Account: "333333333333", Region: "us-east-1", Kind: ledger.ArrivalDigest, Time: jt0},
	}
	b, err := ledger.EncodeJournal(entries)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ledger.DecodeJournal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, entries) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, entries)
	}
	// Compactness is the point: ~10 bytes an entry.
	many := make([]ledger.JournalEntry, 100)
	for i := range many {
		many[i] = ledger.JournalEntry{Account: fmt.Sprintf("%012d", 100000000000+i*7919), Region: []string{"us-east-1", "eu-west-1", "ap-south-1"}[i%3],
			Kind: ledger.ArrivalKind(1 + i%2), Time: jt0.Add(time.Duration(i) * 17 * time.Second)}
	}
	b, err = ledger.EncodeJournal(many)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 1024-64 {
		t.Errorf("100 entries take %d bytes: more than one write unit with the item's other attributes", len(b))
	}
	if _, err := ledger.EncodeJournal(nil); err != nil {
		t.Errorf("empty journal: %v", err)
	}
}

func TestEncodeJournalRejects(t *testing.T) {
	ok := ledger.JournalEntry{Account: "333333333333", Region: "us-east-1", Kind: ledger.ArrivalLog, Time: jt0}
	for name, mut := range map[string]func(*ledger.JournalEntry){
		"short account":  func(e *ledger.JournalEntry) { e.Account = "33333" },
		"letters":        func(e *ledger.JournalEntry) { e.Account = "33333333333x" },
		"empty Region":   func(e *ledger.JournalEntry) { e.Region = "" },
		"long Region":    func(e *ledger.JournalEntry) { e.Region = strings.Repeat("r", 33) },
		"kind":           func(e *ledger.JournalEntry) { e.Kind = 9 },
		"before 1970":    func(e *ledger.JournalEntry) { e.Time = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC) },
		"unknown kind 0": func(e *ledger.JournalEntry) { e.Kind = 0 },
	} {
		e := ok
		mut(&e)
		if _, err := ledger.EncodeJournal([]ledger.JournalEntry{e}); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
	if _, err := ledger.EncodeJournal(make([]ledger.JournalEntry, 20001)); err == nil {
		t.Error("20,001 entries encoded")
	}
}

func TestDecodeJournalStrict(t *testing.T) {
	good, _ := ledger.EncodeJournal([]ledger.JournalEntry{{Account: "333333333333", Region: "us-east-1", Kind: ledger.ArrivalLog, Time: jt0}})
	for name, b := range map[string][]byte{
		"empty":          nil,
		"version":        append([]byte{2}, good[1:]...),
		"truncated":      good[:len(good)-1],
		"trailing":       append(append([]byte{}, good...), 0),
		"region index":   {1, 0, 1, 1, 'r', 1, 1, 5, 0},
		"account range":  {1, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0},
		"entry count":    {1, 0, 0, 0xff, 0xff, 0x03},
		"zero Region":    {1, 0, 1, 0, 0},
		"overlong":       {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"regions beyond": {1, 0, 0xff, 0x7f},
	} {
		if _, err := ledger.DecodeJournal(b); !errors.Is(err, ledger.ErrJournalCorrupt) {
			t.Errorf("%s: err = %v, want ErrJournalCorrupt", name, err)
		}
	}
}

// DecodeJournal reads bytes from a table: it must fail cleanly, never
// panic, and what it accepts must encode back to the same bytes.
func FuzzDecodeJournal(f *testing.F) {
	good, _ := ledger.EncodeJournal([]ledger.JournalEntry{
		{Account: "333333333333", Region: "us-east-1", Kind: ledger.ArrivalLog, Time: jt0},
		{Account: "444444444444", Region: "eu-west-1", Kind: ledger.ArrivalDigest, Time: jt0.Add(time.Hour)},
	})
	f.Add(good)
	f.Add([]byte{1, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := ledger.DecodeJournal(b)
		if err != nil {
			return
		}
		again, err := ledger.EncodeJournal(entries)
		if err != nil {
			t.Fatalf("decoded entries do not encode: %v", err)
		}
		back, err := ledger.DecodeJournal(again)
		if err != nil || !slices.Equal(back, entries) {
			t.Fatalf("re-encoded entries differ: %v", err)
		}
	})
}

type journalRig struct {
	now     time.Time
	db      *ledgertest.Table
	journal *ledgertest.Journal
	w       *ledger.Writer
}

func newJournalRig(interval time.Duration) *journalRig {
	r := &journalRig{now: jt0, db: ledgertest.NewTable(), journal: ledgertest.NewJournal()}
	r.w = ledger.NewWriter(r.db, "ledger", ledger.WriterOptions{Now: func() time.Time { return r.now }, ItemInterval: interval,
		Journal: ledger.Journal{DB: r.journal, Table: "journal", WriterID: "i-1"}})
	return r
}

func (r *journalRig) reader() *ledger.Reader {
	return &ledger.Reader{DB: r.db, Table: "ledger", Journal: &ledger.JournalReader{DB: r.journal, Table: "journal"}}
}

func (r *journalRig) get(t *testing.T, account string) ledger.Item {
	t.Helper()
	it, err := r.reader().Get(context.Background(), r.now, account)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func journalLog(account, region string, at time.Time, unique string) ledger.Arrival {
	return ledger.Arrival{Account: account, Region: region, Kind: ledger.ArrivalLog, Time: at,
		Key: fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s_CloudTrail_%s_%s_%s.json.gz", account, region, account, region, at.Format("20060102T1504Z"), unique)}
}

func TestJournalWriterOneItemPerFlush(t *testing.T) {
	r := newJournalRig(time.Hour)
	ctx := context.Background()
	// 30 accounts × 3 Regions, several files each: one journal item.
	for a := range 30 {
		acct := fmt.Sprintf("%012d", 111111111111+a)
		for _, region := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
			for k := range 4 {
				r.w.Record(journalLog(acct, region, jt0.Add(time.Duration(k)*time.Minute), fmt.Sprintf("U%d", k)))
			}
			r.w.Record(ledger.Arrival{Account: acct, Region: region, Kind: ledger.ArrivalDigest, Time: jt0.Add(90 * time.Second)})
		}
	}
	r.now = jt0.Add(5 * time.Minute)
	fr := r.w.Flush(ctx, ledger.FlushDue)
	if fr.JournalWrites != 1 || fr.Writes != 0 || len(fr.Failed) != 0 {
		t.Fatalf("flush %+v: want one journal item and no account item", fr)
	}
	if js := r.journal.Stats(); js.PutItem != 1 || js.WCU > 2 {
		t.Fatalf("journal %+v: 180 entries should fit in two write units", js)
	}
	it := r.get(t, "111111111111")
	if rs := it.Regions["eu-west-1"]; !rs.LastLog.Equal(jt0.Add(3*time.Minute)) || !rs.LastDigest.Equal(jt0.Add(90*time.Second)) {
		t.Fatalf("journal overlay: %+v", rs)
	}
	// Nothing new: no journal item.
	if fr := r.w.Flush(ctx, ledger.FlushDue); fr.JournalWrites != 0 {
		t.Fatalf("empty flush wrote %+v", fr)
	}
	// An older or equal time is not journaled again.
	r.w.Record(journalLog("111111111111", "eu-west-1", jt0.Add(2*time.Minute), "late"))
	if fr := r.w.Flush(ctx, ledger.FlushDue); fr.JournalWrites != 0 {
		t.Fatalf("a late file was journaled: %+v", fr)
	}
	// The item interval passes: every account item is written once, with
	// counts and the newest key.
	r.now = jt0.Add(61 * time.Minute)
	fr = r.w.Flush(ctx, ledger.FlushDue)
	if fr.Writes != 30 || fr.JournalWrites != 0 {
		t.Fatalf("interval flush %+v: want 30 item writes", fr)
	}
	item := r.db.Item("111111111111")
	if item == nil || item["C#20260314#eu-west-1"].(*ddbtypes.AttributeValueMemberN).Value != "5" ||
		!strings.Contains(item["K#eu-west-1"].(*ddbtypes.AttributeValueMemberS).Value, "U3") {
		t.Fatalf("item after the interval: %v", item)
	}
}

func TestJournalWriterFailureKeepsEntries(t *testing.T) {
	r := newJournalRig(time.Hour)
	ctx := context.Background()
	r.journal.Fail = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}
	r.w.Record(journalLog("333333333333", "us-east-1", jt0, "A"))
	r.w.Record(ledger.Arrival{Account: "444444444444", Region: "eu-west-1", Kind: ledger.ArrivalDigest, Time: jt0})
	fr := r.w.Flush(ctx, ledger.FlushDue)
	if len(fr.Failed) != 2 || fr.JournalWrites != 0 {
		t.Fatalf("failed flush %+v", fr)
	}
	// The redelivered records are duplicates now, but their times still
	// wait in the buffer: they are pending (the caller keeps the records
	// until a journal write succeeds), and a second failure fails them
	// again.
	if got := r.w.Record(journalLog("333333333333", "us-east-1", jt0, "A")); got != ledger.RecordPending {
		t.Fatalf("redelivered log file: %v, want pending", got)
	}
	if got := r.w.Record(ledger.Arrival{Account: "444444444444", Region: "eu-west-1", Kind: ledger.ArrivalDigest, Time: jt0}); got != ledger.RecordPending {
		t.Fatalf("redelivered digest: %v, want pending", got)
	}
	if fr := r.w.Flush(ctx, ledger.FlushDue); len(fr.Failed) != 2 {
		t.Fatalf("second failed flush %+v", fr)
	}
	r.journal.Fail = nil
	fr = r.w.Flush(ctx, ledger.FlushDue)
	if len(fr.Failed) != 0 || fr.JournalWrites != 1 {
		t.Fatalf("retry flush %+v", fr)
	}
	if rs := r.get(t, "333333333333").Regions["us-east-1"]; !rs.LastLog.Equal(jt0) {
		t.Fatalf("after retry: %+v", rs)
	}
	if rs := r.get(t, "444444444444").Regions["eu-west-1"]; !rs.LastDigest.Equal(jt0) {
		t.Fatalf("after retry: %+v", rs)
	}
	// Durable now: a further duplicate is ignored.
	if got := r.w.Record(journalLog("333333333333", "us-east-1", jt0, "A")); got != ledger.RecordIgnored {
		t.Fatalf("duplicate after the journal write: %v", got)
	}
}

func TestJournalWriterChunksLargeFlushes(t *testing.T) {
	r := newJournalRig(time.Hour)
	for a := range 21000 {
		r.w.Record(ledger.Arrival{Account: fmt.Sprintf("%012d", 100000000000+a), Region: "us-east-1", Kind: ledger.ArrivalDigest, Time: jt0})
	}
	fr := r.w.Flush(context.Background(), ledger.FlushDue)
	if fr.JournalWrites != 2 || r.journal.Items() != 2 || len(fr.Failed) != 0 {
		t.Fatalf("flush %+v, %d items", fr, r.journal.Items())
	}
	if st := r.journal.Stats(); st.MaxItemBytes > 400*1024 {
		t.Fatalf("item of %d bytes exceeds DynamoDB's 400 KB", st.MaxItemBytes)
	}
}

// The reader: items raised by the journal, accounts known only to the
// journal, the horizon, corrupt items skipped and counted.
func TestReaderMergesJournal(t *testing.T) {
	ctx := context.Background()
	r := newJournalRig(time.Hour)
	// An item written long ago for 333…, then newer journal times.
	r.w.Record(journalLog("333333333333", "us-east-1", jt0, "old"))
	r.w.Flush(ctx, ledger.FlushAll)
	r.now = jt0.Add(2 * time.Hour)
	r.w.Record(journalLog("333333333333", "us-east-1", r.now, "new"))
	r.w.Record(ledger.Arrival{Account: "555555555555", Region: "sa-east-1", Kind: ledger.ArrivalDigest, Time: r.now})
	r.w.Flush(ctx, ledger.FlushDue)
	// A corrupt item in the current slot.
	if _, err := r.journal.PutItem(ctx, &dynamodb.PutItemInput{Item: map[string]ddbtypes.AttributeValue{
		ledger.JournalSlotAttribute:    &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(r.now.Truncate(ledger.JournalSlot).Unix())},
		ledger.JournalWriterAttribute:  &ddbtypes.AttributeValueMemberS{Value: "bad#1"},
		ledger.JournalEntriesAttribute: &ddbtypes.AttributeValueMemberB{Value: []byte{9, 9, 9}},
	}}); err != nil {
		t.Fatal(err)
	}
	got := map[string]ledger.Item{}
	st, err := r.reader().Scan(ctx, r.now, 2, func(it ledger.Item) error {
		got[it.AccountID] = it
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Journal.Corrupt != 1 || st.Journal.Items != 2 || st.Items != 1 {
		t.Fatalf("stats %+v", st)
	}
	if rs := got["333333333333"].Regions["us-east-1"]; !rs.LastLog.Equal(r.now) || rs.Counts["20260314"] != 1 {
		t.Fatalf("item raised by the journal: %+v", rs)
	}
	if rs := got["555555555555"].Regions["sa-east-1"]; !rs.LastDigest.Equal(r.now) {
		t.Fatalf("journal-only account: %+v", got)
	}
	// Past the horizon the journal no longer counts: only the item.
	later := r.now.Add(ledger.JournalHorizon(time.Hour) + 2*ledger.JournalSlot)
	it, err := r.reader().Get(ctx, later, "333333333333")
	if err != nil {
		t.Fatal(err)
	}
	if rs := it.Regions["us-east-1"]; !rs.LastLog.Equal(jt0) {
		t.Fatalf("beyond the horizon: %+v", rs)
	}
}

// The reader covers the whole horizon, even when it is not a multiple of
// the slot, and the slot after its own (a writer's clock may be ahead).
func TestJournalReaderSlots(t *testing.T) {
	ctx := context.Background()
	j := ledgertest.NewJournal()
	put := func(writerClock time.Time, name string) {
		w := ledger.NewWriter(ledgertest.NewTable(), "ledger", ledger.WriterOptions{Now: func() time.Time { return writerClock },
			Journal: ledger.Journal{DB: j, Table: "journal", WriterID: name}})
		w.Record(ledger.Arrival{Account: "333333333333", Region: name, Kind: ledger.ArrivalDigest, Time: writerClock.Add(-time.Minute)})
		if fr := w.Flush(ctx, ledger.FlushDue); fr.JournalWrites != 1 {
			t.Fatalf("%s: %+v", name, fr)
		}
	}
	read := func(asOf time.Time) ledger.Item {
		ov, _, err := (&ledger.JournalReader{DB: j, Table: "journal", Horizon: 79 * time.Minute}).Read(ctx, asOf)
		if err != nil {
			t.Fatal(err)
		}
		it := ledger.Item{AccountID: "333333333333"}
		ov.Apply(&it)
		return it
	}
	early := jt0.Add(time.Second)                   // 12:00:01, early in its slot
	put(early.Add(-78*time.Minute), "oldest")       // 10:42:01, in slot 10:40
	put(early.Add(-90*time.Minute), "beyond")       // outside the 79-minute horizon
	late := jt0.Add(4*time.Minute + 59*time.Second) // 12:04:59
	put(late.Add(200*time.Millisecond), "ahead")    // 12:05:00.2, in the next slot
	if it := read(early); it.Regions["oldest"].LastDigest.IsZero() || !it.Regions["beyond"].LastDigest.IsZero() {
		t.Errorf("horizon from 12:00:01: %+v", it.Regions)
	}
	if it := read(late); it.Regions["ahead"].LastDigest.IsZero() {
		t.Errorf("a writer a moment ahead was missed: %+v", it.Regions)
	}
}

func TestJournalHorizon(t *testing.T) {
	for _, c := range []struct{ interval, want time.Duration }{
		{0, 75 * time.Minute}, {time.Hour, 75 * time.Minute}, {30 * time.Minute, 75 * time.Minute}, {2 * time.Hour, 135 * time.Minute},
	} {
		if got := ledger.JournalHorizon(c.interval); got != c.want {
			t.Errorf("JournalHorizon(%v) = %v, want %v", c.interval, got, c.want)
		}
	}
}

// An hour after a burst every account falls due at once: one flush writes
// at most MaxItemWrites of them, oldest first, and the rest follow.
func TestItemWritesPerFlushAreBounded(t *testing.T) {
	r := newJournalRig(time.Hour)
	ctx := context.Background()
	for a := range 1200 {
		r.now = jt0.Add(time.Duration(a) * time.Second)
		r.w.Record(ledger.Arrival{Account: fmt.Sprintf("%012d", 999999998000-a), Region: "us-east-1", Kind: ledger.ArrivalDigest, Time: r.now})
	}
	r.w.Flush(ctx, ledger.FlushDue)
	r.now = jt0.Add(2 * time.Hour)
	writes := []int{r.w.Flush(ctx, ledger.FlushDue).Writes}
	// The first flush wrote the oldest (here the highest account ids).
	if r.db.Item("999999998000") == nil || r.db.Item("999999996801") != nil {
		t.Fatal("the first bounded flush did not take the oldest pending accounts")
	}
	for range 3 {
		writes = append(writes, r.w.Flush(ctx, ledger.FlushDue).Writes)
	}
	if !slices.Equal(writes, []int{500, 500, 200, 0}) {
		t.Fatalf("item writes per flush %v, want [500 500 200 0]", writes)
	}
}

// A verifier instance journals times and dies before its item writes: the
// watchdog's scan folds them into the items before they leave the horizon,
// and only those old enough; times the items already hold are left alone.
func TestFolderKeepsTimesPastTheHorizon(t *testing.T) {
	ctx := context.Background()
	r := newJournalRig(time.Hour)
	// The item of 333… already holds us-east-1 (the steady state).
	r.w.Record(journalLog("333333333333", "us-east-1", jt0, "A"))
	r.w.Flush(ctx, ledger.FlushAll)
	// A second instance journals three more times and dies.
	dying := ledger.NewWriter(r.db, "ledger", ledger.WriterOptions{Now: func() time.Time { return jt0 },
		Journal: ledger.Journal{DB: r.journal, Table: "journal", WriterID: "dies"}})
	dying.Record(journalLog("333333333333", "eu-west-1", jt0, "B"))
	dying.Record(ledger.Arrival{Account: "444444444444", Region: "sa-east-1", Kind: ledger.ArrivalDigest, Time: jt0})
	dying.Flush(ctx, ledger.FlushDue)
	// An idle instance (the rig's writer) journals a log file and writes
	// its item only much later.
	r.w.Record(journalLog("555555555555", "eu-central-1", jt0, "K"))
	if fr := r.w.Flush(ctx, ledger.FlushDue); fr.JournalWrites != 1 || fr.Writes != 0 {
		t.Fatalf("idle instance's flush %+v", fr)
	}
	// A time journaled later, not old enough to fold at the first pass.
	r.now = jt0.Add(30 * time.Minute)
	r.w.Record(journalLog("333333333333", "ap-south-1", r.now, "C"))
	r.w.Flush(ctx, ledger.FlushDue)

	reader := r.reader()
	reader.Fold = &ledger.Folder{DB: r.db, Table: "ledger", After: ledger.FoldAfter(time.Hour)}
	scan := func(asOf time.Time) ledger.ScanStats {
		st, err := reader.Scan(ctx, asOf, 2, func(ledger.Item) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// Journaled in the 12:00 slot (up to 12:04:59): not folded before
	// the slot's end + 65 minutes.
	if st := scan(jt0.Add(69 * time.Minute)); st.Fold.Accounts != 0 {
		t.Fatalf("folded too early: %+v", st.Fold)
	}
	st := scan(jt0.Add(71 * time.Minute))
	if st.Fold.Accounts != 3 || st.Fold.Failed != 0 {
		t.Fatalf("fold %+v: want the dead instance's two accounts and the idle one's", st.Fold)
	}
	if again := scan(jt0.Add(76 * time.Minute)); again.Fold.Accounts != 0 {
		t.Fatalf("folded twice: %+v", again.Fold)
	}
	// The idle instance wakes and writes its item: the time the fold put
	// there is equal to its own, and its newest key still lands.
	r.now = jt0.Add(77 * time.Minute)
	if fr := r.w.Flush(ctx, ledger.FlushAll); len(fr.ItemErrors) != 0 {
		t.Fatalf("late item write: %+v", fr)
	}
	if it, _ := (&ledger.Reader{DB: r.db, Table: "ledger"}).Get(ctx, time.Time{}, "555555555555"); !strings.Contains(it.Regions["eu-central-1"].LastKey, "_K.json.gz") ||
		!it.Regions["eu-central-1"].LastLog.Equal(jt0) {
		t.Fatalf("555… after the late write: %+v", it.Regions)
	}
	// Past the horizon the items alone hold the dead instance's times.
	plain := &ledger.Reader{DB: r.db, Table: "ledger"}
	it, err := plain.Get(ctx, time.Time{}, "333333333333")
	if err != nil {
		t.Fatal(err)
	}
	if !it.Regions["eu-west-1"].LastLog.Equal(jt0) || !it.Regions["us-east-1"].LastLog.Equal(jt0) || !it.Regions["ap-south-1"].LastLog.Equal(jt0.Add(30*time.Minute)) {
		t.Fatalf("333… after the fold: %+v", it.Regions)
	}
	if it, _ := plain.Get(ctx, time.Time{}, "444444444444"); !it.Regions["sa-east-1"].LastDigest.Equal(jt0) {
		t.Fatalf("444… after the fold: %+v", it.Regions)
	}
}
