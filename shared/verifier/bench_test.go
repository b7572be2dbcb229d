package verifier_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/internal/cputime"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/ledgertest"
	"github.com/trailwarden/trailwarden/shared/logkey"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

// benchModel is the reference traffic model aimed at the example policy's
// bucket, prefix and organization.
func benchModel(accounts, hours int) cloudtrailsim.Model {
	m := cloudtrailsim.NewModel(accounts, 42)
	m.Hours = hours
	m.Bucket, m.Prefix, m.OrgID = "acme-org-cloudtrail", "cloudtrail", "o-a1b2c3d4e5"
	m.BucketAccount = "222222222222"
	return m
}

func memberIDs(n int) verifier.StaticMembers {
	out := make(verifier.StaticMembers, n)
	for i := range out {
		out[i] = cloudtrailsim.DefaultAccountID(i)
	}
	return out
}

// benchRecords is a realistic body mix: one hour of the reference model
// for 100 accounts (SNS envelopes of CloudTrail notifications, 10% with 2–5
// keys, and S3 Object Created events for hourly digests in 17 Regions).
var benchRecords = sync.OnceValue(func() []events.SQSMessage {
	var out []events.SQSMessage
	_ = benchModel(100, 1).Run(func(m cloudtrailsim.Message) error {
		out = append(out, events.SQSMessage{MessageId: "m-" + strconv.Itoa(len(out)), Body: string(m.Body)})
		return nil
	})
	return out
})

var benchBytes = sync.OnceValue(func() [][]byte {
	var out [][]byte
	for _, r := range benchRecords() {
		out = append(out, []byte(r.Body))
	}
	return out
})

func benchmarkJSONValid(b *testing.B) {
	bodies := benchBytes()
	for b.Loop() {
		for _, body := range bodies {
			if !json.Valid(body) {
				b.Fatal("invalid body")
			}
		}
	}
}

// BenchmarkJSONValid is the floor of any JSON consumer over the same bodies.
func BenchmarkJSONValid(b *testing.B) {
	benchmarkJSONValid(b)
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N*len(benchRecords()))
	b.ReportMetric(1e9/per, "records/s")
	b.ReportMetric(per, "ns/record")
}

// benchBatch is the deployed event source's batch size
// (infra/stacks.DeliveryBatchSize).
const benchBatch = 100

func benchProcessor(journal ledger.JournalPutAPI, now func() time.Time, members int) *verifier.Processor {
	p := &verifier.Processor{
		Rules:       verifier.Rules{Bucket: "acme-org-cloudtrail", Prefix: "cloudtrail", PrefixSet: true, OrganizationID: "o-a1b2c3d4e5"},
		ObjectCheck: verifier.CheckNone,
		Members:     &verifier.Members{Source: memberIDs(members), Now: now},
		Ledger: ledger.NewWriter(ledger.WriterOptions{Now: now,
			Journal: ledger.Journal{DB: journal, Table: "journal"}}),
		Metrics: telemetry.NewMetrics(io.Discard, "Trailwarden", "verifier"),
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError})),
		Now:     now,
	}
	p.Metrics.SetClock(now)
	return p
}

// benchPerRecord times one arm per iteration on a fresh processor, so
// every key is new to the processor that sees it (replaying the same keys
// into one processor would time the duplicate path), then json.Valid over
// the same bodies, interleaved iteration by iteration. Both are reported in
// CPU time (getrusage: all threads, the garbage collector's included)
// beside wall time, which on a shared machine counts other processes' load.
func benchPerRecord(b *testing.B, arm func(p *verifier.Processor)) {
	recs, bodies := benchRecords(), benchBytes()
	now := time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC)
	var cpuArm, cpuValid, wallArm, wallValid time.Duration
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := benchProcessor(ledgertest.NewJournal(), func() time.Time { return now }, 100)
		b.StartTimer()
		c0, w0 := cputime.Now(), time.Now()
		arm(p)
		c1, w1 := cputime.Now(), time.Now()
		b.StopTimer()
		for _, body := range bodies {
			if !json.Valid(body) {
				b.Fatal("invalid body")
			}
		}
		cpuArm, wallArm = cpuArm+c1-c0, wallArm+w1.Sub(w0)
		cpuValid, wallValid = cpuValid+cputime.Now()-c1, wallValid+time.Since(w1)
		b.StartTimer()
	}
	n := float64(b.N * len(recs))
	b.ReportMetric(n/cpuArm.Seconds(), "records/CPU-s")
	b.ReportMetric(float64(cpuArm.Nanoseconds())/n, "CPU-ns/record")
	b.ReportMetric(float64(cpuValid.Nanoseconds())/n, "json.Valid-CPU-ns/record")
	b.ReportMetric(cpuArm.Seconds()/cpuValid.Seconds(), "x-json.Valid-CPU")
	b.ReportMetric(float64(wallArm.Nanoseconds())/n, "wall-ns/record")
	b.ReportMetric(wallArm.Seconds()/wallValid.Seconds(), "x-json.Valid-wall")
}

