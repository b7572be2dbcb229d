// Package ledger is the arrival ledger: per account × Region, when CloudTrail
// last delivered a log file and a digest file, the newest log file's name,
// and per-day counts of log files. The verifier appends what it processed
// to the journal (journal.go, writer.go); the watchdog folds the journal
// into one item per account (fold.go) and, like `trailwarden status`,
// reads the items raised by the journal (Reader).
//
// Item layout (DynamoDB, partition key AccountId), as the watchdog writes
// it (itemcodec.go):
//
//	AccountId  S  "333333333333"
//	R          B  every Region: newest log and digest times, the newest log
//	              file's unique string, log files of the last two UTC days
//	F          N  the last journal slot folded into R
//	UpdatedAt  N  epoch seconds of the last write
//
// An item with 17 Regions of digests and 17 of log files is 491 B, one
// write unit (TestItemSizeByActiveRegions). Items of the previous layout
// read the same and are rewritten by their first fold:
//
//	L#<region>           N   epoch seconds of the newest log file delivered
//	D#<region>           N   epoch seconds of the newest digest delivered
//	K#<region>           S   the newest log file's name: <YYYYMMDDTHHmmZ>_<unique> (keyname.go; items of earlier releases: the whole file name)
//	C#<yyyymmdd>#<region> N  log files counted that UTC day
//
// One item per account (not per account × Region): one write covers all
// of an account's Regions, and a watchdog scan reads one item per account.
// Times never move backwards.
package ledger

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/tablescan"
)

// KeyAttribute is the table's partition key.
const KeyAttribute = "AccountId"

// Attribute name prefixes.
const (
	PrefixLog    = "L#"
	PrefixDigest = "D#"
	PrefixKey    = "K#"
	PrefixCount  = "C#"
)

// RegionState is one account × Region of the ledger.
type RegionState struct {
	LastLog    time.Time        `json:"lastLog,omitzero"`
	LastDigest time.Time        `json:"lastDigest,omitzero"`
	LastKey    string           `json:"lastKey,omitempty"`
	Counts     map[string]int64 `json:"counts,omitempty"` // yyyymmdd → log files
}

// LastDelivery is the newer of the last log and the last digest.
func (r RegionState) LastDelivery() time.Time { return Newest(r.LastLog, r.LastDigest) }

// Newest is the newer of a log file time and a digest time: a Region's
// last delivery. The one rule for it; every reader uses this.
func Newest(log, digest time.Time) time.Time {
	if digest.After(log) {
		return digest
	}
	return log
}

// Item is one account's ledger.
type Item struct {
	AccountID string                 `json:"accountId"`
	Regions   map[string]RegionState `json:"regions"`
	UpdatedAt time.Time              `json:"updatedAt,omitzero"`
}

