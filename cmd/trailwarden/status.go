package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/status"
)

const statusUsage = `Usage:
  trailwarden status [--output table|json] [--at TIME] [--region R] [table flags]

Shows every account trailwarden knows: name, OU, trail, status, logging, the
last delivery per Region (worst Region first) and any open incident, from the
accounts, ledger (with its journal) and incidents tables. Accounts that need attention come
first. Exits 1 when any account needs attention (an open incident, a failed
or still pending account), so scripts can use it as a check. --at judges
silence as of another time than now (the demo prints its simulated clock).

Example:
  trailwarden status --accounts-table trailwarden-accounts --ledger-table trailwarden-ledger \
    --journal-table trailwarden-journal --incidents-table trailwarden-incidents --output json
`

var statusCommand = command{
	summary: "show each account's trail, deliveries and open incidents; exit 1 when something is wrong",
	usage:   statusUsage,
	run:     runStatus,
}

func runStatus(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "status", statusUsage)
	var d deployFlags
	d.register(fs, env)
	output := fs.String("output", "table", "table | json")
	itemInterval := fs.Duration("item-interval", itemIntervalFrom(env),
		"the deployment's ledger item interval (deployment.ledger.itemInterval; env "+settings.EnvLedgerItemInterval+"): how far back the journal is read")
	at := fs.String("at", "", "judge silence as of this time (RFC 3339) instead of now, e.g. the demo's simulated clock")
	if _, err := parse(fs, args); err != nil {
		return flagErr(err)
	}
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usageErr(env, "--at %q is not an RFC 3339 time (2026-03-14T12:00:00Z)", *at)
		}
		now = t
	}
	if !d.need(env, "accounts-table", "ledger-table", "journal-table", "incidents-table") {
		return exitUsage
	}
	home, err := awsenv.Load(ctx, d.region)
	if err != nil {
		env.errorf("%v", err)
		return exitProblem
	}
	db := dynamodb.NewFromConfig(home)
	v, err := status.Build(ctx, status.Sources{
		Accounts: &accounts.Store{DB: db, Table: d.accountsTable},
		Ledger: &ledger.Reader{DB: db, Table: d.ledgerTable, Journal: &ledger.JournalReader{DB: db, Table: d.journalTable,
			Horizon: ledger.JournalHorizon(*itemInterval)}},
		Incidents: &incident.Store{DB: db, Table: d.incidentsTable},
	}, now)
	if err != nil {
		env.errorf("status: %v", err)
		return exitProblem
	}
	if *output == "json" {
		err = status.WriteJSON(env.stdout, v)
	} else {
		err = status.WriteTable(env.stdout, v)
	}
	if err != nil {
		env.errorf("status: %v", err)
		return exitProblem
	}
	if v.Problems() > 0 {
		return exitProblem
	}
	return exitOK
}

// itemIntervalFrom is the --item-interval default: the functions'
// environment variable, or the deployment default when unset or invalid.
func itemIntervalFrom(env *cmdEnv) time.Duration {
	return settings.NewEnv(env.getenv).Duration(settings.EnvLedgerItemInterval, ledger.DefaultItemInterval)
}
