package watchdog

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
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
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

// SessionName is the role session the watchdog uses in member accounts
// (the enabler's loop guard recognises trailwarden's own sessions by it).
const SessionName = settings.RoleSessionName

// New builds a watchdog from validated configuration and the function's own
// AWS configuration (home). Logs and metrics go to out (stdout in Lambda).
// `trailwarden invoke watchdog` calls it the same way.
func New(ctx context.Context, cfg Config, home aws.Config, out io.Writer) (*Watchdog, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pol, err := policy.Load(cfg.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: load %s: %w", ErrNoPolicy, cfg.PolicyFile, err)
	}
	hub, err := asff.NewAlertSink(securityhub.NewFromConfig(home), cfg.SecurityHubARN, cfg.RunbookBaseURL)
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(home)
	cad := DefaultCadence()
	cad.Floor = orDefault(cfg.StaleFloor, DefaultStaleFloor)
	cad.Allowance = orDefault(cfg.Allowance, DefaultAllowance)
	store := &accounts.Store{DB: db, Table: cfg.AccountsTable}
	w := &Watchdog{
		EnableDeadline: cfg.EnableDeadline,
		Policy:         pol,
		Accounts:       store,
		Overdue:        store,
		Ledger: &ledger.Reader{DB: db, Table: cfg.LedgerTable,
			Journal: &ledger.JournalReader{DB: db, Table: cfg.JournalTable, Horizon: ledger.JournalHorizon(cfg.ItemInterval)},
			Fold:    &ledger.Folder{DB: db, Table: cfg.LedgerTable, Interval: cfg.ItemInterval}},
		Incidents: &incident.Store{DB: db, Table: cfg.IncidentsTable},
		Sessions:  readerSessions{awsenv.NewAssumer(home, sts.NewFromConfig(home), SessionName)},
		NewTrail:  func(c aws.Config) TrailAPI { return cloudtrail.NewFromConfig(c) },
		Alerts: &alert.Publisher{SNS: sns.NewFromConfig(home), TopicARN: cfg.AlertsTopicARN, RunbookBase: cfg.RunbookBaseURL,
			Sinks: []alert.Sink{alertbus.New(eventbridge.NewFromConfig(home), cfg.AlertsBus), hub}},
		Repair:  cfg.Repair,
		Metrics: telemetry.NewMetrics(out, cfg.MetricsNamespace, "watchdog"),
		Logger:  telemetry.NewLogger(out, cfg.LogLevel).With("function", "watchdog"),

		Cadence:             cad,
		EnabledRegions:      cfg.EnabledRegions,
		NeverStartedAfter:   cfg.NeverStartedAfter,
		RediagnoseEvery:     cfg.RediagnoseEvery,
		ScanSegments:        cfg.ScanSegments,
		DiagnoseConcurrency: cfg.DiagnoseConcurrency,
		MaxDiagnoses:        cfg.MaxDiagnoses,
		MassThreshold:       cfg.MassThreshold,
	}
	if cfg.Repair {
		w.Requests, w.RequestQueueURL = sqs.NewFromConfig(home), cfg.RequestQueueURL
	}
	if cfg.IntegrityHeadsTable != "" {
		// Expected-but-missing digests are findings on the verifier's path.
		w.Heads = &integritywatch.HeadReader{DB: db, Table: cfg.IntegrityHeadsTable, Segments: orDefault(cfg.ScanSegments, DefaultScanSegments)}
		w.Findings = &verifier.Findings{DB: db, Table: cfg.IncidentsTable, Alerts: w.Alerts}
	}
	return w, nil
}

// readerSessions assumes the watchdog's read-only member role
// (settings.WatchdogMemberRole) whichever role the caller names: the
// watchdog only reads, and the enabler's member role writes.
type readerSessions struct{ Sessions }

func (r readerSessions) Config(ctx context.Context, account, _, region string) (aws.Config, error) {
	return r.Sessions.Config(ctx, account, settings.WatchdogMemberRole, region)
}
