package watchdog_test

import (
	"testing"

	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

// TestEnabledRegionsShape pins the Region rule (awsid.IsRegion): a
// two-digit suffix is a Region; a three-digit one or a leading zero is not.
func TestEnabledRegionsShape(t *testing.T) {
	base := map[string]string{
		settings.EnvAlertsTopicARN: "arn:aws:sns:us-east-1:111111111111:trailwarden-alerts",
		settings.EnvAccountsTable:  "accounts", settings.EnvLedgerTable: "ledger",
		settings.EnvJournalTable: "journal", settings.EnvIncidentsTable: "incidents",
		settings.EnvRequestQueueURL: "https://sqs.us-east-1.amazonaws.com/111111111111/requests",
	}
	for regions, ok := range map[string]bool{
		"us-east-1,ap-southeast-12,eusc-de-east-1,eu-isoe-west-1": true,
		"us-east-123": false, "us-east-01": false,
	} {
		base[settings.EnvEnabledRegions] = regions
		if _, err := watchdog.LoadConfig(env(base)); (err == nil) != ok {
			t.Errorf("%s: err = %v, want ok %v", regions, err, ok)
		}
	}
}
