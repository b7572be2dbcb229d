package integrity

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/trailwarden/trailwarden/shared/logkey"
)

// ExpectedEvery is the cadence of regular digests while a trail logs:
// CloudTrail delivers one digest per hour per account and Region, empty or
// not ("CloudTrail digest file structure").
const ExpectedEvery = time.Hour

// MissingAfter is how long after a digest's end the next may lack before
// digests count as missing: two cadences.
const MissingAfter = 2 * ExpectedEvery

// chain checks one scope's links in order, reports restarts, and finds the
// digests that should follow the last one.
func (v *run) chain(ctx context.Context, sk scopeKey) error {
	var prev *digestRec
	for _, r := range v.scopes[sk] {
		if r.d == nil {
			prev = r
			continue
		}
		switch {
		case r.d.Restart():
			if prev != nil && !sk.backfill {
				v.gap(ctx, sk, GapChainRestart, end(prev), r.d.StartTime,
					fmt.Sprintf("a new chain starts at %s: no log files were delivered, or validation was off, since the previous digest", r.key))
			}
		case r.report:
			if err := v.link(ctx, sk, prev, r); err != nil {
				return err
			}
		}
		prev = r
	}
	if prev == nil || sk.backfill {
		return nil
	}
	last := end(prev)
	if v.opts.End.Sub(last) > MissingAfter {
		from := last
		if from.Before(v.opts.Start) {
			from = v.opts.Start
		}
		v.gap(ctx, sk, GapMissingDigests, from, v.opts.End, fmt.Sprintf(
			"no digest after %s (%s): hourly digests are expected while the chain shows no restart", prev.key, last.Format(timeLayout)))
	}
	return nil
}

// end is a digest's end time: from its body when read, else from its key.
func end(r *digestRec) time.Time {
	if r.d != nil {
		return r.d.EndTime
	}
	return r.k.Time
}

// link checks r's previous-digest fields against the digest they name.
func (v *run) link(ctx context.Context, sk scopeKey, prev, r *digestRec) error {
	target, tbucket := *r.d.PreviousDigestS3Object, *r.d.PreviousDigestS3Bucket
	t := v.byKey[target]
	if prev != nil && prev.key == target {
		t = prev
	}
	if t != nil && !t.readDone && !t.report {
		// Named, listed, but older than the window's predecessor.
		t.readDone = true
		v.total++
		if err := v.read(ctx, t); err != nil {
			return err
		}
	}
	bucket := v.opts.Bucket
	if bucket == "" {
		bucket = r.d.S3Bucket
	}
	if t == nil || !t.exists || tbucket != bucket {
		v.missingDigest(sk, prev, r, target, tbucket)
		return nil
	}
	if t.d == nil {
		return nil // t is invalid itself; the link cannot be judged
	}
	switch {
	case *r.d.PreviousDigestHashValue != t.hash:
		r.fail(Invalid, fmt.Sprintf("previousDigestHashValue does not match the SHA-256 of %s", target))
	case *r.d.PreviousDigestSignature != t.sig:
		r.fail(Invalid, fmt.Sprintf("previousDigestSignature does not match the signature of %s", target))
	case prev != nil && prev != t:
		prev.fail(Invalid, fmt.Sprintf("not in the chain: %s names %s as its previous digest", r.key, target))
	}
	return nil
}

// missingDigest reports the previous digest r names, which does not exist,
// and the gap before r.
func (v *run) missingDigest(sk scopeKey, prev, r *digestRec, target, tbucket string) {
	from := r.d.StartTime.Add(-ExpectedEvery)
	if prev != nil {
		from = end(prev)
	}
	if _, seen := v.byKey[target]; !seen || !v.byKey[target].report {
		res := DigestResult{Key: target, Bucket: tbucket, Account: sk.account, Region: sk.region, Trail: sk.trail,
			Backfill: sk.backfill, Verdict: Missing, Reason: "named as the previous digest by " + r.key + ", not found"}
		if k, err := logkey.Parse(target); err == nil && k.Kind == logkey.KindDigest {
			res.Account, res.Region, res.Trail, res.Backfill = k.Account, k.Region, k.TrailName, k.Backfill
			res.DigestEndTime = k.Time.UTC().Format(timeLayout)
		}
		v.rep.Digests = append(v.rep.Digests, res)
	}
	hours := int(math.Round(r.d.StartTime.Sub(from).Hours()))
	v.rep.Gaps = append(v.rep.Gaps, newGap(sk, GapMissingDigests, from, r.d.StartTime, fmt.Sprintf(
		"chain broken before %s: its previous digest %s is not found (about %d hourly digest(s) missing)", r.key, target, max(hours, 1))))
}

// gap records a restart or a silent tail, as GapStopped when the trail's
// status explains it.
func (v *run) gap(ctx context.Context, sk scopeKey, kind string, from, to time.Time, reason string) {
	if v.opts.Status != nil && !sk.backfill && sk.org == "" {
		if st, ok := v.opts.Status.TrailStatus(ctx, sk.account, sk.home, sk.trail); ok && st.Explains(kind, from, to) {
			kind, reason = GapStopped, fmt.Sprintf("the trail was stopped (StopLoggingTime %s, IsLogging %v)",
				st.StopLoggingTime.UTC().Format(timeLayout), st.IsLogging)
		}
	}
	v.rep.Gaps = append(v.rep.Gaps, newGap(sk, kind, from, to, reason))
}

func newGap(sk scopeKey, kind string, from, to time.Time, reason string) Gap {
	return Gap{Account: sk.account, Region: sk.region, Trail: sk.trail,
		From: from.UTC().Format(timeLayout), To: to.UTC().Format(timeLayout), Kind: kind, Reason: reason}
}
