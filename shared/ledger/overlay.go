package ledger

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

// overlayShards splits an Overlay so that journal slots decode into it in
// parallel.
const overlayShards = 64

// Overlay is what the journal adds to the items: per account, the newest
// log and digest times of each Region it holds. Compact on purpose: at
// 100,000 accounts × 17 Regions it is 1.7 million pairs in the watchdog's
// memory, so accounts are keyed by their number, Region names are interned
// and times are 32-bit epoch seconds (about 20 bytes a pair). Every journal
// item decodes once into the one overlay of a read. A nil *Overlay is
// empty. Safe for concurrent use.
type Overlay struct {
	shards [overlayShards]overlayShard
	regMu  sync.Mutex
	names  []string
	ids    map[string]uint16
	// plan places each log file count relative to its account's fold cut
	// (fold.go); with fold set, the keys of the accounts whose cut is
	// readable are kept for their fold.
	plan *foldPlan
	fold bool
}

type overlayShard struct {
	mu sync.Mutex
	m  map[uint64][]pairSlot
	// logs holds log file counts by pair (account << 16 | Region id), by
	// bucket (fold.go) and by day (yesterday and today of the read: the
	// days an item keeps); keys the newest name of the pairs a fold may
	// write.
	logs map[uint64]logCounts
	keys map[uint64]keyRef
}

type logCounts [buckets][countDays]uint32

type keyRef struct {
	t   uint32 // the log time the name came with
	key string
}

func pairID(account uint64, region uint16) uint64 { return account<<16 | uint64(region) }

// pairSlot is one Region's newest journaled times and the journal slots
// (epoch seconds of their start) that carried them; 0 when none.
type pairSlot struct {
	region                           uint16
	log, digest, logSlot, digestSlot uint32
}

// PairTimes is one Region's newest journaled times (epoch seconds; 0 when
// none) and the journal slots that carried them (epoch seconds).
type PairTimes struct {
	Region              string
	Log, Digest         int64
	LogSlot, DigestSlot int64
}

func newOverlay() *Overlay {
	o := &Overlay{ids: map[string]uint16{}}
	for i := range o.shards {
		o.shards[i].m = map[uint64][]pairSlot{}
		o.shards[i].logs = map[uint64]logCounts{}
		o.shards[i].keys = map[uint64]keyRef{}
	}
	return o
}

// addLogs keeps a log entry's counts, in its bucket (fold.go), and its key
// when keep.
func (o *Overlay) addLogs(e *rawEntry, region uint16, bucket int, keep bool) {
	first := int64(dayOf(o.plan.asOf.Unix())) - (countDays - 1)
	id := pairID(e.account, region)
	sh := o.shard(e.account)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if keep && len(e.key) > 0 {
		if k := sh.keys[id]; uint32(e.t) >= k.t {
			sh.keys[id] = keyRef{t: uint32(e.t), key: e.keyName()}
		}
	}
	c, counted := sh.logs[id], false
	for _, f := range e.files {
		if i := int64(f.Day) - first; f.N > 0 && i >= 0 && i < countDays {
			c[bucket][i] += f.N
			counted = true
		}
	}
	if counted {
		sh.logs[id] = c
	}
}

// logPair is one Region's journaled log files and newest key of an
// account.
type logPair struct {
	region uint16
	name   string
	keyT   uint32
	key    string
	files  [buckets][countDays]DayCount
}

// logPairs returns an account's journaled log files and keys.
func (o *Overlay) logPairs(account uint64) []logPair {
	if o == nil {
		return nil
	}
	first := dayOf(o.plan.asOf.Unix()) - (countDays - 1)
	sh := o.shard(account)
	sh.mu.Lock()
	var out []logPair
	for _, p := range sh.m[account] {
		id := pairID(account, p.region)
		c, ok := sh.logs[id]
		k, keyed := sh.keys[id]
		if !ok && !keyed {
			continue
		}
		l := logPair{region: p.region, keyT: k.t, key: k.key}
		for b := range c {
			n := 0
			for i, files := range c[b] {
				if files > 0 {
					l.files[b][n] = DayCount{Day: first + uint32(i), N: files}
					n++
				}
			}
		}
		out = append(out, l)
	}
	sh.mu.Unlock()
	o.regMu.Lock()
	defer o.regMu.Unlock()
	for i := range out {
		out[i].name = o.names[out[i].region]
	}
	return out
}

// regionIDs interns an item's Region names.
func (o *Overlay) regionIDs(names []string, into []uint16) []uint16 {
	into = into[:0]
	o.regMu.Lock()
	defer o.regMu.Unlock()
	for _, n := range names {
		id, ok := o.ids[n]
		if !ok {
			id = uint16(len(o.names))
			o.ids[n] = id
			o.names = append(o.names, n)
		}
		into = append(into, id)
	}
	return into
}

