package enabler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/shared/accounts"
)

// departure is the departure fixture for account, departed at at.
func (w *tamperWorld) departure(at time.Time) string {
	return fixture(w.t, "organizations/account-departed-organization.json", "333333333333", w.member,
		"Jun 3, 2026 11:12:13 AM", at.UTC().Format("Jan 2, 2006 3:04:05 PM"),
		"2026-06-03T11:12:13Z", at.UTC().Format(time.RFC3339), "2026-06-03T11:12:15Z", at.UTC().Format(time.RFC3339))
}

func (w *tamperWorld) remove() {
	w.t.Helper()
	if _, err := organizations.NewFromConfig(w.env.Management).RemoveAccountFromOrganization(w.t.Context(),
		&organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(w.member)}); err != nil {
		w.t.Fatal(err)
	}
}

func TestDepartureIsConfirmedBeforeItIsRecorded(t *testing.T) {
	cases := []struct {
		name    string
		removed bool
		at      time.Duration // event time relative to now
		want    accounts.Status
		log     string
	}{
		{"live member: not believed", false, 0, accounts.StatusEnabled, "departure not confirmed"},
		{"removed: recorded", true, time.Minute, accounts.StatusDeparted, ""},
		{"removed, event older than the join: replay", true, -24 * time.Hour, accounts.StatusEnabled, "older than the account's join"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newTamperWorld(t, central.PolicyOptions{})
			if tc.removed {
				w.remove()
			}
			w.send(w.departure(time.Now().Add(tc.at)))
			if st := w.drain(3); st.Failed != 0 {
				t.Fatalf("%+v\n%s", st, w.logs.String())
			}
			if a := w.account(w.member); a.Status != tc.want {
				t.Fatalf("status %s, want %s\n%s", a.Status, tc.want, w.logs.String())
			}
			if tc.log != "" && !strings.Contains(w.logs.String(), tc.log) {
				t.Fatalf("log lacks %q:\n%s", tc.log, w.logs.String())
			}
		})
	}
}

// TestForgedDepartureIsIgnored: a departure that names another
// organization, or arrives from a member's bus, is not acted on at all.
func TestForgedDepartureIsIgnored(t *testing.T) {
	w := newTamperWorld(t, central.PolicyOptions{})
	w.remove()
	for _, forged := range []string{
		strings.Replace(w.departure(time.Now()), `"organizationId": "o-a1b2c3d4e5"`, `"organizationId": "o-zzzzzzzzzz"`, 1),
		strings.Replace(w.departure(time.Now()), `"account": "111111111111"`, `"account": "`+w.member+`"`, 1),
	} {
		w.send(forged)
	}
	if st := w.drain(3); st.Failed != 0 {
		t.Fatalf("%+v", st)
	}
	if a := w.account(w.member); a.Status != accounts.StatusEnabled || !strings.Contains(w.logs.String(), "unverified origin") {
		t.Fatalf("status %s\n%s", a.Status, w.logs.String())
	}
}