// SortedRegions returns the item's Regions in name order.
func (it Item) SortedRegions() []string {
	out := make([]string, 0, len(it.Regions))
	for r := range it.Regions {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Decode reads an item from DynamoDB attributes, in the packed form
// (itemcodec.go), the previous releases' form, or both merged (an item the
// previous release's writer touched after a fold); unknown attributes are
// ignored so the layout can grow.
func Decode(av map[string]ddbtypes.AttributeValue) (Item, error) {
	it, _, err := decodeItem(av)
	return it, err
}

// itemMeta is what a fold needs of a stored item besides its Regions.
type itemMeta struct {
	exists    bool
	folded    int64 // F: the last journal slot folded; 0 when absent
	hasFolded bool
	updated   ddbtypes.AttributeValue // UpdatedAt as stored; nil when absent
	legacy    []string                // attributes of the previous layout
}

func decodeItem(av map[string]ddbtypes.AttributeValue) (Item, itemMeta, error) {
	it := Item{Regions: map[string]RegionState{}}
	meta := itemMeta{exists: len(av) > 0}
	var packed []byte
	get := func(region string) RegionState { return it.Regions[region] }
	for name, v := range av {
		switch {
		case name == KeyAttribute:
			s, ok := v.(*ddbtypes.AttributeValueMemberS)
			if !ok {
				return Item{}, meta, fmt.Errorf("ledger: %s is not a string", name)
			}
			it.AccountID = s.Value
		case name == UpdatedAtAttribute:
			t, err := epoch(v)
			if err != nil {
				return Item{}, meta, fmt.Errorf("ledger: %s: %w", name, err)
			}
			it.UpdatedAt, meta.updated = t, v
		case name == PackedAttribute:
			b, ok := v.(*ddbtypes.AttributeValueMemberB)
			if !ok {
				return Item{}, meta, fmt.Errorf("ledger: %s is not binary", name)
			}
			packed = b.Value
		case name == FoldedAttribute:
			t, err := epoch(v)
			if err != nil {
				return Item{}, meta, fmt.Errorf("ledger: %s: %w", name, err)
			}
			meta.folded, meta.hasFolded = t.Unix(), true
		case strings.HasPrefix(name, PrefixLog), strings.HasPrefix(name, PrefixDigest):
			t, err := epoch(v)
			if err != nil {
				return Item{}, meta, fmt.Errorf("ledger: %s: %w", name, err)
			}
			meta.legacy = append(meta.legacy, name)
			region := name[2:]
			rs := get(region)
			if name[0] == 'L' {
				rs.LastLog = t
			} else {
				rs.LastDigest = t
			}
			it.Regions[region] = rs
		case strings.HasPrefix(name, PrefixKey):
			meta.legacy = append(meta.legacy, name)
			if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
				rs := get(name[2:])
				rs.LastKey = s.Value
				it.Regions[name[2:]] = rs
			}
		case strings.HasPrefix(name, PrefixCount):
			meta.legacy = append(meta.legacy, name)
			parts := strings.SplitN(name[2:], "#", 2)
			n, ok := v.(*ddbtypes.AttributeValueMemberN)
			if len(parts) != 2 || !ok {
				continue
			}
			c, err := strconv.ParseInt(n.Value, 10, 64)
			if err != nil {
				continue
			}
			rs := get(parts[1])
			if rs.Counts == nil {
				rs.Counts = map[string]int64{}
			}
			rs.Counts[parts[0]] = c
			it.Regions[parts[1]] = rs
		}
	}
	if it.AccountID == "" {
		return Item{}, meta, fmt.Errorf("ledger: item without %s", KeyAttribute)
	}
	for region, rs := range it.Regions {
		if rs.LastKey != "" {
			rs.LastKey = expandKeyName(it.AccountID, region, rs.LastKey)
			it.Regions[region] = rs
		}
	}
	if packed != nil {
		regions, err := DecodeRegions(it.AccountID, packed)
		if err != nil {
			return Item{}, meta, fmt.Errorf("ledger: item of %s: %w", it.AccountID, err)
		}
		for name, rs := range it.Regions {
			regions[name] = mergeRegion(regions[name], rs)
		}
		it.Regions = regions
	}
	sort.Strings(meta.legacy)
	return it, meta, nil
}

// mergeRegion merges b into a: the newer times, the key of the newer log
// file, counts summed (two writers counted different files).
func mergeRegion(a, b RegionState) RegionState {
	if b.LastLog.After(a.LastLog) || a.LastKey == "" && !b.LastLog.Before(a.LastLog) {
		a.LastLog = b.LastLog
		if b.LastKey != "" {
			a.LastKey = b.LastKey
		}
	}
	if b.LastDigest.After(a.LastDigest) {
		a.LastDigest = b.LastDigest
	}
	for day, n := range b.Counts {
		if a.Counts == nil {
			a.Counts = map[string]int64{}
		}
		a.Counts[day] += n
	}
	return a
}

func epoch(v ddbtypes.AttributeValue) (time.Time, error) {
	n, ok := v.(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return time.Time{}, fmt.Errorf("not a number")
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(int64(f), 0).UTC(), nil
}

// ReadAPI is the part of DynamoDB the readers call.
type ReadAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Reader reads the ledger table and, when Journal is set, raises every
// item's times with the journal's (journal.go): the ledger as the verifier
// has processed it, not only as its items were last written.
type Reader struct {
	DB      ReadAPI
	Table   string
	Journal *JournalReader
	// Fold, with Journal, makes Scan the items' writer: it folds the
	// journal into the items once per interval (fold.go).
	Fold *Folder
}

// Get returns one account's ledger (an empty item when nothing arrived
// yet) as of asOf (the journal's horizon ends there; zero: the wall clock).
func (r *Reader) Get(ctx context.Context, asOf time.Time, account string) (Item, error) {
	out, err := r.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.Table),
		Key: map[string]ddbtypes.AttributeValue{KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: account}}})
	if err != nil {
		return Item{}, fmt.Errorf("get ledger of %s: %w", account, err)
	}
	it := Item{AccountID: account, Regions: map[string]RegionState{}}
	var meta itemMeta
	if len(out.Item) > 0 {
		if it, meta, err = decodeItem(out.Item); err != nil {
			return Item{}, err
		}
	}
	if r.Journal != nil {
		ov, _, err := r.Journal.Read(ctx, asOf)
		if err != nil {
			return Item{}, err
		}
		ov.apply(&it, meta)
	}
	return it, nil
}

