// # Writing
//
// The verifier records every verified arrival with Writer.Record (memory
// only) and calls Writer.Flush at the end of each invocation. Flush first
// appends ONE journal item (journal.go) holding, for every account × Region
// and kind, the newest time recorded since the last journal write; then it
// writes the account items whose oldest pending change is ItemInterval old
// (1 hour by default), and forgets them: the instance keeps only what it
// has not written yet (state.go).
//
// One write per account carries every pending Region (update.go):
//
//	SET L#r = :t, K#r = :name, D#r = :d, UpdatedAt = :now
//	ADD C#<yyyymmdd>#r :n
//	REMOVE C#<old day>#r
//	CONDITION (attribute_not_exists(L#r) OR L#r <= :t) AND (…D#r…)
//
// Times never move backwards: when another writer is ahead, the update
// fails as a whole, DynamoDB returns the current item with the failure
// (ReturnValuesOnConditionCheckFailure), the times that lost are dropped
// and the rest is retried, so counts are never added twice.
//
// Readers raise the items' times with the journal, so:
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
// Exact duplicate log keys are dropped by a per-instance memory of recent
// keys; a duplicate delivered to another instance is counted twice (counts
// are approximate, times are exact).
package ledger

import (
	"context"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

// UpdatedAtAttribute is the time of the item's last write (epoch seconds).
const UpdatedAtAttribute = "UpdatedAt"

// countDays is how many UTC days of counts an item keeps, today included:
// older C# attributes are removed by the next write.
const countDays = 2

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

// WriterOptions tune a Writer. Journal is required; the rest take defaults.
type WriterOptions struct {
	// Journal is where every Flush first appends the newest times.
	Journal Journal
	// ItemInterval is how long an account's changes may wait in memory
	// before its item is written (DefaultItemInterval when 0).
	ItemInterval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Parallelism bounds concurrent UpdateItem calls in Flush (8 when 0).
	Parallelism int
	// MaxAttempts bounds the conditional retries of one account's write
	// (4 when 0).
	MaxAttempts int
	// MaxItemWrites bounds the account items one FlushDue writes (500 when
	// 0): an hour after a cold start or a burst, every account falls due at
	// once, and the invocation that flushes must stay well inside its
	// deadline. The rest stay pending, oldest first. FlushAll is not
	// bounded.
	MaxItemWrites int
	// DedupKeys is how many recent log file keys are remembered to drop
	// exact duplicate deliveries (16384 when 0).
	DedupKeys int
	// FullKeys stores the whole object key in K#<region>. By default K#
	// holds the file name's time stamp and unique string (the rest of the
	// name is the account's and the Region's; readers rebuild it): full
	// keys push an item past 1 KB sooner, which doubles the write units of
	// every write.
	FullKeys bool
}

// Writer keeps arrivals in memory, journals their times at every Flush and
// writes each account's item once per item interval, with monotonic
// conditional updates. Record is pure memory; Flush does the I/O. It is
// safe for concurrent use.
type Writer struct {
	db      WriteAPI
	table   string
	opt     WriterOptions
	journal *journalState

	// flushMu serializes Flush: an invocation that overran its deadline
	// may still be flushing when the SIGTERM flush starts, and a second
	// Flush must not find the journal buffer emptied by a write that has
	// not succeeded yet.
	flushMu sync.Mutex
	mu      sync.Mutex
	pending pendingSet
	dedup   keyRing
}

// NewWriter returns a Writer for table.
func NewWriter(db WriteAPI, table string, opt WriterOptions) *Writer {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.ItemInterval <= 0 {
		opt.ItemInterval = DefaultItemInterval
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
	return &Writer{db: db, table: table, opt: opt, pending: newPendingSet(),
		dedup: newKeyRing(opt.DedupKeys), journal: newJournalState(opt.Journal, opt.ItemInterval)}
}

// RecordResult says what Record did with an arrival.
type RecordResult uint8

const (
	// RecordIgnored: nothing new (a duplicate key, an older digest, an
	// invalid arrival).
	RecordIgnored RecordResult = iota
	// RecordPending: kept in memory; its time (if newer) goes into the
	// journal at the next Flush, the rest into the item within the
	// interval.
	RecordPending
)

// Record adds an arrival to the pending state. It makes no call.
func (w *Writer) Record(a Arrival) RecordResult {
	sec := a.Time.Unix()
	if !awsid.IsAccountID(a.Account) || a.Region == "" || len(a.Region) > maxJournalRegionBytes || sec <= 0 || sec > math.MaxUint32 ||
		(a.Kind != ArrivalLog && a.Kind != ArrivalDigest) {
		return RecordIgnored
	}
	num := accountNumber(a.Account)
	t := uint32(sec)
	now := w.opt.Now().Unix()
	w.mu.Lock()
	defer w.mu.Unlock()
	rid, ok := w.pending.regions.id(a.Region)
	if !ok {
		return RecordIgnored
	}
	jk := journalKey{account: num, region: rid, kind: a.Kind}
	if a.Kind == ArrivalLog && a.Key != "" && !w.dedup.add(a.Key) {
		return w.notDurableLocked(jk, t)
	}
	acct := w.pending.account(num)
	changed := false
	switch a.Kind {
	case ArrivalLog:
		if p := acct.pair(rid); t > p.log {
			p.log = t
			acct.logs(rid).key = w.keyName(a.Account, a.Region, a.Key)
			w.journal.add(jk, t)
			changed = true
		}
		if day, today := dayOf(int64(t)), dayOf(now); day+countDays > today {
			acct.logs(rid).count(day)
			changed = true
		}
	case ArrivalDigest:
		if p := acct.pair(rid); t > p.digest {
			p.digest = t
			w.journal.add(jk, t)
			changed = true
		}
	}
	if !changed {
		w.pending.dropIfEmpty(num, acct)
		return w.notDurableLocked(jk, t)
	}
	w.pending.touch(num, acct, now)
	return RecordPending
}

// keyName is what K# holds of a key: its file name without what the item
// and the attribute name already say (keyname.go), or all of it.
func (w *Writer) keyName(account, region, key string) string {
	if !w.opt.FullKeys {
		key = compactKeyName(account, region, key[strings.LastIndexByte(key, '/')+1:])
	}
	return strings.Clone(key)
}

// notDurableLocked answers for an arrival that changes nothing: ignored,
// unless its time still waits in the journal buffer (a journal write failed
// and SQS redelivered the record: its key is a duplicate now). Then it is
// pending, so that the caller keeps the record until the journal write that
// carries it succeeds.
func (w *Writer) notDurableLocked(k journalKey, t uint32) RecordResult {
	if pt, ok := w.journal.buf[k]; ok && pt >= t {
		return RecordPending
	}
	return RecordIgnored
}