func (o *Overlay) shard(account uint64) *overlayShard {
	return &o.shards[account%overlayShards]
}

// add raises one pair's time, written in the journal slot slot.
func (o *Overlay) add(account uint64, region uint16, kind ArrivalKind, t, slot uint32) {
	sh := o.shard(account)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	pairs := sh.m[account]
	i := 0
	for i < len(pairs) && pairs[i].region != region {
		i++
	}
	if i == len(pairs) {
		pairs = append(pairs, pairSlot{region: region})
		sh.m[account] = pairs
	}
	p := &pairs[i]
	switch {
	case kind == ArrivalLog && (t > p.log || t == p.log && slot > p.logSlot):
		p.log, p.logSlot = t, slot
	case kind == ArrivalDigest && (t > p.digest || t == p.digest && slot > p.digestSlot):
		p.digest, p.digestSlot = t, slot
	}
}

// pairs returns an account's journaled pairs.
func (o *Overlay) pairs(account string) []PairTimes {
	if o == nil || !awsid.IsAccountID(account) {
		return nil
	}
	n := accountNumber(account)
	sh := o.shard(n)
	sh.mu.Lock()
	slots := sh.m[n]
	sh.mu.Unlock()
	if len(slots) == 0 {
		return nil
	}
	o.regMu.Lock()
	defer o.regMu.Unlock()
	out := make([]PairTimes, len(slots))
	for i, p := range slots {
		out[i] = PairTimes{Region: o.names[p.region], Log: int64(p.log), Digest: int64(p.digest),
			LogSlot: int64(p.logSlot), DigestSlot: int64(p.digestSlot)}
	}
	return out
}

