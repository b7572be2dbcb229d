package watchdog

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/tablescan"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

// HeadScanner reads every digest chain's head (integritywatch.HeadReader).
type HeadScanner interface {
	Scan(ctx context.Context, fn func(integritywatch.Head) error) (tablescan.Stats, error)
}

// FindingReporter reports a security finding on the verifier's finding
// path: deduplicated through the incidents table's outbox, alerted
// (verifier.Findings).
type FindingReporter interface {
	Report(ctx context.Context, fd verifier.Finding) (bool, error)
}

var (
	_ HeadScanner     = (*integritywatch.HeadReader)(nil)
	_ FindingReporter = (*verifier.Findings)(nil)
)

// DefaultMaxDigestChecks bounds the GetTrailStatus calls of one pass's
// digest step (the rest wait for the next pass).
const DefaultMaxDigestChecks = 200

// DefaultDigestScanEvery is how often the digest step scans the heads.
//
// A scan reads every head and is billed for it (a filter does not lower
// the read units), so it runs on every other 5-minute pass, not on each.
// The detection goal still holds: the digest after a head that ended at E
// is missing from E + integrity.MissingAfter (2 hours) on, 60 minutes after
// the missing digest's own hour ended at E + 1 h; the next scan comes
// DefaultDigestScanEvery later (passes 5 minutes apart, each scanning when
// at least DefaultDigestScanEvery less digestScanSlack passed since the
// last scan; a pass digestScanSlack late adds that), so the finding is
// made within 70 (72.5) minutes of that hour's end plus the pass's own run
// time, inside 75
// (TestMissingDigestFoundWithin75Minutes, TestHeadsScannedEveryOtherPass).
const DefaultDigestScanEvery = 10 * time.Minute

// digestScanSlack absorbs the schedule's jitter: half a 5-minute pass.
const digestScanSlack = 150 * time.Second

// scanClock remembers when this watchdog instance last scanned the heads.
// It lives as long as the function's execution environment: a cold start
// scans at once, so a lost clock scans more often, never less.
type scanClock struct {
	mu   sync.Mutex
	last time.Time
}

// due reports whether a scan is due at now and, when it is, takes it.
func (c *scanClock) due(now time.Time, every time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.last.IsZero() && now.Sub(c.last) < every-digestScanSlack && !now.Before(c.last) {
		return false
	}
	c.last = now
	return true
}

// forget drops the last scan after a failed one: the next pass scans.
func (c *scanClock) forget() {
	c.mu.Lock()
	c.last = time.Time{}
	c.mu.Unlock()
}

// DigestsReport says what a pass's digest step saw.
type DigestsReport struct {
	Scanned   bool    `json:"scanned"`   // the heads were scanned this pass (DigestScanEvery)
	Heads     int     `json:"heads"`     // chains read
	Overdue   int     `json:"overdue"`   // heads with no successor for more than integrity.MissingAfter
	Silent    int     `json:"silent"`    // overdue, but every delivery of the pair stopped: the staleness incident's case
	Stopped   int     `json:"stopped"`   // overdue, and the trail is not logging (informational)
	Missing   int     `json:"missing"`   // digests-missing findings
	Alerted   int     `json:"alerted"`   // of which alerted now (not deduplicated)
	Deferred  int     `json:"deferred"`  // left for the next pass (MaxDigestChecks)
	ReadUnits float64 `json:"readUnits"` // consumed by the heads scan
}

// overdueHead is one head past its successor's due time, with its account.
type overdueHead struct {
	h    integritywatch.Head
	acct *accounts.Account
	st   *cloudtrail.GetTrailStatusOutput
	err  error
}

