package watchdog

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/settings"
)

// Config is the watchdog function's configuration.
type Config struct {
	PolicyFile       string
	MetricsNamespace string
	LogLevel         string
	AlertsTopicARN   string
	AlertsBus        string // "": alerts go to the topic only
	SecurityHubARN   string // the product ARN; "": no Security Hub import
	RunbookBaseURL   string

	AccountsTable   string
	LedgerTable     string
	JournalTable    string        // the verifier's arrival journal
	ItemInterval    time.Duration // the verifier's ledger item interval; default 1h
	IncidentsTable  string
	RequestQueueURL string // required when Repair is on
	// IntegrityHeadsTable is the digest chains' heads table ("": the
	// digest step does not run).
	IntegrityHeadsTable string

	StaleFloor        time.Duration // default 10m
	Allowance         time.Duration // the ledger's lag allowed on every threshold; default DefaultAllowance
	NeverStartedAfter time.Duration // default 30m
	EnableDeadline    time.Duration // default 1h
	RediagnoseEvery   time.Duration // default 1h
	Repair            bool          // default true
	EnabledRegions    []string

	ScanSegments        int // default 8
	DiagnoseConcurrency int // default 8
	MaxDiagnoses        int // default 200
	MassThreshold       int // default 50
}

// Defaults.
const (
	DefaultStaleFloor = 10 * time.Minute
	// DefaultAllowance is the ledger's lag allowed on every threshold.
	DefaultAllowance           = ledger.DefaultLagAllowance
	DefaultNeverStartedAfter   = 30 * time.Minute
	DefaultRediagnoseEvery     = time.Hour
	DefaultScanSegments        = 8
	DefaultDiagnoseConcurrency = 8
	DefaultMaxDiagnoses        = 200
	DefaultMassThreshold       = 50
)

// LoadConfig reads the configuration from the environment (get nil:
// os.Getenv) and validates it, reporting every problem at once.
func LoadConfig(get settings.Getenv) (Config, error) {
	e := settings.NewEnv(get)
	c := Config{
		PolicyFile:          settings.PolicyPath(e.Getenv()),
		MetricsNamespace:    e.String(settings.EnvMetricsNamespace),
		LogLevel:            e.String(settings.EnvLogLevel),
		AlertsTopicARN:      e.String(settings.EnvAlertsTopicARN),
		AlertsBus:           e.String(settings.EnvAlertsBus),
		SecurityHubARN:      e.String(settings.EnvSecurityHubProductARN),
		RunbookBaseURL:      e.String(settings.EnvRunbookBaseURL),
		AccountsTable:       e.String(settings.EnvAccountsTable),
		LedgerTable:         e.String(settings.EnvLedgerTable),
		JournalTable:        e.String(settings.EnvJournalTable),
		ItemInterval:        e.Duration(settings.EnvLedgerItemInterval, ledger.DefaultItemInterval),
		IncidentsTable:      e.String(settings.EnvIncidentsTable),
		RequestQueueURL:     e.String(settings.EnvRequestQueueURL),
		IntegrityHeadsTable: e.String(settings.EnvIntegrityHeadsTable),
		StaleFloor:          e.Duration(settings.EnvStaleFloor, DefaultStaleFloor),
		Allowance:           e.Duration(settings.EnvCoalesceWindow, DefaultAllowance),
		NeverStartedAfter:   e.Duration(settings.EnvNeverStartedAfter, DefaultNeverStartedAfter),
		EnableDeadline:      e.Duration(settings.EnvEnableDeadline, settings.DefaultEnableDeadline),
		RediagnoseEvery:     e.Duration(settings.EnvRediagnoseEvery, DefaultRediagnoseEvery),
		Repair:              e.Bool(settings.EnvRepair, true),
		EnabledRegions:      ParseRegions(e.String(settings.EnvEnabledRegions)),
		ScanSegments:        e.PositiveInt(settings.EnvScanSegments, DefaultScanSegments),
		DiagnoseConcurrency: e.PositiveInt(settings.EnvDiagnoseConcurrency, DefaultDiagnoseConcurrency),
		MaxDiagnoses:        e.PositiveInt(settings.EnvMaxDiagnoses, DefaultMaxDiagnoses),
		MassThreshold:       e.PositiveInt(settings.EnvMassThreshold, DefaultMassThreshold),
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = settings.DefaultMetricsNamespace
	}
	return c, errors.Join(e.Err(), c.Validate())
}

// ParseRegions splits a comma- or space-separated Region list, dropping
// empty entries and duplicates.
func ParseRegions(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// Validate reports every problem of c at once (zero durations and counts
// take their defaults).
func (c Config) Validate() error {
	var p []string
	req := func(name, v string) {
		if v == "" {
			p = append(p, name+" is required")
		}
	}
	req(settings.EnvAlertsTopicARN, c.AlertsTopicARN)
	req(settings.EnvAccountsTable, c.AccountsTable)
	req(settings.EnvLedgerTable, c.LedgerTable)
	req(settings.EnvJournalTable, c.JournalTable)
	req(settings.EnvIncidentsTable, c.IncidentsTable)
	req(settings.EnvPolicyFile, c.PolicyFile)
	if c.AlertsTopicARN != "" && !strings.HasPrefix(c.AlertsTopicARN, "arn:") {
		p = append(p, fmt.Sprintf("%s=%q is not an ARN", settings.EnvAlertsTopicARN, c.AlertsTopicARN))
	}
	if c.Repair && c.RequestQueueURL == "" {
		p = append(p, settings.EnvRequestQueueURL+" is required when "+settings.EnvRepair+" is true")
	}
	for _, r := range c.EnabledRegions {
		if !awsid.IsRegion(r) {
			p = append(p, fmt.Sprintf("%s: %q is not a Region name", settings.EnvEnabledRegions, r))
		}
	}
	for name, d := range map[string]time.Duration{settings.EnvStaleFloor: c.StaleFloor, settings.EnvCoalesceWindow: c.Allowance,
		settings.EnvLedgerItemInterval: c.ItemInterval,
		settings.EnvNeverStartedAfter:  c.NeverStartedAfter, settings.EnvRediagnoseEvery: c.RediagnoseEvery} {
		if d < 0 {
			p = append(p, fmt.Sprintf("%s must not be negative", name))
		}
	}
	if c.StaleFloor > time.Hour {
		p = append(p, fmt.Sprintf("%s=%s is above the 1h digest heartbeat: busy Regions would be detected no sooner than quiet ones", settings.EnvStaleFloor, c.StaleFloor))
	}
	for name, n := range map[string]int{settings.EnvScanSegments: c.ScanSegments, settings.EnvDiagnoseConcurrency: c.DiagnoseConcurrency,
		settings.EnvMaxDiagnoses: c.MaxDiagnoses, settings.EnvMassThreshold: c.MassThreshold} {
		if n < 0 {
			p = append(p, fmt.Sprintf("%s must not be negative", name))
		}
	}
	if c.ScanSegments > 1000000 {
		p = append(p, settings.EnvScanSegments+" must be at most 1000000 (DynamoDB's TotalSegments limit)")
	}
	if len(p) == 0 {
		return nil
	}
	sort.Strings(p)
	return errors.New("configuration: " + strings.Join(p, "; "))
}
