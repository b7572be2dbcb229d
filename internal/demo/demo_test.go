package demo

import (
	"bytes"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/emulator"
)

func TestMain(m *testing.M) { emulator.RunTests(m) }

// TestDemoFlow runs the whole demo on the shared emulator and checks the
// timeline's milestones and the final status.
func TestDemoFlow(t *testing.T) {
	var out bytes.Buffer
	res, err := Run(t.Context(), Options{Out: &out, Server: emulator.Shared(t), Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"payments", "analytics", "partner", "Insights ApiCallRateInsight", // enabled trails, one with the OU override
		"no alerts", // deliveries verified quietly
		"security-finding in account 999999999999", // the foreign delivery
		"delivery-stopped in account",              // the incident
		"logging stopped at",                       // with the right reason
		"repair changed logging: stopped → started",
		"recovered in account",
		"0 need attention",
		"ALERT log-object-deleted: deleted by",   // the deleted log file, from S3's event
		"ALERT digests-missing: trail org-audit", // the truncated chain, from the watchdog
		"the stateless check agrees",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	if len(res.Steps) != 12 || res.Status.Problems() != 0 {
		t.Errorf("steps=%d problems=%d", len(res.Steps), res.Status.Problems())
	}
	if t.Failed() {
		t.Log(text)
	}
}
