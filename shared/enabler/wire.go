package enabler

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/telemetry"
)

// SessionName is the role session the enabler uses in member accounts
// (settings.RoleSessionName); the loop guard recognises its own calls by it.
const SessionName = settings.RoleSessionName

// New builds a processor from validated configuration and the function's
// own AWS configuration. Logs and metrics go to out (stdout in Lambda).
func New(ctx context.Context, cfg settings.Enabler, home aws.Config, out io.Writer) (*Processor, error) {
	pol, err := policy.Load(cfg.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", cfg.PolicyFile, err)
	}
	if _, err := pol.Validate(policy.ValidateOptions{}); err != nil {
		return nil, fmt.Errorf("policy %s is invalid: %w", cfg.PolicyFile, err)
	}
	dir, err := NewDirectory(ctx, cfg.Common, home)
	if err != nil {
		return nil, err
	}
	logger := telemetry.NewLogger(out, cfg.LogLevel).With("function", "enabler")
	alerts := &alert.Publisher{SNS: sns.NewFromConfig(home), TopicARN: cfg.AlertsTopicARN}
	var outbox Outbox
	if cfg.IncidentsTable != "" {
		outbox = &incident.Outbox{DB: dynamodb.NewFromConfig(home), Table: cfg.IncidentsTable, Alerts: alerts}
	}
	return &Processor{
		Policy:         pol,
		Directory:      dir,
		Sessions:       awsenv.NewAssumer(home, sts.NewFromConfig(home), orString(cfg.SessionName, SessionName)),
		NewEngine:      NewEngine,
		Accounts:       &accounts.Store{DB: dynamodb.NewFromConfig(home), Table: cfg.AccountsTable},
		Alerts:         alerts,
		Outbox:         outbox,
		Visibility:     sqs.NewFromConfig(home),
		QueueURL:       cfg.RequestQueueURL,
		Metrics:        telemetry.NewMetrics(out, cfg.MetricsNamespace, "enabler"),
		Logger:         logger,
		EnableDeadline: cfg.EnableDeadline,
		OwnRoles:       OwnRoles(pol),
	}, nil
}

// OwnRoles are the role/session pairs trailwarden's functions act
// through: the member role with exactly settings.RoleSessionName (the
// enabler's and the watchdog's). The CLI's sessions (CLISessionPrefix) are
// an operator's, and their changes are judged as anyone's.
func OwnRoles(pol *policy.Policy) []string {
	return []string{pol.Organization.MemberRole + "/" + settings.RoleSessionName}
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// NewEngine builds a converge engine over a member account's configuration.
func NewEngine(cfg aws.Config) *converge.Engine {
	return &converge.Engine{CloudTrail: cloudtrail.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg),
		Logs: cloudwatchlogs.NewFromConfig(cfg), Region: cfg.Region}
}

// NewDirectory returns the organization directory: through the management
// account's reader role when one is configured, through the function's own
// credentials otherwise, and a one-account directory in single-account mode.
func NewDirectory(ctx context.Context, c settings.Common, home aws.Config) (Directory, error) {
	if c.SingleAccount {
		id, err := sts.NewFromConfig(home).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("single-account mode: who am I: %w", err)
		}
		return SingleAccount{ID: aws.ToString(id.Account)}, nil
	}
	cfg := home
	if c.OrgReaderRoleARN != "" {
		cfg = home.Copy()
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(home), c.OrgReaderRoleARN,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = SessionName }))
	}
	return orgdir.New(organizations.NewFromConfig(cfg)), nil
}

// SingleAccount is the directory of single-account mode: one active account
// under no OU; any other account id is refused.
type SingleAccount struct{ ID string }

// Describe returns the one account.
func (s SingleAccount) Describe(_ context.Context, id string) (orgdir.Account, error) {
	if id != s.ID {
		return orgdir.Account{}, fmt.Errorf("single-account mode manages only %s, not %s", s.ID, id)
	}
	return orgdir.Account{ID: id, State: "ACTIVE"}, nil
}

// Path is empty: the one account sits under no OU.
func (SingleAccount) Path(context.Context, string) ([]string, error) { return nil, nil }

// Forget does nothing: there is no cache.
func (SingleAccount) Forget(string) {}

// List returns the one account (backfill and reconcile in single-account mode).
func (s SingleAccount) List(context.Context) ([]orgdir.Account, error) {
	return []orgdir.Account{{ID: s.ID, State: "ACTIVE"}}, nil
}
