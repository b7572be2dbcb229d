package verifier

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/fault"
)

// AccountLister lists the accounts table (accounts.Store satisfies it).
type AccountLister interface {
	List(ctx context.Context, segments int) ([]accounts.Account, error)
}

var _ AccountLister = (*accounts.Store)(nil)

// Members caches the organization's members from the accounts table. Every
// account in the table is a member except departed ones. The cache is
// refreshed when older than Refresh, and once more on a miss (at most once
// per MissRefresh, so a flood of foreign keys cannot turn into a flood of
// scans) before an account is called foreign. Safe for concurrent use.
type Members struct {
	Source AccountLister
	// Refresh is the cache lifetime (5 minutes when 0); MissRefresh the
	// minimum time between refreshes caused by misses (1 minute when 0).
	Refresh, MissRefresh time.Duration
	// Segments for the table scan (1 when 0).
	Segments int
	Now      func() time.Time

	mu     sync.Mutex
	set    map[string]struct{}
	loaded time.Time
	scans  int
	failed time.Time // last failed load: no new attempt within MissRefresh
}

func (m *Members) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Scans returns how many times the table was listed.
func (m *Members) Scans() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.scans
}

// IsMember reports whether account is a member. An error (the table could
// not be read and no usable cache exists) is retryable.
func (m *Members) IsMember(ctx context.Context, account string) (bool, error) {
	refresh, missRefresh := m.Refresh, m.MissRefresh
	if refresh <= 0 {
		refresh = 5 * time.Minute
	}
	if missRefresh <= 0 {
		missRefresh = time.Minute
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	retryOK := m.failed.IsZero() || now.Sub(m.failed) >= missRefresh
	if m.set == nil || (now.Sub(m.loaded) >= refresh && retryOK) {
		if err := m.load(ctx, now); err != nil && m.set == nil {
			return false, err
		}
	}
	if _, ok := m.set[account]; ok {
		return true, nil
	}
	if now.Sub(m.loaded) >= missRefresh && (m.failed.IsZero() || now.Sub(m.failed) >= missRefresh) {
		if err := m.load(ctx, now); err != nil {
			return false, err
		}
		_, ok := m.set[account]
		return ok, nil
	}
	return false, nil
}

// load lists the table; called with mu held. On failure the old cache is
// kept (and its age, so the next call tries again).
func (m *Members) load(ctx context.Context, now time.Time) error {
	segs := m.Segments
	if segs < 1 {
		segs = 1
	}
	m.scans++
	list, err := m.Source.List(ctx, segs)
	if err != nil {
		m.failed = now
		return fault.New(fault.Retryable, "MembersUnavailable", fmt.Errorf("list members: %w", err))
	}
	set := make(map[string]struct{}, len(list))
	for _, a := range list {
		if a.Status == accounts.StatusDeparted {
			continue
		}
		set[a.AccountID] = struct{}{}
	}
	m.set, m.loaded, m.failed = set, now, time.Time{}
	return nil
}

// StaticMembers is a fixed member list (tests, benchmarks).
type StaticMembers []string

// List returns the accounts.
func (s StaticMembers) List(context.Context, int) ([]accounts.Account, error) {
	out := make([]accounts.Account, len(s))
	for i, id := range s {
		out[i] = accounts.Account{AccountID: id, Status: accounts.StatusEnabled}
	}
	return out, nil
}
