package main

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/pflag"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/deployment"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/settings"
)

// deployFlags are the names of a deployed trailwarden, from flags or the
// same environment variables the functions read.
type deployFlags struct {
	policyFile, accountsTable, ledgerTable, journalTable, incidentsTable, requestQueueURL, alertsTopicARN, orgReaderRoleARN string
	region                                                                                                                  string
	// stack and contextName find the deployment (resolve.go); role
	// overrides the operator role the CLI assumes in members.
	stack, contextName, role string
	// describe reads a stack's outputs (nil: CloudFormation).
	describe stackDescriber
	// homeRegionFlag registers the home Region as --home-region, leaving
	// --region to the command (status filters by it).
	homeRegionFlag bool
}

func (d *deployFlags) register(fs *pflag.FlagSet, env *cmdEnv) {
	fs.StringVar(&d.policyFile, "policy", env.getenv(settings.EnvPolicyFile), "policy file (env "+settings.EnvPolicyFile+")")
	fs.StringVar(&d.accountsTable, "accounts-table", env.getenv(settings.EnvAccountsTable), "accounts table (env "+settings.EnvAccountsTable+")")
	fs.StringVar(&d.ledgerTable, "ledger-table", env.getenv(settings.EnvLedgerTable), "ledger table (env "+settings.EnvLedgerTable+")")
	fs.StringVar(&d.journalTable, "journal-table", env.getenv(settings.EnvJournalTable), "arrival journal table (env "+settings.EnvJournalTable+")")
	fs.StringVar(&d.incidentsTable, "incidents-table", env.getenv(settings.EnvIncidentsTable), "incidents table (env "+settings.EnvIncidentsTable+")")
	fs.StringVar(&d.requestQueueURL, "request-queue-url", env.getenv(settings.EnvRequestQueueURL), "request queue URL (env "+settings.EnvRequestQueueURL+")")
	fs.StringVar(&d.alertsTopicARN, "alerts-topic-arn", env.getenv(settings.EnvAlertsTopicARN), "alerts topic ARN (env "+settings.EnvAlertsTopicARN+")")
	fs.StringVar(&d.orgReaderRoleARN, "org-reader-role-arn", env.getenv(settings.EnvOrgReaderRoleARN), "role in the management account for Organizations reads (env "+settings.EnvOrgReaderRoleARN+"; empty: own credentials)")
	regionFlag := "region"
	if d.homeRegionFlag {
		regionFlag = "home-region"
	}
	fs.StringVar(&d.region, regionFlag, "", "home Region (default: the context's, else the policy's homeRegion)")
	fs.StringVar(&d.stack, "stack", env.getenv(envStack), "automation stack whose outputs name the deployment (env "+envStack+"; default: the context's, else "+defaultStack+")")
	fs.StringVar(&d.contextName, "context", env.getenv(envContext), "context to use instead of the current one (env "+envContext+"; see 'trailwarden use')")
	fs.StringVar(&d.role, "role", "", "role to assume in members (default "+deployment.OperatorReadRole+" to read, "+deployment.OperatorConvergeRole+" to write)")
}

// need resolves the deployment and checks that the named flags have
// values: a missing one is a usage error that says how to give it.
func (d *deployFlags) need(env *cmdEnv, names ...string) error {
	if err := d.resolve(env.context(), env, names); err != nil {
		return err
	}
	vals := map[string]string{"policy": d.policyFile, "accounts-table": d.accountsTable, "ledger-table": d.ledgerTable,
		"journal-table":   d.journalTable,
		"incidents-table": d.incidentsTable, "request-queue-url": d.requestQueueURL, "alerts-topic-arn": d.alertsTopicARN}
	var missing []string
	for _, n := range names {
		if vals[n] == "" {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		return usageErrorf("%s required (%d missing): pass each, set its environment variable, or point the CLI at a deployment with 'trailwarden use'",
			strings.Join(missing, ", "), len(missing))
	}
	return nil
}

// session is the policy plus AWS access for one CLI run.
type session struct {
	pol  *policy.Policy
	home aws.Config
	dir  orgdir.Org
	// op reaches members: the operator roles, or --role.
	op *awsenv.Operator
}

func (d *deployFlags) open(ctx context.Context, env *cmdEnv) (*session, error) {
	pol, err := loadValidPolicy(env, d.policyFile)
	if err != nil {
		return nil, err
	}
	region := d.region
	if region == "" {
		region = pol.Organization.HomeRegion
	}
	home, err := awsenv.Load(ctx, region)
	if err != nil {
		return nil, err
	}
	dir, err := orgdir.Open(ctx, orgdir.Source{ReaderRoleARN: d.orgReaderRoleARN}, home)
	if err != nil {
		return nil, err
	}
	return &session{pol: pol, home: home, dir: dir, op: awsenv.NewOperator(home, cliUser(env), d.role)}, nil
}

// desired resolves and renders one account's trail.
func (s *session) desired(ctx context.Context, account string) (*converge.Desired, orgdir.Account, error) {
	info, err := s.dir.Describe(ctx, account)
	if err != nil {
		return nil, info, err
	}
	trail, err := s.pol.Effective(account, info.OUPath)
	if err != nil {
		return nil, info, err
	}
	home := s.pol.Organization.HomeRegion
	req, err := policy.Render(trail, policy.RenderContext{Account: account, HomeRegion: home, Partition: awsenv.Partition(home)})
	if err != nil {
		return nil, info, err
	}
	return req, info, nil
}

// engine converges (write) or plans one account through the operator's
// access (awsenv.Operator: the converge role to write, the read-only role
// otherwise, or --role).
func (s *session) engine(ctx context.Context, account string, write bool) (*converge.Engine, error) {
	cfg, err := s.op.Config(ctx, account, s.pol.Organization.HomeRegion, write)
	if err != nil {
		return nil, err
	}
	return enabler.NewEngine(cfg), nil
}

// operatorSessions hands the enabler's processor the operator's role
// whichever role it names (the policy's member role trusts only the
// enabler function).
type operatorSessions struct {
	inner enabler.Sessions
	role  string
}

func (o operatorSessions) Config(ctx context.Context, account, _, region string) (aws.Config, error) {
	return o.inner.Config(ctx, account, o.role, region)
}

// cliUser is the user the CLI's session name names (awsenv.NewOperator):
// $USER, else the local user.
func cliUser(env *cmdEnv) string {
	if u := env.getenv("USER"); u != "" {
		return u
	}
	return currentUser()
}

// cliSession is the CLI's session name (settings.CLISessionName of
// cliUser), also the requester of the work items it enqueues.
func cliSession(env *cmdEnv) string { return settings.CLISessionName(cliUser(env)) }
