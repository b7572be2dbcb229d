// # Writing
//
// The verifier records every verified arrival with Writer.Record (memory
// only) and calls Writer.Flush at the end of each invocation. The coalescing
// state lives in the warm Lambda instance: per account, the newest log and
// digest time per Region, the newest log key and per-day counts not yet
// written, and what this instance knows the table holds.
//
// One write per account carries every pending Region: a single UpdateItem
//
//	SET L#r = :t, K#r = :name, D#r = :d, UpdatedAt = :now
//	ADD C#<yyyymmdd>#r :n
//	REMOVE C#<old day>#r
//	CONDITION (attribute_not_exists(L#r) OR L#r <= :t) AND (…D#r…)
//
// Times never move backwards: each SET of a time is guarded by its own
// clause. When another writer (an out-of-order batch, a second instance) is
// ahead, the update fails as a whole, DynamoDB returns the current item with
// the failure (ReturnValuesOnConditionCheckFailure, no extra read), the
// times that lost are dropped and the rest is retried, so counts are never
// added twice and a newer value is never overwritten. ReturnValues ALL_NEW
// (free) tells the instance which C# days exist, so the next write removes
// days older than CountDays (today and yesterday by default). K#r holds the
// newest log file's name (the key's last segment; WriterOptions.FullKeys for
// the whole key), which keeps a busy account's item under 1 KB: one write
// unit per write instead of two.
//
// # With a journal (the deployed verifier)
//
// WriterOptions.Journal set: each Flush first appends ONE journal item
// (journal.go) holding, for every account × Region and kind, the newest time
// recorded since the last journal write and newer than anything this
// instance wrote before. Nothing is ever due: an account's item is written
// at the first Flush that ends CountWindow (the item interval, 1 hour by
// default) after its oldest pending change, and at FlushAll (SIGTERM, a
// one-shot run). Readers raise the items' times with the journal, so:
//   - the ledger as read is never behind what an invocation processed: the
//     journal write happens before the invocation returns, and a failed
//     journal write fails the records that carried it (SQS delivers them
//     again; their times stay in the buffer even though the redelivered
//     keys are duplicates);
//   - a failed item write fails no record: its changes stay pending and are
//     retried at the next Flush (FlushResult.ItemErrors);
//   - an instance that dies loses only counts and newest keys of up to one
//     interval; its times are in the journal, which readers see for longer
//     than the watchdog's heartbeat threshold, and which the watchdog folds
//     into the items before they leave its horizon (Folder, fold.go);
//   - one FlushDue writes at most MaxItemWrites items (oldest first), under
//     the deadline the processor gives it; Flush calls are serialized.
//
// Measured on the reference traffic model (BENCHMARKS.md): with two warm
// instances, about 0.035 writes per delivered object (journal and items
// together, no reads), against one write per object for the naive design.
//
// # Without a journal
//
// Each time is written promptly instead, which is what readers without a
// journal need (the unit tests of this coalescing exercise it). The account
// becomes due (written at the end of the arrival's own invocation) when the
// arrival is the first this instance sees for that account × Region and
// kind, when a log file is W (Window, default 5 minutes) or more newer than
// the Region's last known log time, or when a digest is W or more newer than
// the Region's last known delivery — a quiet Region's heartbeat. Before a
// due write the instance reads the item's L#/D# (eventually consistent,
// half a read unit): when another instance already recorded times within W,
// the write waits. Everything else rides along with the next due write or
// waits for CountWindow (30 minutes by default); a batch that was not full
// writes everything (FlushAll). Bound: the table's L# is never more than W
// older than the newest log file any instance processed, and max(L#, D#)
// never more than W older than the newest delivery. This costs about a third
// of a write per object (≈ 32 writes per account-hour on the reference
// model): the reason the journal exists.
//
// Exact duplicate log keys are dropped by a per-instance memory of recent
// keys; a duplicate delivered to another instance is counted twice (counts
// are approximate, times are exact).
package ledger

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/fault"
)

// UpdatedAtAttribute is the time of the item's last write (epoch seconds).
const UpdatedAtAttribute = "UpdatedAt"

// DefaultWindow is the default coalescing window.
const DefaultWindow = 5 * time.Minute

// ArrivalKind is what arrived.
type ArrivalKind uint8

