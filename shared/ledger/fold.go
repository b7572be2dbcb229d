package ledger

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Folder writes into the ledger items the journal times that are about to
// leave the readers' horizon while an item still lacks them.
//
// Normally the verifier instance that journaled a time writes it into the
// account's item within the item interval. An instance that dies, or sits
// idle once traffic drops, never does; readers would then see the older
// item time once the journal entry ages past the horizon — too early a
// "stale" for a Region whose only newer record was that entry (with log
// file validation off there is no hourly digest to take over). The
// watchdog, which reads the whole journal every pass anyway, hands it a
// Folder: a time journaled at least After ago (the item interval plus 5
// minutes, FoldAfter) and newer than the item's is written with the same
// monotonic conditional update the verifier uses. In steady state nothing is
// folded (the verifiers wrote it first); a fold that races a verifier's
// write loses the condition harmlessly.
type Folder struct {
	DB    WriteAPI
	Table string
	// After: how long ago a time must have been journaled to be folded
	// (FoldAfter(DefaultItemInterval) when 0).
	After time.Duration
	// Parallelism bounds concurrent writes (16 when 0). Every due account
	// is folded in the pass that finds it, oldest journal time first: a
	// deferred one could leave the horizon before the next pass. The
	// caller's deadline bounds the work; what it cuts short is Failed and
	// tried again by the next pass.
	Parallelism int
}

// FoldAfter is the age after which journal times are folded for an item
// interval: the interval plus 5 minutes, counted from the end of the slot
// that carried them (so at least that long after they were journaled). A
// slot stays readable until JournalHorizon + one slot after its start, so
// the fold has ten minutes: two 5-minute passes.
func FoldAfter(itemInterval time.Duration) time.Duration {
	if itemInterval <= 0 {
		itemInterval = DefaultItemInterval
	}
	return itemInterval + 5*time.Minute
}

// FoldStats says what a fold did.
type FoldStats struct {
	// Accounts counts items written, Failed items whose write failed (they
	// are tried again by the next pass while the journal still holds the
	// times).
	Accounts, Failed int
	WCU              float64
}

type foldJob struct {
	u      itemUpdate
	oldest int64 // the oldest journal slot among the times folded
}

// due returns the times of it's account that the overlay holds, the item
// lacks, and the journal carried in a slot that ended at least After before
// asOf.
func (f *Folder) due(ov *Overlay, it Item, asOf time.Time) (foldJob, bool) {
	after := f.After
	if after <= 0 {
		after = FoldAfter(DefaultItemInterval)
	}
	// A slot's entries were written before its end: compare the end.
	cut := asOf.Add(-after).Unix() - int64(JournalSlot/time.Second)
	job := foldJob{u: itemUpdate{account: it.AccountID}}
	for _, p := range ov.pairs(it.AccountID) {
		item := it.Regions[p.Region]
		r := regionUpdate{name: p.Region}
		if p.Log > 0 && p.LogSlot <= cut && p.Log > item.LastLog.Unix() {
			r.log = p.Log
			job.oldest = minSlot(job.oldest, p.LogSlot)
		}
		if p.Digest > 0 && p.DigestSlot <= cut && p.Digest > item.LastDigest.Unix() {
			r.digest = p.Digest
			job.oldest = minSlot(job.oldest, p.DigestSlot)
		}
		if r.log > 0 || r.digest > 0 {
			job.u.regions = append(job.u.regions, r)
		}
	}
	sort.Slice(job.u.regions, func(i, j int) bool { return job.u.regions[i].name < job.u.regions[j].name })
	return job, len(job.u.regions) > 0
}

func minSlot(a, b int64) int64 {
	if a == 0 || b < a {
		return b
	}
	return a
}

// write folds the jobs, oldest first.
func (f *Folder) write(ctx context.Context, jobs []foldJob, asOf time.Time) FoldStats {
	par := f.Parallelism
	if par <= 0 {
		par = 16
	}
	sort.Slice(jobs, func(i, j int) bool {
		if jobs[i].oldest != jobs[j].oldest {
			return jobs[i].oldest < jobs[j].oldest
		}
		return jobs[i].u.account < jobs[j].u.account
	})
	var st FoldStats
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, par)
	for _, job := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ws, err := updateAccount(ctx, f.DB, f.Table, &job.u, asOf, 4)
			mu.Lock()
			defer mu.Unlock()
			st.WCU += ws.wcu
			if err != nil {
				st.Failed++
			} else {
				st.Accounts++
			}
		}()
	}
	wg.Wait()
	return st
}
