// # Writing
//
// The verifier records every verified arrival with Writer.Record (memory
// only) and calls Writer.Flush at the end of each invocation. Flush appends
// ONE journal item (journal.go) holding, for every account × Region the
// invocation saw, the newest log and digest times, the log files it
// counted by day and, at most once per KeyEvery per pair, the newest log
// file's name. That is all the verifier writes: the account items are the
// watchdog's (fold.go), which folds the journal into them once per item
// interval whatever the number of verifier instances. An instance keeps
// nothing between invocations but a memory of recent keys (to drop exact
// duplicates) and of the pairs whose key it journaled lately.
//
//   - The ledger as read is never behind what an invocation processed: the
//     journal write happens before the invocation returns, and a failed
//     journal write fails the records that carried it (SQS delivers them
//     again; their times and counts stay in the buffer even though the
//     redelivered keys are duplicates).
//   - An instance that dies loses nothing that was acknowledged.
//   - Exact duplicate log keys are dropped by a per-instance memory of
//     recent keys; a duplicate delivered to another instance is counted
//     twice (counts are approximate, times are exact).
package ledger

import (
	"context"
	"hash/maphash"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

// UpdatedAtAttribute is the time of the item's last write (epoch seconds).
const UpdatedAtAttribute = "UpdatedAt"

// countDays is how many UTC days of counts an item keeps, today included.
const countDays = 2

// DefaultKeyEvery is how often a verifier instance journals one
// account × Region's newest log file name: a name is 16 bytes, twice an
// entry without it, and the item keeps only the newest (the watchdog folds
// once an interval).
const DefaultKeyEvery = 30 * time.Minute

// ArrivalKind is what arrived.
type ArrivalKind uint8

const (
	// ArrivalLog is a log file (log time, newest key and counts).
	ArrivalLog ArrivalKind = iota + 1
	// ArrivalDigest is a digest file (digest time).
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
	// Key is the object key; for log files its file name becomes the
	// Region's newest key when it is the newest, and exact duplicates are
	// not counted twice.
	Key string
}

// WriterOptions tune a Writer. Journal is required; the rest take defaults.
type WriterOptions struct {
	// Journal is where every Flush appends.
	Journal Journal
	// ItemInterval is the deployment's item interval: the journal's
	// retention follows it (DefaultItemInterval when 0).
	ItemInterval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// DedupKeys is how many recent log file keys are remembered to drop
	// exact duplicate deliveries (16384 when 0).
	DedupKeys int
	// KeyEvery is how often a pair's newest key is journaled
	// (DefaultKeyEvery when 0).
	KeyEvery time.Duration
}

// Writer keeps an invocation's arrivals in memory and journals them at
// Flush. Record is pure memory; Flush does the I/O. It is safe for
// concurrent use.
type Writer struct {
	opt     WriterOptions
	journal *journalState

	// flushMu serializes Flush: an invocation that overran its deadline
	// may still be flushing when the SIGTERM flush starts, and a second
	// Flush must not find the buffer emptied by a write that has not
	// succeeded yet.
	flushMu sync.Mutex
	mu      sync.Mutex
	regions regionTable
	buf     map[pairKey]pairBuf
	dedup   keyRing
	keyed   keyedPairs
}

type pairKey struct {
	account uint64
	region  uint8
}

// pairBuf is one pair's arrivals since the last journal write (times in
// epoch seconds; 0: none).
type pairBuf struct {
	log, digest uint32
	key         string // the newest log file's name as K# holds it
	files       [countDays]DayCount
}

// NewWriter returns a Writer.
func NewWriter(opt WriterOptions) *Writer {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.ItemInterval <= 0 {
		opt.ItemInterval = DefaultItemInterval
	}
	if opt.DedupKeys <= 0 {
		opt.DedupKeys = 16384
	}
	if opt.KeyEvery <= 0 {
		opt.KeyEvery = DefaultKeyEvery
	}
	return &Writer{opt: opt, regions: regionTable{ids: map[string]uint8{}}, buf: map[pairKey]pairBuf{},
		dedup: newKeyRing(opt.DedupKeys), journal: newJournalState(opt.Journal, opt.ItemInterval)}
}

// RecordResult says what Record did with an arrival.
type RecordResult uint8

const (
	// RecordIgnored: nothing new (a duplicate key, an invalid arrival).
	RecordIgnored RecordResult = iota
	// RecordPending: buffered; it goes into the journal at the next
	// Flush, and the record that carried it must be retried if that
	// write fails.
	RecordPending
)

// Record adds an arrival to the buffer. It makes no call.
func (w *Writer) Record(a Arrival) RecordResult {
	sec := a.Time.Unix()
	if !awsid.IsAccountID(a.Account) || a.Region == "" || len(a.Region) > maxJournalRegionBytes || sec <= 0 || sec > math.MaxUint32 ||
		(a.Kind != ArrivalLog && a.Kind != ArrivalDigest) {
		return RecordIgnored
	}
	t := uint32(sec)
	now := w.opt.Now().Unix()
	w.mu.Lock()
	defer w.mu.Unlock()
	rid, ok := w.regions.id(a.Region)
	if !ok {
		return RecordIgnored
	}
	k := pairKey{account: accountNumber(a.Account), region: rid}
	b, held := w.buf[k]
	if a.Kind == ArrivalLog && a.Key != "" && !w.dedup.add(a.Key) {
		// A redelivered record whose time still waits in the buffer (its
		// journal write failed) stays pending until a write carries it.
		if held && b.log >= t {
			return RecordPending
		}
		return RecordIgnored
	}
	switch a.Kind {
	case ArrivalLog:
		if t > b.log {
			b.log, b.key = t, keyName(a.Account, a.Region, a.Key)
		}
		if day := dayOf(int64(t)); day+countDays > dayOf(now) {
			addFiles(&b.files, day, 1)
		}
	case ArrivalDigest:
		b.digest = max(b.digest, t)
	}
	w.buf[k] = b
	return RecordPending
}

// keyName is what the journal and K# hold of a key: its file name without
// what the item and the Region already say (keyname.go); "" when longer
// than the journal allows.
func keyName(account, region, key string) string {
	if key == "" {
		return ""
	}
	name := compactKeyName(account, region, key[strings.LastIndexByte(key, '/')+1:])
	if len(name) > maxJournalKeyBytes {
		return ""
	}
	return strings.Clone(name)
}

// addFiles counts n files of day, replacing the oldest day held when day
// is newer (an older day than every one held is not counted). Days are
// kept oldest first, unused elements last.
func addFiles(files *[countDays]DayCount, day, n uint32) {
	for i := range files {
		if files[i].N > 0 && files[i].Day == day {
			files[i].N += n
			return
		}
	}
	i := 0
	for i < len(files) && files[i].N > 0 {
		i++
	}
	if i == len(files) {
		if files[0].Day > day {
			return
		}
		copy(files[:], files[1:])
		i--
	}
	files[i] = DayCount{Day: day, N: n}
	sort.Slice(files[:i+1], func(x, y int) bool { return files[x].Day < files[y].Day })
}

// FlushResult says what a Flush did.
type FlushResult struct {
	// Failed maps the accounts of a failed journal write to the error:
	// the records that carried them must be retried.
	Failed map[string]error
	// JournalWrites counts journal items written, JournalWCU their units,
	// Entries the entries they carried.
	JournalWrites int
	JournalWCU    float64
	Entries       int
}

// Flush writes the buffer as one journal item (or more, past the
// encoding's bounds). A failed write's accounts are in FlushResult.Failed
// and its entries go back to the buffer.
func (w *Writer) Flush(ctx context.Context) FlushResult {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	now := w.opt.Now()
	var res FlushResult
	w.mu.Lock()
	taken := w.buf
	w.buf = make(map[pairKey]pairBuf, min(len(taken), 1024))
	entries, keyed := w.entriesLocked(taken, now)
	w.journal.seq++
	seq := w.journal.seq
	w.mu.Unlock()
	if len(entries) == 0 {
		return res
	}
	writes, wcu, err := w.journal.put(ctx, entries, now, seq)
	res.JournalWCU, res.JournalWrites = wcu, writes
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		res.Entries = len(entries)
		for _, k := range keyed {
			w.keyed.mark(k, now.Unix())
		}
		return res
	}
	res.Failed = make(map[string]error)
	for k, b := range taken {
		w.buf[k] = mergeBuf(w.buf[k], b)
		res.Failed[accountID(k.account)] = err
	}
	return res
}

