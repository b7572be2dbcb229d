package watchdog_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/deployment"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

func env(m map[string]string) settings.Getenv { return func(k string) string { return m[k] } }

func TestLoadConfig(t *testing.T) {
	base := map[string]string{
		settings.EnvAlertsTopicARN:  "arn:aws:sns:us-east-1:111111111111:trailwarden-alerts",
		settings.EnvAccountsTable:   "accounts",
		settings.EnvLedgerTable:     "ledger",
		settings.EnvJournalTable:    "journal",
		settings.EnvIncidentsTable:  "incidents",
		settings.EnvRequestQueueURL: "https://sqs.us-east-1.amazonaws.com/111111111111/requests",
	}
	c, err := watchdog.LoadConfig(env(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.StaleFloor != 10*time.Minute || c.Allowance != 5*time.Minute || c.NeverStartedAfter != 30*time.Minute ||
		!c.Repair || c.ScanSegments != 8 || c.ItemInterval != time.Hour || c.MetricsNamespace != settings.DefaultMetricsNamespace || c.PolicyFile != "policy.yaml" {
		t.Fatalf("defaults: %+v", c)
	}

	for _, tc := range []struct {
		name string
		set  map[string]string
		want []string // substrings of the error
	}{
		{"everything missing", map[string]string{settings.EnvAlertsTopicARN: "", settings.EnvAccountsTable: "", settings.EnvLedgerTable: "",
			settings.EnvJournalTable: "", settings.EnvIncidentsTable: "", settings.EnvRequestQueueURL: ""},
			[]string{settings.EnvAlertsTopicARN + " is required", settings.EnvAccountsTable + " is required",
				settings.EnvLedgerTable + " is required", settings.EnvJournalTable + " is required", settings.EnvIncidentsTable + " is required", settings.EnvRequestQueueURL + " is required"}},
		{"bad values", map[string]string{settings.EnvStaleFloor: "soon", settings.EnvScanSegments: "-2", settings.EnvRepair: "maybe",
			settings.EnvEnabledRegions: "us-east-1,Mars", settings.EnvAlertsTopicARN: "alerts"},
			[]string{settings.EnvStaleFloor, settings.EnvScanSegments, settings.EnvRepair, `"Mars" is not a Region name`, "is not an ARN"}},
		{"floor above the heartbeat", map[string]string{settings.EnvStaleFloor: "2h"}, []string{"above the 1h digest heartbeat"}},
		{"repair off needs no queue", map[string]string{settings.EnvRepair: "false", settings.EnvRequestQueueURL: ""}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			for k, v := range tc.set {
				m[k] = v
			}
			_, err := watchdog.LoadConfig(env(m))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}

func TestParseRegions(t *testing.T) {
	got := watchdog.ParseRegions(" us-east-1, eu-west-1 ,,us-east-1\tap-south-2")
	if want := []string{"us-east-1", "eu-west-1", "ap-south-2"}; !slices.Equal(got, want) {
		t.Fatalf("ParseRegions = %v, want %v", got, want)
	}
}

// Each default has one source: the ledger's lag allowance and item
// interval, whether read by the watchdog's configuration, its cadence or
// the deployment file.
func TestDefaultsHaveOneSource(t *testing.T) {
	c, _ := watchdog.LoadConfig(func(string) string { return "" })
	if c.Allowance != ledger.DefaultLagAllowance || watchdog.DefaultCadence().Allowance != ledger.DefaultLagAllowance ||
		deployment.DefaultCoalesceWindow != ledger.DefaultLagAllowance {
		t.Errorf("allowance: config %v, cadence %v, deployment %v; ledger %v", c.Allowance, watchdog.DefaultCadence().Allowance,
			deployment.DefaultCoalesceWindow, ledger.DefaultLagAllowance)
	}
	if c.ItemInterval != ledger.DefaultItemInterval || deployment.DefaultItemInterval != ledger.DefaultItemInterval {
		t.Errorf("item interval: config %v, deployment %v; ledger %v", c.ItemInterval, deployment.DefaultItemInterval, ledger.DefaultItemInterval)
	}
}
