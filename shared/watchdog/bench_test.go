package watchdog_test

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/ledgertest"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

// fakeScanTable is a fake of DynamoDB's Scan over n generated items: it
// honours Segment/TotalSegments (contiguous ranges), pages at 1 MB of item
// data as DynamoDB does, and reports ConsumedCapacity as an eventually
// consistent scan is charged: 0.5 RCU per 4 KB of the page's summed item
// sizes, rounded up. Item sizes follow DynamoDB's rules (attribute name
// bytes + value bytes; a number is about 1 byte per 2 significant digits
// plus 1). Items are built on demand so 100,000 accounts fit in memory.
type fakeScanTable struct {
	n    int
	item func(i int) map[string]ddbtypes.AttributeValue

	mu           sync.Mutex
	pages, items int
	bytes        int64
	rcu          float64
}

const pageLimit = 1 << 20

func itemSize(av map[string]ddbtypes.AttributeValue) int {
	size := 0
	for name, v := range av {
		size += len(name)
		switch x := v.(type) {
		case *ddbtypes.AttributeValueMemberS:
			size += len(x.Value)
		case *ddbtypes.AttributeValueMemberN:
			digits := len(strings.TrimLeft(strings.ReplaceAll(x.Value, ".", ""), "-0"))
			size += (digits+1)/2 + 1
		case *ddbtypes.AttributeValueMemberL:
			size += 3
			for _, e := range x.Value {
				if s, ok := e.(*ddbtypes.AttributeValueMemberS); ok {
					size += len(s.Value) + 1
				}
			}
		case *ddbtypes.AttributeValueMemberB:
			size += len(x.Value)
		case *ddbtypes.AttributeValueMemberBOOL:
			size++
		default:
			size += 8
		}
	}
	return size
}

func accountIndex(id string) int {
	n, _ := strconv.ParseInt(id, 10, 64)
	return int(n - 300000000000)
}

func (f *fakeScanTable) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	seg, total := int(aws.ToInt32(in.Segment)), int(aws.ToInt32(in.TotalSegments))
	if total < 1 {
		total = 1
	}
	lo, hi := seg*f.n/total, (seg+1)*f.n/total
	if k, ok := in.ExclusiveStartKey["AccountId"].(*ddbtypes.AttributeValueMemberS); ok {
		lo = accountIndex(k.Value) + 1
	}
	out := &dynamodb.ScanOutput{}
	bytes := 0
	i := lo
	for ; i < hi && bytes < pageLimit; i++ {
		it := f.item(i)
		bytes += itemSize(it)
		out.Items = append(out.Items, it)
	}
	if i < hi {
		out.LastEvaluatedKey = map[string]ddbtypes.AttributeValue{"AccountId": out.Items[len(out.Items)-1]["AccountId"]}
	}
	rcu := math.Ceil(float64(bytes)/4096) * 0.5
	out.ConsumedCapacity = &ddbtypes.ConsumedCapacity{CapacityUnits: aws.Float64(rcu)}
	out.Count = int32(len(out.Items))
	f.mu.Lock()
	f.pages++
	f.items += len(out.Items)
	f.bytes += int64(bytes)
	f.rcu += rcu
	f.mu.Unlock()
	return out, nil
}

func (f *fakeScanTable) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{}, nil
}

func (f *fakeScanTable) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return &dynamodb.UpdateItemOutput{}, nil
}

func (f *fakeScanTable) reset() {
	f.mu.Lock()
	f.pages, f.items, f.bytes, f.rcu = 0, 0, 0, 0
	f.mu.Unlock()
}

// fakeIncidents is a fake incident store with nothing open.
type fakeIncidents struct{}

