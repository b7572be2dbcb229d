package enabler_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/orgdir"
)

// failingAlerts fails the first publish of each kind in fail, then
// publishes through inner.
type failingAlerts struct {
	inner incident.Publisher
	mu    sync.Mutex
	fail  map[string]bool
}

func (f *failingAlerts) Publish(ctx context.Context, a alert.Alert) error {
	f.mu.Lock()
	fail := f.fail[a.Kind]
	delete(f.fail, a.Kind)
	f.mu.Unlock()
	if fail {
		return errors.New("fake: SNS Publish failed: InternalErrorException")
	}
	return f.inner.Publish(ctx, a)
}

// failPublish makes the first publish of each kind fail.
func (h *harness) failPublish(kinds ...string) {
	ob := h.proc.Outbox.(*incident.Outbox)
	f := &failingAlerts{inner: ob.Alerts, fail: map[string]bool{}}
	for _, k := range kinds {
		f.fail[k] = true
	}
	ob.Alerts, h.proc.Alerts = f, f // the outbox's per-event alerts and the incidents' alerts
}

// throttledDirectory answers its first Failures calls with Organizations'
// throttling error.
type throttledDirectory struct {
	enabler.Directory
	mu       sync.Mutex
	Failures int
}

func (d *throttledDirectory) Describe(ctx context.Context, id string) (orgdir.Account, error) {
	d.mu.Lock()
	fail := d.Failures > 0
	d.Failures--
	d.mu.Unlock()
	if fail {
		return orgdir.Account{}, fault.Retryablef("TooManyRequestsException", "fake: AWS Organizations can't complete your request because another request is already in progress")
	}
	return d.Directory.Describe(ctx, id)
}

func (w *tamperWorld) stopLogging() {
	w.t.Helper()
	if _, err := w.ct.StopLogging(w.t.Context(), &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")}); err != nil {
		w.t.Fatal(err)
	}
}

// TestTamperAlertSurvivesFailures: whatever fails on the first delivery —
// the tamper alert's publish, Organizations —
// the record is retried and every alert goes out exactly once.
func TestTamperAlertSurvivesFailures(t *testing.T) {
	cases := []struct {
		name, policy string
		arrange      func(w *tamperWorld)
		want         string
		failed       int
	}{
		{"tampered publish fails, alert-only", "  tamperResponse: alert-only\n",
			func(w *tamperWorld) { w.failPublish(alert.KindTampered) }, "trail-tampered", 1},
		{"tampered publish fails, repair", "",
			func(w *tamperWorld) { w.failPublish(alert.KindTampered) }, "trail-tampered", 1},
		{"Organizations throttled first", "  tamperResponse: alert-only\n",
			func(w *tamperWorld) { w.proc.Directory = &throttledDirectory{Directory: w.proc.Directory, Failures: 1} }, "trail-tampered", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newTamperWorld(t, central.PolicyOptions{TrailExtra: tc.policy})
			w.stopLogging()
			tc.arrange(w)
			w.send(w.event("stop-logging.json"))
			st := w.drain(5)
			if st.Failed != tc.failed {
				t.Fatalf("failed deliveries %d, want %d: %+v\n%s", st.Failed, tc.failed, st, w.logs.String())
			}
			if got := kinds(w.alerts()); got != tc.want {
				t.Fatalf("alerts %q, want %q\n%s", got, tc.want, w.logs.String())
			}
		})
	}
}

// TestDuplicateTamperEventsAlertOnce: EventBridge and SQS may deliver one
// event twice, each a first receive; the outbox keys alerts by event id.
func TestDuplicateTamperEventsAlertOnce(t *testing.T) {
	w := newTamperWorld(t, central.PolicyOptions{TrailExtra: "  tamperResponse: alert-only\n"})
	w.stopLogging()
	ev := w.event("stop-logging.json")
	w.send(ev, ev)
	st := w.drain(5)
	if st.Failed != 0 {
		t.Fatalf("%+v\n%s", st, w.logs.String())
	}
	if got := kinds(w.alerts()); got != "trail-tampered" {
		t.Fatalf("alerts %q after %+v\n%s", got, st, w.logs.String())
	}
}

// needsHumanSessions fails every member session with a problem only a
// human can fix.
type needsHumanSessions struct{}

func (needsHumanSessions) Config(context.Context, string, string, string) (aws.Config, error) {
	return aws.Config{}, fault.New(fault.NeedsHuman, "MaximumNumberOfTrailsExceededException", errors.New("fake: the account already has 5 trails in us-east-1"))
}

// TestEnableFailedAlertSurvivesPublishFailure: the enable-failed alert's
// first publish fails; a redelivery on the way to the DLQ sends it, once.
func TestEnableFailedAlertSurvivesPublishFailure(t *testing.T) {
	h := newHarness(t, emulator.WorldSpec{}, central.PolicyOptions{})
	member := h.env.MustMember("member-1").ID
	h.proc.Sessions = needsHumanSessions{}
	h.failPublish(alert.KindEnableFailed)
	h.send(fixture(t, "organizations/create-account-result-succeeded.json", "333333333333", member))
	h.drain(5)
	tw := &tamperWorld{harness: h}
	if got := kinds(tw.alerts()); got != "enable-failed" {
		t.Fatalf("alerts %q, want one enable-failed\n%s", got, h.logs.String())
	}
}
