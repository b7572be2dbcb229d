// Package ledger is the arrival ledger: per account × Region, when CloudTrail
// last delivered a log file and a digest file, the last key, and per-day
// counts. The verifier writes it; the watchdog and `trailwarden status` read it.
//
// Physical layout (DynamoDB, one item per account, partition key AccountId):
//
//	AccountId            S   "333333333333"
//	L#<region>           N   epoch seconds of the newest log file delivered
//	D#<region>           N   epoch seconds of the newest digest delivered
//	K#<region>           S   the newest log file's name: <YYYYMMDDTHHmmZ>_<unique> (keyname.go; the full key with WriterOptions.FullKeys; items of earlier releases: the whole file name)
//	C#<yyyymmdd>#<region> N  log files counted that UTC day
//	UpdatedAt            N   epoch seconds of the last write
//
// One item per account (not per account × Region) because an account's
// Regions deliver digests in the same hour: one coalesced write covers all
// of them, and a watchdog scan reads one item per account. With digests in
// 17 Regions and log files (two days of counts) in 3 an item is 649 B, one
// write unit; it crosses 1 KB at 7 Regions with log files and is 2,223 B,
// three units per write, at 17 (TestItemSizeByActiveRegions).
// Times never move backwards: writes are conditional (see Writer).
//
// The items are the ledger's long memory; the journal (journal.go, a second
// table) its short one: the newest times of every invocation, which readers
// (Reader with a JournalReader) fold into the items. See writer.go for when
// each is written.
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

// Decode reads an item from DynamoDB attributes; unknown attributes are
// ignored so the layout can grow.
func Decode(av map[string]ddbtypes.AttributeValue) (Item, error) {
	it := Item{Regions: map[string]RegionState{}}
	get := func(region string) RegionState { return it.Regions[region] }
	for name, v := range av {
		switch {
		case name == KeyAttribute:
			s, ok := v.(*ddbtypes.AttributeValueMemberS)
			if !ok {
				return Item{}, fmt.Errorf("ledger: %s is not a string", name)
			}
			it.AccountID = s.Value
		case name == UpdatedAtAttribute:
			t, err := epoch(v)
			if err != nil {
				return Item{}, fmt.Errorf("ledger: %s: %w", name, err)
			}
			it.UpdatedAt = t
		case strings.HasPrefix(name, PrefixLog), strings.HasPrefix(name, PrefixDigest):
			t, err := epoch(v)
			if err != nil {
				return Item{}, fmt.Errorf("ledger: %s: %w", name, err)
			}
			region := name[2:]
			rs := get(region)
			if name[0] == 'L' {
				rs.LastLog = t
			} else {
				rs.LastDigest = t
			}
			it.Regions[region] = rs
		case strings.HasPrefix(name, PrefixKey):
			if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
				rs := get(name[2:])
				rs.LastKey = s.Value
				it.Regions[name[2:]] = rs
			}
		case strings.HasPrefix(name, PrefixCount):
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
		return Item{}, fmt.Errorf("ledger: item without %s", KeyAttribute)
	}
	for region, rs := range it.Regions {
		if rs.LastKey != "" {
			rs.LastKey = expandKeyName(it.AccountID, region, rs.LastKey)
			it.Regions[region] = rs
		}
	}
	return it, nil
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
	// Fold, with Journal, writes journal times about to leave the horizon
	// into the items that lack them (Scan only; see Folder).
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
	if len(out.Item) > 0 {
		if it, err = Decode(out.Item); err != nil {
			return Item{}, err
		}
	}
	if r.Journal != nil {
		ov, _, err := r.Journal.Read(ctx, asOf)
		if err != nil {
			return Item{}, err
		}
		ov.Apply(&it)
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
// With a journal, accounts that have journal entries but no item yet (their
// first arrivals are still coalescing in a verifier instance) are passed to
// fn as items built from the journal alone, after the scan.
func (r *Reader) Scan(ctx context.Context, asOf time.Time, segments int, fn func(Item) error) (ScanStats, error) {
	if asOf.IsZero() {
		asOf = time.Now()
	}
	var st ScanStats
	var ov *Overlay
	if r.Journal != nil {
		var err error
		if ov, st.Journal, err = r.Journal.Read(ctx, asOf); err != nil {
			return st, err
		}
	}
	var mu sync.Mutex
	seen := map[uint64]struct{}{}
	var folds []foldJob
	fold := func(it Item) {
		if r.Fold == nil {
			return
		}
		if job, ok := r.Fold.due(ov, it, asOf); ok {
			mu.Lock()
			folds = append(folds, job)
			mu.Unlock()
		}
	}
	var err error
	st.Stats, err = tablescan.Parallel(ctx, r.DB, dynamodb.ScanInput{TableName: aws.String(r.Table)}, segments,
		func(items []map[string]ddbtypes.AttributeValue) error {
			for _, av := range items {
				it, err := Decode(av)
				if err != nil {
					return err
				}
				fold(it)
				if ov.Apply(&it) {
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
		fold(it)
		ov.Apply(&it)
		if err := fn(it); err != nil {
			return st, err
		}
	}
	if len(folds) > 0 {
		st.Fold = r.Fold.write(ctx, folds, asOf)
	}
	return st, nil
}
