package ledger

import (
	"hash/maphash"
	"strconv"
	"time"
)

// The writer's memory holds only what it has not written yet: an account's
// state is created by its first arrival after a write and dropped once its
// item is written. At 100,000 accounts that each deliver 17 Regions'
// digests and three Regions' log files within an item interval, that is
// about 0.6 KB per account (BENCHMARKS.md): Region names are interned as
// one-byte ids, accounts are keyed by their number, times are epoch
// seconds in 32 bits.

// pendingSet is the writer's pending state; guarded by Writer.mu.
type pendingSet struct {
	regions  regionTable
	accounts map[uint64]*accountState
	// queue holds accounts in the order they became pending (wall clock),
	// so that a flush touches only what it writes. An entry whose since no
	// longer matches its account's is stale (the account was written
	// since) and skipped.
	queue []queued
	head  int
	// retry holds accounts whose item write failed: written at the next
	// Flush, whatever the interval.
	retry []queued
}

type queued struct {
	account uint64
	since   int64
}

func newPendingSet() pendingSet {
	return pendingSet{regions: regionTable{ids: map[string]uint8{}}, accounts: map[uint64]*accountState{}}
}

// account returns (creating) an account's state.
func (s *pendingSet) account(num uint64) *accountState {
	a := s.accounts[num]
	if a == nil {
		a = &accountState{}
		s.accounts[num] = a
	}
	return a
}

// touch marks a change at now: the account joins the queue when it had
// nothing pending.
func (s *pendingSet) touch(num uint64, a *accountState, now int64) {
	if a.since == 0 {
		a.since = max(now, 1)
		s.queue = append(s.queue, queued{account: num, since: a.since})
	}
}

// dropIfEmpty forgets an account that holds nothing (not in flight).
func (s *pendingSet) dropIfEmpty(num uint64, a *accountState) {
	if a.since == 0 && !a.inFlight {
		delete(s.accounts, num)
	}
}

// regionTable interns Region names as one-byte ids (at most 256 Regions,
// as in a journal item).
type regionTable struct {
	ids   map[string]uint8
	names []string
}

func (t *regionTable) id(name string) (uint8, bool) {
	if id, ok := t.ids[name]; ok {
		return id, true
	}
	if len(t.names) == maxJournalRegions {
		return 0, false
	}
	id := uint8(len(t.names))
	name = string([]byte(name))
	t.ids[name] = id
	t.names = append(t.names, name)
	return id, true
}

// accountState is one account's changes not yet written to its item.
type accountState struct {
	// since is the wall clock (epoch seconds) of the oldest change not yet
	// written; 0 when nothing is pending.
	since    int64
	inFlight bool
	pairs    []pairTimes // one per Region with a pending time
	logRegs  []logState  // one per Region with a pending key or count
}

// pairTimes are one Region's newest times not yet written to the item
// (epoch seconds; 0: none). They are also the newest this instance put in
// the journal since the last item write: an arrival not newer is not
// journaled again.
type pairTimes struct {
	region      uint8
	log, digest uint32
}

// logState is one Region's newest log file name and its counts by day.
type logState struct {
	region uint8
	key    string
	counts [countDays]dayCount
}

// dayCount counts log files of one UTC day (days since 1970; n 0: unused).
type dayCount struct {
	day, n uint32
}

func (a *accountState) pair(region uint8) *pairTimes {
	for i := range a.pairs {
		if a.pairs[i].region == region {
			return &a.pairs[i]
		}
	}
	a.pairs = append(a.pairs, pairTimes{region: region})
	return &a.pairs[len(a.pairs)-1]
}

func (a *accountState) logs(region uint8) *logState {
	for i := range a.logRegs {
		if a.logRegs[i].region == region {
			return &a.logRegs[i]
		}
	}
	a.logRegs = append(a.logRegs, logState{region: region})
	return &a.logRegs[len(a.logRegs)-1]
}

// count adds one file to day, replacing the oldest day held when day is
// newer (an older day than every one held is not counted).
func (l *logState) count(day uint32) {
	l.add(day, 1)
}

func (l *logState) add(day, n uint32) {
	slot := -1
	for i := range l.counts {
		c := &l.counts[i]
		switch {
		case c.n > 0 && c.day == day:
			c.n += n
			return
		case c.n == 0:
			if slot < 0 || l.counts[slot].n > 0 {
				slot = i
			}
		case slot < 0 || l.counts[slot].n > 0 && c.day < l.counts[slot].day:
			slot = i
		}
	}
	if c := &l.counts[slot]; c.n == 0 || c.day < day {
		*c = dayCount{day: day, n: n}
	}
}

// dayOf is the UTC day of an epoch second, in days since 1970.
func dayOf(sec int64) uint32 { return uint32(sec / 86400) }

// dayName renders a day as yyyymmdd.
func dayName(day uint32) string {
	return time.Unix(int64(day)*86400, 0).UTC().Format("20060102")
}

// accountNumber is a 12-digit account id as a number (checked by the
// caller with awsid.IsAccountID).
func accountNumber(id string) uint64 {
	n, _ := strconv.ParseUint(id, 10, 64)
	return n
}

// keyRing remembers the hashes of the last n keys.
type keyRing struct {
	seed maphash.Seed
	set  map[uint64]struct{}
	ring []uint64
	next int
}

func newKeyRing(n int) keyRing {
	return keyRing{seed: maphash.MakeSeed(), set: make(map[uint64]struct{}, n), ring: make([]uint64, 0, n)}
}

// add reports whether key is new, and remembers it.
func (r *keyRing) add(key string) bool {
	h := maphash.String(r.seed, key)
	if _, ok := r.set[h]; ok {
		return false
	}
	if len(r.ring) < cap(r.ring) {
		r.ring = append(r.ring, h)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = h
		r.next = (r.next + 1) % len(r.ring)
	}
	r.set[h] = struct{}{}
	return true
}
