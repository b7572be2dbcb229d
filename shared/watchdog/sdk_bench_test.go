package watchdog_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/internal/cputime"
	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/ledgertest"
)

// writeAV renders one attribute value as DynamoDB's JSON protocol does.
func writeAV(buf *bytes.Buffer, v ddbtypes.AttributeValue) {
	str := func(s string) { b, _ := json.Marshal(s); buf.Write(b) }
	switch x := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		buf.WriteString(`{"S":`)
		str(x.Value)
	case *ddbtypes.AttributeValueMemberN:
		buf.WriteString(`{"N":`)
		str(x.Value)
	case *ddbtypes.AttributeValueMemberB:
		buf.WriteString(`{"B":`)
		str(base64.StdEncoding.EncodeToString(x.Value))
	case *ddbtypes.AttributeValueMemberBOOL:
		fmt.Fprintf(buf, `{"BOOL":%t`, x.Value)
	case *ddbtypes.AttributeValueMemberL:
		buf.WriteString(`{"L":[`)
		for i, e := range x.Value {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeAV(buf, e)
		}
		buf.WriteByte(']')
	case *ddbtypes.AttributeValueMemberM:
		buf.WriteString(`{"M":`)
		writeItem(buf, x.Value)
	default:
		buf.WriteString(`{"NULL":true`)
	}
	buf.WriteByte('}')
}

func writeItem(buf *bytes.Buffer, item map[string]ddbtypes.AttributeValue) {
	buf.WriteByte('{')
	first := true
	for k, v := range item {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		b, _ := json.Marshal(k)
		buf.Write(b)
		buf.WriteByte(':')
		writeAV(buf, v)
	}
	buf.WriteByte('}')
}

// renderPages renders items as 1 MB response pages (item data, as
// DynamoDB pages), keyed by the request's ExclusiveStartKey value ("" for
// the first page).
func renderPages(n int, item func(i int) map[string]ddbtypes.AttributeValue, key func(map[string]ddbtypes.AttributeValue) string,
	lastKey func(map[string]ddbtypes.AttributeValue) map[string]ddbtypes.AttributeValue) map[string][]byte {
	pages := map[string][]byte{}
	start := ""
	for i := 0; i < n; {
		var buf bytes.Buffer
		buf.WriteString(`{"Items":[`)
		size, count := 0, 0
		var last map[string]ddbtypes.AttributeValue
		for ; i < n && size < pageLimit; i++ {
			it := item(i)
			if count > 0 {
				buf.WriteByte(',')
			}
			writeItem(&buf, it)
			size += ledgertest.ItemSize(it)
			count++
			last = it
		}
		fmt.Fprintf(&buf, `],"Count":%d,"ScannedCount":%d,"ConsumedCapacity":{"CapacityUnits":%g}`, count, count,
			math.Max(0.5, math.Ceil(float64(size)/4096)/2))
		if i < n {
			buf.WriteString(`,"LastEvaluatedKey":`)
			writeItem(&buf, lastKey(last))
		}
		buf.WriteByte('}')
		pages[start] = buf.Bytes()
		start = key(last)
	}
	if len(pages) == 0 {
		pages[""] = []byte(`{"Items":[],"Count":0,"ScannedCount":0}`)
	}
	return pages
}

// ddbServer answers DynamoDB's JSON protocol from pre-rendered pages: Scan
// of the ledger and accounts tables by segment, Query of the journal by
// slot; writes succeed and change nothing. Rendering happens before the
// pass, so the pass pays for the SDK's deserialization, not the fake's.
type ddbServer struct {
	pages    map[string]map[string][]byte // table#segment or journal#slot → start key → page
	requests atomic.Int64
	bytes    atomic.Int64
}

