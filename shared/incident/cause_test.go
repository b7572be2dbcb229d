package incident_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/incident"
)

const acct = "111122223333"

type recorder struct {
	mu   sync.Mutex
	sent []alert.Alert
}

func (r *recorder) Publish(_ context.Context, a alert.Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, a)
	return nil
}

func (r *recorder) take() []alert.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sent
	r.sent = nil
	return out
}

func build(inc incident.Incident) alert.Alert {
	return alert.Alert{Kind: alert.KindDeliveryStopped, Account: inc.Account, Regions: inc.Regions, Cause: inc.Cause, Reason: inc.Summary}
}

func stopped() incident.Incident {
	return incident.Incident{ID: incident.CauseID(acct, incident.CauseStopped), Account: acct, Cause: incident.CauseStopped,
		Reason: "logging-stopped", Summary: "logging stopped", Since: now.Add(-20 * time.Minute)}
}

func tamper(event string) incident.Incident {
	return incident.Incident{ID: incident.CauseID(acct, incident.CauseTampered), Account: acct, Reason: event,
		Summary: "someone called " + event, EventName: event, EventID: "evt-" + event, Actor: "arn:aws:iam::" + acct + ":user/mallory",
		EventNames: []string{event}, Since: now}
}

// send publishes what the incident owes and returns the transitions sent.
func send(t *testing.T, s *incident.Store, r *recorder, id string, at time.Time) []string {
	t.Helper()
	if _, err := s.SendCause(t.Context(), r, id, build, at, time.Minute); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range r.take() {
		got = append(got, a.Transition+" "+join(a.Regions))
	}
	return got
}

func join(rs []string) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += ","
		}
		out += r
	}
	return out
}

func attach(t *testing.T, s *incident.Store, c incident.Incident, region string, at time.Time) bool {
	t.Helper()
	changed, err := s.AttachRegion(t.Context(), c, region, at)
	if err != nil {
		t.Fatal(err)
	}
	return changed
}

