package ledger

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

// # Folding: the watchdog writes the items
//
// The verifier only appends to the journal (writer.go). The watchdog,
// which reads the whole journal every pass anyway, is the items' one
// writer: it folds each account's journal entries into its item once per
// item interval, however many verifier instances wrote them.
//
// Every account has a phase: account number mod (interval / JournalSlot).
// Its fold cut is the newest complete journal slot (one that ended at
// least a slot ago) of its phase, so its cuts are an interval apart and
// the accounts' writes spread evenly over the interval's passes. A fold
// adds the log files counted in the slots after the previous cut up to the
// cut (the window), takes the newest key journaled there, raises the times
// with every journaled time read, and writes the item whole (itemcodec.go)
// with F = the cut, on the condition that F and UpdatedAt are still what
// it read: each slot is counted once even when two passes overlap (the
// loser's write fails and changes nothing), and a write of the previous
// release's verifier in between (during an upgrade) is not overwritten
// unseen. The first fold of an item of the previous layout rewrites it in
// the packed form and removes the old attributes.
//
// The window must have been read whole: with readers looking back
// JournalHorizon (the interval plus 15 minutes) that leaves about two
// passes to fold an account once its cut is complete. An account whose
// window the watchdog missed (it did not run for that long) keeps its
// times from the journal's later slots but loses that window's counts;
// counts are approximate, times are not.

// Folder writes the ledger items from the journal (Reader.Scan calls it).
type Folder struct {
	DB    WriteAPI
	Table string
	// Interval is how often an account's item is written
	// (DefaultItemInterval when 0; rounded up to a multiple of
	// JournalSlot).
	Interval time.Duration
	// Parallelism bounds concurrent writes (16 when 0). The caller's
	// deadline bounds the work; what it cuts short is Failed and tried
	// again by the next pass while the window is still read.
	Parallelism int
}

// WriteAPI is the part of DynamoDB the folder calls.
type WriteAPI interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ WriteAPI = (*dynamodb.Client)(nil)

// FoldStats says what a fold did.
type FoldStats struct {
	// Accounts counts items written; Failed writes that failed (tried
	// again by the next pass); Conflicts writes another writer got in
	// first (their condition failed: nothing changed); Partial folds whose
	// item had been folded part of the window already (the interval
	// changed), whose counts were not added.
	Accounts, Failed, Conflicts, Partial int
	WCU                                  float64
}

// foldPlan is one read's fold arithmetic (epoch seconds).
type foldPlan struct {
	every, phases int64
	cut           int64 // the newest complete slot
	start         int64 // the oldest slot read
	asOf          time.Time
}

const slotSeconds = int64(JournalSlot / time.Second)

func newFoldPlan(interval time.Duration, asOf time.Time, start int64) *foldPlan {
	if interval <= 0 {
		interval = DefaultItemInterval
	}
	phases := max((int64(interval/time.Second)+slotSeconds-1)/slotSeconds, 1)
	// A slot is complete a slot after it ended: journal writes carry the
	// clock of their flush's start, and reads are eventually consistent.
	cut := (asOf.Unix()/slotSeconds - 2) * slotSeconds
	return &foldPlan{every: phases * slotSeconds, phases: phases, cut: cut, start: start, asOf: asOf}
}

// FoldCut is the journal slot up to which a watchdog pass at asOf folds
// an account's item (its F attribute after that fold), for an item
// interval.
func FoldCut(account string, interval time.Duration, asOf time.Time) time.Time {
	return time.Unix(newFoldPlan(interval, asOf, 0).cutOf(accountNumber(account)), 0).UTC()
}

// intervalOf is the item interval a reader that does not fold assumes
// from its horizon (JournalHorizon's inverse; the default below 75
// minutes).
func intervalOf(horizon time.Duration) time.Duration {
	if horizon > MinJournalHorizon {
		return horizon - 15*time.Minute
	}
	return DefaultItemInterval
}