func (fakeIncidents) Active(context.Context, int) ([]incident.Incident, error) { return nil, nil }
func (fakeIncidents) Open(context.Context, incident.Incident, time.Time) (bool, error) {
	return true, nil
}
func (fakeIncidents) Watch(context.Context, incident.Incident, time.Time) error { return nil }
func (fakeIncidents) SendAlert(ctx context.Context, pub incident.Publisher, a alert.Alert, _ time.Time, _ time.Duration) (bool, error) {
	err := pub.Publish(ctx, a)
	return err == nil, err
}
func (fakeIncidents) MarkRepairRequested(context.Context, string, time.Time) error { return nil }
func (fakeIncidents) Rediagnosed(context.Context, string, time.Time, string, string, string, string) error {
	return nil
}
func (fakeIncidents) Resolve(context.Context, string, time.Time) (incident.Incident, bool, error) {
	return incident.Incident{}, false, nil
}
func (fakeIncidents) SendRecovery(ctx context.Context, pub incident.Publisher, a alert.Alert, _ time.Time, _ time.Duration) (bool, error) {
	err := pub.Publish(ctx, a)
	return err == nil, err
}
func (fakeIncidents) AttachRegion(context.Context, incident.Incident, string, time.Time) (bool, error) {
	return true, nil
}
func (fakeIncidents) DetachRegion(context.Context, string, string, time.Time) error { return nil }
func (fakeIncidents) ResolveCause(context.Context, string, time.Time, time.Time) (incident.Incident, bool, error) {
	return incident.Incident{}, false, nil
}
func (fakeIncidents) SendCause(ctx context.Context, pub incident.Publisher, id string, build func(incident.Incident) alert.Alert, _ time.Time, _ time.Duration) (bool, error) {
	err := pub.Publish(ctx, build(incident.Incident{ID: id}))
	return err == nil, err
}

// scaleWorld is an organization of n accounts in the traffic model's shape
// (cloudtrailsim.NewModel: 17 Regions, 3 active per account, median 12 log
// files per hour), as the ledger and the accounts table hold it at now.
type scaleWorld struct {
	n        int
	now      time.Time
	model    cloudtrailsim.Model
	ledger   *fakeScanTable
	accounts *fakeScanTable
	journal  *ledgertest.Journal
}

// fillJournal writes the journal a verifier fleet leaves over the readers'
// horizon, in the model's shape: every 5-minute slot, each account's 3
// active Regions deliver about 2.2 log files (the log-normal's mean of 26.4
// an hour), each in its own invocation's entry (one file counted, the
// file's name every 15 minutes), and 17/12 of its Regions deliver their
// hourly digest; invocations carry 100 entries.
func (w *scaleWorld) fillJournal() {
	w.journal = ledgertest.NewJournal()
	regions := w.model.Regions
	horizon := ledger.JournalHorizon(ledger.DefaultItemInterval)
	end := w.now.Truncate(ledger.JournalSlot)
	seq := 0
	var batch []ledger.JournalEntry
	put := func(slot time.Time) {
		if len(batch) == 0 {
			return
		}
		blob, err := ledger.EncodeJournal(batch)
		if err != nil {
			panic(err)
		}
		seq++
		_, _ = w.journal.PutItem(context.Background(), &dynamodb.PutItemInput{Item: map[string]ddbtypes.AttributeValue{
			ledger.JournalSlotAttribute:    &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(slot.Unix(), 10)},
			ledger.JournalWriterAttribute:  &ddbtypes.AttributeValueMemberS{Value: "bench#" + strconv.Itoa(seq)},
			ledger.JournalEntriesAttribute: &ddbtypes.AttributeValueMemberB{Value: blob},
			ledger.JournalExpiresAttribute: &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(slot.Add(3*time.Hour).Unix(), 10)},
		}})
		batch = batch[:0]
	}
	si := 0
	for slot := end.Add(-horizon); !slot.After(end); slot, si = slot.Add(ledger.JournalSlot), si+1 {
		for i := range w.n {
			id := cloudtrailsim.DefaultAccountID(i)
			for r, region := range regions {
				if (r+i)%len(regions) < w.model.ActiveRegionsPerAccount {
					for f := range 2 + (i+si)%5/4 { // 2.2 on average
						if t := slot.Add(time.Duration(f) * time.Minute); !t.After(w.now) {
							e := ledger.JournalEntry{Account: id, Region: region, Kind: ledger.ArrivalLog, Time: t,
								Files: [2]ledger.DayCount{{Day: uint32(t.Unix() / 86400), N: 1}}}
							if f == 0 && si%3 == 0 { // a key every 15 minutes per pair
								e.Key = t.Format("20060102T1504Z") + "_AbCdEfGhIjKlMnOp"
							}
							batch = append(batch, e)
						}
					}
				}
				if (i+r*5)%12 == si%12 { // each pair's hourly digest
					if t := slot.Add(2 * time.Minute); !t.After(w.now) {
						batch = append(batch, ledger.JournalEntry{Account: id, Region: region, Kind: ledger.ArrivalDigest, Time: t})
					}
				}
				if len(batch) >= 100 {
					put(slot)
				}
			}
		}
		put(slot)
	}
}