// checkDigests finds expected-but-missing digests: a chain whose newest
// verified digest ended more than integrity.MissingAfter ago. A pair whose
// deliveries all stopped is the staleness incident's (the ledger's), not
// tampering; a trail that is not logging is reported as stopped, not as a
// finding; otherwise the digests are missing while the trail logs: a
// digests-missing finding.
func (p *pass) checkDigests(ctx context.Context) {
	w := p.w
	if w.Heads == nil || w.Findings == nil || p.rep.Mass {
		return // a pipeline outage silences digests too
	}
	if !w.headScan.due(p.now, orDefault(w.DigestScanEvery, DefaultDigestScanEvery)) {
		return
	}
	p.rep.Digests.Scanned = true
	due, err := p.overdueHeads(ctx)
	if err != nil {
		w.headScan.forget()
		w.failContext(ctx, &p.rep, fmt.Errorf("digest heads: %w", err))
		return
	}
	limit := orDefault(w.MaxDigestChecks, DefaultMaxDigestChecks)
	if len(due) > limit {
		p.rep.Digests.Deferred = len(due) - limit
		due = due[:limit]
	}
	p.trailStatuses(ctx, due)
	for _, d := range due {
		p.judgeDigest(ctx, d)
	}
}

// overdueHeads scans the heads and keeps the overdue ones of watched
// accounts whose trail validates log files, whose pair still delivers.
func (p *pass) overdueHeads(ctx context.Context) ([]*overdueHead, error) {
	var mu sync.Mutex
	var due []*overdueHead
	trails := newTrailCache(p.w.Policy)
	st, err := p.w.Heads.Scan(ctx, func(h integritywatch.Head) error {
		mu.Lock()
		defer mu.Unlock()
		p.rep.Digests.Heads++
		acct := p.enabled[h.Account]
		if acct == nil || !integritywatch.Overdue(h, time.Time{}, p.now) {
			return nil
		}
		if !p.expectsDigests(trails, acct, h.Region) {
			return nil
		}
		p.rep.Digests.Overdue++
		if p.silent(h.Account, h.Region) {
			p.rep.Digests.Silent++
			return nil
		}
		due = append(due, &overdueHead{h: h, acct: acct})
		return nil
	})
	p.rep.Digests.ReadUnits = st.ConsumedRCU
	sort.Slice(due, func(i, j int) bool {
		if !due[i].h.End.Equal(due[j].h.End) {
			return due[i].h.End.Before(due[j].h.End)
		}
		return due[i].h.Scope < due[j].h.Scope
	})
	return due, err
}

// expectsDigests reports whether the account's trail delivers digests in
// region: log file validation on, and the Region logged (a single-Region
// trail logs its home Region only; the deployment's enabled Regions, when
// listed, bound the rest).
func (p *pass) expectsDigests(trails *trailCache, acct *accounts.Account, region string) bool {
	t := trails.get(acct)
	if t != nil && !t.LogFileValidation {
		return false
	}
	if region == p.w.home(acct) {
		return true
	}
	if t != nil && !t.MultiRegion {
		return false
	}
	return len(p.w.EnabledRegions) == 0 || slices.Contains(p.w.EnabledRegions, region)
}

// silent reports whether the ledger says every delivery of the pair (or
// of the account) stopped: an open or new staleness incident.
func (p *pass) silent(account, region string) bool {
	id := incident.StaleID(account, region)
	if p.open[id] || p.open[incident.NeverID(account)] {
		return true
	}
	for _, c := range p.st.cands {
		if c.id == id && c.a.Verdict == Stale {
			return true
		}
	}
	return false
}

// trailStatuses asks each overdue chain's trail for its status, through
// the watchdog's read-only member role, a few at once.
func (p *pass) trailStatuses(ctx context.Context, due []*overdueHead) {
	w := p.w
	dg := &Diagnoser{Policy: w.Policy}
	sem := make(chan struct{}, orDefault(w.DiagnoseConcurrency, DefaultDiagnoseConcurrency))
	var wg sync.WaitGroup
	for _, d := range due {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			arn := dg.TrailARN(*d.acct, d.h.Trail)
			owner, home := d.acct.AccountID, d.h.Home
			if parts := strings.Split(arn, ":"); len(parts) > 4 && len(parts[4]) == 12 {
				home, owner = parts[3], parts[4]
			}
			cfg, err := w.Sessions.Config(ctx, owner, w.Policy.Organization.MemberRole, home)
			if err != nil {
				d.err = err
				return
			}
			d.st, d.err = w.NewTrail(cfg).GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
		}()
	}
	wg.Wait()
	p.rep.CloudTrailCalls += len(due)
}

