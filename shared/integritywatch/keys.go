package integritywatch

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/trailwarden/trailwarden/shared/integrity"
)

// KeyCacheTTL is how long a home Region's key list is reused.
const KeyCacheTTL = time.Hour

// CachedKeys is a KeySource that asks its Source once per home Region and
// day range, and reuses the answer for KeyCacheTTL: a warm verifier calls
// ListPublicKeys about once an hour per home Region, not once per digest.
// The range asked covers whole UTC days around the request, which already
// includes the 2-hour rotation buffer (integrity.RotationBuffer) that the
// request carries. Safe for concurrent use.
type CachedKeys struct {
	Source integrity.KeySource
	Now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedList
}

type cachedList struct {
	keys    []integrity.PublicKey
	fetched time.Time
}

// ForgetAfter is how old a home Region's cached lists must be for Forget
// to drop them: a flood of invalid digests costs at most one
// ListPublicKeys per home Region per ForgetAfter.
const ForgetAfter = time.Minute

// Forget drops home's cached key lists fetched more than ForgetAfter ago:
// a digest signed with a key published after the list was fetched (a
// rotation) is checked again against a fresh list before it is called
// invalid. It reports whether anything was dropped.
func (c *CachedKeys) Forget(home string) bool {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	dropped := false
	for memo, e := range c.cache {
		if strings.HasPrefix(memo, home+"|") && now.Sub(e.fetched) >= ForgetAfter {
			delete(c.cache, memo)
			dropped = true
		}
	}
	return dropped
}

func (c *CachedKeys) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// PublicKeys implements integrity.KeySource.
func (c *CachedKeys) PublicKeys(ctx context.Context, home string, start, end time.Time) ([]integrity.PublicKey, error) {
	now := c.now()
	from := start.UTC().Truncate(24 * time.Hour)
	to := end.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	memo := home + "|" + from.Format(time.DateOnly) + "|" + to.Format(time.DateOnly)
	c.mu.Lock()
	e, ok := c.cache[memo]
	c.mu.Unlock()
	if !ok || now.Sub(e.fetched) >= KeyCacheTTL || now.Before(e.fetched) {
		keys, err := c.Source.PublicKeys(ctx, home, from, to)
		if err != nil {
			return nil, err
		}
		e = cachedList{keys: keys, fetched: now}
		c.mu.Lock()
		if c.cache == nil || len(c.cache) > 1000 {
			c.cache = map[string]cachedList{}
		}
		c.cache[memo] = e
		c.mu.Unlock()
	}
	return e.keys, nil
}
