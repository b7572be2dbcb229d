package verifier_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/ledgertest"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

const fixtures = "../../events/delivery"

func loadEvent(t testing.TB, name string) events.SQSEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// incidentsDB is a fake of the incidents table as the alert outbox uses
// it: the claim (no item, an expired item, or one neither sent nor leased),
// the mark and the release, and a consistent read.
type incidentsDB struct {
	mu    sync.Mutex
	items map[string]map[string]ddbtypes.AttributeValue
	fail  error
}

func avNum(av map[string]ddbtypes.AttributeValue, k string) (int64, bool) {
	n, ok := av[k].(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	v, _ := strconv.ParseInt(n.Value, 10, 64)
	return v, true
}

func (f *incidentsDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	id := in.Key["IncidentId"].(*ddbtypes.AttributeValueMemberS).Value
	it, exists := f.items[id]
	expr, vals := aws.ToString(in.UpdateExpression), in.ExpressionAttributeValues
	failed := &ddbtypes.ConditionalCheckFailedException{Message: aws.String("condition")}
	switch {
	case strings.HasPrefix(expr, "SET AlertClaimAt"):
		now, _ := avNum(vals, ":now")
		expired, _ := avNum(vals, ":expired")
		exp, hasExp := avNum(it, "ExpiresAt")
		_, sent := it["AlertedAt"]
		claim, leased := avNum(it, "AlertClaimAt")
		if exists && !(hasExp && exp < now) && (sent || (leased && claim >= expired)) {
			return nil, failed
		}
		if !exists {
			it = map[string]ddbtypes.AttributeValue{"IncidentId": in.Key["IncidentId"], "OpenedAt": vals[":now"]}
			f.items[id] = it
		}
		delete(it, "AlertedAt")
		it["AlertClaimAt"], it["ExpiresAt"], it["Body"], it["Reason"] = vals[":now"], vals[":exp"], vals[":body"], vals[":reason"]
	case !exists:
		return nil, failed
	case expr == "REMOVE AlertClaimAt":
		delete(it, "AlertClaimAt")
	case expr == "SET AlertedAt = :now":
		it["AlertedAt"] = vals[":now"]
	default:
		return nil, fmt.Errorf("fake: unexpected update %q", expr)
	}
	return &dynamodb.UpdateItemOutput{}, nil
}

func (f *incidentsDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	return &dynamodb.GetItemOutput{Item: maps.Clone(f.items[in.Key["IncidentId"].(*ddbtypes.AttributeValueMemberS).Value])}, nil
}

// sent lists the ids whose alert was published.
func (f *incidentsDB) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id, it := range f.items {
		if _, ok := it["AlertedAt"]; ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

type alerts struct {
	mu   sync.Mutex
	got  []alert.Alert
	fail error
}

func (a *alerts) Publish(_ context.Context, al alert.Alert) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.got = append(a.got, al)
	return nil
}

func (a *alerts) codes() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, al := range a.got {
		out = append(out, strings.SplitN(al.Reason, ":", 2)[0])
	}
	slices.Sort(out)
	return out
}

// headFunc fakes HeadObject.
type headFunc func(key string) (*s3.HeadObjectOutput, error)

func (f headFunc) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return f(aws.ToString(in.Key))
}

const kmsARN = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"

type rig struct {
	p       *verifier.Processor
	db      *ledgertest.Table
	journal *ledgertest.Journal
	inc     *incidentsDB
	alerts  *alerts
	logs    *bytes.Buffer
	members *verifier.Members
	now     time.Time
}

