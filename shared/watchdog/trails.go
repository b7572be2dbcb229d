package watchdog

import (
	"strings"
	"sync"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/policy"
)

// trailCache resolves accounts' effective trails, sharing the work between
// accounts with the same OU path and no account override. Safe for the
// scan's concurrent callbacks.
type trailCache struct {
	pol       *policy.Policy
	byAccount map[string]bool // accounts with an override of their own
	mu        sync.Mutex
	byPath    map[string]*policy.Trail
}

func newTrailCache(pol *policy.Policy) *trailCache {
	c := &trailCache{pol: pol, byAccount: map[string]bool{}, byPath: map[string]*policy.Trail{}}
	if pol != nil {
		for _, o := range pol.Overrides {
			if o.Match.Account != "" {
				c.byAccount[o.Match.Account] = true
			}
		}
	}
	return c
}

// get returns the account's effective trail, or nil without a policy or
// when the policy cannot resolve it (then the base settings apply).
func (c *trailCache) get(acct *accounts.Account) *policy.Trail {
	if c.pol == nil {
		return nil
	}
	key := strings.Join(acct.OUPath, "/")
	if c.byAccount[acct.AccountID] {
		key = "account:" + acct.AccountID
	}
	c.mu.Lock()
	t, ok := c.byPath[key]
	c.mu.Unlock()
	if ok {
		return t
	}
	t, err := c.pol.Effective(acct.AccountID, acct.OUPath)
	if err != nil {
		base := c.pol.Trail
		t = &base
	}
	c.mu.Lock()
	c.byPath[key] = t
	c.mu.Unlock()
	return t
}
