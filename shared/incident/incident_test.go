package incident_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/incident"
)

func TestMain(m *testing.M) { emulator.RunTests(m) }

func newStore(t *testing.T) *incident.Store {
	t.Helper()
	emulator.Reset(t)
	cfg := emulator.Shared(t).ManagementConfig(emulator.DefaultRegion)
	db := dynamodb.NewFromConfig(cfg)
	_, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{TableName: aws.String("incidents"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(incident.KeyAttribute), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(incident.KeyAttribute), KeyType: ddbtypes.KeyTypeHash}}})
	if err != nil {
		t.Fatal(err)
	}
	return &incident.Store{DB: db, Table: "incidents"}
}

var now = time.Date(2026, 1, 6, 12, 0, 0, 0, time.UTC)

func TestOpenIsExactlyOnceUnderConcurrency(t *testing.T) {
	s := newStore(t)
	inc := incident.Incident{ID: incident.StaleID("111111111111", "eu-west-1"), Kind: incident.KindStale, Account: "111111111111",
		Region: "eu-west-1", Since: now.Add(-20 * time.Minute), Reason: "logging-stopped", Summary: "logging stopped"}
	var opened, claimed atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.Open(t.Context(), inc, now)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				opened.Add(1)
			}
			c, err := s.ClaimAlert(t.Context(), inc.ID, now, 2*time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if c {
				claimed.Add(1)
			}
		}()
	}
	wg.Wait()
	if opened.Load() != 1 || claimed.Load() != 1 {
		t.Fatalf("opened %d times, alert claimed %d times; want 1 and 1", opened.Load(), claimed.Load())
	}
	got, ok, err := s.Get(t.Context(), inc.ID)
	if err != nil || !ok || !got.Open() || !got.Since.Equal(inc.Since) || got.Reason != "logging-stopped" || !got.AlertPending() {
		t.Fatalf("stored: %+v %v %v", got, ok, err)
	}
}

func TestAlertLeaseAndRecoveryOnce(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	id := incident.NeverID("222222222222")
	if ok, err := s.Open(ctx, incident.Incident{ID: id, Kind: incident.KindNeverStarted, Account: "222222222222", Since: now}, now); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, _ := s.ClaimAlert(ctx, id, now, 2*time.Minute); !ok {
		t.Fatal("first claim refused")
	}
	// A crashed publisher: another run may claim only after the lease.
	if ok, _ := s.ClaimAlert(ctx, id, now.Add(time.Minute), 2*time.Minute); ok {
		t.Fatal("claimed during the lease")
	}
	if ok, _ := s.ClaimAlert(ctx, id, now.Add(3*time.Minute), 2*time.Minute); !ok {
		t.Fatal("lease never expires")
	}
	if err := s.MarkAlerted(ctx, id, now.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.ClaimAlert(ctx, id, now.Add(10*time.Minute), 2*time.Minute); ok {
		t.Fatal("claimed after the alert was sent")
	}
	// Re-opening an open incident does nothing.
	if ok, _ := s.Open(ctx, incident.Incident{ID: id, Kind: incident.KindNeverStarted}, now.Add(5*time.Minute)); ok {
		t.Fatal("opened twice")
	}
	res, ok, err := s.Resolve(ctx, id, now.Add(time.Hour))
	if err != nil || !ok || res.State != incident.StateResolved || !res.RecoveryPending() {
		t.Fatalf("resolve: %+v %v %v", res, ok, err)
	}
	if _, ok, _ := s.Resolve(ctx, id, now.Add(time.Hour)); ok {
		t.Fatal("resolved twice")
	}
	if ok, _ := s.ClaimRecovery(ctx, id, now.Add(time.Hour), 2*time.Minute); !ok {
		t.Fatal("recovery claim refused")
	}
	if err := s.MarkRecoveryAlerted(ctx, id, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.ClaimRecovery(ctx, id, now.Add(2*time.Hour), 2*time.Minute); ok {
		t.Fatal("recovery claimed twice")
	}
}

func TestActiveListsOnlyLiveWatchdogItems(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	put := func(id string, state incident.State, alerted, recovered bool) {
		inc := incident.Incident{ID: id, State: state}
		if alerted {
			inc.AlertedAt = now
		}
		if recovered {
			inc.RecoveredAlertedAt = now
		}
		if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: incident.Encode(inc)}); err != nil {
			t.Fatal(err)
		}
	}
	put(incident.StaleID("111111111111", "us-east-1"), incident.StateOpen, true, false)
	put(incident.StaleID("111111111111", "eu-west-1"), incident.StateWatch, false, false)
	put(incident.NeverID("222222222222"), incident.StateResolved, true, false) // recovery owed
	put(incident.NeverID("333333333333"), incident.StateResolved, true, true)  // done
	put("finding#abc", incident.StateOpen, false, false)                       // the verifier's
	got, err := s.Active(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, i := range got {
		ids = append(ids, i.ID)
	}
	if strings.Join(ids, " ") != "never#222222222222 stale#111111111111#eu-west-1 stale#111111111111#us-east-1" {
		t.Fatalf("active = %v", ids)
	}
}

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		id, kind, account, region string
		ok                        bool
	}{
		{"stale#111111111111#eu-west-1", incident.KindStale, "111111111111", "eu-west-1", true},
		{"never#111111111111", incident.KindNeverStarted, "111111111111", "", true},
		{incident.MassID, incident.KindMass, "", "", true},
		{incident.CauseID("111111111111", incident.CauseTampered), incident.KindCause, "111111111111", "", true},
		{"cause#111111111111#", "", "", "", false},
		{"cause##trail", "", "", "", false},
		{"stale#111111111111", "", "", "", false},
		{"stale##eu-west-1", "", "", "", false},
		{"never#", "", "", "", false},
		{"finding#x", "", "", "", false},
		{"", "", "", "", false},
	} {
		k, a, r, ok := incident.ParseID(tc.id)
		if k != tc.kind || a != tc.account || r != tc.region || ok != tc.ok {
			t.Errorf("ParseID(%q) = %q %q %q %v", tc.id, k, a, r, ok)
		}
	}
}

func FuzzParseID(f *testing.F) {
	f.Add("stale#111111111111#eu-west-1")
	f.Add("never#111111111111")
	f.Add("mass#organization")
	f.Add("cause#111111111111#trail")
	f.Fuzz(func(t *testing.T, id string) {
		kind, account, region, ok := incident.ParseID(id)
		if !ok {
			return
		}
		var back string
		switch kind {
		case incident.KindStale:
			back = incident.StaleID(account, region)
		case incident.KindNeverStarted:
			back = incident.NeverID(account)
		case incident.KindMass:
			back = incident.MassID
		case incident.KindCause:
			if strings.HasPrefix(id, incident.PrefixCause+account+"#") && len(id) > len(incident.PrefixCause+account+"#") {
				back = id
			}
		}
		if back != id {
			t.Fatalf("ParseID(%q) round-trips to %q", id, back)
		}
	})
}