// BenchmarkParseClassifyCoalesce is the verifier's per-record path: parse
// the body, parse and check every key (bucket, prefix, organization,
// account and Region consistency, membership from the cache) and record
// the arrival in the ledger writer's memory, for one hour of the reference
// model's 100 accounts (fresh keys), against json.Valid on the same bodies.
func BenchmarkParseClassifyCoalesce(b *testing.B) {
	recs := benchRecords()
	ctx := context.Background()
	benchPerRecord(b, func(p *verifier.Processor) {
		var bt *verifier.Batch
		for i, rec := range recs {
			if i%benchBatch == 0 {
				bt = verifier.NewBatch()
			}
			if err := p.Record(ctx, rec, bt); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHandle is the whole handler per batch of 100 (sqsbatch, the
// per-record path, the journal flush against the in-memory fakes, the EMF
// flush), for comparison.
func BenchmarkHandle(b *testing.B) {
	recs := benchRecords()
	var batches []events.SQSEvent
	for i := 0; i < len(recs); i += benchBatch {
		batches = append(batches, events.SQSEvent{Records: recs[i:min(i+benchBatch, len(recs))]})
	}
	ctx := context.Background()
	benchPerRecord(b, func(p *verifier.Processor) {
		for _, ev := range batches {
			if resp := p.Handle(ctx, ev); len(resp.BatchItemFailures) != 0 {
				b.Fatal(resp)
			}
		}
	})
}

// countingHead is a fake HeadObject that counts calls and answers with a
// healthy SSE-KMS object.
type countingHead struct{ n atomic.Int64 }

func (c *countingHead) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	c.n.Add(1)
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(1000), ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(kmsARN)}, nil
}

// countingMembers counts accounts-table scans.
type countingMembers struct {
	verifier.StaticMembers
	scans atomic.Int64
}

func (c *countingMembers) LoadMembers(ctx context.Context) (verifier.MemberSet, error) {
	c.scans.Add(1)
	return c.StaticMembers.LoadMembers(ctx)
}

// naiveLedger is the design trailwarden does not use: one conditional
// UpdateItem per delivered object.
type naiveLedger struct{ db *ledgertest.Table }

func (n *naiveLedger) write(account, region string, k logkey.Key, key string) {
	attr := ledger.PrefixLog + region
	set := "SET #t = :t, #k = :k, #u = :u ADD #c :one"
	names := map[string]string{"#t": attr, "#k": ledger.PrefixKey + region, "#u": ledger.UpdatedAtAttribute,
		"#c": ledger.PrefixCount + k.Time.Format("20060102") + "#" + region}
	values := map[string]ddbtypes.AttributeValue{":t": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(k.Time.Unix(), 10)},
		":k": &ddbtypes.AttributeValueMemberS{Value: key}, ":u": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(k.Time.Unix(), 10)},
		":one": &ddbtypes.AttributeValueMemberN{Value: "1"}}
	if k.Kind == logkey.KindDigest {
		names = map[string]string{"#t": ledger.PrefixDigest + region, "#u": ledger.UpdatedAtAttribute}
		set = "SET #t = :t, #u = :u"
		delete(values, ":k")
		delete(values, ":one")
	}
	_, _ = n.db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String("naive"), Key: map[string]ddbtypes.AttributeValue{ledger.KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: account}},
		UpdateExpression: aws.String(set), ConditionExpression: aws.String("(attribute_not_exists(#t) OR #t < :t)"),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
}

