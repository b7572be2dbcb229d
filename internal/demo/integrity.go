package demo

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/integrity"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

// integrityDemo is what the integrity steps did, for the comparison with
// `integrity verify`.
type integrityDemo struct {
	deletedLog             string   // the deleted log file
	chainAccount, chainRgn string   // the truncated chain
	goneDigests            []string // its digests deleted as they arrived
}

// deleter is the principal the demo's deletions name (an administrator of
// the logging account, from an address of the documentation range).
const deleterIP = "203.0.113.24"

func (r *run) bucketS3() *s3.Client {
	cfg := r.world.Logging.Config
	return s3.NewFromConfig(cfg, awsenv.S3Options(cfg))
}

// firstLogFile is the oldest log file of account in region.
func (r *run) firstLogFile(account, region string) (string, error) {
	var keys []string
	src := &integrity.Bucket{API: r.bucketS3(), Name: r.central.Bucket}
	err := src.List(r.ctx, r.central.KeyPrefix+"/AWSLogs/", func(k string) error {
		if strings.Contains(k, "/"+account+"/CloudTrail/"+region+"/") {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return "", fmt.Errorf("no log file of %s in %s (%v)", account, region, err)
	}
	sort.Strings(keys)
	return keys[0], nil
}

// deleteObject deletes key from the central bucket and sends S3's
// "Object Deleted" event to the delivery queue, as the central bus's
// deletion rule does.
func (r *run) deleteObject(key string) error {
	if err := cloudtrailsim.DeleteObjects(r.ctx, r.bucketS3(), r.central.Bucket, key); err != nil {
		return err
	}
	body := r.sim.DeleteObjectEvent(key, r.world.Logging.ID, deleterIP, r.clock)
	return cloudtrailsim.SendEvent(r.ctx, r.deliver.SQS, r.central.DeliveryQueueURL, body)
}

// finding returns the first security-finding alert of code for account.
func finding(alerts []alert.Alert, code verifier.Code, account string) *alert.Alert {
	for i, a := range alerts {
		if a.Kind == alert.KindSecurityFinding && a.Account == account && strings.HasPrefix(a.Reason, string(code)+":") {
			return &alerts[i]
		}
	}
	return nil
}

func (r *run) deleteLogFile(s *Step) error {
	victim := r.members["payments"]
	key, err := r.firstLogFile(victim, activeRegions[0])
	if err != nil {
		return err
	}
	if err := r.deleteObject(key); err != nil {
		return err
	}
	s.add("DeleteObject by %s from %s: %s", r.world.Logging.ID, deleterIP, key)
	if _, err := r.deliver.Drain(r.ctx, r.verifier.Handle, 10); err != nil {
		return err
	}
	alerts, err := r.alerts()
	if err != nil {
		return err
	}
	a := finding(alerts, verifier.CodeLogObjectDeleted, victim)
	if a == nil || !strings.HasSuffix(a.Detail, key) {
		return fmt.Errorf("no log-object-deleted finding for %s (alerts: %+v)", key, alerts)
	}
	s.add("ALERT %s", a.Reason)
	r.integ = &integrityDemo{deletedLog: key}
	return nil
}

func (r *run) truncateChain(s *Step) error {
	d := r.integ
	if d == nil {
		return fmt.Errorf("the log file deletion step did not run")
	}
	d.chainAccount, d.chainRgn = r.members["partner"], activeRegions[1]
	// Whoever truncates the chain deletes each new digest of the pair as
	// CloudTrail writes it, before trailwarden reads it.
	r.onDigest = func(account, region string, df cloudtrailsim.DigestFile) error {
		if account != d.chainAccount || region != d.chainRgn {
			return nil
		}
		d.goneDigests = append(d.goneDigests, df.Key)
		return r.deleteObject(df.Key)
	}
	defer func() { r.onDigest = nil }()
	s.add("from sim +%s on, each new digest of partner %s in %s is deleted as it lands", r.clock.Sub(r.simStart()).Round(time.Minute),
		d.chainAccount, d.chainRgn)
	found, err := r.untilDigestsMissing(s, d)
	if err != nil {
		return err
	}
	s.add("ALERT %s", found.Reason)
	return r.compareWithVerify(s, d)
}

// untilDigestsMissing advances the clock in 15-minute ticks (deliveries,
// verifier, watchdog pass) until the watchdog reports the chain's missing
// digests.
func (r *run) untilDigestsMissing(s *Step, d *integrityDemo) (*alert.Alert, error) {
	const every = 15 * time.Minute
	next := r.simStart().Add((r.clock.Sub(r.simStart())/every + 1) * every) // on the grid: hours fall on ticks
	for end := next.Add(4 * time.Hour); !next.After(end); next = next.Add(every) {
		if _, _, err := r.tick(next); err != nil {
			return nil, err
		}
		rep, err := r.watchdog.Run(r.ctx, next)
		if err != nil {
			return nil, err
		}
		alerts, err := r.alerts()
		if err != nil {
			return nil, err
		}
		if a := finding(alerts, verifier.CodeDigestsMissing, d.chainAccount); a != nil && len(d.goneDigests) > 0 {
			first := r.digestEnd(d.goneDigests[0])
			s.add("sim +%s watchdog pass: %d chain heads read, %d overdue, %d missing: found %s after the first deleted digest's hour ended",
				next.Sub(r.simStart()).Round(time.Minute), rep.Digests.Heads, rep.Digests.Overdue, rep.Digests.Missing, next.Sub(first).Round(time.Minute))
			if a.Region != d.chainRgn {
				return nil, fmt.Errorf("digests-missing in %s, want %s", a.Region, d.chainRgn)
			}
			return a, nil
		}
	}
	return nil, fmt.Errorf("no digests-missing finding for %s %s after 4 simulated hours", d.chainAccount, d.chainRgn)
}

// digestEnd is a digest key's end time (its file name's timestamp).
func (r *run) digestEnd(key string) time.Time {
	i := strings.LastIndexByte(key, '_')
	t, _ := time.Parse("20060102T150405Z", strings.TrimSuffix(key[i+1:], ".json.gz"))
	return t
}

// compareWithVerify runs the stateless check (`trailwarden integrity
// verify --bucket`'s source and rules) over the demo's whole window and
// requires it to say what the continuous findings said: the deleted log
// file missing, and a missing-digests gap on the truncated chain, nothing
// else failing.
func (r *run) compareWithVerify(s *Step, d *integrityDemo) error {
	rep, err := integrity.Verify(r.ctx, &integrity.Bucket{API: r.bucketS3(), Name: r.central.Bucket},
		integritywatch.CloudTrailKeys{Config: r.world.Management}, integrity.Options{Bucket: r.central.Bucket,
			Prefix: r.central.KeyPrefix, Start: r.simStart(), End: r.clock, LogFiles: integrity.LogFilesAll, KeySourceName: "ListPublicKeys"})
	if err != nil {
		return fmt.Errorf("integrity verify: %w", err)
	}
	var missingLogs, gaps []string
	for _, lf := range rep.LogFiles {
		if lf.Verdict == integrity.Missing || lf.Verdict == integrity.Invalid {
			missingLogs = append(missingLogs, lf.Verdict+" "+lf.Key)
		}
	}
	for _, g := range rep.Gaps {
		if g.Kind == integrity.GapMissingDigests {
			gaps = append(gaps, g.Account+" "+g.Region)
			s.add("integrity verify: gap %s %s %s from %s: %s", g.Kind, g.Account, g.Region, g.From, g.Reason)
		}
	}
	sum := rep.Summary
	s.add("integrity verify --bucket %s --start sim+0 --end sim+%s: %d digests valid, %d log files valid, missing %v; exit %d",
		r.central.Bucket, r.clock.Sub(r.simStart()).Round(time.Minute), sum.Digests[integrity.Valid], sum.LogFiles[integrity.Valid],
		missingLogs, map[bool]int{true: 1, false: 0}[rep.Failed()])
	switch {
	case !slices.Equal(missingLogs, []string{integrity.Missing + " " + d.deletedLog}):
		return fmt.Errorf("integrity verify finds log files %v, the continuous check %s deleted", missingLogs, d.deletedLog)
	case !slices.Equal(gaps, []string{d.chainAccount + " " + d.chainRgn}):
		return fmt.Errorf("integrity verify finds missing-digests gaps %v, the continuous check %s %s", gaps, d.chainAccount, d.chainRgn)
	case sum.Digests[integrity.Invalid]+sum.Digests[integrity.Missing] > 0 || !rep.Failed():
		return fmt.Errorf("integrity verify: digests %v, failed %v", sum.Digests, rep.Failed())
	}
	s.add("the stateless check agrees: the deleted log file is missing, the truncated chain has a missing-digests gap, nothing else fails")
	return nil
}
