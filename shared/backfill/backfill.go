// Package backfill brings every ACTIVE account of the organization to the
// policy: accounts that joined before trailwarden was deployed, joined by a
// path whose event never arrived, or drifted. Two ways:
//
//   - Enqueue (the scheduled reconcile, `trailwarden backfill`): list the
//     accounts and put one converge request per account on the request
//     queue, ten per SendMessageBatch; the enabler functions converge them
//     with the concurrency the queue's event source allows.
//   - Direct (`trailwarden backfill --direct`): converge in this process
//     with a bounded pool of workers. Each worker handles one account at a
//     time, so calls to one account are never concurrent (CloudTrail's
//     mutating APIs allow about 1 TPS per account and Region); different
//     accounts proceed in parallel.
package backfill

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/workitem"
)

// Lister lists the organization's accounts.
type Lister interface {
	List(ctx context.Context) ([]orgdir.Account, error)
}

// Active lists the ACTIVE accounts, sorted by id.
func Active(ctx context.Context, l Lister) (active []orgdir.Account, inactive int, err error) {
	all, err := l.List(ctx)
	if err != nil {
		return nil, 0, err
	}
	for _, a := range all {
		if a.Active() {
			active = append(active, a)
		} else {
			inactive++
		}
	}
	sort.Slice(active, func(i, j int) bool { return active[i].ID < active[j].ID })
	return active, inactive, nil
}

// SendBatchAPI is the SQS call Enqueue makes.
type SendBatchAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Enqueue puts one converge request per account on the queue and returns
// how many were accepted. Entries SQS refuses are retried once, then
// reported in the error.
func Enqueue(ctx context.Context, q SendBatchAPI, queueURL, reason string, accts []orgdir.Account, now time.Time, progress func(done int)) (int, error) {
	sent := 0
	for start := 0; start < len(accts); start += 10 {
		end := min(start+10, len(accts))
		entries := make([]sqstypes.SendMessageBatchRequestEntry, 0, 10)
		for i, a := range accts[start:end] {
			it := workitem.New(a.ID, reason, "", now)
			it.JoinedVia = a.Joined
			body, err := it.Marshal()
			if err != nil {
				return sent, err
			}
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(body)})
		}
		for attempt := 0; attempt < 2 && len(entries) > 0; attempt++ {
			out, err := q.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
			if err != nil {
				return sent, fmt.Errorf("enqueue converge requests: %w", err)
			}
			sent += len(out.Successful)
			failedIDs := map[string]bool{}
			for _, f := range out.Failed {
				failedIDs[aws.ToString(f.Id)] = true
			}
			var retry []sqstypes.SendMessageBatchRequestEntry
			for _, e := range entries {
				if failedIDs[aws.ToString(e.Id)] {
					retry = append(retry, e)
				}
			}
			entries = retry
		}
		if len(entries) > 0 {
			return sent, fault.Retryablef("EnqueueFailed", "%d converge requests were refused by SQS", len(entries))
		}
		if progress != nil {
			progress(sent)
		}
	}
	return sent, nil
}

// Converger converges one listed account (the enabler's Processor).
type Converger interface {
	ConvergeListed(ctx context.Context, a orgdir.Account, why string) (*accounts.Outcome, error)
}

// Result is one account's line in the summary.
type Result struct {
	Account  string          `json:"account"`
	Name     string          `json:"name,omitempty"`
	OU       string          `json:"ou,omitempty"`
	Status   accounts.Status `json:"status"`
	Created  bool            `json:"created"`
	Changes  int             `json:"changes"`
	Calls    int             `json:"calls"`
	Error    string          `json:"error,omitempty"`
	Duration time.Duration   `json:"durationNs"`
}

// Summary counts results by status.
type Summary struct {
	Total, Enabled, Created, Changed, Unchanged, Excluded, Skipped, Failed int
	Elapsed                                                                time.Duration
}

// Summarize counts results.
func Summarize(rs []Result, elapsed time.Duration) Summary {
	s := Summary{Total: len(rs), Elapsed: elapsed}
	for _, r := range rs {
		switch {
		case r.Error != "":
			s.Failed++
		case r.Status == accounts.StatusEnabled:
			s.Enabled++
			switch {
			case r.Created:
				s.Created++
			case r.Changes > 0:
				s.Changed++
			default:
				s.Unchanged++
			}
		case r.Status == accounts.StatusExcluded:
			s.Excluded++
		case r.Status == accounts.StatusSkipped:
			s.Skipped++
		}
	}
	return s
}

// Direct converges every account with workers in parallel (1: a
// sequential loop). progress is called after each account, one call at a
// time.
func Direct(ctx context.Context, c Converger, accts []orgdir.Account, workers int, progress func(done int, r Result)) []Result {
	if workers < 1 {
		workers = 1
	}
	results := make([]Result, len(accts))
	jobs := make(chan int)
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				a := accts[i]
				start := time.Now()
				out, err := c.ConvergeListed(ctx, a, workitem.ReasonBackfill)
				r := Result{Account: a.ID, Name: a.Name, Duration: time.Since(start)}
				if out != nil {
					r.Status = out.Status
					if len(out.OUPath) > 0 {
						r.OU = out.OUPath[len(out.OUPath)-1]
					}
					if out.Report != nil {
						r.Created, r.Changes, r.Calls = out.Report.Created, len(out.Report.Changes), len(out.Report.Calls)
					}
				}
				if err != nil {
					r.Error = err.Error()
					if r.Status == "" {
						r.Status = accounts.StatusFailed
					}
				}
				results[i] = r
				// progress is called under the lock: callers need not be
				// safe for concurrent use, and see done counts in order.
				mu.Lock()
				done++
				if progress != nil {
					progress(done, r)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range accts {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	return results
}
