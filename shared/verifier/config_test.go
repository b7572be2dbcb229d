package verifier_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

func TestLoadConfig(t *testing.T) {
	base := map[string]string{
		settings.EnvAccountsTable:  "accounts",
		settings.EnvLedgerTable:    "ledger",
		settings.EnvJournalTable:   "journal",
		settings.EnvIncidentsTable: "incidents",
		settings.EnvAlertsTopicARN: "arn:aws:sns:us-east-1:111111111111:trailwarden-alerts",
	}
	get := func(set map[string]string) settings.Getenv {
		return func(k string) string {
			if v, ok := set[k]; ok {
				return v
			}
			return base[k]
		}
	}
	c, err := verifier.LoadConfig(get(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.JournalTable != "journal" || c.ItemInterval != time.Hour || c.BatchSize != 10 || c.ObjectCheck != verifier.CheckSample {
		t.Fatalf("defaults: %+v", c)
	}
	for _, tc := range []struct {
		name string
		set  map[string]string
		want []string
	}{
		{"journal required", map[string]string{settings.EnvJournalTable: ""}, []string{settings.EnvJournalTable + " is required"}},
		{"item interval", map[string]string{settings.EnvLedgerItemInterval: "soon"}, []string{settings.EnvLedgerItemInterval}},
		{"item interval too long", map[string]string{settings.EnvLedgerItemInterval: "12h"}, []string{"between 1m and 6h"}},
		{"batch size", map[string]string{settings.EnvVerifierBatchSize: "100"}, nil},
		{"item interval set", map[string]string{settings.EnvLedgerItemInterval: "30m"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifier.LoadConfig(get(tc.set))
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
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