func newScaleWorld(n int) *scaleWorld {
	w := &scaleWorld{n: n, model: cloudtrailsim.NewModel(n, 1), now: time.Date(2026, 1, 6, 12, 2, 0, 0, time.UTC)}
	regions := w.model.Regions
	today := w.now.Truncate(24 * time.Hour)
	day, yday := today.Format("20060102"), today.Add(-24*time.Hour).Format("20060102")
	num := func(v int64) ddbtypes.AttributeValue {
		return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
	}
	// Items as the watchdog's fold writes them (packed), each folded at
	// its cut of the previous pass: this pass folds the twelfth of the
	// accounts whose cut it completes, as in the steady state.
	w.ledger = &fakeScanTable{n: n, item: func(i int) map[string]ddbtypes.AttributeValue {
		id := cloudtrailsim.DefaultAccountID(i)
		digest := w.now.Truncate(time.Hour).Add(time.Duration(i%50) * time.Second)
		rs := map[string]ledger.RegionState{}
		for r, region := range regions {
			st := ledger.RegionState{LastDigest: digest}
			if (r+i)%len(regions) < w.model.ActiveRegionsPerAccount {
				st.LastLog = w.now.Add(-time.Duration(1+i%4) * time.Minute).Truncate(time.Minute)
				st.LastKey = fmt.Sprintf("%s_CloudTrail_%s_%s_AbCdEfGhIjKlMnOp.json.gz", id, region, st.LastLog.Format("20060102T1504Z"))
				st.Counts = map[string]int64{yday: 288, day: int64(w.now.Sub(today) / (5 * time.Minute))}
			}
			rs[region] = st
		}
		packed, err := ledger.EncodeRegions(id, rs)
		if err != nil {
			panic(err) // static data
		}
		return map[string]ddbtypes.AttributeValue{"AccountId": &ddbtypes.AttributeValueMemberS{Value: id},
			ledger.PackedAttribute: &ddbtypes.AttributeValueMemberB{Value: packed},
			ledger.FoldedAttribute: num(ledger.FoldCut(id, ledger.DefaultItemInterval, w.now.Add(-5*time.Minute)).Unix()),
			"UpdatedAt":            num(w.now.Add(-3 * time.Minute).Unix())}
	}}
	// A converge report as the enabler stores it (LastReport), about 700 bytes.
	report := `{"account":"%s","trailArn":"arn:aws:cloudtrail:us-east-1:%s:trail/trailwarden","created":true,` +
		`"changes":[{"field":"trail","from":"","to":"created"},{"field":"logging","from":"false","to":"true"},` +
		`{"field":"eventSelectors","from":"","to":"management(all,-kms)"}],"calls":["DescribeTrails","CreateTrail",` +
		`"PutEventSelectors","PutInsightSelectors","AddTags","StartLogging","GetTrailStatus","GetEventSelectors",` +
		`"GetInsightSelectors","ListTags"],"writes":5,"policyHash":"sha256:0f4c2a8b3e1d5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1"}`
	enabled := w.now.Add(-30 * 24 * time.Hour)
	w.accounts = &fakeScanTable{n: n, item: func(i int) map[string]ddbtypes.AttributeValue {
		id := cloudtrailsim.DefaultAccountID(i)
		av, err := attributevalue.MarshalMap(accounts.Account{AccountID: id, Name: fmt.Sprintf("workload-%06d", i),
			Status: accounts.StatusEnabled, OUPath: []string{"ou-ab12-workloads", "ou-ab12-prod"}, PolicyHash: "sha256:0f4c2a8b",
			TrailARN: "arn:aws:cloudtrail:us-east-1:" + id + ":trail/trailwarden", HomeRegion: "us-east-1", JoinedVia: "created",
			FirstSeenAt: enabled, EnabledAt: enabled, LastConvergeAt: enabled, LastReport: fmt.Sprintf(report, id, id), UpdatedAt: enabled})
		if err != nil {
			panic(err) // static data
		}
		return av
	}}
	return w
}