const (
	// ArrivalLog is a log file (L#, K# and C# attributes).
	ArrivalLog ArrivalKind = iota + 1
	// ArrivalDigest is a digest file (D# attribute).
	ArrivalDigest
)

func (k ArrivalKind) String() string {
	switch k {
	case ArrivalLog:
		return "log"
	case ArrivalDigest:
		return "digest"
	}
	return "unknown"
}

// Arrival is one delivered object, already verified.
type Arrival struct {
	Account string
	Region  string
	Kind    ArrivalKind
	// Time is the object's own time: the file name timestamp (log files:
	// minute precision; digests: the digest end time, second precision).
	Time time.Time
	// Key is the object key; for log files its file name (or, with
	// WriterOptions.FullKeys, the key) becomes K#<region> when it is the
	// newest, and exact duplicates are not counted twice.
	Key string
}

// WriteAPI is the part of DynamoDB the writer calls.
type WriteAPI interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

var _ WriteAPI = (*dynamodb.Client)(nil)

// WriterOptions tune a Writer. The zero value gives the defaults.
type WriterOptions struct {
	// Window is the coalescing window (DefaultWindow when 0): the most a
	// recorded time may lag behind the newest one processed.
	Window time.Duration
	// CountWindow is how long changes that are not due (counts, the newest
	// key, times less than Window ahead of the table) may wait for a write
	// that carries them anyway (30 minutes when 0).
	CountWindow time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// CountDays is how many UTC days of counts an item keeps, today
	// included (2 when 0): older C# attributes are removed by the next write.
	CountDays int
	// Parallelism bounds concurrent UpdateItem calls in Flush (8 when 0).
	Parallelism int
	// MaxAttempts bounds the conditional retries of one account's write
	// (4 when 0).
	MaxAttempts int
	// MaxItemWrites bounds the account items one FlushDue writes for the
	// count window (500 when 0): an hour after a cold start or a burst,
	// every account falls due at once, and the invocation that flushes
	// must stay well inside its deadline. The rest stay pending, oldest
	// first, for the next invocations. FlushAll is not bounded.
	MaxItemWrites int
	// DedupKeys is how many recent log file keys are remembered to drop
	// exact duplicate deliveries (16384 when 0).
	DedupKeys int
	// Journal, when set, turns on the journal (journal.go): each Flush
	// first appends one journal item with every newer time recorded since
	// the last, and nothing is ever due — item writes wait for CountWindow
	// (DefaultItemInterval when 0 with a journal), because readers raise the
	// items' times with the journal. Only a failed journal write fails the
	// records that carried it.
	Journal *Journal
	// FullKeys stores the whole object key in K#<region>. By default K#
	// holds the key's last segment, the file name (which names account,
	// Region, time and unique id; the folders before it follow from the
	// trail's prefix): three busy Regions' full organization-trail keys
	// push an item past 1 KB, which doubles the write units of every write.
	FullKeys bool
}

// Writer coalesces arrivals in memory and writes them to the ledger table
// with monotonic conditional updates. Record is pure memory; Flush does the
// I/O. It is safe for concurrent use.
type Writer struct {
	db      WriteAPI
	table   string
	opt     WriterOptions
	journal *journalState

	// flushMu serializes Flush: an invocation that overran its deadline
	// may still be flushing when the SIGTERM flush starts, and a second
	// Flush must not find the journal buffer emptied by a write that has
	// not succeeded yet.
	flushMu  sync.Mutex
	mu       sync.Mutex
	accounts map[string]*accountState
	dedup    keyRing
	// queue holds accounts in the order they became pending (wall clock),
	// and due the accounts that became due, so that Flush touches only
	// what it writes. Stale entries (the account was written since) are
	// skipped by comparing pendingSince.
	queue []queued
	head  int
	due   []queued
}

type queued struct {
	account string
	since   time.Time
}

type accountState struct {
	regions map[string]*regionState
	// pendingSince is the wall-clock time of the oldest change not yet
	// written; zero when nothing is pending.
	pendingSince time.Time
	// due: a change must be written at the next Flush, whatever the window.
	due bool
	// countAttrs are the C# attribute names the table held after our last
	// write (learned from the write's ALL_NEW return values, which cost
	// nothing extra), so that old days can be removed.
	countAttrs map[string]struct{}
	// inFlight marks a write under way (its snapshot is not in regions).
	inFlight bool
	// retry: the last write failed; the next one is not verified first.
	retry bool
}

