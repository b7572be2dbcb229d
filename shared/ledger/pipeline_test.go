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

// pipeline is the ledger as deployed, in memory: verifier instances that
// journal, the watchdog's scans that fold the journal into the items.
type pipeline struct {
	t       testing.TB
	now     time.Time
	db      *ledgertest.Table
	journal *ledgertest.Journal
	writers []*ledger.Writer
	// lastPass is the clock of the last watchdog pass.
	lastPass time.Time
	fold     ledger.FoldStats
	// files, when set, is what every pass must read: log files of
	// 2026-03-14 by account/Region, items and journal merged.
	files map[string]int
}

func newPipeline(t testing.TB, instances int, start time.Time) *pipeline {
	p := &pipeline{t: t, now: start, db: ledgertest.NewTable(), journal: ledgertest.NewJournal(), lastPass: start}
	for i := range instances {
		p.writers = append(p.writers, ledger.NewWriter(ledger.WriterOptions{Now: p.clock,
			Journal: ledger.Journal{DB: p.journal, Table: "journal", WriterID: fmt.Sprintf("i-%d", i)}}))
	}
	return p
}

func (p *pipeline) clock() time.Time { return p.now }

// flush ends an invocation of instance i.
func (p *pipeline) flush(i int) ledger.FlushResult {
	p.t.Helper()
	fr := p.writers[i].Flush(context.Background())
	if len(fr.Failed) != 0 {
		p.t.Fatalf("journal write failed: %+v", fr)
	}
	return fr
}

func (p *pipeline) reader() *ledger.Reader {
	return &ledger.Reader{DB: p.db, Table: "ledger",
		Journal: &ledger.JournalReader{DB: p.journal, Table: "journal", Horizon: ledger.JournalHorizon(time.Hour)},
		Fold:    &ledger.Folder{DB: p.db, Table: "ledger", Interval: time.Hour}}
}

// pass is one watchdog pass at the pipeline's clock.
func (p *pipeline) pass() ledger.ScanStats {
	p.t.Helper()
	var mu sync.Mutex
	st, err := p.reader().Scan(context.Background(), p.now, 2, func(it ledger.Item) error {
		mu.Lock()
		defer mu.Unlock()
		for r, rs := range it.Regions {
			if want, ok := p.files[it.AccountID+"/"+r]; ok && rs.Counts["20260314"] != int64(want) {
				p.t.Errorf("pass at %s: %s %s reads %d files, want %d", p.now.Format("15:04"), it.AccountID, r, rs.Counts["20260314"], want)
			}
		}
		return nil
	})
	if err != nil {
		p.t.Fatal(err)
	}
	p.lastPass = p.now
	p.fold.Accounts += st.Fold.Accounts
	p.fold.Conflicts += st.Fold.Conflicts
	p.fold.Failed += st.Fold.Failed
	p.fold.Partial += st.Fold.Partial
	return st
}

// advance moves the clock, running a watchdog pass every 5 minutes.
func (p *pipeline) advance(to time.Time) {
	for next := p.lastPass.Add(5 * time.Minute); !next.After(to); next = next.Add(5 * time.Minute) {
		p.now = next
		p.pass()
	}
	p.now = to
}

// item reads an account's item alone (no journal).
func (p *pipeline) item(account string) ledger.Item {
	p.t.Helper()
	it, err := (&ledger.Reader{DB: p.db, Table: "ledger"}).Get(context.Background(), time.Time{}, account)
	if err != nil {
		p.t.Fatal(err)
	}
	return it
}

func logOf(account, region string, at time.Time, unique string) ledger.Arrival {
	return ledger.Arrival{Account: account, Region: region, Kind: ledger.ArrivalLog, Time: at,
		Key: fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%s.json.gz", account, region, at.Format("2006/01/02"),
			account, region, at.Format("20060102T1504Z"), unique)}
}

func digestOf(account, region string, at time.Time) ledger.Arrival {
	return ledger.Arrival{Account: account, Region: region, Kind: ledger.ArrivalDigest, Time: at}
}

// unique16 is a 16-character unique string for file n.
func unique16(n int) string { return fmt.Sprintf("U%015d", n) }