func (w *scaleWorld) watchdog(segments int) *watchdog.Watchdog {
	pol := &policy.Policy{Organization: policy.Organization{HomeRegion: "us-east-1", MemberRole: "OrganizationAccountAccessRole"},
		Trail: policy.Trail{MultiRegion: true, LogFileValidation: true}}
	return &watchdog.Watchdog{
		Policy:   pol,
		Accounts: &accounts.Store{DB: w.accounts, Table: "accounts"},
		Ledger: &ledger.Reader{DB: w.ledger, Table: "ledger",
			Journal: &ledger.JournalReader{DB: w.journal, Table: "journal", Horizon: ledger.JournalHorizon(ledger.DefaultItemInterval)},
			Fold:    &ledger.Folder{DB: w.ledger, Table: "ledger", Interval: ledger.DefaultItemInterval}},
		Incidents:      fakeIncidents{},
		Cadence:        watchdog.DefaultCadence(),
		EnabledRegions: w.model.Regions,
		ScanSegments:   segments,
	}
}

func benchmarkPass(b *testing.B, n, segments int) {
	w := newScaleWorld(n)
	w.fillJournal()
	wd := w.watchdog(segments)
	ctx := context.Background()
	var rep watchdog.Report
	var before ledgertest.JournalStats
	// Peak heap in use during the passes, sampled every 5 ms (the fake
	// tables' generated items included): the function has 256 MB.
	var peak atomic.Uint64
	// The fakes' own data (the journal fake holds every item) is the
	// baseline: what a pass adds on top is what the function needs.
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop := make(chan struct{})
	sampled := make(chan struct{})
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
	for b.Loop() {
		w.ledger.reset()
		w.accounts.reset()
		before = w.journal.Stats()
		var err error
		if rep, err = wd.Run(ctx, w.now); err != nil {
			b.Fatal(err)
		}
	}
	if rep.EnabledAccounts != n || rep.Pairs != n*len(w.model.Regions) || len(rep.Opened) != 0 || rep.Diagnoses != 0 ||
		rep.Ledger.Fold.Failed+rep.Ledger.Fold.Conflicts+rep.Ledger.Fold.Partial != 0 {
		b.Fatalf("unexpected pass: accounts %d pairs %d opened %d diagnoses %d", rep.EnabledAccounts, rep.Pairs, len(rep.Opened), rep.Diagnoses)
	}
	b.ReportMetric(float64(rep.Ledger.Fold.Accounts), "folds/op")
	b.ReportMetric(float64(w.ledger.items), "ledger-items/op")
	b.ReportMetric(float64(w.ledger.pages), "ledger-pages/op")
	b.ReportMetric(float64(w.ledger.bytes)/float64(n), "ledger-B/item")
	b.ReportMetric(w.ledger.rcu, "ledger-RCU/op")
	close(stop)
	<-sampled
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "pass-heap-MB")
	js := w.journal.Stats()
	b.ReportMetric(float64(w.journal.Items()), "journal-items")
	b.ReportMetric(float64(js.Bytes)/float64(n), "journal-B/account")
	b.ReportMetric(js.RCU-before.RCU, "journal-RCU/op")
	b.ReportMetric(float64(w.accounts.pages), "accounts-pages/op")
	b.ReportMetric(float64(w.accounts.bytes)/float64(n), "accounts-B/item")
	b.ReportMetric(w.accounts.rcu, "accounts-RCU/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n)/1000, "µs/account")
}

// BenchmarkWatchdogPass10k and …100k measure one pass over 10,000 and
// 100,000 accounts × 17 Regions: what it reads (items, 1 MB pages, RCU of
// the ledger and the accounts table) and its CPU per account (decoding the
// items included). docs/watchdog.md turns these into cost and run time.
func BenchmarkWatchdogPass10k(b *testing.B)  { benchmarkPass(b, 10_000, 8) }
func BenchmarkWatchdogPass100k(b *testing.B) { benchmarkPass(b, 100_000, 8) }

// BenchmarkWatchdogAssess is the verdict alone, per account × Region.
func BenchmarkWatchdogAssess(b *testing.B) {
	c := watchdog.DefaultCadence()
	now := time.Date(2026, 1, 6, 12, 2, 0, 0, time.UTC)
	rs := ledger.RegionState{LastLog: now.Add(-2 * time.Minute), LastDigest: now.Add(-2 * time.Minute),
		Counts: map[string]int64{"20260105": 288, "20260106": 144}}
	enabled := now.Add(-30 * 24 * time.Hour)
	for b.Loop() {
		if c.Assess("us-east-1", rs, enabled, now).Verdict != watchdog.OK {
			b.Fatal("not ok")
		}
	}
}