// ScanStats says what a scan read: the items, and the journal; and what it
// folded.
type ScanStats struct {
	tablescan.Stats
	Journal JournalStats `json:"journal"`
	Fold    FoldStats    `json:"fold"`
}

// Scan calls fn for every item (with the journal's times as of asOf, the
// wall clock when zero), reading segments segments in parallel
// (fn must be safe for concurrent use when segments > 1).
//
// With a journal, accounts that have journal entries but no item yet are
// passed to fn as items built from the journal alone, after the scan.
// With a Folder, the items due are then written (fold.go).
func (r *Reader) Scan(ctx context.Context, asOf time.Time, segments int, fn func(Item) error) (ScanStats, error) {
	if asOf.IsZero() {
		asOf = time.Now()
	}
	var st ScanStats
	var ov *Overlay
	if r.Journal != nil {
		var every time.Duration
		if r.Fold != nil {
			every = r.Fold.Interval
			if every <= 0 {
				every = DefaultItemInterval
			}
		}
		var err error
		if ov, st.Journal, err = r.Journal.read(ctx, asOf, every); err != nil {
			return st, err
		}
	}
	var mu sync.Mutex
	seen := map[uint64]struct{}{}
	var folds []foldJob
	fold := func(it Item, meta itemMeta) {
		if ov == nil || !ov.fold {
			return
		}
		if job, ok := r.Fold.due(ov.plan, ov, it, meta); ok {
			mu.Lock()
			folds = append(folds, job)
			mu.Unlock()
		}
	}
	var err error
	st.Stats, err = tablescan.Parallel(ctx, r.DB, dynamodb.ScanInput{TableName: aws.String(r.Table)}, segments,
		func(items []map[string]ddbtypes.AttributeValue) error {
			for _, av := range items {
				it, meta, err := decodeItem(av)
				if err != nil {
					return err
				}
				fold(it, meta)
				if ov.apply(&it, meta) {
					mu.Lock()
					seen[accountNumber(it.AccountID)] = struct{}{}
					mu.Unlock()
				}
				if err := fn(it); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return st, err
	}
	for _, id := range ov.accounts(func(n uint64) bool { _, ok := seen[n]; return ok }) {
		it := Item{AccountID: id, Regions: map[string]RegionState{}}
		fold(it, itemMeta{})
		ov.apply(&it, itemMeta{})
		if err := fn(it); err != nil {
			return st, err
		}
	}
	if len(folds) > 0 {
		r.Fold.write(ctx, folds, asOf, &st.Fold)
	}
	return st, nil
}
