package reconcile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/reconcile"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/workitem"
)

type listFunc func(context.Context) ([]orgdir.Account, error)

func (f listFunc) List(ctx context.Context) ([]orgdir.Account, error) { return f(ctx) }

type sendFunc func(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)

func (f sendFunc) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, o ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	return f(ctx, in, o...)
}

// accept accepts every entry, or refuses those whose id is in refuse.
func accept(bodies *[]string, refuse map[string]bool) sendFunc {
	return func(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
		out := &sqs.SendMessageBatchOutput{}
		for _, e := range in.Entries {
			if refuse[aws.ToString(e.Id)] {
				out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError")})
				continue
			}
			*bodies = append(*bodies, aws.ToString(e.MessageBody))
			out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id})
		}
		return out, nil
	}
}

func accountsOf(states ...string) listFunc {
	return func(context.Context) ([]orgdir.Account, error) {
		var out []orgdir.Account
		for i, s := range states {
			out = append(out, orgdir.Account{ID: fmt.Sprintf("%012d", 100+len(states)-i), State: s})
		}
		return out, nil
	}
}

func TestHandle(t *testing.T) {
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		list     listFunc
		refuse   map[string]bool
		enqueued int
		metric   float64
		wantErr  string
		logged   string
	}{
		{"active accounts only", accountsOf("ACTIVE", "SUSPENDED", "ACTIVE", "PENDING_CLOSURE", ""), nil, 3, 3, "", `"enqueued":3`},
		{"listing fails", func(context.Context) ([]orgdir.Account, error) { return nil, errors.New("throttled") }, nil, 0, -1, "throttled", `"error":"throttled"`},
		{"SQS refuses an entry twice", accountsOf("ACTIVE", "ACTIVE"), map[string]bool{"1": true}, 1, 1, "refused", `"enqueued":1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs, emf bytes.Buffer
			var bodies []string
			r := &reconcile.Reconciler{Accounts: tc.list, Queue: accept(&bodies, tc.refuse), QueueURL: "https://q",
				Metrics: telemetry.NewMetrics(&emf, "Trailwarden", "reconciler"), Logger: telemetry.NewLogger(&logs, "info"),
				Now: func() time.Time { return now }}
			// Through the runtime's JSON path, as Lambda invokes it.
			payload := []byte(`{"id":"ev-1","detail-type":"Scheduled Event","source":"aws.events","time":"2026-03-14T12:00:00Z","detail":{}}`)
			_, err := lambda.NewHandler(r.Handle).Invoke(context.Background(), payload)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if len(bodies) != tc.enqueued {
				t.Errorf("enqueued %d, want %d", len(bodies), tc.enqueued)
			}
			for _, b := range bodies {
				it, err := workitem.Parse([]byte(b))
				if err != nil || it.Reason != workitem.ReasonReconcile {
					t.Errorf("work item %s: %+v %v", b, it, err)
				}
			}
			if !strings.Contains(logs.String(), tc.logged) || !strings.Contains(logs.String(), `"eventId":"ev-1"`) {
				t.Errorf("log lacks %s and the event id:\n%s", tc.logged, logs.String())
			}
			var doc map[string]any
			if tc.metric >= 0 {
				if err := json.Unmarshal(emf.Bytes(), &doc); err != nil || doc[reconcile.MetricRequests] != tc.metric {
					t.Errorf("EMF %s = %v (%v), want %v", reconcile.MetricRequests, doc[reconcile.MetricRequests], err, tc.metric)
				}
			} else if emf.Len() != 0 {
				t.Errorf("metrics written after a failed listing: %s", emf.String())
			}
		})
	}
}
