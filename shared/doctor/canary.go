package doctor

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Converger converges one account's trail to the policy (the enabler's
// engine with policy.Render's requests) and says how many changes it made.
type Converger interface {
	Converge(ctx context.Context, account string) (trailARN string, changes int, err error)
}

// ObjectLister lists the central bucket.
type ObjectLister interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// ArrivalReader returns the newest log file and digest times the ledger
// holds for account × Region (zero when none).
type ArrivalReader interface {
	Newest(ctx context.Context, account, region string) (log, digest time.Time, err error)
}

// Canary proves the delivery path in one member account.
type Canary struct {
	Converge Converger
	Bucket   ObjectLister
	Ledger   ArrivalReader
	Now      func() time.Time
	Sleep    func(ctx context.Context, d time.Duration) error
}

// CanaryOptions bound the canary.
type CanaryOptions struct {
	Account, Region string
	Central         Central
	Timeout, Poll   time.Duration
}

// Hop is one step of the delivery path.
type Hop struct {
	Name     string    `json:"name"`
	Done     bool      `json:"done"`
	At       time.Time `json:"at,omitzero"`
	LatencyS float64   `json:"latencySeconds,omitempty"`
	Evidence string    `json:"evidence,omitempty"`
}

// CanaryReport is what the canary saw.
type CanaryReport struct {
	Account  string    `json:"account"`
	Region   string    `json:"region"`
	Trail    string    `json:"trail"`
	Started  time.Time `json:"started"`
	Hops     []Hop     `json:"hops"`
	OK       bool      `json:"ok"`
	TimedOut bool      `json:"timedOut"`
	Detail   string    `json:"detail,omitempty"`
}

// Hop names, in order.
const (
	HopConverge     = "converge"
	HopLogBucket    = "log-file-in-bucket"
	HopLogLedger    = "log-file-in-ledger"
	HopDigestBucket = "digest-in-bucket"
	HopDigestLedger = "digest-in-ledger"
)

// Run converges the account's trail, then waits for its first log file and
// first digest in the bucket and in the ledger. It returns an error only
// when it cannot run; a timeout is a report with TimedOut set.
func (c *Canary) Run(ctx context.Context, o CanaryOptions) (*CanaryReport, error) {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	sleep := c.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	rep := &CanaryReport{Account: o.Account, Region: o.Region, Started: now().UTC()}
	for _, n := range []string{HopConverge, HopLogBucket, HopLogLedger, HopDigestBucket, HopDigestLedger} {
		rep.Hops = append(rep.Hops, Hop{Name: n})
	}
	arn, changes, err := c.Converge.Converge(ctx, o.Account)
	if err != nil {
		// A refused converge (a bucket policy that does not admit the trail,
		// a role that cannot write) is the canary's finding, not a crash.
		rep.Detail = "converge failed: " + err.Error()
		return rep, nil
	}
	rep.Trail = arn
	c.done(rep, 0, now(), fmt.Sprintf("%d change(s)", changes))
	// File names carry the minute; anything from the converge's minute on counts.
	since := rep.Started.Truncate(time.Minute)
	for {
		if err := c.poll(ctx, o, rep, since, now); err != nil {
			return nil, err
		}
		if rep.Hops[len(rep.Hops)-1].Done {
			rep.OK = true
			return rep, nil
		}
		if now().Sub(rep.Started) >= o.Timeout {
			rep.TimedOut = true
			rep.Detail = "timed out after " + o.Timeout.String() + " waiting for " + c.pending(rep)
			return rep, nil
		}
		if err := sleep(ctx, o.Poll); err != nil {
			return nil, err
		}
	}
}

func (c *Canary) done(rep *CanaryReport, i int, at time.Time, evidence string) {
	rep.Hops[i] = Hop{Name: rep.Hops[i].Name, Done: true, At: at.UTC(), LatencyS: at.Sub(rep.Started).Seconds(), Evidence: evidence}
}

func (c *Canary) pending(rep *CanaryReport) string {
	for _, h := range rep.Hops {
		if !h.Done {
			return h.Name
		}
	}
	return ""
}

// poll advances the hops in order: a digest is only looked for once a log
// file arrived (CloudTrail digests cover the hour's delivered files).
func (c *Canary) poll(ctx context.Context, o CanaryOptions, rep *CanaryReport, since time.Time, now func() time.Time) error {
	base := o.Central.LogPrefix(o.Account)
	for i := 1; i < len(rep.Hops); i++ {
		if rep.Hops[i].Done {
			continue
		}
		var evidence string
		var err error
		switch rep.Hops[i].Name {
		case HopLogBucket:
			evidence, err = c.firstObject(ctx, o.Central.Bucket, base+"CloudTrail/"+o.Region+"/", since, now())
		case HopDigestBucket:
			evidence, err = c.firstObject(ctx, o.Central.Bucket, base+"CloudTrail-Digest/"+o.Region+"/", since, now())
		case HopLogLedger, HopDigestLedger:
			evidence, err = c.ledger(ctx, o, rep.Hops[i].Name == HopLogLedger, since)
		}
		if err != nil {
			return err
		}
		if evidence == "" {
			return nil
		}
		c.done(rep, i, now(), evidence)
	}
	return nil
}

// firstObject lists the day folders from since to now and returns the key
// of the first object modified at or after since.
func (c *Canary) firstObject(ctx context.Context, bucket, prefix string, since, now time.Time) (string, error) {
	for day := since.UTC().Truncate(24 * time.Hour); !day.After(now.UTC()); day = day.Add(24 * time.Hour) {
		p := s3.NewListObjectsV2Paginator(c.Bucket, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix + day.Format("2006/01/02/"))})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return "", &AccessError{Call: "s3:ListObjectsV2 " + bucket + "/" + prefix, Err: err}
			}
			for _, obj := range out.Contents {
				if !aws.ToTime(obj.LastModified).Before(since) {
					return aws.ToString(obj.Key), nil
				}
			}
		}
	}
	return "", nil
}

func (c *Canary) ledger(ctx context.Context, o CanaryOptions, log bool, since time.Time) (string, error) {
	l, d, err := c.Ledger.Newest(ctx, o.Account, o.Region)
	if err != nil {
		return "", &AccessError{Call: "ledger read " + o.Account, Err: err}
	}
	t, kind := d, "digest"
	if log {
		t, kind = l, "log file"
	}
	if t.IsZero() || t.Before(since) {
		return "", nil
	}
	return fmt.Sprintf("newest %s in the ledger: %s", kind, t.UTC().Format(time.RFC3339)), nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