// BenchmarkLedgerModel runs the reference traffic model (17 Regions, 3
// active per account, log-normal log files per hour with median 12 and
// 90th percentile 60, hourly digests, 10% multi-key notifications, 24
// hours) through the real handler — one, two or five warm instances (the
// event source's MaximumConcurrency is 5) taking batches of 100 in turn,
// the object check sampling 1% — and the watchdog's fold every 5 minutes
// of model time (the items' one writer), against in-memory counting fakes
// of the ledger and journal tables, next to the naive
// one-write-per-object design on the same objects in the same run. Each
// instance ends with a shutdown flush (what SIGTERM writes), and the
// watchdog runs on for 80 minutes after the traffic (the last windows'
// folds). Figures are per delivered object (log and digest files); the
// model is scaled (100 and 1,000 accounts) to show that they do not depend
// on scale.
func BenchmarkLedgerModel(b *testing.B) {
	for _, c := range []struct{ accounts, instances int }{{100, 1}, {100, 2}, {1000, 2}, {1000, 5}} {
		b.Run(fmt.Sprintf("accounts=%d/instances=%d", c.accounts, c.instances), func(b *testing.B) {
			for b.Loop() {
				runModel(b, benchModel(c.accounts, 24), c.accounts, c.instances)
			}
		})
	}
}

// modelReporter is where runModel reports: a benchmark, or a test that
// discards the metrics.
type modelReporter interface {
	testing.TB
	ReportMetric(n float64, unit string)
}

type quietT struct{ *testing.T }

func (quietT) ReportMetric(float64, string) {}

// TestItemWritesDoNotGrowWithInstances runs a small model through 1, 2
// and 5 warm instances: the watchdog writes the same items whatever the
// number of instances.
func TestItemWritesDoNotGrowWithInstances(t *testing.T) {
	var writes []int
	for _, instances := range []int{1, 2, 5} {
		writes = append(writes, runModel(quietT{t}, benchModel(20, 4), 20, instances).UpdateItem)
	}
	if writes[0] == 0 || writes[1] != writes[0] || writes[2] != writes[0] {
		t.Fatalf("item writes with 1, 2 and 5 instances: %v", writes)
	}
}

// modelWatchdog runs the watchdog's ledger pass (scan and fold) every 5
// minutes of model time.
type modelWatchdog struct {
	r     *ledger.Reader
	next  time.Time
	folds ledger.FoldStats
}

func (w *modelWatchdog) until(tb testing.TB, t time.Time) {
	if w.next.IsZero() {
		w.next = t.Truncate(5 * time.Minute).Add(5 * time.Minute)
	}
	for ; !w.next.After(t); w.next = w.next.Add(5 * time.Minute) {
		st, err := w.r.Scan(context.Background(), w.next, 1, func(ledger.Item) error { return nil })
		if err != nil {
			tb.Fatal(err)
		}
		f := &w.folds
		f.Accounts, f.Conflicts, f.Failed, f.Partial = f.Accounts+st.Fold.Accounts, f.Conflicts+st.Fold.Conflicts,
			f.Failed+st.Fold.Failed, f.Partial+st.Fold.Partial
	}
}

