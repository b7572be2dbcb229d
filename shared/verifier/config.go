package verifier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/alertbus"
	"github.com/trailwarden/trailwarden/shared/asff"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/integrity"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/telemetry"
)

// Config is the verifier function's configuration.
type Config struct {
	PolicyFile     string
	AccountsTable  string
	JournalTable   string
	ItemInterval   time.Duration
	IncidentsTable string
	AlertsTopicARN string
	AlertsBus      string // "": alerts go to the topic only
	SecurityHubARN string // the product ARN; "": no Security Hub import
	RunbookBaseURL string
	ObjectCheck    ObjectCheck
	SampleRate     float64
	// IntegrityTable is the digest-verification state table ("": digests
	// are not verified); IntegrityLogFiles which listed log files are
	// hashed (none when "").
	IntegrityTable    string
	IntegrityLogFiles integrity.LogFileMode
	// IntegrityHeadsTable keeps each chain's newest verified digest, for
	// the watchdog's expected-but-missing digests ("": not kept).
	IntegrityHeadsTable string
	// Deprecated: CoalesceWindow is ignored. The journal carries every
	// time before an invocation returns, so the verifier has no
	// coalescing window any more; the setting is still accepted, with a
	// warning (Warnings). The watchdog keeps its own allowance.
	CoalesceWindow time.Duration
	// Warnings are settings accepted but without effect, logged at start.
	Warnings         []string
	BatchSize        int
	MetricsNamespace string
	LogLevel         string

	problems []string // from LoadConfig: values that did not parse
}

// LoadConfig reads the configuration from the environment (settings
// names) and validates it, reporting every problem at once.
func LoadConfig(get settings.Getenv) (Config, error) {
	e := settings.NewEnv(get)
	c := Config{
		PolicyFile:          settings.PolicyPath(e.Getenv()),
		AccountsTable:       e.String(settings.EnvAccountsTable),
		JournalTable:        e.String(settings.EnvJournalTable),
		ItemInterval:        e.Duration(settings.EnvLedgerItemInterval, ledger.DefaultItemInterval),
		IncidentsTable:      e.String(settings.EnvIncidentsTable),
		AlertsTopicARN:      e.String(settings.EnvAlertsTopicARN),
		AlertsBus:           e.String(settings.EnvAlertsBus),
		SecurityHubARN:      e.String(settings.EnvSecurityHubProductARN),
		RunbookBaseURL:      e.String(settings.EnvRunbookBaseURL),
		ObjectCheck:         CheckSample,
		IntegrityTable:      e.String(settings.EnvIntegrityTable),
		IntegrityLogFiles:   integrity.LogFileMode(e.String(settings.EnvIntegrityLogFiles)),
		IntegrityHeadsTable: e.String(settings.EnvIntegrityHeadsTable),
		SampleRate:          e.Float(settings.EnvObjectCheckSampleRate, 0.01),
		BatchSize:           e.Int(settings.EnvVerifierBatchSize, 10),
		MetricsNamespace:    e.String(settings.EnvMetricsNamespace),
		LogLevel:            e.String(settings.EnvLogLevel),
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = settings.DefaultMetricsNamespace
	}
	if v := e.String(settings.EnvObjectCheck); v != "" {
		oc, err := ParseObjectCheck(v)
		if err != nil {
			e.Problemf("%s=%q is not none, sample or all", settings.EnvObjectCheck, v)
		} else {
			c.ObjectCheck = oc
		}
	}
	if v := e.String(settings.EnvCoalesceWindow); v != "" {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s=%q is deprecated and ignored by the verifier: every time is journaled "+
			"before an invocation returns (deployment.ledger.coalesceWindow now sets only the watchdog's allowance)", settings.EnvCoalesceWindow, v))
	}
	c.problems = e.Problems()
	return c, c.Validate()
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	p := append([]string(nil), c.problems...)
	for name, v := range map[string]string{settings.EnvAccountsTable: c.AccountsTable,
		settings.EnvJournalTable:   c.JournalTable,
		settings.EnvIncidentsTable: c.IncidentsTable, settings.EnvAlertsTopicARN: c.AlertsTopicARN} {
		if v == "" {
			p = append(p, name+" is required")
		}
	}
	if c.AlertsTopicARN != "" && !strings.HasPrefix(c.AlertsTopicARN, "arn:") {
		p = append(p, fmt.Sprintf("%s=%q is not an ARN", settings.EnvAlertsTopicARN, c.AlertsTopicARN))
	}
	if c.PolicyFile == "" {
		p = append(p, settings.EnvPolicyFile+" is required")
	}
	switch c.ObjectCheck {
	case CheckNone, CheckSample, CheckAll:
	default:
		p = append(p, fmt.Sprintf("object check %q is not none, sample or all", c.ObjectCheck))
	}
	if c.ObjectCheck == CheckSample && !(c.SampleRate > 0 && c.SampleRate <= 1) {
		p = append(p, fmt.Sprintf("%s=%v must be in (0, 1]", settings.EnvObjectCheckSampleRate, c.SampleRate))
	}
	if c.ItemInterval < time.Minute || c.ItemInterval > 6*time.Hour {
		p = append(p, fmt.Sprintf("%s=%v must be between 1m and 6h (readers look back over the journal that long)",
			settings.EnvLedgerItemInterval, c.ItemInterval))
	}
	switch c.IntegrityLogFiles {
	case "", integrity.LogFilesNone, integrity.LogFilesSample, integrity.LogFilesAll:
	default:
		p = append(p, fmt.Sprintf("%s=%q is not none, sample or all", settings.EnvIntegrityLogFiles, c.IntegrityLogFiles))
	}
	if c.BatchSize < 1 || c.BatchSize > 10000 {
		p = append(p, fmt.Sprintf("%s=%d must be between 1 and 10000", settings.EnvVerifierBatchSize, c.BatchSize))
	}
	if len(p) == 0 {
		return nil
	}
	sort.Strings(p)
	return errors.New("verifier configuration: " + strings.Join(p, "; "))
}

