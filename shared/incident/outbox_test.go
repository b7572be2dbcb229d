package incident_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/incident"
)

// flakyPublisher fails its first Failures publishes, then records.
type flakyPublisher struct {
	mu       sync.Mutex
	Failures int
	Sent     []alert.Alert
}

func (f *flakyPublisher) Publish(_ context.Context, a alert.Alert) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Failures > 0 {
		f.Failures--
		return errors.New("fake: SNS Publish throttled")
	}
	f.Sent = append(f.Sent, a)
	return nil
}

func newOutbox(t *testing.T, pub *flakyPublisher, at *time.Time) *incident.Outbox {
	s := newStore(t)
	return &incident.Outbox{DB: s.DB, Table: s.Table, Alerts: pub, Now: func() time.Time { return *at }}
}

// TestOutboxPublishFailureIsRetriedOnce: the first attempt fails to
// publish and says so (the caller's record is retried); the retry
// publishes; every later duplicate is quiet.
func TestOutboxPublishFailureIsRetriedOnce(t *testing.T) {
	at := now
	pub := &flakyPublisher{Failures: 1}
	o := newOutbox(t, pub, &at)
	id := incident.AlertID(alert.KindTampered, "333333333333", "evt-1")
	a := alert.Alert{Kind: alert.KindTampered, Severity: "critical", Account: "333333333333", Reason: "StopLogging"}
	sent, err := o.Send(t.Context(), id, a)
	if err == nil || sent || fault.KindOf(err) != fault.Retryable {
		t.Fatalf("first attempt: sent=%v err=%v; want a retryable error", sent, err)
	}
	for i := 0; i < 3; i++ {
		sent, err = o.Send(t.Context(), id, a)
		if err != nil || sent != (i == 0) {
			t.Fatalf("attempt %d: sent=%v err=%v", i+2, sent, err)
		}
	}
	if len(pub.Sent) != 1 || pub.Sent[0].IncidentID != id {
		t.Fatalf("published %d alerts: %+v", len(pub.Sent), pub.Sent)
	}
}

// TestOutboxConcurrentDuplicatesAlertOnce: eight deliveries of one event at
// once give one alert; those that lose the claim while the winner publishes
// are told to retry, not to acknowledge.
func TestOutboxConcurrentDuplicatesAlertOnce(t *testing.T) {
	at := now
	pub := &flakyPublisher{}
	o := newOutbox(t, pub, &at)
	id := incident.AlertID(alert.KindEnableFailed, "333333333333", "msg-1")
	var wg sync.WaitGroup
	var published atomic.Int32
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent, err := o.Send(t.Context(), id, alert.Alert{Kind: alert.KindEnableFailed, Account: "333333333333", Reason: "x"})
			if err != nil && fault.Code(err) != incident.CodeAlertInFlight {
				t.Error(err)
			}
			if sent {
				published.Add(1)
			}
		}()
	}
	wg.Wait()
	if sent, err := o.Send(t.Context(), id, alert.Alert{Kind: alert.KindEnableFailed, Account: "333333333333", Reason: "x"}); sent || err != nil {
		t.Fatalf("after the race: sent=%v err=%v", sent, err)
	}
	if published.Load() != 1 || len(pub.Sent) != 1 {
		t.Fatalf("published %d (%d alerts)", published.Load(), len(pub.Sent))
	}
}

// TestOutboxWindowAlertsAgainAfterExpiry: a finding id alerts once per
// window, and again after it.
func TestOutboxWindowAlertsAgainAfterExpiry(t *testing.T) {
	at := now
	pub := &flakyPublisher{}
	o := newOutbox(t, pub, &at)
	a := alert.Alert{Kind: alert.KindSecurityFinding, Account: "333333333333", Reason: "foreign-account"}
	for i, step := range []time.Duration{0, time.Hour, 24 * time.Hour} {
		at = at.Add(step)
		sent, err := o.SendFor(t.Context(), "finding#x", a, 24*time.Hour)
		if err != nil || sent != (i != 1) {
			t.Fatalf("step %d: sent=%v err=%v", i, sent, err)
		}
	}
}

// TestOutboxResendPublishesAStoredAlert: a publish that failed leaves the
// alert stored; Resend publishes it once, and nothing when none is owed.
func TestOutboxResendPublishesAStoredAlert(t *testing.T) {
	at := now
	pub := &flakyPublisher{Failures: 1}
	o := newOutbox(t, pub, &at)
	if sent, err := o.Resend(t.Context(), "alert#none"); sent || err != nil {
		t.Fatalf("nothing owed: sent=%v err=%v", sent, err)
	}
	a := alert.Alert{Kind: alert.KindRepaired, Account: "333333333333", Reason: "trail org-audit restored"}
	if _, err := o.Send(t.Context(), "alert#r", a); err == nil {
		t.Fatal("publish failure not reported")
	}
	for i := 0; i < 2; i++ {
		sent, err := o.Resend(t.Context(), "alert#r")
		if err != nil || sent != (i == 0) {
			t.Fatalf("resend %d: sent=%v err=%v", i, sent, err)
		}
	}
	if len(pub.Sent) != 1 || pub.Sent[0].Reason != a.Reason {
		t.Fatalf("sent %+v", pub.Sent)
	}
}

// TestIncidentAlertsShareTheOutboxDelivery: an incident's alert and its
// recovery go through the same claim → publish → mark/release: a failed
// publish releases the lease (the next attempt sends at once), and each is
// sent exactly once.
func TestIncidentAlertsShareTheOutboxDelivery(t *testing.T) {
	s := newStore(t)
	id := incident.StaleID("333333333333", "eu-west-1")
	if ok, err := s.Open(t.Context(), incident.Incident{ID: id, Kind: incident.KindStale, Account: "333333333333", Region: "eu-west-1"}, now); !ok || err != nil {
		t.Fatal(ok, err)
	}
	pub := &flakyPublisher{Failures: 1}
	a := alert.Alert{Kind: alert.KindDeliveryStopped, IncidentID: id, Reason: "logging stopped"}
	send := func(f func() (bool, error)) []bool {
		var got []bool
		for i := 0; i < 3; i++ {
			ok, err := f()
			if err != nil && fault.KindOf(err) != fault.Retryable {
				t.Fatal(err)
			}
			got = append(got, ok)
		}
		return got
	}
	if got := send(func() (bool, error) { return s.SendAlert(t.Context(), pub, a, now, time.Hour) }); got[0] || !got[1] || got[2] {
		t.Fatalf("alert attempts %v, want fail, send, quiet", got)
	}
	if _, ok, err := s.Resolve(t.Context(), id, now); !ok || err != nil {
		t.Fatal(ok, err)
	}
	pub.Failures = 1
	r := alert.Alert{Kind: alert.KindRecovered, IncidentID: id, Reason: "deliveries resumed"}
	if got := send(func() (bool, error) { return s.SendRecovery(t.Context(), pub, r, now, time.Hour) }); got[0] || !got[1] || got[2] {
		t.Fatalf("recovery attempts %v", got)
	}
	if len(pub.Sent) != 2 {
		t.Fatalf("sent %d", len(pub.Sent))
	}
}
