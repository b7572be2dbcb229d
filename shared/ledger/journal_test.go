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

	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/ledgertest"
)

var jt0 = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

func TestJournalRoundTrip(t *testing.T) {
	day := uint32(jt0.Unix() / 86400)
	entries := []ledger.JournalEntry{
		{Account: "000000000001", Region: "us-east-1", Kind: ledger.ArrivalLog, Time: jt0.Add(5 * time.Minute)},
		{Account: "000000000002", Region: "us-east-1", Kind: ledger.ArrivalLog, Time: jt0.Add(5 * time.Minute), Key: "20260314T1205Z_AbCdEfGhIjKlMnOp",
			Files: [2]ledger.DayCount{{Day: day - 1, N: 1}, {Day: day, N: 12}}},
		{Account: "000000000003", Region: "eu-west-1", Kind: ledger.ArrivalLog, Time: jt0, Key: "a name off the grammar.json.gz",
			Files: [2]ledger.DayCount{{Day: day, N: 1}}},
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
	// Compactness is the point: ~10 bytes an entry without a key, ~26
	// with one.
	many := make([]ledger.JournalEntry, 100)
	for i := range many {
		at := jt0.Add(time.Duration(i) * 17 * time.Second).Truncate(time.Minute)
		many[i] = ledger.JournalEntry{Account: fmt.Sprintf("%012d", 100000000000+i*8_765_432_109), Region: []string{"us-east-1", "eu-west-1", "ap-south-1"}[i%3],
			Kind: ledger.ArrivalKind(1 + i%2), Time: at}
		if many[i].Kind == ledger.ArrivalLog {
			many[i].Files[0] = ledger.DayCount{Day: day, N: 1}
			if i%16 == 0 {
				many[i].Key = at.Format("20060102T1504Z") + "_AbCdEfGhIjKlMnOp"
			}
		}
	}
	b, err = ledger.EncodeJournal(many)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 1024 {
		t.Errorf("100 entries take %d bytes", len(b))
	}
	t.Logf("100 entries (50 log files, 7 of them with a key): %d bytes", len(b))

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
		"digest key":     func(e *ledger.JournalEntry) { e.Kind, e.Key = ledger.ArrivalDigest, "x" },
		"digest counts":  func(e *ledger.JournalEntry) { e.Kind, e.Files[0] = ledger.ArrivalDigest, ledger.DayCount{Day: 1, N: 1} },
		"count ahead":    func(e *ledger.JournalEntry) { e.Files[0] = ledger.DayCount{Day: uint32(jt0.Unix()/86400) + 1, N: 1} },
		"count order":    func(e *ledger.JournalEntry) { e.Files = [2]ledger.DayCount{{Day: 5, N: 1}, {Day: 4, N: 1}} },
		"count gap":      func(e *ledger.JournalEntry) { e.Files[1] = ledger.DayCount{Day: 5, N: 1} },
		"empty day":      func(e *ledger.JournalEntry) { e.Files[0] = ledger.DayCount{Day: 5} },
		"long key":       func(e *ledger.JournalEntry) { e.Key = strings.Repeat("k", 257) },
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
		"version":        append([]byte{3}, good[1:]...),
		"tag 3":          {2, 0, 1, 1, 'r', 1, 1, 0, 0x03},
		"unknown extra":  {2, 0, 1, 1, 'r', 1, 1, 0, 0x02, 0x0c, 0},
		"both key forms": {2, 0, 1, 1, 'r', 1, 1, 0, 0x02, 0x07},
		"short unique":   {2, 0, 1, 1, 'r', 1, 1, 0, 0x02, 0x05, 'a'},
		"count days":     {2, 0, 1, 1, 'r', 1, 1, 0, 0x02, 0x04, 3},
		"truncated":      good[:len(good)-1],
		"trailing":       append(append([]byte{}, good...), 0),
		"region index":   {2, 0, 1, 1, 'r', 1, 1, 5, 0},
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
		{Account: "333333333333", Region: "us-east-1", Kind: ledger.ArrivalLog, Time: jt0, Key: "20260314T1200Z_AbCdEfGhIjKlMnOp",
			Files: [2]ledger.DayCount{{Day: uint32(jt0.Unix()/86400) - 1, N: 3}, {Day: uint32(jt0.Unix() / 86400), N: 1}}},
		{Account: "333333333333", Region: "eu-west-1", Kind: ledger.ArrivalLog, Time: jt0, Key: "off-grammar"},
		{Account: "444444444444", Region: "eu-west-1", Kind: ledger.ArrivalDigest, Time: jt0.Add(time.Hour)},
	})
	f.Add(good)
	f.Add([]byte{1, 0, 1, 1, 'r', 1, 1, 0, 3}) // version 1 (times only)
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

