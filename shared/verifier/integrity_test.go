package verifier_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/shared/integrity"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

// watchFunc is a fake digest watcher.
type watchFunc func(bucket, key string) ([]integritywatch.Finding, error)

func (f watchFunc) Digest(_ context.Context, bucket, key, _ string) ([]integritywatch.Finding, error) {
	return f(bucket, key)
}

func TestAcceptedDigestsAreVerifiedAndFindingsAlerted(t *testing.T) {
	tests := map[string]struct {
		findings []integritywatch.Finding
		err      error
		alerts   []string
		failed   bool
	}{
		"valid":     {},
		"invalid":   {findings: []integritywatch.Finding{{Code: integritywatch.CodeDigestInvalid, Account: "444444444444", Reason: "signature verification failed"}}, alerts: []string{"digest-invalid"}},
		"link":      {findings: []integritywatch.Finding{{Code: integritywatch.CodeDigestLinkBroken, Account: "444444444444", Reason: "x"}}, alerts: []string{"digest-link-broken"}},
		"transient": {err: errors.New("throttled"), failed: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			var calls []string
			r.p.Integrity = watchFunc(func(bucket, key string) ([]integritywatch.Finding, error) {
				calls = append(calls, key)
				return tc.findings, tc.err
			})
			resp := r.p.Handle(context.Background(), loadEvent(t, "sqs-digest-backfill.json"))
			if len(calls) != 1 {
				t.Fatalf("watcher called %d times, want once per accepted digest", len(calls))
			}
			if got := r.alerts.codes(); !slices.Equal(got, tc.alerts) {
				t.Fatalf("alerts %v, want %v", got, tc.alerts)
			}
			if (len(resp.BatchItemFailures) > 0) != tc.failed {
				t.Fatalf("failures %v, want failed=%v", failures(resp), tc.failed)
			}
		})
	}
}

// Every integritywatch code is a verifier Code (with its runbook and ASFF
// type, which their own tests check for every Code).
func TestIntegrityCodesAreVerifierCodes(t *testing.T) {
	pairs := map[string]verifier.Code{
		integritywatch.CodeDigestInvalid: verifier.CodeDigestInvalid, integritywatch.CodeDigestLinkBroken: verifier.CodeDigestLinkBroken,
		integritywatch.CodeLogFileInvalid: verifier.CodeLogFileInvalid, integritywatch.CodeLogFileMissing: verifier.CodeLogFileMissing,
	}
	for w, v := range pairs {
		if w != string(v) {
			t.Errorf("integritywatch code %q is verifier code %q", w, v)
		}
	}
}

func TestIntegrityConfig(t *testing.T) {
	env := map[string]string{
		settings.EnvAccountsTable: "accounts", settings.EnvLedgerTable: "ledger", settings.EnvJournalTable: "journal",
		settings.EnvIncidentsTable: "incidents", settings.EnvAlertsTopicARN: "arn:aws:sns:us-east-1:111111111111:trailwarden-alerts",
		settings.EnvPolicyFile:     "policy.yaml",
		settings.EnvIntegrityTable: "integrity", settings.EnvIntegrityLogFiles: "sample",
	}
	c, err := verifier.LoadConfig(func(k string) string { return env[k] })
	if err != nil || c.IntegrityTable != "integrity" || c.IntegrityLogFiles != integrity.LogFilesSample {
		t.Fatalf("config %+v, error %v", c, err)
	}
	env[settings.EnvIntegrityLogFiles] = "most"
	if _, err := verifier.LoadConfig(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), settings.EnvIntegrityLogFiles) {
		t.Fatalf("log files %q accepted: %v", "most", err)
	}
}