func newRig(t *testing.T) *rig {
	now := time.Date(2026, 3, 14, 14, 30, 0, 0, time.UTC)
	r := &rig{db: ledgertest.NewTable(), journal: ledgertest.NewJournal(), inc: &incidentsDB{items: map[string]map[string]ddbtypes.AttributeValue{}},
		alerts: &alerts{}, logs: &bytes.Buffer{}, now: now}
	clock := func() time.Time { return r.now }
	r.members = &verifier.Members{Source: verifier.StaticMembers{"222222222222", "333333333333", "444444444444"}, Now: clock}
	r.p = &verifier.Processor{
		Rules:       verifier.Rules{Bucket: "acme-org-cloudtrail", Prefix: "cloudtrail", PrefixSet: true, OrganizationID: "o-a1b2c3d4e5"},
		KMSKeyARN:   kmsARN,
		ObjectCheck: verifier.CheckAll,
		S3: headFunc(func(string) (*s3.HeadObjectOutput, error) {
			return &s3.HeadObjectOutput{ContentLength: aws.Int64(1234), ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(kmsARN)}, nil
		}),
		Members:  r.members,
		Ledger:   ledger.NewWriter(ledger.WriterOptions{Now: clock, Journal: ledger.Journal{DB: r.journal, Table: "journal"}}),
		Findings: &verifier.Findings{DB: r.inc, Table: "incidents", Alerts: r.alerts, Now: clock},
		Metrics:  telemetry.NewMetrics(r.logs, "Trailwarden", "verifier"),
		Logger:   telemetry.NewLogger(r.logs, "debug"),
		Now:      clock,
	}
	r.p.Metrics.SetClock(clock)
	return r
}