type regionState struct {
	// log and digest are the newest times known to be in the table (written
	// by this instance or read back from a write's return values).
	log, digest time.Time
	// pLog, pDigest, pKey are newer values not yet written.
	pLog, pDigest time.Time
	// jLog, jDigest are the newest times this instance has put in the
	// journal buffer (journal mode).
	jLog, jDigest time.Time
	pKey          string
	// counts are pending increments by UTC day (yyyymmdd).
	counts map[string]int64
}

func (r *regionState) lastKnown() time.Time {
	if r.digest.After(r.log) {
		return r.digest
	}
	return r.log
}

// NewWriter returns a Writer for table.
func NewWriter(db WriteAPI, table string, opt WriterOptions) *Writer {
	if opt.Window <= 0 {
		opt.Window = DefaultWindow
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.CountWindow <= 0 {
		opt.CountWindow = 30 * time.Minute
		if opt.Journal != nil {
			opt.CountWindow = DefaultItemInterval
		}
	}
	if opt.CountDays <= 0 {
		opt.CountDays = 2
	}
	if opt.Parallelism <= 0 {
		opt.Parallelism = 8
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 4
	}
	if opt.MaxItemWrites <= 0 {
		opt.MaxItemWrites = 500
	}
	if opt.DedupKeys <= 0 {
		opt.DedupKeys = 16384
	}
	w := &Writer{db: db, table: table, opt: opt, accounts: map[string]*accountState{},
		dedup: newKeyRing(opt.DedupKeys)}
	if opt.Journal != nil {
		w.journal = newJournalState(*opt.Journal, opt.CountWindow)
	}
	return w
}

// Journaled reports whether the writer keeps a journal.
func (w *Writer) Journaled() bool { return w.journal != nil }

// Window returns the coalescing window.
func (w *Writer) Window() time.Duration { return w.opt.Window }

// RecordResult says what Record did with an arrival.
type RecordResult uint8

const (
	// RecordIgnored: nothing new (a duplicate key, an older digest, an
	// invalid arrival).
	RecordIgnored RecordResult = iota
	// RecordPending: kept in memory, written within the window.
	RecordPending
	// RecordDue: the account will be written at the next Flush.
	RecordDue
)

// Record adds an arrival to the pending state. It makes no call.
//
// The account becomes due (written at the next Flush whatever the window)
// when the arrival is the first this Writer sees for that account × Region
// and kind, when a log file is Window or more newer than the Region's last
// known log time, or when a digest is Window or more newer than the Region's
// last known delivery of either kind (a quiet Region's hourly heartbeat).
func (w *Writer) Record(a Arrival) RecordResult {
	if !awsid.IsAccountID(a.Account) || a.Region == "" || len(a.Region) > maxJournalRegionBytes || a.Time.Unix() <= 0 ||
		(a.Kind != ArrivalLog && a.Kind != ArrivalDigest) {
		return RecordIgnored
	}
	t := a.Time.UTC().Truncate(time.Second)
	now := w.opt.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if a.Kind == ArrivalLog && a.Key != "" && !w.dedup.add(a.Key) {
		return w.notDurableLocked(a, t)
	}
	acct := w.accounts[a.Account]
	if acct == nil {
		acct = &accountState{regions: map[string]*regionState{}}
		w.accounts[strings.Clone(a.Account)] = acct
	}
	reg := acct.regions[a.Region]
	if reg == nil {
		reg = &regionState{}
		acct.regions[strings.Clone(a.Region)] = reg
	}
	changed, due := false, false
	switch a.Kind {
	case ArrivalLog:
		if t.After(reg.log) && t.After(reg.pLog) {
			reg.pLog = t
			if w.opt.FullKeys {
				reg.pKey = strings.Clone(a.Key)
			} else {
				reg.pKey = strings.Clone(a.Key[strings.LastIndexByte(a.Key, '/')+1:])
			}
			changed = true
			due = reg.log.IsZero() || t.Sub(reg.log) >= w.opt.Window
		}
		day := t.Format("20060102")
		if day >= w.cutoffDay(now) {
			if reg.counts == nil {
				reg.counts = make(map[string]int64, 2)
			}
			reg.counts[day]++
			changed = true
		}
	case ArrivalDigest:
		if t.After(reg.digest) && t.After(reg.pDigest) {
			reg.pDigest = t
			changed = true
			due = reg.digest.IsZero() || t.Sub(reg.lastKnown()) >= w.opt.Window
		}
	}
	if w.journal != nil {
		// The journal carries every newer time at the next Flush; the
		// item waits for CountWindow.
		due = false
		if a.Kind == ArrivalLog && t.After(reg.jLog) && t.After(reg.log) {
			reg.jLog = t
			w.journal.add(journalKey{account: a.Account, region: a.Region, kind: ArrivalLog}, t)
			changed = true
		}
		if a.Kind == ArrivalDigest && t.After(reg.jDigest) && t.After(reg.digest) {
			reg.jDigest = t
			w.journal.add(journalKey{account: a.Account, region: a.Region, kind: ArrivalDigest}, t)
			changed = true
		}
	}
	if !changed {
		return w.notDurableLocked(a, t)
	}
	if acct.pendingSince.IsZero() {
		acct.pendingSince = now
		w.queue = append(w.queue, queued{account: a.Account, since: now})
	}
	if due {
		if !acct.due {
			acct.due = true
			w.due = append(w.due, queued{account: a.Account, since: acct.pendingSince})
		}
		return RecordDue
	}
	return RecordPending
}

// notDurableLocked answers for an arrival that changes nothing: ignored,
// unless its time still waits in the journal buffer (a journal write failed
// and SQS redelivered the record: its key is a duplicate now). Then it is
// pending, so that the caller keeps the record until the journal write that
// carries it succeeds.
func (w *Writer) notDurableLocked(a Arrival, t time.Time) RecordResult {
	if w.journal != nil {
		if pt, ok := w.journal.buf[journalKey{account: a.Account, region: a.Region, kind: a.Kind}]; ok && !pt.Before(t) {
			return RecordPending
		}
	}
	return RecordIgnored
}

// takeLocked returns the accounts to write now; called with mu held.
func (w *Writer) takeLocked(mode FlushMode, now time.Time) []string {
	var ids []string
	var later []queued // pending behind a write still under way
	seen := map[string]bool{}
	take := func(q queued) {
		acct := w.accounts[q.account]
		if acct == nil || acct.pendingSince.IsZero() || !acct.pendingSince.Equal(q.since) || seen[q.account] {
			return
		}
		if acct.inFlight {
			later = append(later, q)
			return
		}
		seen[q.account] = true
		ids = append(ids, q.account)
	}
	for _, q := range w.due {
		take(q)
	}
	w.due = w.due[:0]
	for w.head < len(w.queue) {
		q := w.queue[w.head]
		if mode != FlushAll && (now.Sub(q.since) < w.opt.CountWindow || len(ids) >= w.opt.MaxItemWrites) {
			break
		}
		take(q)
		w.head++
	}
	if w.head > 1024 && w.head*2 > len(w.queue) {
		w.queue = append(w.queue[:0], w.queue[w.head:]...)
		w.head = 0
	}
	w.queue = append(w.queue, later...)
	return ids
}

// cutoffDay is the oldest UTC day (yyyymmdd) whose counts are kept.
func (w *Writer) cutoffDay(now time.Time) string {
	return now.UTC().AddDate(0, 0, -(w.opt.CountDays - 1)).Format("20060102")
}

// FlushMode selects what Flush writes.
type FlushMode uint8

const (
	// FlushDue writes accounts that are due or whose oldest pending change
	// is at least one window old: the end of an invocation.
	FlushDue FlushMode = iota
	// FlushAll writes every account with anything pending: the end of an
	// invocation whose batch was not full (the queue is drained and the
	// instance may sit idle), and shutdown.
	FlushAll
)

// FlushResult says what a Flush did.
type FlushResult struct {
	// Writes counts successful UpdateItem calls; Attempts all of them,
	// including conditional failures and retries.
	Writes, Attempts int
	// Reads counts GetItem calls (only when a conditional failure returned
	// no item).
	Reads int
	// WCU is the write capacity consumed, as DynamoDB reported it.
	WCU float64
	// Conflicts counts conditional failures (another writer was ahead).
	Conflicts int
	// Skipped counts due accounts not written because the read before the
	// write showed another instance had already recorded times within the
	// window; their changes wait for the count window.
	Skipped int
	// Failed maps accounts whose write failed to the error; their changes
	// stay pending and are written by a later Flush. The records that
	// carried them must be retried: with a journal, these are the accounts
	// of a failed journal write.
	Failed map[string]error
	// ItemErrors (journal mode) maps accounts whose item write failed to
	// the error: their times are in the journal, the rest stays pending
	// and is retried by the next Flush; no record needs a retry.
	ItemErrors map[string]error
	// JournalWrites counts journal items written, JournalWCU their units.
	JournalWrites int
	JournalWCU    float64
	// Pending counts accounts still holding changes after the flush.
	Pending int
}

type snapshot struct {
	account string
	regions map[string]regionState
	remove  []string
	since   time.Time
	due     bool
	verify  bool // read the table first: another instance may have written
}

// Flush writes pending changes (see FlushMode). A failed account's changes
// stay pending (and due); its error is in FlushResult.Failed.
func (w *Writer) Flush(ctx context.Context, mode FlushMode) FlushResult {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	now := w.opt.Now()
	res := FlushResult{}
	if w.journal != nil {
		w.flushJournal(ctx, now, &res)
	}
	var snaps []snapshot
	w.mu.Lock()
	cutoff := w.cutoffDay(now)
	for _, id := range w.takeLocked(mode, now) {
		acct := w.accounts[id]
		s := snapshot{account: id, regions: map[string]regionState{}, since: acct.pendingSince, due: acct.due,
			verify: acct.due && !acct.retry && mode != FlushAll && now.Sub(acct.pendingSince) < w.opt.CountWindow}
		for name, reg := range acct.regions {
			if reg.pLog.IsZero() && reg.pDigest.IsZero() && len(reg.counts) == 0 {
				continue
			}
			s.regions[name] = regionState{log: reg.log, digest: reg.digest, pLog: reg.pLog, pDigest: reg.pDigest, pKey: reg.pKey, counts: reg.counts}
			reg.pLog, reg.pDigest, reg.pKey, reg.counts = time.Time{}, time.Time{}, "", nil
		}
		s.remove = removals(acct, s.regions, cutoff, now)
		acct.pendingSince, acct.due, acct.inFlight, acct.retry = time.Time{}, false, true, false
		snaps = append(snaps, s)
	}
	w.mu.Unlock()
	// Oldest pending first: when the deadline cuts a flush short (the
	// SIGTERM flush has ~400 ms), what has waited longest is written.
	sort.Slice(snaps, func(i, j int) bool {
		if !snaps[i].since.Equal(snaps[j].since) {
			return snaps[i].since.Before(snaps[j].since)
		}
		return snaps[i].account < snaps[j].account
	})

	var rmu sync.Mutex
	sem := make(chan struct{}, w.opt.Parallelism)
	var wg sync.WaitGroup
	for i := range snaps {
		s := &snaps[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if s.verify {
				skip, reads, err := w.verify(ctx, s, now)
				if err == nil && skip {
					rmu.Lock()
					res.Reads += reads
					res.Skipped++
					rmu.Unlock()
					return
				}
				rmu.Lock()
				res.Reads += reads
				rmu.Unlock()
			}
			st, item, err := w.write(ctx, s, now)
			w.settle(s, item, err)
			rmu.Lock()
			defer rmu.Unlock()
			res.Attempts += st.attempts
			res.Reads += st.reads
			res.WCU += st.wcu
			res.Conflicts += st.conflicts
			if err != nil {
				failed := &res.Failed
				if w.journal != nil {
					failed = &res.ItemErrors
				}
				if *failed == nil {
					*failed = map[string]error{}
				}
				(*failed)[s.account] = err
			} else {
				res.Writes++
			}
		}()
	}
	wg.Wait()
	w.mu.Lock()
	res.Pending = w.pendingLocked()
	w.mu.Unlock()
	return res
}

// flushJournal writes the journal buffer as one item (or more, past
// 20,000 entries). On failure the entries go back to the buffer and their
// accounts are reported in res.Failed.
func (w *Writer) flushJournal(ctx context.Context, now time.Time, res *FlushResult) {
	w.mu.Lock()
	entries := w.journal.take()
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
	if res.Failed == nil {
		res.Failed = map[string]error{}
	}
	for _, e := range entries {
		w.journal.add(journalKey{account: e.Account, region: e.Region, kind: e.Kind}, e.Time)
		res.Failed[e.Account] = err
	}
}

// verify reads the table's times for a due snapshot (an eventually
// consistent GetItem of the L# and D# attributes concerned: half a read
// unit, a tenth of a write's price) and reports whether the write can wait:
// nothing in it is due against the table any more. A skipped snapshot goes
// back to the pending state, with the table's times learned.
func (w *Writer) verify(ctx context.Context, s *snapshot, now time.Time) (skip bool, reads int, err error) {
	names := map[string]string{}
	var proj []string
	for region, r := range s.regions {
		if !r.pLog.IsZero() {
			p := "#p" + strconv.Itoa(len(names))
			names[p] = PrefixLog + region
			proj = append(proj, p)
		}
		if !r.pLog.IsZero() || !r.pDigest.IsZero() {
			p := "#p" + strconv.Itoa(len(names))
			names[p] = PrefixDigest + region
			proj = append(proj, p)
			p = "#p" + strconv.Itoa(len(names))
			names[p] = PrefixLog + region
			proj = append(proj, p)
		}
	}
	if len(proj) == 0 {
		return false, 0, nil
	}
	sort.Strings(proj)
	out, err := w.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(w.table), ConsistentRead: aws.Bool(false),
		Key:                      map[string]ddbtypes.AttributeValue{KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: s.account}},
		ProjectionExpression:     aws.String(strings.Join(dedupe(proj), ", ")),
		ExpressionAttributeNames: names})
	if err != nil {
		return false, 1, err
	}
	table := func(attr string) time.Time {
		if v, ok := out.Item[attr]; ok {
			if t, err := epoch(v); err == nil {
				return t
			}
		}
		return time.Time{}
	}
	for region, r := range s.regions {
		tl, td := table(PrefixLog+region), table(PrefixDigest+region)
		if r.pLog.After(tl) && (tl.IsZero() || r.pLog.Sub(tl) >= w.opt.Window) {
			return false, 1, nil
		}
		last := tl
		if td.After(last) {
			last = td
		}
		if r.pDigest.After(td) && (td.IsZero() || r.pDigest.Sub(last) >= w.opt.Window) {
			return false, 1, nil
		}
	}
	w.requeue(s, out.Item)
	return true, 1, nil
}

