package ledger_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailwarden/trailwarden/internal/cputime"
	"github.com/trailwarden/trailwarden/shared/ledger"
)

// discardJournal accepts journal writes and keeps nothing.
type discardJournal struct{}

func (discardJournal) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, nil
}

// BenchmarkRecordFlush is one invocation's Record of 100 arrivals (log
// files of 100 of 100,000 accounts) and its Flush: the work follows the
// invocation, not the organization (the writer holds nothing between
// invocations).
func BenchmarkRecordFlush(b *testing.B) {
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	w := ledger.NewWriter(ledger.WriterOptions{Now: func() time.Time { return now },
		Journal: ledger.Journal{DB: discardJournal{}, Table: "journal"}})
	ids := make([]string, 100_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("%012d", 300000000000+i)
	}
	ctx := context.Background()
	i := 0
	c0 := cputime.Now()
	for b.Loop() {
		t := now.Add(time.Duration(i/100) * time.Second).Truncate(time.Minute)
		for range 100 {
			w.Record(logOf(ids[i%len(ids)], "us-east-1", t, unique16(i)))
			i++
		}
		if fr := w.Flush(ctx); fr.Entries != 100 {
			b.Fatalf("%+v", fr)
		}
	}
	b.ReportMetric(float64((cputime.Now()-c0).Microseconds())/float64(b.N), "CPU-µs/op")
}
