package verifier

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/tablescan"
)

// MemberSet is a compact set of member accounts: their numbers, sorted
// (8 bytes an account; 0.8 MB at 100,000 accounts).
type MemberSet struct{ ids []uint64 }

// NewMemberSet builds a set from account ids; ids that are not 12 digits
// are left out.
func NewMemberSet(ids []string) MemberSet {
	nums := make([]uint64, 0, len(ids))
	for _, id := range ids {
		if awsid.IsAccountID(id) {
			n, _ := strconv.ParseUint(id, 10, 64)
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	return MemberSet{ids: slices.Compact(nums)}
}

// Has reports whether account is in the set.
func (s MemberSet) Has(account string) bool {
	if !awsid.IsAccountID(account) {
		return false
	}
	n, _ := strconv.ParseUint(account, 10, 64)
	_, ok := slices.BinarySearch(s.ids, n)
	return ok
}

// Len is the number of members.
func (s MemberSet) Len() int { return len(s.ids) }

// MemberSource loads the organization's members.
type MemberSource interface {
	LoadMembers(ctx context.Context) (MemberSet, error)
}

// TableMembers reads the members from the accounts table: every account
// except departed ones. The scan projects only AccountId and Status and
// decodes them by hand, in Segments parallel segments (4 when 0), so a
// refresh holds two short strings per account instead of whole decoded
// items. (DynamoDB bills a scan by the size of the items it reads, not by
// what the projection returns: the projection saves memory, CPU and
// transfer, not read units; Amazon DynamoDB Developer Guide, "Read
// consumption for Query and Scan".)
type TableMembers struct {
	DB       tablescan.API
	Table    string
	Segments int
}

var _ MemberSource = (*TableMembers)(nil)

// LoadMembers scans the table.
func (t *TableMembers) LoadMembers(ctx context.Context) (MemberSet, error) {
	segs := t.Segments
	if segs < 1 {
		segs = 4
	}
	var mu sync.Mutex
	var nums []uint64
	_, err := tablescan.Parallel(ctx, t.DB, dynamodb.ScanInput{TableName: aws.String(t.Table),
		ProjectionExpression:     aws.String("#id, #st"),
		ExpressionAttributeNames: map[string]string{"#id": accounts.KeyAttribute, "#st": "Status"}}, segs,
		func(items []map[string]ddbtypes.AttributeValue) error {
			page := make([]uint64, 0, len(items))
			for _, it := range items {
				id, _ := it[accounts.KeyAttribute].(*ddbtypes.AttributeValueMemberS)
				if st, ok := it["Status"].(*ddbtypes.AttributeValueMemberS); ok && st.Value == string(accounts.StatusDeparted) {
					continue
				}
				if id != nil && awsid.IsAccountID(id.Value) {
					n, _ := strconv.ParseUint(id.Value, 10, 64)
					page = append(page, n)
				}
			}
			mu.Lock()
			nums = append(nums, page...)
			mu.Unlock()
			return nil
		})
	if err != nil {
		return MemberSet{}, err
	}
	slices.Sort(nums)
	return MemberSet{ids: slices.Compact(nums)}, nil
}

// StaticMembers is a fixed member list (tests, benchmarks).
type StaticMembers []string

// LoadMembers returns the accounts.
func (s StaticMembers) LoadMembers(context.Context) (MemberSet, error) { return NewMemberSet(s), nil }

// Members caches the organization's members. A record reads the current
// set without waiting: when it is older than Refresh, one background
// refresh replaces it. A miss refreshes once more before an account is
// called foreign, at most once per MissRefresh (so a flood of foreign keys
// cannot turn into a flood of scans); only the first load and a miss's
// refresh make a record wait. Safe for concurrent use.
type Members struct {
	Source MemberSource
	// Refresh is the cache lifetime (5 minutes when 0); MissRefresh the
	// minimum time between refreshes caused by misses or failures (1
	// minute when 0).
	Refresh, MissRefresh time.Duration
	Now                  func() time.Time

	cur        atomic.Pointer[memberSnapshot]
	loadMu     sync.Mutex // one load at a time
	refreshing atomic.Bool
	scans      atomic.Int64
	failedAt   atomic.Int64 // unix nanoseconds of the last failed load
}

type memberSnapshot struct {
	set    MemberSet
	loaded time.Time
}

func (m *Members) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Members) durations() (refresh, miss time.Duration) {
	refresh, miss = m.Refresh, m.MissRefresh
	if refresh <= 0 {
		refresh = 5 * time.Minute
	}
	if miss <= 0 {
		miss = time.Minute
	}
	return refresh, miss
}

// Scans returns how many times the source was loaded.
func (m *Members) Scans() int { return int(m.scans.Load()) }

// IsMember reports whether account is a member. An error (the table could
// not be read and no cache exists) is retryable.
func (m *Members) IsMember(ctx context.Context, account string) (bool, error) {
	refresh, miss := m.durations()
	now := m.now()
	snap := m.cur.Load()
	if snap == nil {
		var err error
		if snap, err = m.load(ctx, now, nil); err != nil {
			return false, err
		}
	}
	if now.Sub(snap.loaded) >= refresh && m.mayRetry(now, miss) {
		m.refreshInBackground()
	}
	if snap.set.Has(account) {
		return true, nil
	}
	if now.Sub(snap.loaded) < miss || !m.mayRetry(now, miss) {
		return false, nil
	}
	snap, err := m.load(ctx, now, snap)
	if err != nil {
		return false, err
	}
	return snap.set.Has(account), nil
}

// mayRetry: no failed load within the last miss interval.
func (m *Members) mayRetry(now time.Time, miss time.Duration) bool {
	f := m.failedAt.Load()
	return f == 0 || now.Sub(time.Unix(0, f)) >= miss
}

// load replaces the set unless another load already replaced seen; on
// failure the old set stays (with its age, so it is tried again) and the
// error is returned.
func (m *Members) load(ctx context.Context, now time.Time, seen *memberSnapshot) (*memberSnapshot, error) {
	m.loadMu.Lock()
	defer m.loadMu.Unlock()
	if cur := m.cur.Load(); cur != seen && cur != nil {
		return cur, nil
	}
	m.scans.Add(1)
	set, err := m.Source.LoadMembers(ctx)
	if err != nil {
		m.failedAt.Store(now.UnixNano())
		return seen, fault.New(fault.Retryable, "MembersUnavailable", fmt.Errorf("list members: %w", err))
	}
	snap := &memberSnapshot{set: set, loaded: now}
	m.cur.Store(snap)
	m.failedAt.Store(0)
	return snap, nil
}

// refreshInBackground starts one refresh unless one is under way. Lambda
// freezes it with the instance between invocations; it resumes with the
// next one.
func (m *Members) refreshInBackground() {
	if !m.refreshing.CompareAndSwap(false, true) {
		return
	}
	seen := m.cur.Load()
	go func() {
		defer m.refreshing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = m.load(ctx, m.now(), seen)
	}()
}