func TestJournalWriterChunksLargeFlushes(t *testing.T) {
	j := ledgertest.NewJournal()
	w := ledger.NewWriter(ledger.WriterOptions{Now: func() time.Time { return jt0 }, Journal: ledger.Journal{DB: j, Table: "journal"}})
	for a := range 21000 {
		w.Record(ledger.Arrival{Account: fmt.Sprintf("%012d", 100000000000+a), Region: "us-east-1", Kind: ledger.ArrivalDigest, Time: jt0})
	}
	fr := w.Flush(context.Background())
	if fr.JournalWrites != 2 || j.Items() != 2 || len(fr.Failed) != 0 || fr.Entries != 21000 {
		t.Fatalf("flush %+v, %d items", fr, j.Items())
	}
	if st := j.Stats(); st.MaxItemBytes > 400*1024 {
		t.Fatalf("item of %d bytes exceeds DynamoDB's 400 KB", st.MaxItemBytes)
	}
}

// The reader: items raised by the journal, accounts known only to the
// journal, the horizon, corrupt items skipped and counted.
func TestReaderMergesJournal(t *testing.T) {
	ctx := context.Background()
	p := newPipeline(t, 1, jt0)
	// 333… delivers, and its item is folded.
	p.writers[0].Record(logOf("333333333333", "us-east-1", jt0, unique16(1)))
	p.flush(0)
	p.advance(jt0.Add(2 * time.Hour))
	p.writers[0].Record(logOf("333333333333", "us-east-1", p.now, unique16(2)))
	p.writers[0].Record(digestOf("555555555555", "sa-east-1", p.now))
	p.flush(0)
	// A corrupt item in the current slot.
	if _, err := p.journal.PutItem(ctx, &dynamodb.PutItemInput{Item: map[string]ddbtypes.AttributeValue{
		ledger.JournalSlotAttribute:    &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(p.now.Truncate(ledger.JournalSlot).Unix())},
		ledger.JournalWriterAttribute:  &ddbtypes.AttributeValueMemberS{Value: "bad#1"},
		ledger.JournalEntriesAttribute: &ddbtypes.AttributeValueMemberB{Value: []byte{9, 9, 9}},
	}}); err != nil {
		t.Fatal(err)
	}
	got := map[string]ledger.Item{}
	r := p.reader()
	r.Fold = nil
	st, err := r.Scan(ctx, p.now, 2, func(it ledger.Item) error {
		got[it.AccountID] = it
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Journal.Corrupt != 1 || st.Journal.Items != 2 || st.Items != 1 {
		t.Fatalf("stats %+v", st)
	}
	// The item's count (the folded file) and the journal's since the fold.
	if rs := got["333333333333"].Regions["us-east-1"]; !rs.LastLog.Equal(p.now) || rs.Counts["20260314"] != 2 {
		t.Fatalf("item raised by the journal: %+v", rs)
	}
	if rs := got["555555555555"].Regions["sa-east-1"]; !rs.LastDigest.Equal(p.now) {
		t.Fatalf("journal-only account: %+v", got)
	}
	// Past the horizon the journal no longer counts: only the item.
	later := p.now.Add(ledger.JournalHorizon(time.Hour) + 2*ledger.JournalSlot)
	it, err := r.Get(ctx, later, "333333333333")
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
		w := ledger.NewWriter(ledger.WriterOptions{Now: func() time.Time { return writerClock },
			Journal: ledger.Journal{DB: j, Table: "journal", WriterID: name}})
		w.Record(ledger.Arrival{Account: "333333333333", Region: name, Kind: ledger.ArrivalDigest, Time: writerClock.Add(-time.Minute)})
		if fr := w.Flush(ctx); fr.JournalWrites != 1 {
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
