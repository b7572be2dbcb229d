package settings

import (
	"path/filepath"
	"strings"
	"time"
)

// DefaultEnableDeadline is how long a joined account may stay un-enabled
// before an alert when EnvEnableDeadline is unset.
const DefaultEnableDeadline = time.Hour

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
	AlertsBus        string // "": alerts go to the topic only
	SecurityHubARN   string // the product ARN; "": no Security Hub import
	RunbookBaseURL   string
	OrgReaderRoleARN string // "" in single-account mode or when run in the management account
	SingleAccount    bool
}

// ReadCommon reads what every function reads.
func ReadCommon(e *Env) Common {
	c := Common{
		PolicyFile:       PolicyPath(e.get),
		MetricsNamespace: e.String(EnvMetricsNamespace),
		LogLevel:         e.String(EnvLogLevel),
		AlertsTopicARN:   e.Required(EnvAlertsTopicARN),
		AlertsBus:        e.String(EnvAlertsBus),
		SecurityHubARN:   e.String(EnvSecurityHubProductARN),
		RunbookBaseURL:   e.String(EnvRunbookBaseURL),
		OrgReaderRoleARN: e.String(EnvOrgReaderRoleARN),
		SingleAccount:    e.Bool(EnvSingleAccount, false),
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = DefaultMetricsNamespace
	}
	if c.AlertsTopicARN != "" && !strings.HasPrefix(c.AlertsTopicARN, "arn:") {
		e.Problemf("%s=%q is not an ARN", EnvAlertsTopicARN, c.AlertsTopicARN)
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
	e := NewEnv(get)
	c := Enabler{
		Common:          ReadCommon(e),
		AccountsTable:   e.Required(EnvAccountsTable),
		IncidentsTable:  e.Required(EnvIncidentsTable),
		RequestQueueURL: e.Required(EnvRequestQueueURL),
		EnableDeadline:  e.Duration(EnvEnableDeadline, DefaultEnableDeadline),
	}
	return c, e.Err()
}

// Reconciler is the reconciler function's configuration.
type Reconciler struct {
	Common
	AccountsTable   string
	RequestQueueURL string
}

// LoadReconciler reads and validates the reconciler's configuration.
func LoadReconciler(get Getenv) (Reconciler, error) {
	e := NewEnv(get)
	c := Reconciler{
		Common:          ReadCommon(e),
		AccountsTable:   e.Required(EnvAccountsTable),
		RequestQueueURL: e.Required(EnvRequestQueueURL),
	}
	return c, e.Err()
}