// cutOf is an account's newest cut: the newest complete slot of its phase.
func (p *foldPlan) cutOf(account uint64) int64 {
	idx := p.cut / slotSeconds
	back := (idx - int64(account%uint64(p.phases))) % p.phases
	if back < 0 {
		back += p.phases
	}
	return (idx - back) * slotSeconds
}

// The buckets of an account's journaled log files, by journal slot
// relative to its cut.
const (
	bucketBefore = iota // slots up to the cut's previous one (cut − interval)
	bucketWindow        // (cut − interval, cut]: what the fold at the cut adds
	bucketAfter         // after the cut: the next fold's
	buckets
)

func (p *foldPlan) bucket(account uint64, slot int64) int {
	c := p.cutOf(account)
	switch {
	case slot > c:
		return bucketAfter
	case slot > c-p.every:
		return bucketWindow
	}
	return bucketBefore
}

// readable reports whether the account's window was read whole.
func (p *foldPlan) readable(account uint64) bool {
	return p.cutOf(account)-p.every+slotSeconds >= p.start
}

// since selects the buckets that hold the log files journaled after the
// item's last fold (F). exact is false when some of them cannot be told
// apart (the item's last fold was not at one of its cuts, the watchdog
// missed a cut while the journal still holds what it folded, or the item
// was folded past this read's cut): then what cannot be told apart is
// left out, short rather than counted twice.
func (p *foldPlan) since(account uint64, meta itemMeta) (use [buckets]bool, exact bool) {
	c := p.cutOf(account)
	f := meta.folded
	switch {
	case !meta.hasFolded || f < p.start:
		return [buckets]bool{true, true, true}, true
	case f == c:
		return [buckets]bool{false, false, true}, true
	case f == c-p.every:
		return [buckets]bool{false, true, true}, true
	case f < c-p.every:
		return [buckets]bool{false, true, true}, false
	case f < c:
		return [buckets]bool{false, false, true}, false
	}
	// Folded past this read's cut (a reader whose clock is behind the
	// watchdog's): what is after the cut may be folded already.
	return [buckets]bool{}, false
}

type foldJob struct {
	partial bool // counts left out (FoldStats.Partial)
	account string
	cut     int64
	regions map[string]RegionState
	meta    itemMeta
}

// due returns the write that folds the journal into it, if one is due:
// the account has not been folded at its cut yet and the journal holds
// something its item lacks.
func (f *Folder) due(p *foldPlan, ov *Overlay, it Item, meta itemMeta) (foldJob, bool) {
	if !awsid.IsAccountID(it.AccountID) {
		return foldJob{}, false
	}
	num := accountNumber(it.AccountID)
	cut := p.cutOf(num)
	if meta.hasFolded && meta.folded >= cut {
		return foldJob{}, false
	}
	// An item never folded (the previous release's) is folded in the two
	// passes after its cut, like the others: an upgrade rewrites the
	// items over one interval, not in its first pass.
	if meta.exists && !meta.hasFolded && p.cut-cut > slotSeconds {
		return foldJob{}, false
	}
	times, logs := ov.pairs(it.AccountID), ov.logPairs(num)
	use, exact := p.since(num, meta)
	use[bucketAfter] = false
	job := foldJob{account: it.AccountID, cut: cut, meta: meta, regions: make(map[string]RegionState, len(it.Regions)+len(times))}
	for r, rs := range it.Regions {
		rs.Counts = maps.Clone(rs.Counts)
		job.regions[r] = rs
	}
	changed := len(meta.legacy) > 0
	for _, t := range times {
		rs := job.regions[t.Region]
		if l := time.Unix(t.Log, 0).UTC(); t.Log > 0 && l.After(rs.LastLog) {
			rs.LastLog, changed = l, true
		}
		if d := time.Unix(t.Digest, 0).UTC(); t.Digest > 0 && d.After(rs.LastDigest) {
			rs.LastDigest, changed = d, true
		}
		job.regions[t.Region] = rs
	}
	for _, l := range logs {
		rs := job.regions[l.name]
		if l.key != "" && int64(l.keyT) >= keyTime(it.AccountID, l.name, rs) && expandKeyName(it.AccountID, l.name, l.key) != rs.LastKey {
			rs.LastKey, changed = expandKeyName(it.AccountID, l.name, l.key), true
		}
		before := len(rs.Counts)
		rs.Counts = addBuckets(rs.Counts, l.files, use)
		changed = changed || len(rs.Counts) != before || l.files[bucketWindow][0].N > 0 && use[bucketWindow] || l.files[bucketBefore][0].N > 0 && use[bucketBefore]
		job.regions[l.name] = rs
	}
	if !changed {
		return foldJob{}, false
	}
	job.partial = !exact
	keep := dayName(dayOf(p.asOf.Unix()) - (countDays - 1))
	for r, rs := range job.regions {
		for day := range rs.Counts {
			if day < keep {
				delete(rs.Counts, day)
			}
		}
		job.regions[r] = rs
	}
	return job, true
}

