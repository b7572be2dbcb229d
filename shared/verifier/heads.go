package verifier

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/logkey"
	"github.com/trailwarden/trailwarden/shared/notification"
)

// DefaultHeadConcurrency bounds the object checks of one batch in flight:
// with objectCheck all, a batch of 100 notifications is about 120 HEAD
// requests, which one after the other would take most of an invocation.
const DefaultHeadConcurrency = 8

// headResult is one object check's outcome.
type headResult struct {
	code   Code
	reason string
	err    error
}

// headJob is one object to check.
type headJob struct {
	bucket, key, kmsKey string
}

// wantsHead reports whether an accepted object is checked (ObjectCheck
// and the sample).
func (p *Processor) wantsHead(o *Object) bool {
	if p.S3 == nil {
		return false
	}
	return p.ObjectCheck == CheckAll || (p.ObjectCheck == CheckSample && sampled(o.RawKey, p.SampleRate))
}

// kmsKeyFor is the key an object must be encrypted with. SSE-KMS applies
// to log files; AWS's guide to encrypting CloudTrail files with KMS keys
// says digest files are encrypted with SSE-S3. A digest is checked for
// existence and size only, so that it is accepted under either encryption.
func (p *Processor) kmsKeyFor(kind logkey.Kind) string {
	if kind != logkey.KindLog && kind != logkey.KindInsight {
		return ""
	}
	return p.KMSKeyARN
}

// prefetchHeads checks the batch's objects before its records are
// processed, at most HeadConcurrency (DefaultHeadConcurrency when 0) at
// once; record processing then reads the results. Only objects that pass
// the key rules and the sample are checked; membership is judged later (a
// foreign account's object costs one HEAD, and is then rejected anyway).
// Nothing is prefetched for a batch with fewer than two checks.
func (p *Processor) prefetchHeads(ctx context.Context, ev events.SQSEvent, now time.Time) map[string]headResult {
	if p.S3 == nil || p.ObjectCheck == CheckNone {
		return nil
	}
	var parser notification.Parser
	var jobs []headJob
	seen := map[string]bool{}
	for _, rec := range ev.Records {
		m, _ := parser.Parse(rec.Body)
		if m.Outcome != notification.OutcomeOK {
			continue
		}
		for _, key := range m.Keys {
			o := p.Rules.Check(m.Bucket, key, now)
			if seen[key] || o.Verdict != Accepted || !p.wantsHead(&o) {
				continue
			}
			seen[key] = true
			jobs = append(jobs, headJob{bucket: m.Bucket, key: key, kmsKey: p.kmsKeyFor(o.Key.Kind)})
		}
	}
	if len(jobs) < 2 {
		return nil
	}
	par := p.HeadConcurrency
	if par <= 0 {
		par = DefaultHeadConcurrency
	}
	out := make(map[string]headResult, len(jobs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, par)
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			code, reason, err := headCheck(ctx, p.S3, j.bucket, j.key, j.kmsKey)
			mu.Lock()
			out[j.key] = headResult{code: code, reason: reason, err: err}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