// entriesLocked renders taken pairs as journal entries, sorted by account,
// Region and kind, with the key of the pairs not keyed lately (returned,
// to be marked once the write succeeds). Called with mu held.
func (w *Writer) entriesLocked(taken map[pairKey]pairBuf, now time.Time) ([]JournalEntry, []pairKey) {
	keys := make([]pairKey, 0, len(taken))
	for k := range taken {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].account != keys[j].account {
			return keys[i].account < keys[j].account
		}
		return w.regions.names[keys[i].region] < w.regions.names[keys[j].region]
	})
	every := int64(w.opt.KeyEvery / time.Second)
	w.keyed.sweep(now.Unix(), every)
	out := make([]JournalEntry, 0, len(taken)+len(taken)/4)
	var keyed []pairKey
	for _, k := range keys {
		b := taken[k]
		account, region := accountID(k.account), w.regions.names[k.region]
		if b.log > 0 {
			e := JournalEntry{Account: account, Region: region, Kind: ArrivalLog, Time: time.Unix(int64(b.log), 0).UTC(), Files: b.files}
			if b.key != "" && w.keyed.due(k, now.Unix(), every) {
				e.Key = b.key
				keyed = append(keyed, k)
			}
			out = append(out, e)
		}
		if b.digest > 0 {
			out = append(out, JournalEntry{Account: account, Region: region, Kind: ArrivalDigest, Time: time.Unix(int64(b.digest), 0).UTC()})
		}
	}
	return out, keyed
}

// mergeBuf merges b into a (a failed write's entries back into the
// buffer).
func mergeBuf(a, b pairBuf) pairBuf {
	if b.log > a.log {
		a.log, a.key = b.log, b.key
	}
	a.digest = max(a.digest, b.digest)
	for _, c := range b.files {
		if c.N > 0 {
			addFiles(&a.files, c.Day, c.N)
		}
	}
	return a
}

// keyedPairs remembers when each pair's key was last journaled, for
// KeyEvery; older entries are swept once per period, so it holds only the
// pairs keyed in the last one or two periods. Pairs fall due at their own
// times, so keys do not come in bursts.
type keyedPairs struct {
	at    map[pairKey]uint32
	swept int64
}

func (p *keyedPairs) due(k pairKey, now, every int64) bool {
	t, ok := p.at[k]
	return !ok || now-int64(t) >= every || now < int64(t)
}

func (p *keyedPairs) mark(k pairKey, now int64) {
	if p.at == nil {
		p.at = map[pairKey]uint32{}
	}
	p.at[k] = uint32(now)
}

// sweep forgets the pairs whose key is due again.
func (p *keyedPairs) sweep(now, every int64) {
	if now-p.swept < every && now >= p.swept {
		return
	}
	for k, t := range p.at {
		if now-int64(t) >= every {
			delete(p.at, k)
		}
	}
	p.swept = now
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
	name = strings.Clone(name)
	t.ids[name] = id
	t.names = append(t.names, name)
	return id, true
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
