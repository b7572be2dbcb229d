package integrity

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// sampled reports whether a log file is in the deterministic sample: the
// first byte of the SHA-256 of its key is below 16 (about 1 in 16).
func sampled(key string) bool {
	sum := sha256.Sum256([]byte(key))
	return sum[0] < 16
}

type listing struct {
	key, digest, hash, bucket string
	signed                    bool
}

// logFiles checks every log file listed by a digest of the window.
func (v *run) logFiles(ctx context.Context) error {
	var todo []listing
	seen := map[string]bool{}
	for _, sk := range v.order { // stable: a file listed twice is reported with its first digest
		for _, r := range v.scopes[sk] {
			if !r.report || r.d == nil {
				continue
			}
			for _, e := range r.d.LogFiles {
				if seen[e.S3Object] {
					continue
				}
				seen[e.S3Object] = true
				todo = append(todo, listing{e.S3Object, r.key, e.HashValue, e.S3Bucket, r.signed})
			}
		}
	}
	for _, l := range todo {
		verdict, reason, err := v.logFile(ctx, l)
		if err != nil {
			return err
		}
		v.rep.LogFiles = append(v.rep.LogFiles, LogFileResult{Key: l.key, Digest: l.digest, Verdict: verdict, Reason: reason})
	}
	return nil
}

func (v *run) logFile(ctx context.Context, l listing) (string, string, error) {
	bucket := v.opts.Bucket
	if bucket == "" {
		bucket = v.byKey[l.digest].d.S3Bucket
	}
	switch {
	case !l.signed:
		return Skipped, "listed by a digest that is not valid", nil
	case l.bucket != bucket:
		return Skipped, "in bucket " + l.bucket + ", which this run does not read", nil
	case v.opts.LogFiles == LogFilesNone:
		return Skipped, "log files not checked (--log-files none)", nil
	case v.opts.LogFiles == LogFilesSample && !sampled(l.key):
		return Skipped, "not in the sample (--log-files sample)", nil
	}
	v.total++
	defer v.progress()
	obj, err := v.src.Get(ctx, l.key)
	if errors.Is(err, ErrNotFound) {
		return Missing, "not found", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("read log file %s: %w", l.key, err)
	}
	verdict, reason := CheckLogFile(obj.Body, l.hash)
	return verdict, reason, nil
}

type cover struct{ from, to time.Time }

// unlisted reports log files present in the bucket, for an account and
// Region whose regular digests of the window cover their delivery minute,
// that no digest read lists.
func (v *run) unlisted() {
	listed := map[string]bool{}
	covers := map[[4]string]cover{}
	for sk, recs := range v.scopes {
		for _, r := range recs {
			if r.d == nil {
				continue
			}
			for _, e := range r.d.LogFiles {
				listed[e.S3Object] = true
			}
			if !r.report || sk.backfill {
				continue
			}
			g := [4]string{sk.prefix, sk.org, sk.account, sk.region}
			c, ok := covers[g]
			if !ok || r.d.StartTime.Before(c.from) {
				c.from = r.d.StartTime
			}
			if r.d.EndTime.After(c.to) {
				c.to = r.d.EndTime
			}
			covers[g] = c
		}
	}
	for key, k := range v.logs {
		if listed[key] {
			continue
		}
		c, ok := covers[[4]string{k.Prefix, k.OrgID, k.Account, k.Region}]
		// Key times are minutes: a file named for the minute a digest ends in
		// may belong to the next digest.
		if !ok || k.Time.Before(c.from.Truncate(time.Minute)) || k.Time.Add(time.Minute).After(c.to) {
			continue
		}
		v.rep.LogFiles = append(v.rep.LogFiles, LogFileResult{Key: key, Verdict: Unlisted,
			Reason: "present, but listed in no digest of the window"})
	}
}