// New builds a Processor from validated configuration and the function's
// AWS configuration; logs and metrics go to out (stdout in Lambda).
func New(ctx context.Context, c Config, home aws.Config, out io.Writer) (*Processor, error) {
	pol, err := policy.Load(c.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", c.PolicyFile, err)
	}
	hub, err := asff.NewAlertSink(securityhub.NewFromConfig(home), c.SecurityHubARN, c.RunbookBaseURL)
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(home)
	s3c := s3.NewFromConfig(home, awsenv.S3Options(home))
	return NewFromPolicy(pol, c, Clients{
		DynamoDB:  db,
		S3:        s3c,
		GetObject: s3c,
		Keys:      integritywatch.CloudTrailKeys{Config: home},
		Alerts: &alert.Publisher{SNS: sns.NewFromConfig(home), TopicARN: c.AlertsTopicARN, RunbookBase: c.RunbookBaseURL,
			Sinks: []alert.Sink{alertbus.New(eventbridge.NewFromConfig(home), c.AlertsBus), hub}},
	}, out, nil), nil
}

// Clients are the AWS clients a Processor uses.
type Clients struct {
	DynamoDB interface {
		ledger.JournalPutAPI
		incident.OutboxAPI
		accounts.API
	}
	S3     HeadObjectAPI
	Alerts AlertPublisher
	// GetObject and Keys serve digest verification (with IntegrityTable).
	GetObject integritywatch.GetObjectAPI
	Keys      integrity.KeySource
}

// NewFromPolicy wires a Processor (tests pass a clock in now; nil for the
// wall clock).
func NewFromPolicy(pol *policy.Policy, c Config, cl Clients, out io.Writer, now func() time.Time) *Processor {
	if now == nil {
		now = time.Now
	}
	kms := pol.Trail.KMS.KeyArn
	if kms == policy.KMSNone {
		kms = ""
	}
	logger := telemetry.NewLogger(out, c.LogLevel).With("function", "verifier")
	for _, w := range c.Warnings {
		logger.Warn("configuration", "warning", w)
	}
	metrics := telemetry.NewMetrics(out, c.MetricsNamespace, "verifier")
	metrics.SetClock(now)
	var watch DigestWatcher
	if c.IntegrityTable != "" {
		watch = &integritywatch.Watcher{S3: cl.GetObject, Keys: &integritywatch.CachedKeys{Source: cl.Keys, Now: now},
			State: &integritywatch.Table{DB: cl.DynamoDB, Name: c.IntegrityTable, Heads: c.IntegrityHeadsTable}, LogFiles: c.IntegrityLogFiles, Now: now}
	}
	return &Processor{
		Integrity:   watch,
		Rules:       RulesFromPolicy(pol),
		KMSKeyARN:   kms,
		ObjectCheck: c.ObjectCheck,
		SampleRate:  c.SampleRate,
		S3:          cl.S3,
		Members:     &Members{Source: &TableMembers{DB: cl.DynamoDB, Table: c.AccountsTable}, Now: now},
		Ledger: ledger.NewWriter(ledger.WriterOptions{Now: now,
			ItemInterval: c.ItemInterval, Journal: ledger.Journal{DB: cl.DynamoDB, Table: c.JournalTable}}),
		Findings: &Findings{DB: cl.DynamoDB, Table: c.IncidentsTable, Alerts: cl.Alerts, Now: now},
		Metrics:  metrics,
		Logger:   logger,
		Now:      now,
		// Summed per minute in the warm instance: CloudWatch keeps
		// one-minute resolution anyway.
		MetricsInterval: time.Minute,
	}
}
