package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/status"
)

const statusLong = `Shows every account trailwarden knows: name, OU, trail, status, logging, the
last delivery and verdict per Region (worst Region first) and why it needs
attention; then the open security findings (the verifier's) and open
incidents (the watchdog's), and the coverage: accounts known, enabled,
excluded (and why), pending and failed, against the ACTIVE accounts of
Organizations with --organization (read as the enabler reads them:
--org-reader-role-arn, or your own credentials in the management account).

LOGGING is CloudTrail's IsLogging as the last converge saw or set it, with
that converge's age; --live reads it now with GetTrailStatus through the
read-only operator role in each member (--role overrides the role).

It fails closed. Exit codes:
  0  healthy
  1  needs attention: an open finding or incident, a failed or pending
     account, a stopped trail, or no account known while Organizations
     has ACTIVE members
  2  usage or access error (nothing could be judged)

--account and --ou keep one account or the accounts under an OU (and their
findings and incidents); --region keeps one Region's deliveries, findings
and incidents; the Region of trailwarden's own tables is --home-region. --at
judges silence as of another time than now (the demo prints its simulated
clock).`

const statusExample = `  trailwarden status --organization --problems
  trailwarden status --account 333333333333 --live --output json`

type statusOptions struct {
	d            deployFlags
	output       outputFlag
	itemInterval time.Duration
	at           string
	filter       status.Filter
	organization bool
	live         bool
}

func newStatusCmd(env *cmdEnv) *cobra.Command {
	o := statusOptions{d: deployFlags{homeRegionFlag: true}}
	c := &cobra.Command{Use: "status", Short: "show each account's trail, logging, deliveries, findings and incidents; exit 1 when something needs attention",
		Long: statusLong, Example: statusExample, Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runStatus(c.Context(), env, &o) }}
	fs := c.Flags()
	o.d.register(fs, env)
	addOutput(c, &o.output)
	fs.DurationVar(&o.itemInterval, "item-interval", itemIntervalFrom(env),
		"the deployment's ledger item interval (deployment.ledger.itemInterval; env "+settings.EnvLedgerItemInterval+"): how far back the journal is read")
	fs.StringVar(&o.at, "at", "", "judge silence as of this time (RFC 3339) instead of now, e.g. the demo's simulated clock")
	fs.StringVar(&o.filter.Account, "account", "", "show only this account")
	fs.StringVar(&o.filter.OU, "ou", "", "show only the accounts under this OU id (as the accounts table records their OU path)")
	fs.StringVar(&o.filter.Region, "region", "", "show only this Region's deliveries, findings and incidents")
	fs.BoolVar(&o.filter.Problems, "problems", false, "show only the accounts that need attention")
	fs.BoolVar(&o.organization, "organization", false, "compare with the ACTIVE accounts of Organizations")
	fs.BoolVar(&o.live, "live", false, "read each trail's logging now (GetTrailStatus through the read-only operator role)")
	return c
}

func runStatus(ctx context.Context, env *cmdEnv, o *statusOptions) error {
	now := time.Now()
	if o.at != "" {
		t, err := time.Parse(time.RFC3339, o.at)
		if err != nil {
			return usageErrorf("--at %q is not an RFC 3339 time (2026-03-14T12:00:00Z)", o.at)
		}
		now = t
	}
	if err := o.d.need(env, "accounts-table", "ledger-table", "journal-table", "incidents-table"); err != nil {
		return err
	}
	v, err := buildStatus(ctx, env, &o.d, *o, now)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if o.output == "json" {
		err = status.WriteJSON(env.stdout, v)
	} else {
		err = status.WriteTable(env.stdout, v)
	}
	switch {
	case err != nil:
		return fmt.Errorf("status: %w", err)
	case !v.Healthy():
		return errProblemSilent
	}
	return nil
}

func buildStatus(ctx context.Context, env *cmdEnv, d *deployFlags, o statusOptions, now time.Time) (status.View, error) {
	home, err := awsenv.Load(ctx, d.region)
	if err != nil {
		return status.View{}, err
	}
	db := newDynamoDB(home)
	src := status.Sources{
		Accounts: &accounts.Store{DB: db, Table: d.accountsTable},
		Ledger: &ledger.Reader{DB: db, Table: d.ledgerTable, Journal: &ledger.JournalReader{DB: db, Table: d.journalTable,
			Horizon: ledger.JournalHorizon(o.itemInterval)}},
		Incidents: &incident.Store{DB: db, Table: d.incidentsTable},
		Findings:  &status.FindingsReader{DB: db, Table: d.incidentsTable},
	}
	if o.organization {
		dir, err := orgdir.Open(ctx, orgdir.Source{ReaderRoleARN: d.orgReaderRoleARN}, home)
		if err != nil {
			return status.View{}, err
		}
		src.Organization = activeMembers{dir}
	}
	if o.live {
		src.Live = liveTrails{op: awsenv.NewOperator(home, cliUser(env), d.role)}
	}
	return status.BuildFiltered(ctx, src, now, o.filter)
}

// activeMembers is the ids of the organization's ACTIVE accounts.
type activeMembers struct{ dir orgdir.Org }

func (m activeMembers) ActiveAccounts(ctx context.Context) ([]string, error) {
	all, err := m.dir.List(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, a := range all {
		if a.Active() {
			ids = append(ids, a.ID)
		}
	}
	return ids, nil
}

// liveTrails reads IsLogging with GetTrailStatus in the trail's own Region,
// through the operator role in the member.
// https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html
type liveTrails struct {
	op *awsenv.Operator
}

func (l liveTrails) IsLogging(ctx context.Context, account, trailARN string) (bool, error) {
	a, err := arn.Parse(trailARN)
	if err != nil {
		return false, fmt.Errorf("trail %q: %w", trailARN, err)
	}
	cfg, err := l.op.Config(ctx, account, a.Region, false)
	if err != nil {
		return false, err
	}
	out, err := cloudtrail.NewFromConfig(cfg).GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(trailARN)})
	if err != nil {
		return false, fmt.Errorf("cloudtrail:GetTrailStatus %s as %s: %w", trailARN, l.op.RoleFor(false), err)
	}
	return aws.ToBool(out.IsLogging), nil
}

// itemIntervalFrom is the --item-interval default: the functions'
// environment variable, or the deployment default when unset or invalid.
func itemIntervalFrom(env *cmdEnv) time.Duration {
	return settings.NewEnv(env.getenv).Duration(settings.EnvLedgerItemInterval, ledger.DefaultItemInterval)
}
