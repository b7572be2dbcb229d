package watchdog

import (
	"context"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
)

// fakeAlerts and fakeMarker are fakes of the alerts topic and the accounts
// table's deadline flag.
type fakeAlerts struct{ sent []alert.Alert }

func (f *fakeAlerts) Publish(_ context.Context, a alert.Alert) error {
	f.sent = append(f.sent, a)
	return nil
}

type fakeMarker map[string]bool

func (f fakeMarker) MarkDeadlineAlerted(_ context.Context, id string) error {
	f[id] = true
	return nil
}

func TestEnableOverdueAlertsOnce(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	all := []accounts.Account{
		{AccountID: "111111111111", Status: accounts.StatusPending, FirstSeenAt: now.Add(-3 * time.Hour), LastErrorCode: "RoleNotAssumable", OUPath: []string{"ou-ab12-cdef3456"}},
		{AccountID: "222222222222", Status: accounts.StatusPending, FirstSeenAt: now.Add(-10 * time.Minute)},                     // not yet due
		{AccountID: "333333333333", Status: accounts.StatusEnabled, FirstSeenAt: now.Add(-5 * time.Hour)},                        // fine
		{AccountID: "444444444444", Status: accounts.StatusPending, FirstSeenAt: now.Add(-5 * time.Hour), DeadlineAlerted: true}, // told already
		{AccountID: "555555555555", Status: accounts.StatusFailed, FirstSeenAt: now.Add(-2 * time.Hour)},                         // never enabled
	}
	alerts, marker := &fakeAlerts{}, fakeMarker{}
	w := &Watchdog{EnableDeadline: time.Hour, Alerts: alerts, Overdue: marker}
	var rep Report
	w.checkOverdue(context.Background(), &rep, all, now)
	if rep.EnableOverdue != 2 || len(alerts.sent) != 2 || !marker["111111111111"] || !marker["555555555555"] {
		t.Fatalf("report %+v, alerts %+v, marked %v", rep, alerts.sent, marker)
	}
	a := alerts.sent[0]
	if a.Kind != alert.KindEnableOverdue || a.OU != "ou-ab12-cdef3456" || !a.Since.Equal(now.Add(-3*time.Hour)) || a.Reason == "" {
		t.Fatalf("alert %+v", a)
	}
}