// keyTime is the time of a Region's newest key (its stamp; the log time
// for a name off the grammar; 0 for none).
func keyTime(account, region string, rs RegionState) int64 {
	if rs.LastKey == "" {
		return 0
	}
	if v := compactKeyName(account, region, rs.LastKey); isCompactKey(v) {
		if t, err := time.Parse(keyStampLayout, v[:14]); err == nil {
			return t.Unix()
		}
	}
	return rs.LastLog.Unix()
}

// write folds the jobs.
func (f *Folder) write(ctx context.Context, jobs []foldJob, asOf time.Time, st *FoldStats) {
	par := f.Parallelism
	if par <= 0 {
		par = 16
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].account < jobs[j].account })
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, par)
	for _, job := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			wcu, err := f.writeOne(ctx, &job, asOf)
			mu.Lock()
			defer mu.Unlock()
			st.WCU += wcu
			if job.partial {
				st.Partial++
			}
			var ccf *ddbtypes.ConditionalCheckFailedException
			switch {
			case errors.As(err, &ccf):
				st.Conflicts++
				st.WCU++ // a failed conditional write consumes a unit
			case err != nil:
				st.Failed++
			default:
				st.Accounts++
			}
		}()
	}
	wg.Wait()
}

// writeOne writes one item whole, on the condition that it is as read.
func (f *Folder) writeOne(ctx context.Context, job *foldJob, asOf time.Time) (float64, error) {
	packed, err := EncodeRegions(job.account, job.regions)
	if err != nil {
		return 0, err
	}
	names := map[string]string{"#r": PackedAttribute, "#f": FoldedAttribute, "#u": UpdatedAtAttribute}
	values := map[string]ddbtypes.AttributeValue{":r": &ddbtypes.AttributeValueMemberB{Value: packed},
		":f": num(job.cut), ":now": num(asOf.Unix())}
	expr := "SET #r = :r, #f = :f, #u = :now"
	if len(job.meta.legacy) > 0 {
		expr += " REMOVE "
		for i, a := range job.meta.legacy {
			p := "#l" + strconv.Itoa(i)
			names[p] = a
			if i > 0 {
				expr += ", "
			}
			expr += p
		}
	}
	var cond string
	switch m := job.meta; {
	case !m.exists:
		names["#k"] = KeyAttribute
		cond = "attribute_not_exists(#k)"
	default:
		cond = "attribute_not_exists(#f)"
		if m.hasFolded {
			values[":f0"] = num(m.folded)
			cond = "#f = :f0"
		}
		if m.updated != nil {
			values[":u0"] = m.updated
			cond += " AND #u = :u0"
		} else {
			cond += " AND attribute_not_exists(#u)"
		}
	}
	out, err := f.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(f.Table),
		Key:                       map[string]ddbtypes.AttributeValue{KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: job.account}},
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnConsumedCapacity:    ddbtypes.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return 0, fmt.Errorf("ledger: fold %s: %w", job.account, err)
	}
	if out.ConsumedCapacity != nil {
		return aws.ToFloat64(out.ConsumedCapacity.CapacityUnits), nil
	}
	return 0, nil
}
