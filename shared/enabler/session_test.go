package enabler_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/orgevent"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/settings"
)

// TestOwnRolesAreExactSessionNames: only the functions' exact session name
// is trailwarden's own; the CLI's sessions and look-alikes are not.
func TestOwnRolesAreExactSessionNames(t *testing.T) {
	pol := &policy.Policy{Organization: policy.Organization{MemberRole: "OrganizationAccountAccessRole"}}
	own := enabler.OwnRoles(pol)
	for session, want := range map[string]bool{
		settings.RoleSessionName:         true,
		settings.CLISessionName("alice"): false,
		"trailwarden-enabler":            false,
		"trailwardenx":                   false,
		"Trailwarden":                    false,
		"trailwarden/../trailwarden":     false,
	} {
		d := orgevent.Decision{Account: "333333333333", Actor: &orgevent.Actor{
			ARN: "arn:aws:sts::333333333333:assumed-role/OrganizationAccountAccessRole/" + session}}
		if got := orgevent.IsOwnActor(d, own); got != want {
			t.Errorf("session %q: own = %v, want %v", session, got, want)
		}
	}
}

// ownStop is the stop-logging event as made by the enabler's own session
// (the policy's member role, trailwarden's session name).
func (w *tamperWorld) ownStop() string {
	return strings.NewReplacer("TrailwardenMemberRole", w.proc.Policy.Organization.MemberRole, "trailwarden-enabler-5f3a9c", settings.RoleSessionName).
		Replace(w.event("stop-logging-by-trailwarden.json"))
}

// TestOwnChangeHonoursTamperResponse: with alert-only or ignore, a change
// under trailwarden's own session is left alone (no converge, no alert);
// the loop guard never overrides the policy.
func TestOwnChangeHonoursTamperResponse(t *testing.T) {
	for _, resp := range []string{"alert-only", "ignore"} {
		t.Run(resp, func(t *testing.T) {
			w := newTamperWorld(t, central.PolicyOptions{TrailExtra: "  tamperResponse: " + resp + "\n"})
			w.stopLogging()
			before := w.sessions.Attempts.Load()
			w.send(w.ownStop())
			if st := w.drain(3); st.Failed != 0 {
				t.Fatalf("%+v\n%s", st, w.logs.String())
			}
			if w.logging() || w.sessions.Attempts.Load() != before {
				t.Fatalf("tamperResponse %s overridden: logging=%v, %d member session(s)\n%s", resp, w.logging(), w.sessions.Attempts.Load()-before, w.logs.String())
			}
			if as := w.alerts(); len(as) != 0 {
				t.Fatalf("alerts %s", kinds(as))
			}
		})
	}
}

// TestCLISessionChangeIsTampering: an operator's change through the CLI's
// session name is judged as anyone's: alerted (the incident's opening), and
// repaired.
func TestCLISessionChangeIsTampering(t *testing.T) {
	w := newTamperWorld(t, central.PolicyOptions{})
	if _, err := w.ct.StopLogging(t.Context(), &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	w.send(strings.NewReplacer("TrailwardenMemberRole", emulator.AccessRoleName, "trailwarden-enabler-5f3a9c", settings.CLISessionName("alice")).
		Replace(w.event("stop-logging-by-trailwarden.json")))
	w.drain(3)
	if got := kinds(w.alerts()); got != "trail-tampered" || !w.logging() {
		t.Fatalf("alerts %q, logging %v\n%s", got, w.logging(), w.logs.String())
	}
}
