package settings

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Getenv reads one variable (os.Getenv, or a map in tests).
type Getenv func(string) string

// reader collects every problem while reading variables.
type reader struct {
	get      Getenv
	problems []string
}

func (r *reader) str(name string, required bool) string {
	v := strings.TrimSpace(r.get(name))
	if v == "" && required {
		r.problems = append(r.problems, fmt.Sprintf("%s is required", name))
	}
	return v
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.problems = append(r.problems, fmt.Sprintf("%s=%q is not a positive Go duration (e.g. 30m)", name, v))
		return def
	}
	return d
}

func (r *reader) boolean(name string, def bool) bool {
	v := strings.TrimSpace(r.get(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.problems = append(r.problems, fmt.Sprintf("%s=%q is not true or false", name, v))
		return def
	}
	return b
}

func (r *reader) err() error {
	if len(r.problems) == 0 {
		return nil
	}
	return errors.New("configuration: " + strings.Join(r.problems, "; "))
}

// PolicyPath resolves the bundled policy file: relative paths are relative
// to LAMBDA_TASK_ROOT when set.
func PolicyPath(get Getenv) string {
	p := strings.TrimSpace(get(EnvPolicyFile))
	if p == "" {
		p = "policy.yaml"
	}
	if !filepath.IsAbs(p) {
		if root := get("LAMBDA_TASK_ROOT"); root != "" {
			p = filepath.Join(root, p)
		}
	}
	return p
}

// Common is what every function reads.
type Common struct {
	PolicyFile       string
	MetricsNamespace string
	LogLevel         string
	AlertsTopicARN   string
	OrgReaderRoleARN string // "" in single-account mode or when run in the management account
	SingleAccount    bool
}

func (r *reader) common() Common {
	c := Common{
		PolicyFile:       PolicyPath(r.get),
		MetricsNamespace: r.str(EnvMetricsNamespace, false),
		LogLevel:         r.str(EnvLogLevel, false),
		AlertsTopicARN:   r.str(EnvAlertsTopicARN, true),
		OrgReaderRoleARN: r.str(EnvOrgReaderRoleARN, false),
		SingleAccount:    r.boolean(EnvSingleAccount, false),
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = DefaultMetricsNamespace
	}
	if c.AlertsTopicARN != "" && !strings.HasPrefix(c.AlertsTopicARN, "arn:") {
		r.problems = append(r.problems, fmt.Sprintf("%s=%q is not an ARN", EnvAlertsTopicARN, c.AlertsTopicARN))
	}
	return c
}

// Enabler is the enabler function's configuration.
type Enabler struct {
	Common
	AccountsTable string
	// IncidentsTable holds the alert outbox (one item per alerted event);
	// "" outside a queue (backfill), where alerts are published directly.
	IncidentsTable  string
	RequestQueueURL string
	EnableDeadline  time.Duration
	// SessionName is the member-role session name: RoleSessionName when ""
	// (the function); the CLI passes CLISessionName.
	SessionName string
}

// LoadEnabler reads and validates the enabler's configuration, reporting
// every problem at once.
func LoadEnabler(get Getenv) (Enabler, error) {
	if get == nil {
		get = os.Getenv
	}
	r := &reader{get: get}
	c := Enabler{
		Common:          r.common(),
		AccountsTable:   r.str(EnvAccountsTable, true),
		IncidentsTable:  r.str(EnvIncidentsTable, true),
		RequestQueueURL: r.str(EnvRequestQueueURL, true),
		EnableDeadline:  r.duration(EnvEnableDeadline, time.Hour),
	}
	return c, r.err()
}

// Reconciler is the reconciler function's configuration.
type Reconciler struct {
	Common
	AccountsTable   string
	RequestQueueURL string
}

// LoadReconciler reads and validates the reconciler's configuration.
func LoadReconciler(get Getenv) (Reconciler, error) {
	if get == nil {
		get = os.Getenv
	}
	r := &reader{get: get}
	c := Reconciler{
		Common:          r.common(),
		AccountsTable:   r.str(EnvAccountsTable, true),
		RequestQueueURL: r.str(EnvRequestQueueURL, true),
	}
	return c, r.err()
}