func dedupe(ss []string) []string {
	out := ss[:0]
	for i, v := range ss {
		if i == 0 || v != ss[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// requeue puts a snapshot that was not written back into the pending
// state (not due), learning the table's times from item.
func (w *Writer) requeue(s *snapshot, item map[string]ddbtypes.AttributeValue) {
	w.mu.Lock()
	defer w.mu.Unlock()
	acct := w.accounts[s.account]
	acct.inFlight = false
	learnTimes(acct, item)
	w.mergeLocked(acct, s)
	if acct.pendingSince.IsZero() || s.since.Before(acct.pendingSince) {
		acct.pendingSince = s.since
	}
	w.queue = append(w.queue, queued{account: s.account, since: acct.pendingSince})
}

// mergeLocked folds a snapshot's changes back into the pending state:
// newer values win, counts add up.
func (w *Writer) mergeLocked(acct *accountState, s *snapshot) {
	for name, snap := range s.regions {
		reg := acct.regions[name]
		if snap.pLog.After(reg.pLog) && snap.pLog.After(reg.log) {
			reg.pLog, reg.pKey = snap.pLog, snap.pKey
		}
		if snap.pDigest.After(reg.pDigest) && snap.pDigest.After(reg.digest) {
			reg.pDigest = snap.pDigest
		}
		for d, n := range snap.counts {
			if reg.counts == nil {
				reg.counts = map[string]int64{}
			}
			reg.counts[d] += n
		}
	}
}

// pendingLocked counts accounts with pending changes (queued entries that
// are still current).
func (w *Writer) pendingLocked() int {
	seen := map[string]bool{}
	for _, q := range w.queue[w.head:] {
		if acct := w.accounts[q.account]; acct != nil && acct.pendingSince.Equal(q.since) && !acct.pendingSince.IsZero() {
			seen[q.account] = true
		}
	}
	return len(seen)
}

// removals lists count attributes to remove: days before cutoff known to be
// in the item, or, before anything is known, the two days just before
// cutoff in the Regions being written (removing a missing attribute is a
// no-op).
func removals(acct *accountState, regions map[string]regionState, cutoff string, now time.Time) []string {
	var out []string
	if acct.countAttrs != nil {
		for name := range acct.countAttrs {
			if day, _, ok := splitCount(name); ok && day < cutoff {
				out = append(out, name)
			}
		}
	} else {
		c, _ := time.Parse("20060102", cutoff)
		for region, r := range regions {
			if len(r.counts) == 0 {
				continue
			}
			for d := 1; d <= 2; d++ {
				out = append(out, PrefixCount+c.AddDate(0, 0, -d).Format("20060102")+"#"+region)
			}
		}
	}
	sort.Strings(out)
	return out
}

func splitCount(name string) (day, region string, ok bool) {
	if !strings.HasPrefix(name, PrefixCount) {
		return "", "", false
	}
	day, region, ok = strings.Cut(name[len(PrefixCount):], "#")
	return day, region, ok && len(day) == 8
}

// settle folds a finished write back into the state.
func (w *Writer) settle(s *snapshot, item map[string]ddbtypes.AttributeValue, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	acct := w.accounts[s.account]
	acct.inFlight = false
	if err != nil {
		w.mergeLocked(acct, s)
		acct.retry = true
		// Retried at the next Flush, whatever the window: a fresh queue
		// entry and a due entry for the merged state.
		if acct.pendingSince.IsZero() || s.since.Before(acct.pendingSince) {
			acct.pendingSince = s.since
		}
		w.queue = append(w.queue, queued{account: s.account, since: acct.pendingSince})
		acct.due = true
		w.due = append(w.due, queued{account: s.account, since: acct.pendingSince})
		return
	}
	for name, snap := range s.regions {
		reg := acct.regions[name]
		if snap.pLog.After(reg.log) {
			reg.log = snap.pLog
		}
		if snap.pDigest.After(reg.digest) {
			reg.digest = snap.pDigest
		}
	}
	if item != nil {
		learn(acct, item)
	}
}

// learn updates the known table state from a whole item.
func learn(acct *accountState, item map[string]ddbtypes.AttributeValue) {
	acct.countAttrs = map[string]struct{}{}
	for name := range item {
		if strings.HasPrefix(name, PrefixCount) {
			acct.countAttrs[name] = struct{}{}
		}
	}
	learnTimes(acct, item)
}

// learnTimes raises the known L# and D# times to an item's.
func learnTimes(acct *accountState, item map[string]ddbtypes.AttributeValue) {
	for name, v := range item {
		switch {
		case strings.HasPrefix(name, PrefixLog), strings.HasPrefix(name, PrefixDigest):
			t, err := epoch(v)
			if err != nil {
				continue
			}
			region := name[len(PrefixLog):]
			reg := acct.regions[region]
			if reg == nil {
				reg = &regionState{}
				acct.regions[region] = reg
			}
			if name[0] == 'L' && t.After(reg.log) {
				reg.log = t
			} else if name[0] == 'D' && t.After(reg.digest) {
				reg.digest = t
			}
		}
	}
}

type writeStats struct {
	attempts, reads, conflicts int
	wcu                        float64
}

// write performs one account's update, retrying conditional failures with
// the attributes that lost removed.
func (w *Writer) write(ctx context.Context, s *snapshot, now time.Time) (writeStats, map[string]ddbtypes.AttributeValue, error) {
	return updateAccount(ctx, w.db, w.table, s.account, s.regions, s.remove, now, w.opt.MaxAttempts)
}

// updateAccount writes one account's pending times and counts as a
// monotonic conditional update, retrying conditional failures with the
// times that lost removed.
func updateAccount(ctx context.Context, db WriteAPI, table, account string, regions map[string]regionState, remove []string,
	now time.Time, maxAttempts int) (writeStats, map[string]ddbtypes.AttributeValue, error) {
	var st writeStats
	for attempt := 0; attempt < maxAttempts; attempt++ {
		in := buildUpdate(table, account, regions, remove, now)
		if in == nil {
			return st, nil, nil
		}
		st.attempts++
		out, err := db.UpdateItem(ctx, in)
		if err == nil {
			if out.ConsumedCapacity != nil {
				st.wcu += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
			}
			return st, out.Attributes, nil
		}
		var ccf *ddbtypes.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return st, nil, fmt.Errorf("ledger: update %s: %w", account, err)
		}
		st.conflicts++
		st.wcu++ // a failed conditional write consumes at least one unit
		current := ccf.Item
		if current == nil {
			st.reads++
			got, gerr := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
				Key: map[string]ddbtypes.AttributeValue{KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: account}}})
			if gerr != nil {
				return st, nil, fmt.Errorf("ledger: read %s after a conditional failure: %w", account, gerr)
			}
			current = got.Item
		}
		regions = dropStale(regions, current)
	}
	return st, nil, fault.Retryablef("LedgerConflict", "ledger: update %s: still conflicting after %d attempts", account, maxAttempts)
}