func (s *ddbServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	var in struct {
		TableName                 string
		Segment, TotalSegments    int
		ExclusiveStartKey         map[string]map[string]string
		ExpressionAttributeValues map[string]map[string]string
	}
	_ = json.Unmarshal(body, &in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	op := r.Header.Get("X-Amz-Target")
	var pageSet string
	start := ""
	switch {
	case strings.HasSuffix(op, ".Scan"):
		pageSet = in.TableName + "#" + strconv.Itoa(in.Segment)
		start = in.ExclusiveStartKey["AccountId"]["S"]
	case strings.HasSuffix(op, ".Query"):
		pageSet = "journal#" + in.ExpressionAttributeValues[":s"]["N"]
		start = in.ExclusiveStartKey["Writer"]["S"]
	default:
		_, _ = w.Write([]byte(`{}`))
		return
	}
	page, ok := s.pages[pageSet][start]
	if !ok {
		page = []byte(`{"Items":[],"Count":0,"ScannedCount":0}`)
	}
	s.bytes.Add(int64(len(page)))
	_, _ = w.Write(page)
}

// sdkWorld renders the scale world's tables for the server.
func (w *scaleWorld) render(segments int) *ddbServer {
	s := &ddbServer{pages: map[string]map[string][]byte{}}
	byAccount := func(it map[string]ddbtypes.AttributeValue) string {
		return it["AccountId"].(*ddbtypes.AttributeValueMemberS).Value
	}
	keyOnly := func(it map[string]ddbtypes.AttributeValue) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"AccountId": it["AccountId"]}
	}
	for seg := range segments {
		lo, hi := seg*w.n/segments, (seg+1)*w.n/segments
		s.pages["ledger#"+strconv.Itoa(seg)] = renderPages(hi-lo, func(i int) map[string]ddbtypes.AttributeValue { return w.ledger.item(lo + i) }, byAccount, keyOnly)
		s.pages["accounts#"+strconv.Itoa(seg)] = renderPages(hi-lo, func(i int) map[string]ddbtypes.AttributeValue { return w.accounts.item(lo + i) }, byAccount, keyOnly)
	}
	horizon := ledger.JournalHorizon(ledger.DefaultItemInterval)
	end := w.now.Truncate(ledger.JournalSlot).Add(ledger.JournalSlot)
	for slot := end.Add(-horizon - ledger.JournalSlot); !slot.After(end); slot = slot.Add(ledger.JournalSlot) {
		v := strconv.FormatInt(slot.Unix(), 10)
		out, _ := w.journal.Query(context.Background(), &dynamodb.QueryInput{ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":s": &ddbtypes.AttributeValueMemberN{Value: v}}})
		items := out.Items
		s.pages["journal#"+v] = renderPages(len(items), func(i int) map[string]ddbtypes.AttributeValue {
			return map[string]ddbtypes.AttributeValue{ledger.JournalEntriesAttribute: items[i][ledger.JournalEntriesAttribute],
				ledger.JournalWriterAttribute: items[i][ledger.JournalWriterAttribute]}
		}, func(it map[string]ddbtypes.AttributeValue) string {
			return it[ledger.JournalWriterAttribute].(*ddbtypes.AttributeValueMemberS).Value
		}, func(it map[string]ddbtypes.AttributeValue) map[string]ddbtypes.AttributeValue {
			return map[string]ddbtypes.AttributeValue{ledger.JournalSlotAttribute: &ddbtypes.AttributeValueMemberN{Value: v},
				ledger.JournalWriterAttribute: it[ledger.JournalWriterAttribute]}
		})
	}
	return s
}

// BenchmarkWatchdogPassSDK is one watchdog pass over 100,000 accounts × 17
// Regions (TRAILWARDEN_BENCH_ACCOUNTS overrides) through the real
// DynamoDB client: the accounts and ledger tables and the journal are
// served over HTTP in DynamoDB's JSON protocol (pages of 1 MB, 8 scan
// segments), so the pass pays for the SDK's deserialization as in Lambda.
// Reported: CPU time of the pass (getrusage, all threads; the local HTTP
// server's share, which only writes pre-rendered bytes, included), wall
// time, and the peak heap in use above the pre-rendered responses, sampled
// every 5 ms. Run it with -benchtime 1x.
func BenchmarkWatchdogPassSDK(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("TRAILWARDEN_BENCH_ACCOUNTS")); err == nil && v > 0 {
		n = v
	}
	w := newScaleWorld(n)
	w.fillJournal()
	srv := w.render(8)
	w.journal = nil // rendered: the fake's items are not the pass's memory
	hs := httptest.NewServer(srv)
	defer hs.Close()
	db := dynamodb.New(dynamodb.Options{BaseEndpoint: aws.String(hs.URL), Region: "us-east-1", HTTPClient: hs.Client(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
	wd := w.watchdog(8)
	wd.Accounts = &accounts.Store{DB: db, Table: "accounts"}
	wd.Ledger = &ledger.Reader{DB: db, Table: "ledger",
		Journal: &ledger.JournalReader{DB: db, Table: "journal", Horizon: ledger.JournalHorizon(ledger.DefaultItemInterval)},
		Fold:    &ledger.Folder{DB: db, Table: "ledger", Interval: ledger.DefaultItemInterval}}
	ctx := context.Background()
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	// TRAILWARDEN_BENCH_PASS_LIMIT_MB sets GOMEMLIMIT to the pre-rendered
	// responses plus that much, as the function runs with GOMEMLIMIT at
	// 90% of its memory: does the pass fit, and at what CPU?
	if mb, err := strconv.Atoi(os.Getenv("TRAILWARDEN_BENCH_PASS_LIMIT_MB")); err == nil && mb > 0 {
		debug.SetMemoryLimit(int64(base.HeapInuse) + int64(mb)<<20)
		defer debug.SetMemoryLimit(math.MaxInt64)
	}
	var peak atomic.Uint64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var cpu, wall time.Duration
	passes := 0
	for b.Loop() {
		c0, w0 := cputime.Now(), time.Now()
		rep, err := wd.Run(ctx, w.now)
		cpu, wall = cpu+cputime.Now()-c0, wall+time.Since(w0)
		passes++
		if err != nil {
			b.Fatal(err)
		}
		if rep.EnabledAccounts != n || rep.Pairs != n*len(w.model.Regions) || len(rep.Opened) != 0 || rep.Diagnoses != 0 {
			b.Fatalf("unexpected pass: accounts %d pairs %d opened %d diagnoses %d", rep.EnabledAccounts, rep.Pairs, len(rep.Opened), rep.Diagnoses)
		}
	}
	close(stop)
	<-sampled
	b.ReportMetric(cpu.Seconds()/float64(passes), "CPU-s/pass")
	b.ReportMetric(wall.Seconds()/float64(passes), "wall-s/pass")
	b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "pass-heap-MB")
	b.ReportMetric(float64(srv.bytes.Load())/float64(passes)/(1<<20), "response-MB/pass")
	b.ReportMetric(float64(srv.requests.Load())/float64(passes), "requests/pass")
}
