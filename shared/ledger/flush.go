package ledger

import (
	"context"
	"sync"
	"time"
)

// FlushMode selects what Flush writes.
type FlushMode uint8

const (
	// FlushDue writes the journal, then the items whose oldest pending
	// change is at least one item interval old (at most MaxItemWrites):
	// the end of an invocation.
	FlushDue FlushMode = iota
	// FlushAll writes the journal and every account with anything pending:
	// shutdown (SIGTERM) and one-shot runs.
	FlushAll
)

// FlushResult says what a Flush did.
type FlushResult struct {
	// Writes counts successful item UpdateItem calls; Attempts all of
	// them, including conditional failures and retries.
	Writes, Attempts int
	// Reads counts GetItem calls (only when a conditional failure returned
	// no item).
	Reads int
	// WCU is the item write capacity consumed, as DynamoDB reported it.
	WCU float64
	// Conflicts counts conditional failures (another writer was ahead).
	Conflicts int
	// Failed maps the accounts of a failed journal write to the error:
	// the records that carried them must be retried.
	Failed map[string]error
	// ItemErrors maps accounts whose item write failed to the error: their
	// times are in the journal, the rest stays pending and is retried by
	// the next Flush; no record needs a retry.
	ItemErrors map[string]error
	// JournalWrites counts journal items written, JournalWCU their units.
	JournalWrites int
	JournalWCU    float64
	// Held counts the accounts the writer still holds after the flush.
	Held int
}

// snapshot is one account's pending state taken for a write.
type snapshot struct {
	num   uint64
	since int64
	pairs []pairTimes
	logs  []logState
	u     itemUpdate
}

// Flush writes the journal, then the items FlushMode selects. A failed
// journal write's accounts are in FlushResult.Failed; a failed item's
// changes stay pending and are retried at the next Flush.
func (w *Writer) Flush(ctx context.Context, mode FlushMode) FlushResult {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	now := w.opt.Now()
	res := FlushResult{}
	w.flushJournal(ctx, now, &res)
	w.mu.Lock()
	snaps := w.takeLocked(mode, now)
	w.mu.Unlock()
	w.writeItems(ctx, snaps, now, &res)
	w.mu.Lock()
	res.Held = len(w.pending.accounts)
	w.mu.Unlock()
	return res
}

// flushJournal writes the journal buffer as one item (or more, past
// 20,000 entries). On failure the entries go back to the buffer and their
// accounts are reported in res.Failed.
func (w *Writer) flushJournal(ctx context.Context, now time.Time, res *FlushResult) {
	w.mu.Lock()
	buffered := w.journal.take()
	entries := w.journal.entries(buffered, w.pending.regions.names)
	w.journal.seq++
	seq := w.journal.seq
	w.mu.Unlock()
	if len(entries) == 0 {
		return
	}
	wcu, err := w.journal.put(ctx, entries, now, seq)
	res.JournalWCU += wcu
	if err == nil {
		res.JournalWrites += (len(entries) + maxJournalEntries - 1) / maxJournalEntries
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	res.Failed = make(map[string]error)
	for i, b := range buffered {
		w.journal.add(b.key, b.t)
		res.Failed[entries[i].Account] = err
	}
}

// takeLocked moves the accounts to write now out of the pending state:
// failed writes first, then the queue's oldest, those at least one
// interval old (every one with FlushAll). Called with mu held.
func (w *Writer) takeLocked(mode FlushMode, now time.Time) []*snapshot {
	s := &w.pending
	var snaps []*snapshot
	var later []queued // pending behind a write still under way
	take := func(q queued) {
		a := s.accounts[q.account]
		if a == nil || a.since == 0 || a.since != q.since {
			return
		}
		if a.inFlight {
			later = append(later, q)
			return
		}
		snaps = append(snaps, w.snapshotLocked(q.account, a, now))
	}
	retry := s.retry
	s.retry = nil
	for _, q := range retry {
		take(q)
	}
	cut := now.Add(-w.opt.ItemInterval).Unix()
	for s.head < len(s.queue) {
		q := s.queue[s.head]
		if mode != FlushAll && (q.since > cut || len(snaps) >= w.opt.MaxItemWrites) {
			break
		}
		take(q)
		s.head++
	}
	if s.head > 1024 && s.head*2 > len(s.queue) {
		s.queue = append(s.queue[:0], s.queue[s.head:]...)
		s.head = 0
	}
	s.queue = append(s.queue, later...)
	return snaps
}

// snapshotLocked takes an account's pending state and renders its update.
func (w *Writer) snapshotLocked(num uint64, a *accountState, now time.Time) *snapshot {
	snap := &snapshot{num: num, since: a.since, pairs: a.pairs, logs: a.logRegs}
	a.pairs, a.logRegs, a.since, a.inFlight = nil, nil, 0, true
	snap.u = buildItemUpdate(accountID(num), snap.pairs, snap.logs, w.pending.regions.names, dayOf(now.Unix())-(countDays-1))
	return snap
}

// writeItems writes the snapshots, Parallelism at a time.
func (w *Writer) writeItems(ctx context.Context, snaps []*snapshot, now time.Time, res *FlushResult) {
	var rmu sync.Mutex
	sem := make(chan struct{}, w.opt.Parallelism)
	var wg sync.WaitGroup
	for _, s := range snaps {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			st, err := updateAccount(ctx, w.db, w.table, &s.u, now, w.opt.MaxAttempts)
			w.settle(s, err)
			rmu.Lock()
			defer rmu.Unlock()
			res.Attempts += st.attempts
			res.Reads += st.reads
			res.WCU += st.wcu
			res.Conflicts += st.conflicts
			if err != nil {
				if res.ItemErrors == nil {
					res.ItemErrors = map[string]error{}
				}
				res.ItemErrors[s.u.account] = err
			} else {
				res.Writes++
			}
		}()
	}
	wg.Wait()
}

// settle folds a finished write back into the state: a written account is
// forgotten unless it changed meanwhile; a failed one's changes are merged
// back and retried at the next Flush.
func (w *Writer) settle(s *snapshot, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := &w.pending
	a := p.accounts[s.num]
	a.inFlight = false
	if err == nil {
		p.dropIfEmpty(s.num, a)
		return
	}
	for _, sp := range s.pairs {
		ap := a.pair(sp.region)
		if sp.log > ap.log {
			ap.log = sp.log
		}
		ap.digest = max(ap.digest, sp.digest)
	}
	for _, sl := range s.logs {
		al := a.logs(sl.region)
		if al.key == "" || s.newerLog(sl.region, a) {
			al.key = sl.key
		}
		for _, c := range sl.counts {
			if c.n > 0 {
				al.add(c.day, c.n)
			}
		}
	}
	if a.since == 0 || s.since < a.since {
		a.since = s.since
	}
	p.retry = append(p.retry, queued{account: s.num, since: a.since})
}

// newerLog reports whether the snapshot's log time of region is the
// account's newest (its key wins the merge).
func (s *snapshot) newerLog(region uint8, a *accountState) bool {
	for _, sp := range s.pairs {
		if sp.region == region {
			return sp.log >= a.pair(region).log
		}
	}
	return false
}
