package watchdog_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

// transitions returns the alerts that arrived, as "kind transition regions".
func (h *harness) transitions() []string {
	var out []string
	for _, a := range h.alerts() {
		out = append(out, a.Kind+" "+a.Transition+" "+join(a.Regions))
	}
	return out
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

// TestFlappingRegionIsOneIncident: a busy Region stops, resumes and stops
// again within the quiet time: one alert, no second alert and no
// resolution in between; one resolution after it stays up.
func TestFlappingRegionIsOneIncident(t *testing.T) {
	h := newHarness(t, "busy")
	ctx := t.Context()
	busy := h.enable("busy", t0.Add(-72*time.Hour))
	h.busy(busy, h.home, t0)
	h.putLedger(busy, quietRegion, time.Time{}, t0.Truncate(time.Hour), nil)
	stop := func() {
		if _, err := h.memberTrail(busy).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")}); err != nil {
			t.Fatal(err)
		}
	}
	start := func() {
		if _, err := h.memberTrail(busy).StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("org-audit")}); err != nil {
			t.Fatal(err)
		}
	}
	digests := func(at time.Time) {
		if d := at.Truncate(time.Hour).Add(3 * time.Minute); !d.After(at) {
			h.putLedger(busy, quietRegion, time.Time{}, d, nil)
		}
	}
	var got []string
	// Stop at t0: detected by +20 min.
	stop()
	for at := t0.Add(5 * time.Minute); at.Sub(t0) <= 20*time.Minute; at = at.Add(5 * time.Minute) {
		digests(at)
		h.run(at)
		got = append(got, h.transitions()...)
	}
	// Resumes at +22, delivers until +30, stops again; detected again.
	start()
	for _, at := range []time.Duration{25, 30} {
		h.busy(busy, h.home, t0.Add((at-3)*time.Minute))
		digests(t0.Add(at * time.Minute))
		h.run(t0.Add(at * time.Minute))
		got = append(got, h.transitions()...)
	}
	stop()
	for at := t0.Add(35 * time.Minute); at.Sub(t0) <= 55*time.Minute; at = at.Add(5 * time.Minute) {
		digests(at)
		h.run(at)
		got = append(got, h.transitions()...)
	}
	if !slices.Equal(got, []string{"delivery-stopped opened " + h.home}) {
		t.Fatalf("before it stays up: %v", got)
	}
	// Up for good from +57: one resolution after the quiet time.
	start()
	var resolvedAt time.Time
	for at := t0.Add(60 * time.Minute); at.Sub(t0) <= 100*time.Minute; at = at.Add(5 * time.Minute) {
		h.busy(busy, h.home, at.Add(-3*time.Minute))
		digests(at)
		h.run(at)
		for _, tr := range h.transitions() {
			if tr != "recovered resolved "+h.home || !resolvedAt.IsZero() {
				t.Fatalf("at %s: %s", at, tr)
			}
			resolvedAt = at
		}
	}
	if resolvedAt.IsZero() {
		t.Fatal("no resolution")
	}
}

