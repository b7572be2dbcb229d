package alert

import (
	"strings"
	"testing"
	"time"
)

// TestEnableOverdue: the one enable-overdue alert (the enabler and the
// watchdog both send it) names the age, the last error and the command.
func TestEnableOverdue(t *testing.T) {
	seen := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	a := EnableOverdue("333333333333", "payments", "ou-ab12-cdef3456", seen, seen.Add(90*time.Minute), "RoleNotAssumable", "AccessDenied")
	a.Summarize()
	for _, want := range []string{"enable-overdue", "333333333333", "1h30m0s after the account was first seen", "(last error: RoleNotAssumable)",
		"trailwarden enable --account 333333333333 --yes"} {
		if !strings.Contains(a.Summary, want) {
			t.Errorf("summary lacks %q: %s", want, a.Summary)
		}
	}
	if a.Kind != KindEnableOverdue || a.Severity != "high" || !a.Since.Equal(seen) || a.Detail != "AccessDenied" {
		t.Errorf("%+v", a)
	}
	if b := EnableOverdue("333333333333", "", "", seen, seen.Add(time.Hour), "", ""); strings.Contains(b.Reason, "last error") {
		t.Errorf("no error, yet: %s", b.Reason)
	}
}
