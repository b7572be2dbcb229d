package watchdog

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/settings"
)

// Config is the watchdog function's configuration.
type Config struct {
	PolicyFile       string
	MetricsNamespace string
	LogLevel         string
	AlertsTopicARN   string

	AccountsTable   string
	LedgerTable     string
	JournalTable    string        // the verifier's arrival journal
	ItemInterval    time.Duration // the verifier's ledger item interval; default 1h
	IncidentsTable  string
	RequestQueueURL string // required when Repair is on

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
	if get == nil {
		get = os.Getenv
	}
	var problems []string
	str := func(name string) string { return strings.TrimSpace(get(name)) }
	dur := func(name string, def time.Duration) time.Duration {
		v := str(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Sprintf("%s=%q is not a positive Go duration (e.g. 30m)", name, v))
			return def
		}
		return d
	}
	integer := func(name string, def int) int {
		v := str(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			problems = append(problems, fmt.Sprintf("%s=%q is not a positive integer", name, v))
			return def
		}
		return n
	}
	repair := true
	if v := str(settings.EnvRepair); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q is not true or false", settings.EnvRepair, v))
		} else {
			repair = b
		}
	}
	c := Config{
		PolicyFile:          settings.PolicyPath(get),
		MetricsNamespace:    str(settings.EnvMetricsNamespace),
		LogLevel:            str(settings.EnvLogLevel),
		AlertsTopicARN:      str(settings.EnvAlertsTopicARN),
		AccountsTable:       str(settings.EnvAccountsTable),
		LedgerTable:         str(settings.EnvLedgerTable),
		JournalTable:        str(settings.EnvJournalTable),
		ItemInterval:        dur(settings.EnvLedgerItemInterval, ledger.DefaultItemInterval),
		IncidentsTable:      str(settings.EnvIncidentsTable),
		RequestQueueURL:     str(settings.EnvRequestQueueURL),
		StaleFloor:          dur(settings.EnvStaleFloor, DefaultStaleFloor),
		Allowance:           dur(settings.EnvCoalesceWindow, DefaultAllowance),
		NeverStartedAfter:   dur(settings.EnvNeverStartedAfter, DefaultNeverStartedAfter),
		EnableDeadline:      dur(settings.EnvEnableDeadline, time.Hour),
		RediagnoseEvery:     dur(settings.EnvRediagnoseEvery, DefaultRediagnoseEvery),
		Repair:              repair,
		EnabledRegions:      ParseRegions(str(settings.EnvEnabledRegions)),
		ScanSegments:        integer(settings.EnvScanSegments, DefaultScanSegments),
		DiagnoseConcurrency: integer(settings.EnvDiagnoseConcurrency, DefaultDiagnoseConcurrency),
		MaxDiagnoses:        integer(settings.EnvMaxDiagnoses, DefaultMaxDiagnoses),
		MassThreshold:       integer(settings.EnvMassThreshold, DefaultMassThreshold),
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = settings.DefaultMetricsNamespace
	}
	err := c.Validate()
	if len(problems) > 0 {
		err = errors.Join(errors.New("configuration: "+strings.Join(problems, "; ")), err)
	}
	return c, err
}

var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)

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
		if !regionName.MatchString(r) {
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
