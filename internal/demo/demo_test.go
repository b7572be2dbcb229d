package demo

import (
	"bytes"
	"os"
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
		"security-finding in account 999999999999",   // the foreign delivery
		"delivery-stopped in account",                // the incident
		"Regions eu-west-1, us-east-1",               // one alert for both silent Regions
		"logging stopped at",                         // with the right reason
		"Subject: [HIGH] CloudTrail logging stopped", // the e-mail's readable form
		"Runbook:               https://",
		"incident resolved", // one resolution
		"repair changed logging: stopped → started",
		"recovered in account",
		"0 need attention",
		"findings imported under arn:aws:securityhub:", // Security Hub on in the deployment
		"GetFindings: trailwarden/cause#",              // the incident's finding, read back
		"foreign-account",                              // and the verifier's
		"tickets ← trailwarden.alerts",                 // the bus event through the example rule
		"organization-map.html",                        // the map's path
		"ALERT log-object-deleted: deleted by",         // the deleted log file, from S3's event
		"ALERT digests-missing: trail org-audit",       // the truncated chain, from the watchdog
		"the stateless check agrees",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	if page, err := os.ReadFile(res.MapFile); err != nil || !strings.Contains(string(page), `id="matrix"`) {
		t.Errorf("map %s: %v", res.MapFile, err)
	}
	if len(res.Steps) != 16 || res.Status.Problems() != 0 {
		t.Errorf("steps=%d problems=%d", len(res.Steps), res.Status.Problems())
	}
	if t.Failed() {
		t.Log(text)
	}
}
