package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/ledgertest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

var t0 = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

const acct = "333333333333"

func logArrival(region string, at time.Time, unique string) ledger.Arrival {
	return logOf(acct, region, at, unique)
}

func digestArrival(region string, at time.Time) ledger.Arrival {
	return digestOf(acct, region, at)
}

// journaled writes one flush of w and returns its entries.
func journaled(t *testing.T, j *ledgertest.Journal, w *ledger.Writer) []ledger.JournalEntry {
	t.Helper()
	before := j.Items()
	if fr := w.Flush(context.Background()); len(fr.Failed) != 0 {
		t.Fatalf("%+v", fr)
	}
	if j.Items() == before {
		return nil
	}
	return lastEntries(t, j)
}

// lastEntries decodes the journal's newest item.
func lastEntries(t *testing.T, j *ledgertest.Journal) []ledger.JournalEntry {
	t.Helper()
	b := j.Last()
	entries, err := ledger.DecodeJournal(b)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// One invocation's arrivals become one entry per pair and kind: the newest
// time, the newest key, the files counted; duplicates are dropped, files
// of days the items no longer keep are not counted.
func TestRecordBuffersOneEntryPerPair(t *testing.T) {
	j := ledgertest.NewJournal()
	c := &clock{t: t0.Add(time.Hour)}
	w := ledger.NewWriter(ledger.WriterOptions{Now: c.Now, Journal: ledger.Journal{DB: j, Table: "journal"}})
	newest := logArrival("us-east-1", t0.Add(30*time.Minute), "CCCCCCCCCCCCCCC1")
	for _, a := range []ledger.Arrival{
		logArrival("us-east-1", t0.Add(10*time.Minute), "CCCCCCCCCCCCCCC0"),
		newest,
		logArrival("us-east-1", t0.Add(-49*time.Hour), "CCCCCCCCCCCCCCC9"), // two days before yesterday: not counted
		digestArrival("us-east-1", t0.Add(20*time.Minute)),
		digestArrival("us-east-1", t0.Add(5*time.Minute)),
	} {
		if got := w.Record(a); got != ledger.RecordPending {
			t.Fatalf("%+v: %v", a, got)
		}
	}
	if got := w.Record(newest); got != ledger.RecordPending {
		t.Fatalf("a duplicate whose time waits in the buffer: %v, want pending", got)
	}
	for _, bad := range []ledger.Arrival{{Account: "1", Region: "us-east-1", Kind: ledger.ArrivalLog, Time: t0},
		{Account: acct, Region: "", Kind: ledger.ArrivalLog, Time: t0}, {Account: acct, Region: "us-east-1", Kind: 7, Time: t0},
		{Account: acct, Region: "us-east-1", Kind: ledger.ArrivalDigest}} {
		if got := w.Record(bad); got != ledger.RecordIgnored {
			t.Errorf("%+v: %v, want ignored", bad, got)
		}
	}
	got := journaled(t, j, w)
	want := []ledger.JournalEntry{
		{Account: acct, Region: "us-east-1", Kind: ledger.ArrivalLog, Time: newest.Time, Key: "20260314T1230Z_CCCCCCCCCCCCCCC1",
			Files: [2]ledger.DayCount{{Day: uint32(t0.Unix() / 86400), N: 2}}},
		{Account: acct, Region: "us-east-1", Kind: ledger.ArrivalDigest, Time: t0.Add(20 * time.Minute)},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("entries\n got %+v\nwant %+v", got, want)
	}
	// Journaled: a duplicate now changes nothing, and nothing is written.
	if got := w.Record(newest); got != ledger.RecordIgnored {
		t.Fatalf("duplicate after the journal write: %v", got)
	}
	if got := journaled(t, j, w); got != nil {
		t.Fatalf("an empty buffer wrote %+v", got)
	}
}

// A pair's key is journaled by an instance again only KeyEvery later:
// keys are most of an entry's bytes and the item keeps only the newest.
func TestKeyJournaledOncePerPeriod(t *testing.T) {
	j := ledgertest.NewJournal()
	c := &clock{t: t0}
	w := ledger.NewWriter(ledger.WriterOptions{Now: c.Now, Journal: ledger.Journal{DB: j, Table: "journal"}, KeyEvery: 15 * time.Minute})
	var keyed []int
	for m := 0; m < 60; m++ {
		c.t = t0.Add(time.Duration(m) * time.Minute)
		w.Record(logArrival("us-east-1", c.t, unique16(m)))
		if e := journaled(t, j, w); len(e) != 1 {
			t.Fatalf("minute %d: %+v", m, e)
		} else if e[0].Key != "" {
			keyed = append(keyed, m)
		}
	}
	if fmt.Sprint(keyed) != "[0 15 30 45]" {
		t.Fatalf("keys journaled at minutes %v, want [0 15 30 45]", keyed)
	}
}

// A failed journal write keeps its entries (merged with what arrives
// meanwhile) and fails the records that carried them; the redelivered
// records are duplicates but stay pending until a write carries them.
func TestJournalFailureKeepsEntries(t *testing.T) {
	j := ledgertest.NewJournal()
	c := &clock{t: t0}
	w := ledger.NewWriter(ledger.WriterOptions{Now: c.Now, Journal: ledger.Journal{DB: j, Table: "journal"}})
	j.Fail = fmt.Errorf("throttled")
	first := logArrival("us-east-1", t0, unique16(1))
	w.Record(first)
	w.Record(digestOf("444444444444", "eu-west-1", t0))
	fr := w.Flush(context.Background())
	if len(fr.Failed) != 2 || fr.JournalWrites != 0 {
		t.Fatalf("failed flush %+v", fr)
	}
	if got := w.Record(first); got != ledger.RecordPending {
		t.Fatalf("redelivered: %v, want pending", got)
	}
	w.Record(logArrival("us-east-1", t0.Add(-time.Minute), unique16(2)))
	j.Fail = nil
	got := journaled(t, j, w)
	if len(got) != 2 || got[0].Account != "333333333333" || got[0].Files[0].N != 2 || !got[0].Time.Equal(t0) || got[0].Key == "" || got[1].Kind != ledger.ArrivalDigest {
		t.Fatalf("after the retry: %+v", got)
	}
}