// Kinds of an overdue chain (the stateless check's gap vocabulary).
const (
	DigestGapStopped   = "stopped"         // the trail is not logging, or is gone: informational
	DigestGapRestarted = "chain-restart"   // logging resumed recently: the new chain's first digest is not due yet
	DigestGapMissing   = "missing-digests" // the trail logs and its digests are missing: a finding
)

// JudgeDigestGap decides an overdue head h at now from the trail's status
// (st nil: statusErr says why it could not be read). It returns the kind,
// since when digests are missing, and a human reason.
func JudgeDigestGap(h integritywatch.Head, st *cloudtrail.GetTrailStatusOutput, statusErr error, now time.Time) (kind string, since time.Time, reason string) {
	last := fmt.Sprintf("no digest after %s (ended %s)", h.Key(), h.End.Format(time.RFC3339))
	switch {
	case statusErr != nil && isTrailNotFound(statusErr):
		return DigestGapStopped, h.End, last + "; the trail no longer exists"
	case statusErr != nil:
		return DigestGapMissing, h.End, last + "; the trail's status could not be read: " + statusErr.Error()
	case !aws.ToBool(st.IsLogging):
		return DigestGapStopped, h.End, last + fmt.Sprintf("; the trail is not logging (StopLoggingTime %s)", fmtTime(st.StopLoggingTime))
	}
	start := aws.ToTime(st.StartLoggingTime)
	if !integritywatch.Overdue(h, start, now) {
		return DigestGapRestarted, start, last + fmt.Sprintf("; logging restarted at %s", start.Format(time.RFC3339))
	}
	since = h.End
	if start.After(since) {
		since = start
	}
	reason = last + "; the trail is logging"
	if t := aws.ToTime(st.LatestDigestDeliveryTime); t.After(h.End) {
		reason += fmt.Sprintf("; CloudTrail reports a digest delivered at %s that trailwarden never verified", t.Format(time.RFC3339))
	}
	if e := aws.ToString(st.LatestDigestDeliveryError); e != "" {
		reason += "; latest digest delivery error: " + e
	}
	return DigestGapMissing, since, reason
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "unknown"
	}
	return t.UTC().Format(time.RFC3339)
}

// judgeDigest reports one overdue chain: a finding for missing digests,
// a log line for a stopped trail.
func (p *pass) judgeDigest(ctx context.Context, d *overdueHead) {
	w, h := p.w, d.h
	kind, since, reason := JudgeDigestGap(h, d.st, d.err, p.now)
	log := w.log().With("account", h.Account, "region", h.Region, "trail", h.Trail, "since", since, "kind", kind)
	switch kind {
	case DigestGapStopped:
		p.rep.Digests.Stopped++
		log.InfoContext(ctx, "digests stopped: the trail is not logging (not a finding)", "reason", reason)
		return
	case DigestGapRestarted:
		return
	}
	p.rep.Digests.Missing++
	fd := verifier.Finding{At: p.now, Account: h.Account, Region: h.Region, Code: verifier.CodeDigestsMissing, Bucket: h.Bucket(), Key: h.Key(),
		Reason: fmt.Sprintf("trail %s: digests missing since %s: %s", h.Trail, since.Format(time.RFC3339), reason)}
	log.WarnContext(ctx, "security finding", "code", string(fd.Code), "reason", fd.Reason)
	sent, err := w.Findings.Report(ctx, fd)
	if err != nil {
		w.failContext(ctx, &p.rep, fmt.Errorf("digests-missing finding %s %s: %w", h.Account, h.Region, err))
		return
	}
	if sent {
		p.rep.Digests.Alerted++
	}
}

func isTrailNotFound(err error) bool { return fault.IsAPIError(err, "TrailNotFoundException") }
