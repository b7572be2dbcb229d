package enabler

import (
	"cmp"
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/alertbus"
	"github.com/trailwarden/trailwarden/shared/asff"
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
	dir, err := orgdir.Open(ctx, orgdir.Source{SingleAccount: cfg.SingleAccount, ReaderRoleARN: cfg.OrgReaderRoleARN}, home)
	if err != nil {
		return nil, err
	}
	logger := telemetry.NewLogger(out, cfg.LogLevel).With("function", "enabler")
	hub, err := asff.NewAlertSink(securityhub.NewFromConfig(home), cfg.SecurityHubARN, cfg.RunbookBaseURL)
	if err != nil {
		return nil, err
	}
	alerts := &alert.Publisher{SNS: sns.NewFromConfig(home), TopicARN: cfg.AlertsTopicARN, RunbookBase: cfg.RunbookBaseURL,
		Sinks: []alert.Sink{alertbus.New(eventbridge.NewFromConfig(home), cfg.AlertsBus), hub}}
	var outbox Outbox
	var incidents Incidents
	if cfg.IncidentsTable != "" {
		outbox = &incident.Outbox{DB: dynamodb.NewFromConfig(home), Table: cfg.IncidentsTable, Alerts: alerts}
		incidents = &incident.Store{DB: dynamodb.NewFromConfig(home), Table: cfg.IncidentsTable}
	}
	return &Processor{
		Policy:         pol,
		Directory:      dir,
		Sessions:       awsenv.NewAssumer(home, sts.NewFromConfig(home), cmp.Or(cfg.SessionName, SessionName)),
		NewEngine:      NewEngine,
		Accounts:       &accounts.Store{DB: dynamodb.NewFromConfig(home), Table: cfg.AccountsTable},
		Alerts:         alerts,
		Outbox:         outbox,
		Incidents:      incidents,
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

// NewEngine builds a converge engine over a member account's configuration.
func NewEngine(cfg aws.Config) *converge.Engine {
	return &converge.Engine{CloudTrail: cloudtrail.NewFromConfig(cfg),
		Logs: cloudwatchlogs.NewFromConfig(cfg), Region: cfg.Region}
}
