// Package flow wires trailwarden's real processors to an emulated world,
// for integration tests, benchmarks and the local demo: the same wiring as
// the functions' main packages, with the clients aimed at the emulator.
package flow

import (
	"context"
	"github.com/trailwarden/trailwarden/shared/settings"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/telemetry"
)

// Table names used on the emulator (the CDK app names its own).
const (
	AccountsTable  = "trailwarden-accounts"
	LedgerTable    = "trailwarden-ledger"
	JournalTable   = "trailwarden-journal"
	IncidentsTable = "trailwarden-incidents"
	// IntegrityTable and IntegrityHeadsTable are the continuous digest
	// verification's state (shared/integritywatch).
	IntegrityTable      = "trailwarden-integrity"
	IntegrityHeadsTable = "trailwarden-integrity-heads"
)

// Tables is the key schema of trailwarden's tables.
func Tables() []central.Table {
	return []central.Table{
		{Name: AccountsTable, PartitionKey: accounts.KeyAttribute},
		{Name: LedgerTable, PartitionKey: "AccountId"},
		{Name: JournalTable, PartitionKey: ledger.JournalSlotAttribute, SortKey: ledger.JournalWriterAttribute, NumericPartitionKey: true},
		{Name: IncidentsTable, PartitionKey: "IncidentId"},
		{Name: IntegrityTable, PartitionKey: "id"},
		{Name: IntegrityHeadsTable, PartitionKey: integritywatch.HeadsKey},
	}
}

// LedgerReader reads the emulator's ledger with its journal.
func LedgerReader(db interface {
	ledger.ReadAPI
	ledger.JournalQueryAPI
}) *ledger.Reader {
	return &ledger.Reader{DB: db, Table: LedgerTable, Journal: &ledger.JournalReader{DB: db, Table: JournalTable}}
}

// EnablerOptions tune the processor for a test.
type EnablerOptions struct {
	// Sessions replaces the AssumeRole sessions (e.g. a fake role that is
	// not yet assumable).
	Sessions enabler.Sessions
	// Out receives logs and EMF metrics (default io.Discard).
	Out io.Writer
	// Latency, when set, delays every AWS request: a fake for the network
	// round trip the emulator lacks (benchmarks).
	Latency time.Duration
}

// WithLatency returns cfg whose requests each wait d before being sent.
func WithLatency(cfg aws.Config, d time.Duration) aws.Config {
	if d <= 0 {
		return cfg
	}
	cfg = cfg.Copy()
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("fakeNetworkLatency",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				t := time.NewTimer(d)
				defer t.Stop()
				select {
				case <-t.C:
				case <-ctx.Done():
					return middleware.FinalizeOutput{}, middleware.Metadata{}, ctx.Err()
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
	return cfg
}

// Enabler builds the enabler's processor: management (organization reads,
// AssumeRole into members) and automation (tables, queues, alerts) configs.
func Enabler(management, automation aws.Config, res *central.Resources, pol *policy.Policy, o EnablerOptions) *enabler.Processor {
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	management = WithLatency(management, o.Latency)
	automation = WithLatency(automation, o.Latency)
	sessions := o.Sessions
	if sessions == nil {
		sessions = awsenv.NewAssumer(management, sts.NewFromConfig(management), settings.RoleSessionName)
	}
	return &enabler.Processor{
		Policy:    pol,
		Directory: orgdir.New(organizations.NewFromConfig(management)),
		Sessions:  sessions,
		NewEngine: enabler.NewEngine,
		Accounts:  &accounts.Store{DB: dynamodb.NewFromConfig(automation), Table: AccountsTable},
		Alerts:    &alert.Publisher{SNS: sns.NewFromConfig(automation), TopicARN: res.AlertsTopicARN},
		Outbox: &incident.Outbox{DB: dynamodb.NewFromConfig(automation), Table: IncidentsTable,
			Alerts: &alert.Publisher{SNS: sns.NewFromConfig(automation), TopicARN: res.AlertsTopicARN}},
		Incidents:      &incident.Store{DB: dynamodb.NewFromConfig(automation), Table: IncidentsTable},
		Visibility:     sqs.NewFromConfig(automation),
		QueueURL:       res.RequestQueueURL,
		Metrics:        telemetry.NewMetrics(out, "Trailwarden", "enabler"),
		Logger:         telemetry.NewLogger(out, "debug").With("function", "enabler"),
		OwnRoles:       enabler.OwnRoles(pol),
		EnableDeadline: time.Hour,
	}
}