// dropStale removes pending times older than the item's (an equal one is
// kept: it carries the newest key, and "<=" lets it through).
func dropStale(regions map[string]regionState, item map[string]ddbtypes.AttributeValue) map[string]regionState {
	out := make(map[string]regionState, len(regions))
	for name, r := range regions {
		if v, ok := item[PrefixLog+name]; ok {
			if t, err := epoch(v); err == nil && r.pLog.Before(t) {
				r.pLog, r.pKey = time.Time{}, ""
			}
		}
		if v, ok := item[PrefixDigest+name]; ok {
			if t, err := epoch(v); err == nil && r.pDigest.Before(t) {
				r.pDigest = time.Time{}
			}
		}
		out[name] = r
	}
	return out
}

// buildUpdate renders one account's update: monotonic SETs under a
// condition, count ADDs and REMOVEs of old days; nil when there is nothing
// to write.
func buildUpdate(table, account string, regions map[string]regionState, remove []string, now time.Time) *dynamodb.UpdateItemInput {
	names := map[string]string{}
	values := map[string]ddbtypes.AttributeValue{}
	var set, add, rem, cond []string
	n := 0
	name := func(attr string) string {
		p := "#a" + strconv.Itoa(n)
		n++
		names[p] = attr
		return p
	}
	val := func(v ddbtypes.AttributeValue) string {
		p := ":v" + strconv.Itoa(len(values))
		values[p] = v
		return p
	}
	removing := make(map[string]bool, len(remove))
	for _, a := range remove {
		removing[a] = true
	}
	keys := make([]string, 0, len(regions))
	for r := range regions {
		keys = append(keys, r)
	}
	sort.Strings(keys)
	work := false
	for _, region := range keys {
		r := regions[region]
		if !r.pLog.IsZero() {
			nm, v := name(PrefixLog+region), val(num(r.pLog.Unix()))
			set = append(set, nm+" = "+v)
			// "<=": an equal time (a fold by the watchdog, another
			// instance's file of the same minute) still brings its key.
			cond = append(cond, "(attribute_not_exists("+nm+") OR "+nm+" <= "+v+")")
			if r.pKey != "" {
				set = append(set, name(PrefixKey+region)+" = "+val(&ddbtypes.AttributeValueMemberS{Value: r.pKey}))
			}
			work = true
		}
		if !r.pDigest.IsZero() {
			nm, v := name(PrefixDigest+region), val(num(r.pDigest.Unix()))
			set = append(set, nm+" = "+v)
			cond = append(cond, "(attribute_not_exists("+nm+") OR "+nm+" <= "+v+")")
			work = true
		}
		days := make([]string, 0, len(r.counts))
		for d := range r.counts {
			days = append(days, d)
		}
		sort.Strings(days)
		for _, d := range days {
			attr := PrefixCount + d + "#" + region
			if removing[attr] {
				// The day expired between Record and this flush (midnight
				// passed): its count is dropped with the attribute. ADD and
				// REMOVE of one path in one update is a ValidationException
				// that would wedge the account's every later flush.
				continue
			}
			add = append(add, name(attr)+" "+val(num(r.counts[d])))
			work = true
		}
	}
	if !work {
		return nil
	}
	set = append(set, name(UpdatedAtAttribute)+" = "+val(num(now.Unix())))
	for _, a := range remove {
		rem = append(rem, name(a))
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(add) > 0 {
		expr += " ADD " + strings.Join(add, ", ")
	}
	if len(rem) > 0 {
		expr += " REMOVE " + strings.Join(rem, ", ")
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                           aws.String(table),
		Key:                                 map[string]ddbtypes.AttributeValue{KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: account}},
		UpdateExpression:                    aws.String(expr),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValues:                        ddbtypes.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              ddbtypes.ReturnConsumedCapacityTotal,
	}
	if len(cond) > 0 {
		in.ConditionExpression = aws.String(strings.Join(cond, " AND "))
	}
	return in
}

func num(n int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
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