// TestStalenessJoinsTamperIncident: the enabler's tamper incident is open
// (its alert sent); the silence the call causes in two Regions joins it:
// no second alert; the watchdog resolves it with one message.
func TestStalenessJoinsTamperIncident(t *testing.T) {
	h := newHarness(t, "busy")
	ctx := t.Context()
	busy := h.enable("busy", t0.Add(-72*time.Hour))
	for _, r := range []string{h.home, quietRegion} {
		h.busy(busy, r, t0)
	}
	store := h.wd.Incidents.(*incident.Store)
	id := incident.CauseID(busy, incident.CauseTampered)
	tamper := incident.Incident{ID: id, Account: busy, Reason: "StopLogging", Summary: "mallory called StopLogging", Severity: "critical",
		EventName: "StopLogging", EventID: "evt-1", Actor: "arn:aws:iam::" + busy + ":user/mallory", EventNames: []string{"StopLogging"},
		Since: t0.Add(time.Minute)}
	if _, err := store.AttachTamper(ctx, tamper, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if sent, err := store.SendCause(ctx, h.wd.Alerts, id, incident.AlertOf, t0.Add(time.Minute), time.Minute); !sent || err != nil {
		t.Fatal(sent, err)
	}
	if got := h.transitions(); !slices.Equal(got, []string{"trail-tampered opened "}) {
		t.Fatalf("tamper alert %v", got)
	}
	if _, err := h.memberTrail(busy).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	opened := 0
	for at := t0.Add(5 * time.Minute); at.Sub(t0) <= 30*time.Minute; at = at.Add(5 * time.Minute) {
		opened += len(h.run(at).Opened)
		if got := h.transitions(); len(got) != 0 {
			t.Fatalf("at %s the silence alerted again: %v", at, got)
		}
	}
	inc, _, err := store.Get(ctx, id)
	if err != nil || opened != 2 || len(inc.Regions) != 2 || inc.Cause != incident.CauseTampered || inc.AlertedVersion != inc.Version {
		t.Fatalf("opened %d; incident %+v (%v)", opened, inc, err)
	}
	// Repaired (a converge restarts logging); every Region delivers again.
	if _, err := h.memberTrail(busy).StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.MarkRepair(ctx, id, true, "restored logging", t0.Add(31*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var got []alert.Alert
	for at := t0.Add(35 * time.Minute); at.Sub(t0) <= 75*time.Minute; at = at.Add(5 * time.Minute) {
		for _, r := range []string{h.home, quietRegion} {
			h.busy(busy, r, at.Add(-2*time.Minute))
		}
		h.run(at)
		got = append(got, h.alerts()...)
	}
	if len(got) != 1 || got[0].Transition != alert.TransitionResolved || got[0].Cause != incident.CauseTampered ||
		len(got[0].Regions) != 2 || got[0].Event == nil || got[0].Event.ID != "evt-1" {
		t.Fatalf("resolution %+v", got)
	}
	if want := watchdog.DefaultResolveQuiet; got[0].At.Sub(t0.Add(35*time.Minute)) < want {
		t.Fatalf("resolved at %s, before the quiet time %s", got[0].At, want)
	}
}

// failAttachMark loses the write that records a Region's attach (the
// per-Region item's AlertedAt), once.
type failAttachMark struct {
	incident.API
	failed bool
}

func (f *failAttachMark) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if !f.failed && aws.ToString(in.UpdateExpression) == "SET AlertedAt = :now" {
		f.failed = true
		return nil, errors.New("fake: DynamoDB UpdateItem: InternalServerError")
	}
	return f.API.UpdateItem(ctx, in, opts...)
}

// TestLostAttachMarkStillResolves: the Region was attached but the mark
// was lost and the Region recovered before a later pass re-attached it:
// the Region is still detached, and the incident resolves once.
func TestLostAttachMarkStillResolves(t *testing.T) {
	h := newHarness(t, "busy")
	ctx := t.Context()
	busy := h.enable("busy", t0.Add(-72*time.Hour))
	h.busy(busy, h.home, t0)
	h.putLedger(busy, quietRegion, time.Time{}, t0.Truncate(time.Hour), nil)
	store := h.wd.Incidents.(*incident.Store)
	h.wd.Incidents = &incident.Store{DB: &failAttachMark{API: store.DB}, Table: store.Table}
	h.wd.AlertLease = time.Hour // the lost mark's lease outlives the recovery
	if _, err := h.memberTrail(busy).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	for at := t0.Add(5 * time.Minute); at.Sub(t0) <= 20*time.Minute; at = at.Add(5 * time.Minute) {
		h.run(at)
	}
	if got := h.transitions(); len(got) != 1 {
		t.Fatalf("opening %v", got)
	}
	if _, err := h.memberTrail(busy).StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for at := t0.Add(25 * time.Minute); at.Sub(t0) <= 70*time.Minute; at = at.Add(5 * time.Minute) {
		h.busy(busy, h.home, at.Add(-2*time.Minute))
		if d := at.Truncate(time.Hour).Add(3 * time.Minute); !d.After(at) {
			h.putLedger(busy, quietRegion, time.Time{}, d, nil)
		}
		h.run(at)
		got = append(got, h.transitions()...)
	}
	if !slices.Equal(got, []string{"recovered resolved " + h.home}) {
		t.Fatalf("after the recovery: %v", got)
	}
}

// TestRediagnosisKeepsTheRegionsIncident: a per-Region item remembers the
// incident it joined; a later diagnosis of another cause does not move its
// Region (the recovery detaches it from the incident it is in).
func TestRediagnosisKeepsTheRegionsIncident(t *testing.T) {
	h := newHarness(t, "busy")
	ctx := t.Context()
	busy := h.enable("busy", t0.Add(-72*time.Hour))
	h.busy(busy, h.home, t0)
	h.putLedger(busy, quietRegion, time.Time{}, t0.Truncate(time.Hour), nil)
	if _, err := h.memberTrail(busy).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	for at := t0.Add(5 * time.Minute); at.Sub(t0) <= 20*time.Minute; at = at.Add(5 * time.Minute) {
		h.run(at)
	}
	store := h.wd.Incidents.(*incident.Store)
	pair := incident.StaleID(busy, h.home)
	if err := store.Rediagnosed(ctx, pair, t0.Add(21*time.Minute), watchdog.ReasonBucketDelivery, "bucket refuses", "", ""); err != nil {
		t.Fatal(err)
	}
	inc, _, err := store.Get(ctx, pair)
	if err != nil || inc.Group != incident.CauseID(busy, incident.CauseStopped) || inc.Reason != watchdog.ReasonBucketDelivery {
		t.Fatalf("pair %+v (%v)", inc, err)
	}
	h.alerts()
	if _, err := h.memberTrail(busy).StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for at := t0.Add(25 * time.Minute); at.Sub(t0) <= 70*time.Minute; at = at.Add(5 * time.Minute) {
		h.busy(busy, h.home, at.Add(-2*time.Minute))
		if d := at.Truncate(time.Hour).Add(3 * time.Minute); !d.After(at) {
			h.putLedger(busy, quietRegion, time.Time{}, d, nil)
		}
		h.run(at)
		got = append(got, h.transitions()...)
	}
	if !slices.Equal(got, []string{"recovered resolved " + h.home}) {
		t.Fatalf("after the recovery: %v", got)
	}
}
