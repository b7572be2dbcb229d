package backfill_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/cputime"
	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/backfill"
	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/orgdir"
)

// apiCall is one request of a converge that creates a trail, in order:
// the service, whether it is a write (CloudTrail's quota class), and the
// latency the fake waits.
type apiCall struct {
	name    string
	write   bool
	latency time.Duration
}

// createPath is what converging a new account costs: AssumeRole, the
// trail reads, the writes that create and start it, the check after, and
// the accounts table write. Latencies are assumptions of a cross-Region
// API call (tens of milliseconds; a write a little longer), not figures
// AWS publishes.
var createPath = []apiCall{
	{"sts:AssumeRole", false, 40 * time.Millisecond},
	{"cloudtrail:GetTrail", false, 50 * time.Millisecond},
	{"cloudtrail:CreateTrail", true, 150 * time.Millisecond},
	{"cloudtrail:PutEventSelectors", true, 100 * time.Millisecond},
	{"cloudtrail:PutInsightSelectors", true, 100 * time.Millisecond},
	{"cloudtrail:AddTags", true, 80 * time.Millisecond},
	{"cloudtrail:StartLogging", true, 80 * time.Millisecond},
	{"cloudtrail:GetTrailStatus", false, 50 * time.Millisecond},
	{"dynamodb:UpdateItem", false, 10 * time.Millisecond},
}

// rateLimitedConverger fakes the enabler's converge of a new account
// against CloudTrail's documented request quotas: per account and Region,
// each Get/Describe/List API 10 requests per second and every other API
// 1 per second (AWS General Reference, "AWS CloudTrail endpoints and
// quotas"; not adjustable). A call over its quota waits for its token, as
// the SDK's retries with backoff would, but without failing. The quotas
// are per account, so workers on different accounts never share them.
type rateLimitedConverger struct {
	mu   sync.Mutex
	next map[string]time.Time // account#API → earliest next call
}

func (c *rateLimitedConverger) wait(ctx context.Context, account string, call apiCall) {
	interval := 100 * time.Millisecond
	if call.write {
		interval = time.Second
	}
	key := account + "#" + call.name
	c.mu.Lock()
	now := time.Now()
	at := now
	if n := c.next[key]; n.After(now) {
		at = n
	}
	c.next[key] = at.Add(interval)
	c.mu.Unlock()
	t := time.NewTimer(at.Sub(now) + call.latency)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (c *rateLimitedConverger) ConvergeListed(ctx context.Context, a orgdir.Account, _ string) (*enabler.Outcome, error) {
	calls := make([]string, 0, len(createPath))
	for _, call := range createPath {
		c.wait(ctx, a.ID, call)
		calls = append(calls, call.name)
	}
	return &enabler.Outcome{Account: a.ID, Status: accounts.StatusEnabled, Report: &converge.Report{Created: true, Calls: calls}}, ctx.Err()
}

var _ backfill.Converger = (*rateLimitedConverger)(nil)

// BenchmarkBackfillRateLimited compares backfill.Direct's bounded worker
// pool (BACKFILL_WORKERS, default 32) with a sequential loop over the same
// BACKFILL_ACCOUNTS (default 64) accounts, in one run, against the
// rate-limited fake: what the speedup is when AWS, not a local emulator
// process, sets the pace. CPU time is reported beside: the pool's own
// cost is small next to the waits.
func BenchmarkBackfillRateLimited(b *testing.B) {
	n := envInt("BACKFILL_ACCOUNTS", 64)
	workers := envInt("BACKFILL_WORKERS", 32)
	accts := make([]orgdir.Account, n)
	for i := range accts {
		accts[i] = orgdir.Account{ID: fmt.Sprintf("%012d", 400000000000+i), State: "ACTIVE"}
	}
	ctx := context.Background()
	run := func(w int) (time.Duration, time.Duration) {
		c := &rateLimitedConverger{next: map[string]time.Time{}}
		c0, start := cputime.Now(), time.Now()
		rs := backfill.Direct(ctx, c, accts, w, nil)
		wall, cpu := time.Since(start), cputime.Now()-c0
		if s := backfill.Summarize(rs, wall); s.Created != n {
			b.Fatalf("%d workers: %+v", w, s)
		}
		return wall, cpu
	}
	for b.Loop() {
		seq, _ := run(1)
		par, cpu := run(workers)
		b.ReportMetric(float64(n), "accounts")
		b.ReportMetric(seq.Seconds(), "sequential-s")
		b.ReportMetric(par.Seconds(), "backfill-s")
		b.ReportMetric(seq.Seconds()/par.Seconds(), "speedup")
		b.ReportMetric(float64(cpu.Microseconds())/float64(n), "backfill-CPU-µs/account")
	}
}
