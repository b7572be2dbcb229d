package main

import (
	"bytes"
	"context"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/report"
	"github.com/trailwarden/trailwarden/shared/status"
)

const reportUsage = `Usage:
  trailwarden report --html FILE [--organization] [--at TIME] [table flags]

Writes the organization's map as one self-contained HTML page: the accounts ×
Regions freshness matrix coloured by verdict (fresh, stale, never started,
nothing recorded), grouped by OU, sortable and filterable; coverage against
Organizations (with --organization, which lists the organization's accounts
through --org-reader-role-arn or the caller's own credentials); the open
incidents. It reads the same tables as 'trailwarden status' and writes
nothing else.

Example:
  trailwarden report --html org-map.html --organization --accounts-table trailwarden-accounts \
    --ledger-table trailwarden-ledger --journal-table trailwarden-journal --incidents-table trailwarden-incidents
`

var reportCommand = command{
	summary: "write the organization's map (freshness matrix, coverage, incidents) as one HTML page",
	usage:   reportUsage,
	run:     runReport,
}

func runReport(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "report", reportUsage)
	var d deployFlags
	d.register(fs, env)
	out := fs.String("html", "", "the HTML file to write (required)")
	withOrg := fs.Bool("organization", false, "compare with the accounts Organizations lists")
	itemInterval := fs.Duration("item-interval", itemIntervalFrom(env), "the deployment's ledger item interval: how far back the journal is read")
	at := fs.String("at", "", "judge as of this time (RFC 3339) instead of now")
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
	if *out == "" {
		return usageErr(env, "--html FILE is required")
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
	incidents := &incident.Store{DB: db, Table: d.incidentsTable}
	v, err := status.Build(ctx, status.Sources{
		Accounts: &accounts.Store{DB: db, Table: d.accountsTable},
		Ledger: &ledger.Reader{DB: db, Table: d.ledgerTable, Journal: &ledger.JournalReader{DB: db, Table: d.journalTable,
			Horizon: ledger.JournalHorizon(*itemInterval)}},
	}, now)
	if err != nil {
		env.errorf("report: %v", err)
		return exitProblem
	}
	open, err := incidents.Active(ctx, 2)
	if err != nil {
		env.errorf("report: incidents: %v", err)
		return exitProblem
	}
	var org []string
	if *withOrg {
		dir, err := orgdir.Open(ctx, orgdir.Source{ReaderRoleARN: d.orgReaderRoleARN}, home)
		if err == nil {
			var accts []orgdir.Account
			if accts, err = dir.List(ctx); err == nil {
				org = []string{}
				for _, a := range accts {
					org = append(org, a.ID)
				}
			}
		}
		if err != nil {
			env.errorf("report: organizations: %v", err)
			return exitProblem
		}
	}
	var b bytes.Buffer
	if err := report.Render(&b, report.FromStatus(v, open, org)); err != nil {
		env.errorf("%v", err)
		return exitProblem
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		env.errorf("report: %v", err)
		return exitProblem
	}
	return exitOK
}