// Len is the number of accounts with journaled times.
func (o *Overlay) Len() int {
	if o == nil {
		return 0
	}
	n := 0
	for i := range o.shards {
		sh := &o.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// accounts returns the overlay's accounts not in seen, sorted.
func (o *Overlay) accounts(seen func(uint64) bool) []string {
	if o == nil {
		return nil
	}
	var nums []uint64
	for i := range o.shards {
		sh := &o.shards[i]
		sh.mu.Lock()
		for n := range sh.m {
			if !seen(n) {
				nums = append(nums, n)
			}
		}
		sh.mu.Unlock()
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	out := make([]string, len(nums))
	for i, n := range nums {
		out[i] = accountID(n)
	}
	return out
}

// Apply raises an item's times to the overlay's for its account, adds the
// log files journaled since the item's last fold, and reports whether the
// overlay holds the account. The item is taken as never folded: Reader
// applies what it read of the item's fold instead.
func (o *Overlay) Apply(it *Item) bool { return o.apply(it, itemMeta{}) }

func (o *Overlay) apply(it *Item, meta itemMeta) bool {
	pairs := o.pairs(it.AccountID)
	for _, p := range pairs {
		if it.Regions == nil {
			it.Regions = map[string]RegionState{}
		}
		rs := it.Regions[p.Region]
		if t := time.Unix(p.Log, 0).UTC(); p.Log > 0 && t.After(rs.LastLog) {
			rs.LastLog = t
		}
		if t := time.Unix(p.Digest, 0).UTC(); p.Digest > 0 && t.After(rs.LastDigest) {
			rs.LastDigest = t
		}
		it.Regions[p.Region] = rs
	}
	if len(pairs) == 0 || o.plan == nil {
		return len(pairs) > 0
	}
	use, _ := o.plan.since(accountNumber(it.AccountID), meta)
	for _, l := range o.logPairs(accountNumber(it.AccountID)) {
		rs := it.Regions[l.name]
		rs.Counts = addBuckets(rs.Counts, l.files, use)
		it.Regions[l.name] = rs
	}
	return true
}

// addBuckets adds the selected buckets' counts to counts (a copy).
func addBuckets(counts map[string]int64, files [buckets][countDays]DayCount, use [buckets]bool) map[string]int64 {
	out := maps.Clone(counts)
	for b, ok := range use {
		for _, c := range files[b] {
			if ok && c.N > 0 {
				if out == nil {
					out = map[string]int64{}
				}
				out[dayName(c.Day)] += int64(c.N)
			}
		}
	}
	return out
}

// decoder decodes journal items into an overlay, reusing its buffers.
type decoder struct {
	o       *Overlay
	entries []rawEntry
	names   []string
	ids     []uint16
}

// item adds an encoded journal's entries, written in slot, to the overlay,
// all or nothing, and returns how many there were.
func (d *decoder) item(b []byte, slot uint32) (int, error) {
	d.entries = d.entries[:0]
	n, err := decodeJournal(b, func(regions []string, _ int) { d.names = regions },
		func(e *rawEntry) { d.entries = append(d.entries, *e) })
	if err != nil {
		return 0, err
	}
	d.ids = d.o.regionIDs(d.names, d.ids)
	plan := d.o.plan
	for i := range d.entries {
		e := &d.entries[i]
		d.o.add(e.account, d.ids[e.region], e.kind, uint32(e.t), slot)
		if e.kind != ArrivalLog || len(e.key) == 0 && e.files[0].N == 0 {
			continue
		}
		b := plan.bucket(e.account, int64(slot))
		d.o.addLogs(e, d.ids[e.region], b, d.o.fold && b != bucketAfter && plan.readable(e.account))
	}
	return n, nil
}

// JournalStats says what a journal read did.
type JournalStats struct {
	Items, Entries, Pages, Corrupt int
	ConsumedRCU                    float64
}

// JournalReader reads the journal items of the last Horizon.
type JournalReader struct {
	DB    JournalQueryAPI
	Table string
	// Horizon is how far back to read (MinJournalHorizon when 0).
	Horizon time.Duration
	// Parallelism bounds concurrent slot queries (4 when 0).
	Parallelism int
}

// Read returns the overlay of the journal items written in the Horizon
// before asOf (the wall clock when zero). A corrupt item is counted in the
// stats and skipped: one bad item must not blind the watchdog to every
// other account.
func (j *JournalReader) Read(ctx context.Context, asOf time.Time) (*Overlay, JournalStats, error) {
	return j.read(ctx, asOf, 0)
}

// read is Read; with foldEvery (the Folder's interval), the overlay also
// keeps what the accounts' folds need (fold.go).
func (j *JournalReader) read(ctx context.Context, asOf time.Time, foldEvery time.Duration) (*Overlay, JournalStats, error) {
	if asOf.IsZero() {
		asOf = time.Now()
	}
	horizon := j.Horizon
	if horizon <= 0 {
		horizon = MinJournalHorizon
	}
	par := j.Parallelism
	if par <= 0 {
		par = 4
	}
	// From the slot holding asOf − horizon to one slot past asOf's: a
	// writer whose clock runs a little ahead of the reader's may already
	// write into the next slot.
	start := asOf.Add(-horizon).UTC().Truncate(JournalSlot)
	end := asOf.UTC().Truncate(JournalSlot).Add(JournalSlot)
	var slots []time.Time
	for s := end; !s.Before(start); s = s.Add(-JournalSlot) {
		slots = append(slots, s)
	}
	ov := newOverlay()
	ov.fold = foldEvery > 0
	if !ov.fold {
		foldEvery = intervalOf(horizon)
	}
	ov.plan = newFoldPlan(foldEvery, asOf, start.Unix())
	var st JournalStats
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for _, slot := range slots {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ls, err := j.readSlot(ctx, slot, &decoder{o: ov})
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			st.Items, st.Entries, st.Pages, st.Corrupt = st.Items+ls.Items, st.Entries+ls.Entries, st.Pages+ls.Pages, st.Corrupt+ls.Corrupt
			st.ConsumedRCU += ls.ConsumedRCU
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, st, firstErr
	}
	return ov, st, nil
}

// readSlot queries one slot's items and decodes them.
func (j *JournalReader) readSlot(ctx context.Context, slot time.Time, d *decoder) (JournalStats, error) {
	var st JournalStats
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(j.Table),
		KeyConditionExpression:    aws.String("#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": JournalSlotAttribute, "#e": JournalEntriesAttribute},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": num(slot.Unix())},
		ProjectionExpression:      aws.String("#e"),
		ConsistentRead:            aws.Bool(false),
		ReturnConsumedCapacity:    ddbtypes.ReturnConsumedCapacityTotal,
	}
	for {
		out, err := j.DB.Query(ctx, in)
		if err != nil {
			return st, fmt.Errorf("ledger: read journal slot %s: %w", slot.Format(time.RFC3339), err)
		}
		st.Pages++
		if out.ConsumedCapacity != nil {
			st.ConsumedRCU += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		}
		for _, item := range out.Items {
			st.Items++
			b, ok := item[JournalEntriesAttribute].(*ddbtypes.AttributeValueMemberB)
			if !ok {
				st.Corrupt++
				continue
			}
			if n, err := d.item(b.Value, uint32(slot.Unix())); err != nil {
				st.Corrupt++
			} else {
				st.Entries += n
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return st, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
