package verifier

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/incident"
)

// FindingPrefix starts the incidents-table id of a finding:
// "finding#<account>#<code>#<shape>".
const FindingPrefix = incident.PrefixFinding

// FindingID is a finding's dedup id in the incidents table: one alert per
// account, reason code and object shape (the bucket and the key's folders
// with digits folded), so that one kind of foreign or unparseable object
// does not silence every other kind for the dedup period.
func FindingID(fd Finding) string {
	h := fnv.New64a()
	h.Write([]byte(fd.Bucket))
	h.Write([]byte{0})
	h.Write([]byte(keyShape(fd.Key)))
	return fmt.Sprintf("%s%s#%s#%016x", FindingPrefix, orUnknown(fd.Account), fd.Code, h.Sum64())
}

// keyShape is the key's folder part (up to four folders) with every run of
// digits replaced by "0": keys of the same layout share a shape, keys under
// other folders or of another layout do not.
func keyShape(key string) string {
	dir := key
	if i := strings.LastIndexByte(dir, '/'); i >= 0 {
		dir = dir[:i+1]
	} else {
		dir = ""
	}
	parts := strings.SplitN(dir, "/", 5)
	if len(parts) > 4 {
		parts = parts[:4]
	}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('/')
		}
		digits := false
		for _, r := range p {
			if r >= '0' && r <= '9' {
				if !digits {
					b.WriteByte('0')
				}
				digits = true
				continue
			}
			digits = false
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Finding is one security finding.
type Finding struct {
	Account, Region string
	Code            Code
	Reason          string
	Bucket, Key     string
	MessageID       string
	// At is when it was found (zero: the Findings clock); the watchdog's
	// findings carry its pass's time.
	At time.Time
}

// AlertPublisher publishes an alert (alert.Publisher satisfies it).
type AlertPublisher interface {
	Publish(ctx context.Context, a alert.Alert) error
}

var _ AlertPublisher = (*alert.Publisher)(nil)

// Findings publishes findings, one alert per FindingID per TTL, through
// the alert outbox in the incidents table (claim → publish → mark, the
// claim released when publishing failed, so the retry alerts); an
// in-memory copy of the ids this instance alerted saves the calls for
// repeats. Safe for concurrent use.
type Findings struct {
	DB     incident.OutboxAPI
	Table  string
	Alerts AlertPublisher
	// TTL is the dedup period (24 hours when 0).
	TTL time.Duration
	Now func() time.Time

	mu     sync.Mutex
	opened map[string]time.Time // id → expiry
}

func (f *Findings) ttl() time.Duration {
	if f.TTL <= 0 {
		return 24 * time.Hour
	}
	return f.TTL
}

// Report publishes fd unless the same FindingID alerted within the TTL.
// It returns whether an alert was published. An error is retryable: the
// alert is still owed, and a retry alerts.
func (f *Findings) Report(ctx context.Context, fd Finding) (bool, error) {
	now := time.Now()
	if f.Now != nil {
		now = f.Now()
	}
	if !fd.At.IsZero() {
		now = fd.At
	}
	id := FindingID(fd)
	f.mu.Lock()
	if exp, ok := f.opened[id]; ok && now.Before(exp) {
		f.mu.Unlock()
		return false, nil
	}
	f.mu.Unlock()
	a := alert.Alert{
		Kind: alert.KindSecurityFinding, Severity: "high", IncidentID: id, Account: fd.Account, Region: fd.Region,
		Code: string(fd.Code), Bucket: fd.Bucket, ObjectKey: fd.Key,
		Reason: fmt.Sprintf("%s: %s", fd.Code, fd.Reason), Detail: fmt.Sprintf("s3://%s/%s", fd.Bucket, fd.Key),
		Action: "Find the writer of this object (bucket access logs, the account's trails); it did not come from a trail trailwarden configured.",
		At:     now.UTC(),
	}
	out := &incident.Outbox{DB: f.DB, Table: f.Table, Alerts: f.Alerts, Now: func() time.Time { return now }}
	sent, err := out.SendFor(ctx, id, a, f.ttl())
	if err != nil {
		return false, fmt.Errorf("finding %s: %w", id, err)
	}
	f.remember(id, now.Add(f.ttl()))
	return sent, nil
}

func (f *Findings) remember(id string, exp time.Time) {
	f.mu.Lock()
	if f.opened == nil {
		f.opened = map[string]time.Time{}
	}
	if len(f.opened) > 10000 { // bounded: forget everything, the table still dedups
		clear(f.opened)
	}
	f.opened[id] = exp
	f.mu.Unlock()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
