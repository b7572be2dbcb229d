package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/report"
	"github.com/trailwarden/trailwarden/shared/status"
)

const reportLong = `Writes the organization's map as one self-contained HTML page: the accounts ×
Regions freshness matrix coloured by verdict (fresh, stale, never started,
nothing recorded), grouped by OU, sortable and filterable; coverage against
Organizations (with --organization, which lists the organization's accounts
through --org-reader-role-arn or the caller's own credentials); the open
incidents. It reads the same tables as 'trailwarden status' and writes
nothing else. Exit codes: 0 written, 2 an error.`

const reportExample = `  trailwarden report --html org-map.html --organization --accounts-table trailwarden-accounts \
    --ledger-table trailwarden-ledger --journal-table trailwarden-journal --incidents-table trailwarden-incidents`

type reportOptions struct {
	d            deployFlags
	html, at     string
	organization bool
	itemInterval time.Duration
}

func newReportCmd(env *cmdEnv) *cobra.Command {
	var o reportOptions
	c := &cobra.Command{Use: "report --html FILE", Short: "write the organization's map (freshness matrix, coverage, incidents) as one HTML page",
		Long: reportLong, Example: reportExample, Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runReport(c.Context(), env, &o) }}
	fs := c.Flags()
	o.d.register(fs, env)
	fs.StringVar(&o.html, "html", "", "the HTML file to write (required)")
	fs.BoolVar(&o.organization, "organization", false, "compare with the accounts Organizations lists")
	fs.DurationVar(&o.itemInterval, "item-interval", itemIntervalFrom(env), "the deployment's ledger item interval: how far back the journal is read")
	fs.StringVar(&o.at, "at", "", "judge as of this time (RFC 3339) instead of now")
	return c
}

func runReport(ctx context.Context, env *cmdEnv, o *reportOptions) error {
	now := time.Now()
	if o.at != "" {
		t, err := time.Parse(time.RFC3339, o.at)
		if err != nil {
			return usageErrorf("--at %q is not an RFC 3339 time (2026-03-14T12:00:00Z)", o.at)
		}
		now = t
	}
	if o.html == "" {
		return usageErrorf("--html FILE is required")
	}
	d := &o.d
	if err := d.need(env, "accounts-table", "ledger-table", "journal-table", "incidents-table"); err != nil {
		return err
	}
	home, err := awsenv.Load(ctx, d.region)
	if err != nil {
		return err
	}
	db := newDynamoDB(home)
	incidents := &incident.Store{DB: db, Table: d.incidentsTable}
	v, err := status.Build(ctx, status.Sources{
		Accounts: &accounts.Store{DB: db, Table: d.accountsTable},
		Ledger: &ledger.Reader{DB: db, Table: d.ledgerTable, Journal: &ledger.JournalReader{DB: db, Table: d.journalTable,
			Horizon: ledger.JournalHorizon(o.itemInterval)}},
	}, now)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	open, err := incidents.Active(ctx, 2)
	if err != nil {
		return fmt.Errorf("report: incidents: %w", err)
	}
	var org []string
	if o.organization {
		if org, err = organizationIDs(ctx, d, home); err != nil {
			return fmt.Errorf("report: organizations: %w", err)
		}
	}
	var b bytes.Buffer
	if err := report.Render(&b, report.FromStatus(v, open, org)); err != nil {
		return err
	}
	if err := os.WriteFile(o.html, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// organizationIDs lists every account id of the organization.
func organizationIDs(ctx context.Context, d *deployFlags, home aws.Config) ([]string, error) {
	dir, err := orgdir.Open(ctx, orgdir.Source{ReaderRoleARN: d.orgReaderRoleARN}, home)
	if err != nil {
		return nil, err
	}
	accts, err := dir.List(ctx)
	if err != nil {
		return nil, err
	}
	org := []string{}
	for _, a := range accts {
		org = append(org, a.ID)
	}
	return org, nil
}