// TestCauseGroupsRegions: Regions of one account and cause make one
// incident: the Regions seen before the alert go out in one message, a
// Region added later is one update, a Region seen again (flapping) is
// none; the resolution waits until every Region delivers again and the
// quiet time has passed.
func TestCauseGroupsRegions(t *testing.T) {
	s := newStore(t)
	r := &recorder{}
	c := stopped()
	if !attach(t, s, c, "eu-west-1", now) {
		t.Fatal("the first Region opens the incident")
	}
	attach(t, s, c, "us-east-1", now) // before the alert: in the same message
	if got := send(t, s, r, c.ID, now); !slices.Equal(got, []string{"opened eu-west-1,us-east-1"}) {
		t.Fatalf("opening %v", got)
	}
	if got := send(t, s, r, c.ID, now); len(got) != 0 {
		t.Fatalf("sent again %v", got)
	}
	if !attach(t, s, c, "ap-south-1", now.Add(5*time.Minute)) {
		t.Fatal("a new Region is a material change")
	}
	if got := send(t, s, r, c.ID, now.Add(5*time.Minute)); !slices.Equal(got, []string{"updated ap-south-1,eu-west-1,us-east-1"}) {
		t.Fatalf("update %v", got)
	}
	for _, region := range []string{"eu-west-1", "us-east-1", "ap-south-1"} {
		if err := s.DetachRegion(t.Context(), c.ID, region, now.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	// Flapping: a Region stops again within the quiet time; no message.
	if attach(t, s, c, "eu-west-1", now.Add(15*time.Minute)) {
		t.Fatal("a known Region again is no material change")
	}
	if got := send(t, s, r, c.ID, now.Add(15*time.Minute)); len(got) != 0 {
		t.Fatalf("flap sent %v", got)
	}
	if _, ok, err := s.ResolveCause(t.Context(), c.ID, now.Add(50*time.Minute), now.Add(20*time.Minute)); ok || err != nil {
		t.Fatalf("resolved with an open Region: %v %v", ok, err)
	}
	if err := s.DetachRegion(t.Context(), c.ID, "eu-west-1", now.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.ResolveCause(t.Context(), c.ID, now.Add(30*time.Minute), now.Add(10*time.Minute)); ok || err != nil {
		t.Fatalf("resolved within the quiet time: %v %v", ok, err)
	}
	inc, ok, err := s.ResolveCause(t.Context(), c.ID, now.Add(50*time.Minute), now.Add(20*time.Minute))
	if !ok || err != nil || len(inc.Regions) != 3 || len(inc.OpenRegions) != 0 {
		t.Fatalf("resolve: %v %v %+v", ok, err, inc)
	}
	if sent, err := s.SendRecovery(t.Context(), r, alert.Alert{Kind: alert.KindRecovered, IncidentID: c.ID}, now.Add(50*time.Minute), time.Minute); !sent || err != nil {
		t.Fatalf("resolution: %v %v", sent, err)
	}
	if sent, _ := s.SendRecovery(t.Context(), r, alert.Alert{Kind: alert.KindRecovered, IncidentID: c.ID}, now.Add(55*time.Minute), time.Minute); sent {
		t.Fatal("resolution sent twice")
	}
}

// TestTamperAndStalenessAreOneIncident: the tamper call opens the trail
// incident; the silence it causes joins it without a message, in either
// order only the learnt cause is news; a failed repair is one update.
func TestTamperAndStalenessAreOneIncident(t *testing.T) {
	s := newStore(t)
	r := &recorder{}
	tc := tamper("StopLogging")
	if changed, err := s.AttachTamper(t.Context(), tc, now); !changed || err != nil {
		t.Fatal(changed, err)
	}
	if got := send(t, s, r, tc.ID, now); len(got) != 1 {
		t.Fatalf("tamper alert %v", got)
	}
	if attach(t, s, stopped(), "eu-west-1", now.Add(20*time.Minute)) || attach(t, s, stopped(), "us-east-1", now.Add(20*time.Minute)) {
		t.Fatal("the silence a StopLogging causes is no news")
	}
	if got := send(t, s, r, tc.ID, now.Add(20*time.Minute)); len(got) != 0 {
		t.Fatalf("staleness sent %v", got)
	}
	if changed, _ := s.AttachTamper(t.Context(), tc, now.Add(21*time.Minute)); changed {
		t.Fatal("the same call again (a redelivery) is no news")
	}
	if changed, err := s.MarkRepair(t.Context(), tc.ID, false, "AccessDenied", now.Add(22*time.Minute)); !changed || err != nil {
		t.Fatal(changed, err)
	}
	if changed, _ := s.MarkRepair(t.Context(), tc.ID, false, "AccessDenied", now.Add(23*time.Minute)); changed {
		t.Fatal("a failed retry of the repair is one update, not one per retry")
	}
	if got := send(t, s, r, tc.ID, now.Add(23*time.Minute)); len(got) != 1 || got[0] != "updated eu-west-1,us-east-1" {
		t.Fatalf("repair failed update %v", got)
	}
	inc, _, _ := s.Get(t.Context(), tc.ID)
	if inc.Cause != incident.CauseTampered || inc.EventID != "evt-StopLogging" || len(inc.OpenRegions) != 2 ||
		inc.LastChange != "the repair failed: AccessDenied" {
		t.Fatalf("incident %+v", inc)
	}

	// Staleness first: the call behind it, learnt later, is one update.
	s2 := newStore(t)
	if !attach(t, s2, stopped(), "eu-west-1", now) {
		t.Fatal("open")
	}
	send(t, s2, r, tc.ID, now)
	if changed, err := s2.AttachTamper(t.Context(), tc, now.Add(time.Minute)); !changed || err != nil {
		t.Fatal("learning the cause is news", changed, err)
	}
	inc, _, _ = s2.Get(t.Context(), tc.ID)
	if inc.Cause != incident.CauseTampered || inc.Version != 2 {
		t.Fatalf("after the call: %+v", inc)
	}
}

// TestTamperAndWatchdogRace: the enabler's tamper path and watchdog runs
// write the same incident at once: one incident, one opening alert, every
// Region recorded.
func TestTamperAndWatchdogRace(t *testing.T) {
	s := newStore(t)
	r := &recorder{}
	regions := []string{"eu-west-1", "us-east-1", "ap-south-1", "us-west-2"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	inflight := 0
	for i := 0; i < 2; i++ {
		for _, region := range regions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.AttachRegion(t.Context(), stopped(), region, now); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.AttachTamper(t.Context(), tamper("StopLogging"), now); err != nil {
				t.Error(err)
			}
			_, err := s.SendCause(t.Context(), r, incident.CauseID(acct, incident.CauseTampered), build, now, time.Minute)
			if fault.Code(err) == incident.CodeAlertInFlight {
				mu.Lock()
				inflight++
				mu.Unlock()
			} else if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	inc, _, err := s.Get(t.Context(), incident.CauseID(acct, incident.CauseStopped))
	if err != nil || inc.Cause != incident.CauseTampered || len(inc.Regions) != len(regions) || len(inc.OpenRegions) != len(regions) {
		t.Fatalf("incident %+v (%v)", inc, err)
	}
	// The watchdog's pass publishes whatever version is still owed.
	if _, err := s.SendCause(t.Context(), r, inc.ID, build, now.Add(2*time.Minute), time.Minute); err != nil {
		t.Fatal(err)
	}
	opened := 0
	for _, a := range r.take() {
		if a.Transition == alert.TransitionOpened {
			opened++
		}
	}
	inc, _, _ = s.Get(t.Context(), inc.ID)
	if inc.AlertedVersion != inc.Version || opened != 1 {
		t.Fatalf("alerted version %d of %d, %d openings (%d in flight)", inc.AlertedVersion, inc.Version, opened, inflight)
	}
}

// TestNextIncidentWaitsForTheResolution: a resolved incident whose
// resolution is still owed is not replaced by the next one of the same
// cause: the resolution goes out first, then the next incident opens (a
// new OpenedAt tells the two apart).
func TestNextIncidentWaitsForTheResolution(t *testing.T) {
	s := newStore(t)
	r := &recorder{}
	c := stopped()
	attach(t, s, c, "eu-west-1", now)
	send(t, s, r, c.ID, now)
	if err := s.DetachRegion(t.Context(), c.ID, "eu-west-1", now.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	first, ok, err := s.ResolveCause(t.Context(), c.ID, now.Add(40*time.Minute), now.Add(10*time.Minute))
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, err := s.AttachRegion(t.Context(), c, "eu-west-1", now.Add(45*time.Minute)); err == nil {
		t.Fatal("the next incident replaced one whose resolution is owed")
	}
	if sent, err := s.SendRecovery(t.Context(), r, incident.ResolutionOf(first, now.Add(45*time.Minute)), now.Add(45*time.Minute), time.Minute); !sent || err != nil {
		t.Fatal(sent, err)
	}
	if !attach(t, s, c, "eu-west-1", now.Add(50*time.Minute)) {
		t.Fatal("the next incident did not open")
	}
	next, _, _ := s.Get(t.Context(), c.ID)
	if next.Version != 1 || next.OpenedAt.Equal(first.OpenedAt) || next.AlertedVersion != 0 {
		t.Fatalf("next %+v", next)
	}
}

// A resolution keeps the incident's severity: a pager subscribed with a
// severity filter must receive the resolution of what paged it.
func TestResolutionKeepsTheSeverity(t *testing.T) {
	for _, sev := range []string{"critical", "high"} {
		inc := incident.Incident{ID: incident.CauseID("111122223333", "stopped"), Account: "111122223333", Severity: sev, State: incident.StateOpen}
		a := incident.ResolutionOf(inc, time.Unix(1_800_000_000, 0))
		if a.Severity != sev || a.Transition != alert.TransitionResolved || a.Kind != alert.KindRecovered {
			t.Errorf("resolution of a %s incident: severity %q, transition %q, kind %q", sev, a.Severity, a.Transition, a.Kind)
		}
	}
}
