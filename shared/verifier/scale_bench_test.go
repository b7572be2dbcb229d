package verifier_test

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/internal/cputime"
)

// discardDB accepts every write and keeps nothing: the benchmark measures
// the verifier's memory, not a fake table's.
type discardDB struct{ puts atomic.Int64 }

func (d *discardDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	d.puts.Add(1)
	return &dynamodb.PutItemOutput{}, nil
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkVerifierScale feeds ONE verifier instance one hour of the
// reference traffic model for 100,000 accounts × 17 Regions
// (TRAILWARDEN_BENCH_ACCOUNTS overrides), in batches of 100: about 8.2
// million messages, every key fresh (each is delivered once), as if this
// instance alone received the organization's traffic. The instance holds
// nothing per account between invocations (the journal carries it all);
// what it keeps is its memory of recent keys and of the pairs whose key it
// journaled lately.
//
// Reported: messages per CPU-second of Handle alone (getrusage, all
// threads: the garbage collector's work included; the model's generation
// between batches excluded); the same for json.Valid over the same bodies,
// interleaved batch by batch, and the ratio; the live heap after the hour
// (after a GC) and twice that, the heap GOGC=100 lets it reach. Run it with
// -benchtime 1x.
func BenchmarkVerifierScale(b *testing.B) {
	n := envInt("TRAILWARDEN_BENCH_ACCOUNTS", 100_000)
	for b.Loop() {
		verifierScale(b, n)
	}
}

func verifierScale(b *testing.B, n int) {
	m := benchModel(n, 1)
	cur := m.Start
	clock := func() time.Time { return cur }
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	db := &discardDB{}
	p := benchProcessor(db, clock, n)
	ctx := context.Background()
	var handleCPU, validCPU, handleWall time.Duration
	msgs := 0
	batch := make([]events.SQSMessage, 0, benchBatch)
	bodies := make([][]byte, 0, benchBatch)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		c0, w0 := cputime.Now(), time.Now()
		if resp := p.Handle(ctx, events.SQSEvent{Records: batch}); len(resp.BatchItemFailures) != 0 {
			b.Fatalf("failures %v", resp.BatchItemFailures)
		}
		c1, w1 := cputime.Now(), time.Now()
		for _, body := range bodies {
			if !json.Valid(body) {
				b.Fatal("invalid body")
			}
		}
		handleCPU += c1 - c0
		handleWall += w1.Sub(w0)
		validCPU += cputime.Now() - c1
		msgs += len(batch)
		batch, bodies = batch[:0], bodies[:0]
	}
	err := m.Run(func(msg cloudtrailsim.Message) error {
		cur = msg.At.Add(time.Minute)
		batch = append(batch, events.SQSMessage{MessageId: "m-" + strconv.Itoa(msgs+len(batch)), Body: string(msg.Body)})
		bodies = append(bodies, msg.Body)
		if len(batch) == benchBatch {
			flush()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	flush()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	live := float64(ms.HeapAlloc-min(ms.HeapAlloc, base.HeapAlloc)) / (1 << 20)
	b.ReportMetric(float64(msgs), "messages")
	b.ReportMetric(float64(msgs)/handleCPU.Seconds(), "messages/CPU-s")
	b.ReportMetric(float64(msgs)/handleWall.Seconds(), "messages/wall-s")
	b.ReportMetric(float64(handleCPU.Nanoseconds())/float64(msgs), "CPU-ns/message")
	b.ReportMetric(float64(validCPU.Nanoseconds())/float64(msgs), "json.Valid-CPU-ns/message")
	b.ReportMetric(handleCPU.Seconds()/validCPU.Seconds(), "x-json.Valid-CPU")
	b.ReportMetric(live, "live-heap-MB")
	b.ReportMetric(2*live, "GOGC100-heap-MB")
	b.ReportMetric(float64(db.puts.Load()), "journal-writes")
	runtime.KeepAlive(p)
}
