package verifier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/telemetry"
)

// Config is the verifier function's configuration.
type Config struct {
	PolicyFile       string
	AccountsTable    string
	LedgerTable      string
	JournalTable     string
	ItemInterval     time.Duration
	IncidentsTable   string
	AlertsTopicARN   string
	ObjectCheck      ObjectCheck
	SampleRate       float64
	CoalesceWindow   time.Duration
	BatchSize        int
	MetricsNamespace string
	LogLevel         string

	problems []string // from LoadConfig: values that did not parse
}

// LoadConfig reads the configuration from the environment (settings
// names) and validates it, reporting every problem at once.
func LoadConfig(get settings.Getenv) (Config, error) {
	if get == nil {
		get = os.Getenv
	}
	str := func(name string) string { return strings.TrimSpace(get(name)) }
	c := Config{
		PolicyFile:       settings.PolicyPath(get),
		AccountsTable:    str(settings.EnvAccountsTable),
		LedgerTable:      str(settings.EnvLedgerTable),
		JournalTable:     str(settings.EnvJournalTable),
		ItemInterval:     ledger.DefaultItemInterval,
		IncidentsTable:   str(settings.EnvIncidentsTable),
		AlertsTopicARN:   str(settings.EnvAlertsTopicARN),
		ObjectCheck:      CheckSample,
		SampleRate:       0.01,
		CoalesceWindow:   ledger.DefaultWindow,
		BatchSize:        10,
		MetricsNamespace: str(settings.EnvMetricsNamespace),
		LogLevel:         str(settings.EnvLogLevel),
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = settings.DefaultMetricsNamespace
	}
	if v := str(settings.EnvObjectCheck); v != "" {
		oc, err := ParseObjectCheck(v)
		if err != nil {
			c.problems = append(c.problems, fmt.Sprintf("%s=%q is not none, sample or all", settings.EnvObjectCheck, v))
		} else {
			c.ObjectCheck = oc
		}
	}
	if v := str(settings.EnvObjectCheckSampleRate); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			c.problems = append(c.problems, fmt.Sprintf("%s=%q is not a number", settings.EnvObjectCheckSampleRate, v))
		} else {
			c.SampleRate = f
		}
	}
	if v := str(settings.EnvCoalesceWindow); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			c.problems = append(c.problems, fmt.Sprintf("%s=%q is not a Go duration (e.g. 5m)", settings.EnvCoalesceWindow, v))
		} else {
			c.CoalesceWindow = d
		}
	}
	if v := str(settings.EnvLedgerItemInterval); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			c.problems = append(c.problems, fmt.Sprintf("%s=%q is not a Go duration (e.g. 1h)", settings.EnvLedgerItemInterval, v))
		} else {
			c.ItemInterval = d
		}
	}
	if v := str(settings.EnvVerifierBatchSize); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			c.problems = append(c.problems, fmt.Sprintf("%s=%q is not an integer", settings.EnvVerifierBatchSize, v))
		} else {
			c.BatchSize = n
		}
	}
	return c, c.Validate()
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	p := append([]string(nil), c.problems...)
	for name, v := range map[string]string{settings.EnvAccountsTable: c.AccountsTable, settings.EnvLedgerTable: c.LedgerTable,
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
	if c.CoalesceWindow < time.Second || c.CoalesceWindow > 30*time.Minute {
		p = append(p, fmt.Sprintf("%s=%v must be between 1s and 30m (the watchdog's detection goals need a short window)",
			settings.EnvCoalesceWindow, c.CoalesceWindow))
	}
	if c.ItemInterval < time.Minute || c.ItemInterval > 6*time.Hour {
		p = append(p, fmt.Sprintf("%s=%v must be between 1m and 6h (readers look back over the journal that long)",
			settings.EnvLedgerItemInterval, c.ItemInterval))
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
	if _, err := pol.Validate(policy.ValidateOptions{}); err != nil {
		return nil, fmt.Errorf("policy %s is invalid: %w", c.PolicyFile, err)
	}
	db := dynamodb.NewFromConfig(home)
	return NewFromPolicy(pol, c, Clients{
		DynamoDB: db,
		S3:       s3.NewFromConfig(home, awsenv.S3Options(home)),
		Alerts:   &alert.Publisher{SNS: sns.NewFromConfig(home), TopicARN: c.AlertsTopicARN},
	}, out, nil), nil
}

// Clients are the AWS clients a Processor uses.
type Clients struct {
	DynamoDB interface {
		ledger.WriteAPI
		ledger.JournalPutAPI
		incident.OutboxAPI
		accounts.API
	}
	S3     HeadObjectAPI
	Alerts AlertPublisher
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
	metrics := telemetry.NewMetrics(out, c.MetricsNamespace, "verifier")
	metrics.SetClock(now)
	return &Processor{
		Rules:       RulesFromPolicy(pol),
		KMSKeyARN:   kms,
		ObjectCheck: c.ObjectCheck,
		SampleRate:  c.SampleRate,
		S3:          cl.S3,
		Members:     &Members{Source: &accounts.Store{DB: cl.DynamoDB, Table: c.AccountsTable}, Now: now},
		Ledger: ledger.NewWriter(cl.DynamoDB, c.LedgerTable, ledger.WriterOptions{Window: c.CoalesceWindow, Now: now,
			CountWindow: c.ItemInterval, Journal: &ledger.Journal{DB: cl.DynamoDB, Table: c.JournalTable}}),
		Findings:  &Findings{DB: cl.DynamoDB, Table: c.IncidentsTable, Alerts: cl.Alerts, Now: now},
		Metrics:   metrics,
		Logger:    telemetry.NewLogger(out, c.LogLevel).With("function", "verifier"),
		Now:       now,
		BatchSize: c.BatchSize,
		// Summed per minute in the warm instance: CloudWatch keeps
		// one-minute resolution anyway.
		MetricsInterval: time.Minute,
	}
}