func runModel(b modelReporter, model cloudtrailsim.Model, accounts, instances int) ledgertest.TableStats {
	var now time.Time
	// The members' background refresh reads the clock too.
	var clockNs atomic.Int64
	clock := func() time.Time { return time.Unix(0, clockNs.Load()).UTC() }
	coalescing := ledgertest.NewTable()
	journal := ledgertest.NewJournal()
	naive := &naiveLedger{db: ledgertest.NewTable()}
	head := &countingHead{}
	members := &countingMembers{StaticMembers: memberIDs(accounts)}
	procs := make([]*verifier.Processor, instances)
	for i := range procs {
		procs[i] = benchProcessor(journal, clock, accounts)
		procs[i].Members.Source = members
		procs[i].ObjectCheck, procs[i].SampleRate, procs[i].S3, procs[i].KMSKeyARN = verifier.CheckSample, 0.01, head, kmsARN
	}
	ctx := context.Background()
	var objects, messages, batches, logFiles, digests int64
	var pending []events.SQSMessage
	handle := func() {
		resp := procs[batches%int64(instances)].Handle(ctx, events.SQSEvent{Records: pending})
		if len(resp.BatchItemFailures) != 0 {
			b.Fatalf("failures in the model run: %v", resp.BatchItemFailures)
		}
		batches++
		pending = pending[:0]
	}
	wd := &modelWatchdog{r: &ledger.Reader{DB: coalescing, Table: "ledger",
		Journal: &ledger.JournalReader{DB: journal, Table: "journal", Horizon: ledger.JournalHorizon(ledger.DefaultItemInterval)},
		Fold:    &ledger.Folder{DB: coalescing, Table: "ledger", Interval: ledger.DefaultItemInterval}}}
	start := time.Now()
	err := model.Run(func(m cloudtrailsim.Message) error {
		now = m.At.Add(20 * time.Second) // delivery and polling latency
		clockNs.Store(now.UnixNano())
		wd.until(b, now)
		messages++
		for _, key := range m.Keys {
			k, err := logkey.Parse(key)
			if err != nil {
				return err
			}
			objects++
			if k.Kind == logkey.KindDigest {
				digests++
			} else {
				logFiles++
			}
			naive.write(k.Account, k.Region, k, key)
		}
		pending = append(pending, events.SQSMessage{MessageId: strconv.FormatInt(messages, 10), Body: string(m.Body)})
		if len(pending) == benchBatch {
			handle()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(pending) > 0 {
		handle()
	}
	for _, p := range procs {
		if fr := p.Shutdown(ctx); len(fr.Failed) != 0 {
			b.Fatalf("shutdown flush failed: %+v", fr)
		}
	}
	wd.until(b, now.Add(80*time.Minute))
	if f := wd.folds; f.Failed+f.Conflicts+f.Partial != 0 {
		b.Fatalf("folds %+v", f)
	}
	elapsed := time.Since(start)
	cs, js, ns := coalescing.Stats(), journal.Stats(), naive.db.Stats()
	o := float64(objects)
	b.ReportMetric(float64(cs.UpdateItem+js.PutItem)/o, "writes/object")
	b.ReportMetric((cs.WCU+js.WCU)/o, "WCU/object")
	b.ReportMetric(float64(cs.UpdateItem)/o, "item-writes/object")
	b.ReportMetric(js.WCU/o, "journal-WCU/object")
	b.ReportMetric(float64(js.Bytes)/float64(accounts)/float64(model.Hours), "journal-bytes/account-hour")
	b.ReportMetric(float64(cs.GetItem)/o, "ledger-reads/object")
	b.ReportMetric(float64(ns.UpdateItem)/o, "naive-writes/object")
	b.ReportMetric(ns.WCU/o, "naive-WCU/object")
	b.ReportMetric(float64(head.n.Load())/o, "HEAD/object")
	b.ReportMetric(float64(members.scans.Load()), "member-scans")
	b.ReportMetric(float64(cs.MaxItemBytes), "max-item-bytes")
	b.ReportMetric(float64(batches)/o, "invocations/object")
	b.ReportMetric(float64(objects)/float64(messages), "objects/message")
	b.ReportMetric(float64(cs.UpdateItem)/float64(accounts)/float64(model.Hours), "item-writes/account-hour")
	b.ReportMetric(cs.WCU/float64(accounts)/float64(model.Hours), "item-WCU/account-hour")
	b.ReportMetric(js.WCU/float64(js.PutItem), "journal-WCU/item")
	b.ReportMetric(o/float64(accounts)/float64(model.Hours), "objects/account-hour")
	b.ReportMetric(o/elapsed.Seconds(), "objects/s")
	b.Logf("accounts=%d hours=%d instances=%d: %d messages, %d objects (%d log files, %d digests), %d invocations; journal %d items (%.0f WCU, %d B, largest %d B); items %d writes by the watchdog's fold (%.0f WCU, %d conditional failures, largest %d B); naive %d writes (%.0f WCU); %d HEAD; %d member scans; %v",
		accounts, model.Hours, instances, messages, objects, logFiles, digests, batches, js.PutItem, js.WCU, js.Bytes, js.MaxItemBytes,
		cs.UpdateItem, cs.WCU, cs.ConditionalFailures, cs.MaxItemBytes,
		ns.UpdateItem, ns.WCU, head.n.Load(), members.scans.Load(), elapsed.Round(time.Millisecond))
	return cs
}
