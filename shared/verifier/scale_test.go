package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
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
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

// rawBatch is a batch of raw notifications, one key each, for account
// 333… in us-east-1 at 12:05 on the rig's day.
func rawBatch(n int) events.SQSEvent {
	var ev events.SQSEvent
	for i := range n {
		key := fmt.Sprintf("cloudtrail/AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail/us-east-1/2026/03/14/"+
			"333333333333_CloudTrail_us-east-1_20260314T1205Z_%016d.json.gz", i)
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m-%d", i),
			Body: `{"s3Bucket":"acme-org-cloudtrail","s3ObjectKey":["` + key + `"]}`})
	}
	return ev
}

// forbidden is S3's answer to a HEAD it refuses: a 403 with no body.
func forbidden() error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 403}},
		Err: errors.New("api error Forbidden: Forbidden")}
}

// A 403 on HeadObject is a configuration error: reported once per batch,
// the objects recorded unchecked, no record retried into the DLQ.
func TestObjectCheckForbiddenIsAConfigurationError(t *testing.T) {
	r := newRig(t)
	r.p.S3 = headFunc(func(string) (*s3.HeadObjectOutput, error) { return nil, forbidden() })
	resp := r.p.Handle(context.Background(), rawBatch(3))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("records failed: %v", failures(resp))
	}
	if n := strings.Count(r.logs.String(), `"code":"ObjectCheckForbidden"`); n != 1 {
		t.Fatalf("%d configuration errors logged, want 1:\n%s", n, r.logs)
	}
	if got := r.alerts.codes(); len(got) != 0 {
		t.Fatalf("findings %v: a refused check says nothing about the object", got)
	}
	if got := r.accounts(t); len(got) != 1 {
		t.Fatalf("arrivals not recorded: %v", got)
	}
	// With ListBucket, a missing object is 404: a finding.
	r = newRig(t)
	r.p.S3 = headFunc(func(string) (*s3.HeadObjectOutput, error) {
		return nil, &s3types.NotFound{}
	})
	r.p.Handle(context.Background(), rawBatch(1))
	if got := r.alerts.codes(); len(got) != 1 || got[0] != string(verifier.CodeObjectMissing) {
		t.Fatalf("findings %v, want object-missing", got)
	}
}

// slowHeads counts HEADs in flight.
type slowHeads struct {
	inFlight, peak, calls atomic.Int64
}

func (s *slowHeads) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	s.calls.Add(1)
	n := s.inFlight.Add(1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(5 * time.Millisecond)
	s.inFlight.Add(-1)
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(1), ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(kmsARN)}, nil
}

func TestObjectChecksRunInParallelBounded(t *testing.T) {
	r := newRig(t)
	heads := &slowHeads{}
	r.p.S3 = heads
	r.p.HeadConcurrency = 4
	if resp := r.p.Handle(context.Background(), rawBatch(40)); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", failures(resp))
	}
	if heads.calls.Load() != 40 || heads.peak.Load() < 2 || heads.peak.Load() > 4 {
		t.Fatalf("%d HEADs, %d at most in flight: want 40, between 2 and 4", heads.calls.Load(), heads.peak.Load())
	}
}

// scanTable fakes the accounts table's Scan by segment, checking the
// projection.
type scanTable struct {
	t     *testing.T
	items []map[string]ddbtypes.AttributeValue
	segs  sync.Map
}

func (s *scanTable) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	proj := aws.ToString(in.ProjectionExpression)
	names := []string{}
	for _, p := range strings.Split(proj, ", ") {
		names = append(names, in.ExpressionAttributeNames[p])
	}
	if strings.Join(names, ",") != "AccountId,Status" {
		s.t.Errorf("projection %q %v, want AccountId and Status only", proj, in.ExpressionAttributeNames)
	}
	seg, total := int(aws.ToInt32(in.Segment)), int(aws.ToInt32(in.TotalSegments))
	s.segs.Store(seg, true)
	var out []map[string]ddbtypes.AttributeValue
	for i, it := range s.items {
		if total == 0 || i%total == seg {
			out = append(out, it)
		}
	}
	return &dynamodb.ScanOutput{Items: out}, nil
}

func TestTableMembersProjectsAndSkipsDeparted(t *testing.T) {
	item := func(id, status string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"AccountId": &ddbtypes.AttributeValueMemberS{Value: id},
			"Status": &ddbtypes.AttributeValueMemberS{Value: status}}
	}
	db := &scanTable{t: t, items: []map[string]ddbtypes.AttributeValue{item("111111111111", "enabled"), item("222222222222", "departed"),
		item("333333333333", "pending"), item("not-an-id", "enabled")}}
	set, err := (&verifier.TableMembers{DB: db, Table: "accounts", Segments: 3}).LoadMembers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 2 || !set.Has("111111111111") || set.Has("222222222222") || !set.Has("333333333333") {
		t.Fatalf("members %d: %v %v %v", set.Len(), set.Has("111111111111"), set.Has("222222222222"), set.Has("333333333333"))
	}
	n := 0
	db.segs.Range(func(any, any) bool { n++; return true })
	if n != 3 {
		t.Fatalf("%d segments scanned, want 3", n)
	}
}

// blockingSource blocks every load after the first until released.
type blockingSource struct {
	loads   atomic.Int64
	release chan struct{}
}

func (b *blockingSource) LoadMembers(context.Context) (verifier.MemberSet, error) {
	if b.loads.Add(1) > 1 {
		<-b.release
	}
	return verifier.NewMemberSet([]string{"333333333333"}), nil
}

// A stale cache is refreshed in the background: records do not wait for
// the scan.
func TestMembersRefreshOffTheRecordPath(t *testing.T) {
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	src := &blockingSource{release: make(chan struct{})}
	m := &verifier.Members{Source: src, Now: clock}
	if ok, err := m.IsMember(context.Background(), "333333333333"); !ok || err != nil {
		t.Fatalf("cold load: %v %v", ok, err)
	}
	mu.Lock()
	now = now.Add(10 * time.Minute)
	mu.Unlock()
	done := make(chan bool)
	go func() {
		ok, _ := m.IsMember(context.Background(), "333333333333")
		done <- ok
	}()
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("member lost")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a record waited for the refresh")
	}
	close(src.release)
	deadline := time.Now().Add(2 * time.Second)
	for m.Scans() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if m.Scans() != 2 {
		t.Fatalf("%d loads, want the background refresh", m.Scans())
	}
}

func TestCoalesceWindowIsDeprecated(t *testing.T) {
	env := map[string]string{settings.EnvAccountsTable: "accounts", settings.EnvLedgerTable: "ledger", settings.EnvJournalTable: "journal",
		settings.EnvIncidentsTable: "incidents", settings.EnvAlertsTopicARN: "arn:aws:sns:us-east-1:222222222222:alerts",
		settings.EnvPolicyFile: "policy.yaml", settings.EnvCoalesceWindow: "5m"}
	c, err := verifier.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "deprecated") {
		t.Fatalf("warnings %v", c.Warnings)
	}
}