// fold runs the watchdog's passes every 5 minutes for the next 80
// minutes: the items get the journal's counts and newest keys.
func (r *rig) fold(t *testing.T) {
	t.Helper()
	rd := r.reader()
	rd.Fold = &ledger.Folder{DB: r.db, Table: "ledger", Interval: time.Hour}
	for at := r.now.Add(5 * time.Minute); !at.After(r.now.Add(80 * time.Minute)); at = at.Add(5 * time.Minute) {
		if _, err := rd.Scan(context.Background(), at, 1, func(ledger.Item) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
}

// reader reads the rig's ledger with its journal, as the watchdog does.
func (r *rig) reader() *ledger.Reader {
	return &ledger.Reader{DB: r.db, Table: "ledger", Journal: &ledger.JournalReader{DB: r.journal, Table: "journal"}}
}

// accounts lists the accounts the ledger (items and journal) knows.
func (r *rig) accounts(t *testing.T) []string {
	t.Helper()
	var out []string
	if _, err := r.reader().Scan(context.Background(), r.now, 1, func(it ledger.Item) error {
		out = append(out, it.AccountID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func failures(resp events.SQSEventResponse) []string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestFixtures(t *testing.T) {
	type want struct {
		failed   int      // records reported back (malformed, transient)
		findings []string // alert reason codes, sorted
		logs     int      // DeliveredLogFiles
		digests  int
		ledger   map[string][]string // account → Regions with a ledger entry
	}
	tests := map[string]want{
		"sqs-sns-envelope.json":          {logs: 1, ledger: map[string][]string{"333333333333": {"us-east-1"}}},
		"sqs-raw.json":                   {logs: 1, ledger: map[string][]string{"444444444444": {"eu-west-1"}}},
		"sqs-validation-message.json":    {},
		"sqs-multi-key.json":             {logs: 3, ledger: map[string][]string{"333333333333": {"us-east-1", "us-west-2"}}},
		"sqs-foreign-account.json":       {findings: []string{"foreign-account"}},
		"sqs-mismatched-ids.json":        {findings: []string{"account-mismatch"}},
		"sqs-wrong-bucket.json":          {findings: []string{"wrong-bucket"}},
		"sqs-wrong-prefix.json":          {findings: []string{"wrong-prefix"}},
		"sqs-digest.json":                {digests: 1, ledger: map[string][]string{"333333333333": {"us-east-1"}}},
		"sqs-digest-backfill.json":       {digests: 1, ledger: map[string][]string{"444444444444": {"ap-southeast-2"}}},
		"sqs-insight.json":               {},
		"sqs-org-trail-path.json":        {findings: []string{"wrong-prefix"}},
		"sqs-marker.json":                {},
		"sqs-s3-eventbridge-digest.json": {digests: 2, ledger: map[string][]string{"333333333333": {"us-east-1"}, "444444444444": {"us-east-1"}}},
		"sqs-truncated-json.json":        {failed: 1},
		"sqs-not-cloudtrail.json":        {findings: []string{"log-object-deleted"}},
		"sqs-mixed-batch.json": {failed: 3, logs: 2, digests: 1,
			ledger: map[string][]string{"333333333333": {"us-east-1"}, "444444444444": {"eu-west-1"}}},
	}
	entries, err := os.ReadDir(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := tests[e.Name()]; strings.HasPrefix(e.Name(), "sqs-") && !ok {
			t.Errorf("fixture %s has no expectation", e.Name())
		}
	}
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			ev := loadEvent(t, name)
			resp := r.p.Handle(context.Background(), ev)
			if got := len(resp.BatchItemFailures); got != w.failed {
				t.Errorf("failures %v, want %d\n%s", failures(resp), w.failed, r.logs)
			}
			if got := r.alerts.codes(); !slices.Equal(got, w.findings) {
				t.Errorf("findings %v, want %v\n%s", got, w.findings, r.logs)
			}
			emf := r.logs.String()
			if w.logs > 0 && !strings.Contains(emf, fmt.Sprintf(`"DeliveredLogFiles":%d`, w.logs)) && w.logs < 2 {
				t.Errorf("DeliveredLogFiles %d not in metrics:\n%s", w.logs, emf)
			}
			if w.digests > 0 && !strings.Contains(emf, fmt.Sprintf(`"DeliveredDigestFiles":%d`, w.digests)) {
				t.Errorf("DeliveredDigestFiles %d not in metrics:\n%s", w.digests, emf)
			}
			if len(w.findings) > 0 && !strings.Contains(emf, fmt.Sprintf(`"SecurityFindings":%d`, len(w.findings))) {
				t.Errorf("SecurityFindings not in metrics:\n%s", emf)
			}
			if got := r.accounts(t); len(got) != len(w.ledger) {
				t.Errorf("ledger knows accounts %v, want %d", got, len(w.ledger))
			}
			for acct, regions := range w.ledger {
				it, err := r.reader().Get(context.Background(), r.now, acct)
				if err != nil {
					t.Fatal(err)
				}
				if got := it.SortedRegions(); !slices.Equal(got, regions) {
					t.Errorf("ledger of %s: Regions %v, want %v", acct, got, regions)
				}
			}
		})
	}
}

func TestMixedBatchMetricsAndLogs(t *testing.T) {
	r := newRig(t)
	r.p.Handle(context.Background(), loadEvent(t, "sqs-mixed-batch.json"))
	// LedgerWrites 1: the batch's arrivals (two accounts) are one journal
	// item; the accounts' items wait for the item interval.
	out := r.logs.String()
	for _, want := range []string{`"MalformedNotifications":3`, `"ValidationMessages":1`, `"NotCloudTrailMessages":1`,
		`"LedgerWrites":1`, `"LedgerWriteFailures":0`, `"us-east-1":`, `"eu-west-1":`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
}

func TestFindingsAreDeduplicated(t *testing.T) {
	r := newRig(t)
	ev := loadEvent(t, "sqs-foreign-account.json")
	for i := 0; i < 3; i++ {
		if resp := r.p.Handle(context.Background(), ev); len(resp.BatchItemFailures) != 0 {
			t.Fatal(failures(resp))
		}
	}
	if got := r.alerts.codes(); len(got) != 1 {
		t.Fatalf("alerts %v, want one", got)
	}
	// A second instance (no memory) is stopped by the conditional put.
	r2 := newRig(t)
	r2.inc, r2.p.Findings.DB = r.inc, r.inc
	r2.p.Handle(context.Background(), ev)
	if got := r2.alerts.codes(); len(got) != 0 {
		t.Fatalf("second instance alerted again: %v", got)
	}
	if ids := r.inc.sent(); len(ids) != 1 || !strings.HasPrefix(ids[0], "finding#999999999999#foreign-account#") {
		t.Fatalf("incident ids: %v", ids)
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	throttle := &smithy.GenericAPIError{Code: "SlowDown", Message: "slow down"}
	t.Run("head throttled", func(t *testing.T) {
		r := newRig(t)
		r.p.S3 = headFunc(func(string) (*s3.HeadObjectOutput, error) { return nil, throttle })
		resp := r.p.Handle(context.Background(), loadEvent(t, "sqs-sns-envelope.json"))
		if len(resp.BatchItemFailures) != 1 || r.db.Len() != 0 {
			t.Fatalf("%v %d", failures(resp), r.db.Len())
		}
	})
	t.Run("alert not published", func(t *testing.T) {
		r := newRig(t)
		r.alerts.fail = errors.New("sns down")
		resp := r.p.Handle(context.Background(), loadEvent(t, "sqs-wrong-bucket.json"))
		if len(resp.BatchItemFailures) != 1 || len(r.inc.sent()) != 0 {
			t.Fatalf("failures %v, incidents %v", failures(resp), r.inc.sent())
		}
		r.alerts.fail = nil
		resp = r.p.Handle(context.Background(), loadEvent(t, "sqs-wrong-bucket.json"))
		if len(resp.BatchItemFailures) != 0 || len(r.alerts.codes()) != 1 {
			t.Fatalf("retry: failures %v, alerts %v", failures(resp), r.alerts.codes())
		}
	})
	t.Run("journal write failed", func(t *testing.T) {
		r := newRig(t)
		r.journal.Fail = &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "throttled"}
		ev := loadEvent(t, "sqs-mixed-batch.json")
		resp := r.p.Handle(context.Background(), ev)
		// 3 malformed + the 3 records that carried arrivals.
		if len(resp.BatchItemFailures) != 6 || !strings.Contains(r.logs.String(), `"LedgerWriteFailures":2`) {
			t.Fatalf("failures %v\n%s", failures(resp), r.logs)
		}
		// SQS delivers them again while the journal still fails: the
		// duplicates' times are not durable yet, so they fail again.
		if resp := r.p.Handle(context.Background(), ev); len(resp.BatchItemFailures) != 6 {
			t.Fatalf("second delivery: failures %v", failures(resp))
		}
		// The retry (SQS delivers the records again) lands in the journal.
		r.journal.Fail = nil
		if resp := r.p.Handle(context.Background(), ev); len(resp.BatchItemFailures) != 3 {
			t.Fatalf("retry: failures %v", failures(resp))
		}
		if got := r.accounts(t); len(got) != 2 {
			t.Fatalf("after the retry the ledger knows %v", got)
		}
	})
}

func TestOutOfOrderAndDuplicateDeliveries(t *testing.T) {
	r := newRig(t)
	r.p.ObjectCheck = verifier.CheckNone
	body := func(minute int, unique string) string {
		b, _ := json.Marshal(map[string]any{"s3Bucket": "acme-org-cloudtrail", "s3ObjectKey": []string{
			fmt.Sprintf("cloudtrail/AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail/us-east-1/2026/03/14/333333333333_CloudTrail_us-east-1_20260314T12%02dZ_%s.json.gz", minute, unique)}})
		return string(b)
	}
	batch := func(bodies ...string) events.SQSEvent {
		var ev events.SQSEvent
		for i, b := range bodies {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m-%d", i), Body: b})
		}
		return ev
	}
	r.p.Handle(context.Background(), batch(body(50, "AAAAAAAAAAAAAAAA"), body(10, "BBBBBBBBBBBBBBBB"), body(50, "AAAAAAAAAAAAAAAA")))
	r.p.Handle(context.Background(), batch(body(5, "CCCCCCCCCCCCCCCC")))
	r.p.Shutdown(context.Background())
	r.fold(t) // counts and the newest key reach the item when the watchdog folds the journal
	it, err := r.reader().Get(context.Background(), r.now, "333333333333")
	if err != nil {
		t.Fatal(err)
	}
	rs := it.Regions["us-east-1"]
	if rs.LastLog.Format("1504") != "1250" || rs.Counts["20260314"] != 3 || !strings.Contains(rs.LastKey, "AAAAAAAAAAAAAAAA") {
		t.Fatalf("%+v", rs)
	}
}
