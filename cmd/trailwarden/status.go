package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/status"
)

const statusUsage = `Usage:
  trailwarden status [--output table|json] [--account ID] [--ou OU] [--region R] [--problems]
                     [--organization] [--live] [--at TIME] [--home-region R] [table flags]

Shows every account trailwarden knows: name, OU, trail, status, logging, the
last delivery per Region (worst Region first) and why it needs attention;
then the open security findings (the verifier's) and open incidents (the
watchdog's), and the coverage: accounts known, enabled, excluded (and why),
pending and failed, against the ACTIVE accounts of Organizations with
--organization (read as the enabler reads them: --org-reader-role-arn, or
your own credentials in the management account).

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
findings and incidents); --region keeps one Region's deliveries, findings and incidents; the Region
of trailwarden's own tables is --home-region. --at judges silence as of
another time than now (the demo prints its simulated clock).

Example:
  trailwarden status --organization --problems
  trailwarden status --account 333333333333 --live --output json
`

var statusCommand = command{
	summary: "show each account's trail, logging, deliveries, findings and incidents; exit 1 when something needs attention",
	usage:   statusUsage,
	run:     runStatus,
}

type statusOptions struct {
	output       string
	itemInterval time.Duration
	at           string
	filter       status.Filter
	organization bool
	live         bool
}

func runStatus(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "status", statusUsage)
	d := deployFlags{homeRegionFlag: true}
	d.register(fs, env)
	var o statusOptions
	fs.StringVar(&o.output, "output", "table", "table | json")
	fs.StringVar(&o.output, "o", "table", "table | json (short for --output)")
	fs.DurationVar(&o.itemInterval, "item-interval", itemIntervalFrom(env),
		"the deployment's ledger item interval (deployment.ledger.itemInterval; env "+settings.EnvLedgerItemInterval+"): how far back the journal is read")
	fs.StringVar(&o.at, "at", "", "judge silence as of this time (RFC 3339) instead of now, e.g. the demo's simulated clock")
	fs.StringVar(&o.filter.Account, "account", "", "show only this account")
	fs.StringVar(&o.filter.OU, "ou", "", "show only the accounts under this OU id (as the accounts table records their OU path)")
	fs.StringVar(&o.filter.Region, "region", "", "show only this Region's deliveries, findings and incidents")
	fs.BoolVar(&o.filter.Problems, "problems", false, "show only the accounts that need attention")
	fs.BoolVar(&o.organization, "organization", false, "compare with the ACTIVE accounts of Organizations")
	fs.BoolVar(&o.live, "live", false, "read each trail's logging now (GetTrailStatus through the read-only operator role)")
	if _, err := parse(fs, args); err != nil {
		return flagErr(err)
	}
	if o.output != "table" && o.output != "json" {
		return usageErr(env, "--output %q: use table or json", o.output)
	}
	now := time.Now()
	if o.at != "" {
		t, err := time.Parse(time.RFC3339, o.at)
		if err != nil {
			return usageErr(env, "--at %q is not an RFC 3339 time (2026-03-14T12:00:00Z)", o.at)
		}
		now = t
	}
	if !d.need(env, "accounts-table", "ledger-table", "journal-table", "incidents-table") {
		return exitUsage
	}
	v, err := buildStatus(ctx, env, &d, o, now)
	if err != nil {
		env.errorf("status: %v", err)
		return exitUsage
	}
	if o.output == "json" {
		err = status.WriteJSON(env.stdout, v)
	} else {
		err = status.WriteTable(env.stdout, v)
	}
	if err != nil {
		env.errorf("status: %v", err)
		return exitUsage
	}
	if !v.Healthy() {
		return exitProblem
	}
	return exitOK
}

func buildStatus(ctx context.Context, env *cmdEnv, d *deployFlags, o statusOptions, now time.Time) (status.View, error) {
	home, err := awsenv.Load(ctx, d.region)
	if err != nil {
		return status.View{}, err
	}
	db := dynamodb.NewFromConfig(home)
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
