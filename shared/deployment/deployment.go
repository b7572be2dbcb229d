// Package deployment is the `deployment:` section of trailwarden's
// configuration file (the policy file): where and how the system is deployed
// — the automation account, the enabled Regions, alert subscriptions,
// schedules, the functions' tuning, the central bucket's retention and
// readers, and the member-role StackSet's targets.
//
// The section is read once, at synth time, into a validated struct. Unknown
// keys are errors (a typo must not silently fall back to a default), and
// Validate reports every problem at once, each with its field path.
package deployment

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/didyoumean"
	"github.com/trailwarden/trailwarden/shared/ledger"
)

// ObjectCheck values: how the verifier checks that a notified object exists.
const (
	ObjectCheckNone   = "none"
	ObjectCheckSample = "sample"
	ObjectCheckAll    = "all"
)

// WriterScope values: how the central bucket and key admit CloudTrail writers
// (see docs/deploy.md, "Bucket policy decision").
const (
	// WriterScopeOrganization admits trails whose source account is in the
	// organization (aws:SourceOrgID). Scales to any number of accounts, but
	// CloudTrail does not document the key for trails: an option, to be
	// proven on AWS before it is relied on.
	WriterScopeOrganization = "organization"
	// WriterScopeAccounts (the default) admits trails of the listed accounts
	// only (aws:SourceAccount, which CloudTrail documents); with no list, the
	// accounts the mode implies (single account; the management account of
	// an organization trail), checked by the CDK app.
	WriterScopeAccounts = "accounts"
)

// Defaults for every optional field.
const (
	DefaultReconcileEvery    = 6 * time.Hour
	DefaultWatchdogEvery     = 5 * time.Minute
	DefaultCoalesceWindow    = ledger.DefaultLagAllowance // one source: the watchdog's allowance
	DefaultItemInterval      = ledger.DefaultItemInterval
	DefaultObjectCheck       = ObjectCheckSample
	DefaultEnableDeadline    = time.Hour
	DefaultNeverStartedAfter = 2 * time.Hour
	DefaultStaleFloor        = 3 * time.Hour
	DefaultLogRetentionDays  = 90
	// DefaultVerifierConcurrency: two warm verifier instances serve about
	// 30,000 accounts of the reference traffic.
	DefaultVerifierConcurrency = 2
	DefaultLogLevel            = "info"
	DefaultEventBusName        = "trailwarden-central"
	// DefaultRunbookBaseURL is the repository's docs/runbooks/ directory.
	DefaultRunbookBaseURL    = "https://github.com/trailwarden/trailwarden/blob/main/docs/runbooks"
	DefaultOrgReaderRoleName = "TrailwardenOrgReader"
	// DefaultNoncurrentVersionDays is how long a replaced or deleted log
	// object version is kept.
	DefaultNoncurrentVersionDays = 90
	// DefaultAccessLogDays is how long the server access logs are kept.
	DefaultAccessLogDays = 365
)

// Deployment is the `deployment:` section. Zero values mean "default";
// Parse fills the defaults in.
type Deployment struct {
	// AutomationAccount runs the functions, queues, tables and alarms. It may
	// equal the logging account; it should not be the management account.
	AutomationAccount string `yaml:"automationAccount"`
	// Regions are the organization's enabled Regions: they feed the
	// dashboard and bound where deliveries are expected.
	Regions []string `yaml:"regions"`
	// SingleAccount deploys everything into one account (the automation
	// account, which must then also be the logging account): no management
	// stack, no StackSet. For trying trailwarden out.
	SingleAccount bool `yaml:"singleAccount"`

	Alerts    Alerts    `yaml:"alerts"`
	Schedules Schedules `yaml:"schedules"`
	Ledger    Ledger    `yaml:"ledger"`

	// ObjectCheck is the verifier's object check: none | sample | all.
	ObjectCheck string `yaml:"objectCheck"`
	// Integrity is the continuous log file integrity check
	// (docs/integrity.md, "Continuous verification").
	Integrity Integrity `yaml:"integrity"`
	// EnableDeadline: how long a joined account may stay un-enabled.
	EnableDeadline Duration `yaml:"enableDeadline"`
	// NeverStartedAfter: how long after enablement no delivery means
	// "never started".
	NeverStartedAfter Duration `yaml:"neverStartedAfter"`
	// StaleFloor: the minimum silence before an account × Region is stale.
	StaleFloor Duration `yaml:"staleFloor"`
	// Repair turns the watchdog's repair requests on (default true).
	Repair *bool `yaml:"repair"`
	// VerifierConcurrency is the verifier event source's MaximumConcurrency
	// (2–1000, default 2): the most warm verifier instances. One instance
	// handles a few hundred notifications a second (about 15,000 accounts
	// of the reference traffic); each warm instance writes every active
	// account's ledger item once per item interval, so more instances cost
	// more ledger writes (docs/cost.md).
	VerifierConcurrency int `yaml:"verifierConcurrency"`
	// LogRetentionDays of the functions' log groups (a CloudWatch Logs value).
	LogRetentionDays int `yaml:"logRetentionDays"`
	// LogLevel of the functions: debug | info | warn | error.
	LogLevel string `yaml:"logLevel"`

	Bucket             Bucket   `yaml:"bucket"`
	MemberRoleStackSet StackSet `yaml:"memberRoleStackSet"`
	Names              Names    `yaml:"names"`
	// Operators may assume the operator roles in members (docs/deploy.md,
	// "Operator access").
	Operators Operators `yaml:"operators"`
	// RunbookBaseURL is the https URL of docs/runbooks/ (no trailing
	// slash) that alarm descriptions and findings link to: the
	// repository's by default, or a copy the organization keeps.
	RunbookBaseURL string `yaml:"runbookBaseUrl"`
	// SecurityHub imports findings and incidents into Security Hub CSPM
	// (docs/securityhub.md); off by default.
	SecurityHub SecurityHub `yaml:"securityHub"`
	// Dashboard is the automation account's CloudWatch dashboard; on by
	// default. It is a fixed $3.00 a month beyond the account's free tier
	// (docs/cost.md): off, the saved Logs Insights queries, which are
	// always deployed, give the same drill-down at no fixed cost.
	Dashboard Dashboard `yaml:"dashboard"`
}

// Dashboard switches the CloudWatch dashboard.
type Dashboard struct {
	Enabled *bool `yaml:"enabled"`
}

// SecurityHub is the opt-in Security Hub CSPM publishing.
type SecurityHub struct {
	Enabled bool `yaml:"enabled"`
}

// Integrity configures the continuous digest verification: every digest
// is verified as it arrives; LogFiles says which log files it lists are
// read and hashed: none (default) | sample (about 1 in 16, by a hash of
// the key) | all. Each log file read is a GET, plus a KMS Decrypt on
// SSE-KMS (docs/cost.md).
type Integrity struct {
	LogFiles string `yaml:"logFiles"`
}

// Alerts are the alerts topic's subscriptions.
type Alerts struct {
	Emails []string `yaml:"emails"`
	HTTPS  []string `yaml:"https"`
}

// Schedules are how often the scheduled functions run.
type Schedules struct {
	Reconcile Duration `yaml:"reconcile"`
	Watchdog  Duration `yaml:"watchdog"`
}

// Ledger tunes the arrival ledger.
type Ledger struct {
	// CoalesceWindow: how far the ledger may lag behind the newest delivery
	// (the watchdog adds it to every threshold).
	CoalesceWindow Duration `yaml:"coalesceWindow"`
	// ItemInterval: how often the watchdog folds the journal into an
	// account's ledger item (readers add the journal since: times and
	// counts are never behind). Default 1h.
	ItemInterval Duration `yaml:"itemInterval"`
}

// Bucket configures the central log bucket.
type Bucket struct {
	ObjectLock ObjectLock `yaml:"objectLock"`
	Lifecycle  Lifecycle  `yaml:"lifecycle"`
	// Readers are IAM principal ARNs (roles, users, or account roots) that
	// may read and decrypt log files.
	Readers []string `yaml:"readers"`
	// WriterScope: organization (default) | accounts.
	WriterScope string `yaml:"writerScope"`
	// WriterAccounts are the accounts admitted when WriterScope is accounts.
	WriterAccounts []string `yaml:"writerAccounts"`
}

// ObjectLock is the bucket's default retention. Object Lock can only be
// turned on when the bucket is created.
type ObjectLock struct {
	Enabled bool `yaml:"enabled"`
	// Mode: GOVERNANCE | COMPLIANCE.
	Mode string `yaml:"mode"`
	Days int    `yaml:"days"`
}

// Lifecycle ages log objects. Zero days means "never" for each step.
type Lifecycle struct {
	// GlacierIRDays moves objects to S3 Glacier Instant Retrieval.
	GlacierIRDays int `yaml:"glacierInstantRetrievalDays"`
	// ExpireDays deletes current versions.
	ExpireDays int `yaml:"expireDays"`
	// NoncurrentDays deletes noncurrent versions (default 90).
	NoncurrentDays int `yaml:"noncurrentDays"`
	// AccessLogDays deletes server access logs (default 365).
	AccessLogDays int `yaml:"accessLogDays"`
}

// StackSet targets the member-role StackSet.
type StackSet struct {
	// Targets are organization root ids (r-…) or OU ids (ou-…).
	Targets []string `yaml:"targets"`
}

// Names are the few physical names other accounts must know in advance.
type Names struct {
	// EventBus is the central event bus in the automation account.
	EventBus string `yaml:"eventBus"`
	// OrgReaderRole is the read-only role in the management account that the
	// reconciler (and enabler) assume to list accounts and their parents.
	OrgReaderRole string `yaml:"orgReaderRole"`
}

// Duration is a Go duration written as a string ("5m", "6h").
type Duration struct{ time.Duration }

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return errors.New(`want a duration like "5m" or "6h"`)
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf(`%q is not a duration like "5m" or "6h"`, s)
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// DashboardOn reports whether the dashboard is deployed.
func (d *Deployment) DashboardOn() bool { return d.Dashboard.Enabled == nil || *d.Dashboard.Enabled }

// RepairOn reports whether repairs are on.
func (d *Deployment) RepairOn() bool { return d.Repair == nil || *d.Repair }

// ApplyDefaults fills in every optional field left at its zero value. The
// configuration file is read, shape-checked and decoded by shared/policy
// (the one reader of the file); it calls ApplyDefaults, then ValidateInto.
func (d *Deployment) ApplyDefaults() {
	setDur := func(p *Duration, v time.Duration) {
		if p.Duration == 0 {
			p.Duration = v
		}
	}
	setDur(&d.Schedules.Reconcile, DefaultReconcileEvery)
	setDur(&d.Schedules.Watchdog, DefaultWatchdogEvery)
	setDur(&d.Ledger.CoalesceWindow, DefaultCoalesceWindow)
	setDur(&d.Ledger.ItemInterval, DefaultItemInterval)
	setDur(&d.EnableDeadline, DefaultEnableDeadline)
	setDur(&d.NeverStartedAfter, DefaultNeverStartedAfter)
	setDur(&d.StaleFloor, DefaultStaleFloor)
	if d.ObjectCheck == "" {
		d.ObjectCheck = DefaultObjectCheck
	}
	if d.Integrity.LogFiles == "" {
		d.Integrity.LogFiles = ObjectCheckNone
	}
	if d.VerifierConcurrency == 0 {
		d.VerifierConcurrency = DefaultVerifierConcurrency
	}
	if d.LogRetentionDays == 0 {
		d.LogRetentionDays = DefaultLogRetentionDays
	}
	if d.LogLevel == "" {
		d.LogLevel = DefaultLogLevel
	}
	if d.Bucket.WriterScope == "" {
		d.Bucket.WriterScope = WriterScopeAccounts
	}
	if d.Bucket.ObjectLock.Enabled && d.Bucket.ObjectLock.Mode == "" {
		d.Bucket.ObjectLock.Mode = "GOVERNANCE"
	}
	if d.Bucket.Lifecycle.NoncurrentDays == 0 {
		d.Bucket.Lifecycle.NoncurrentDays = DefaultNoncurrentVersionDays
	}
	if d.Bucket.Lifecycle.AccessLogDays == 0 {
		d.Bucket.Lifecycle.AccessLogDays = DefaultAccessLogDays
	}
	if d.RunbookBaseURL == "" {
		d.RunbookBaseURL = DefaultRunbookBaseURL
	}
	d.RunbookBaseURL = strings.TrimRight(d.RunbookBaseURL, "/")
	if d.Names.EventBus == "" {
		d.Names.EventBus = DefaultEventBusName
	}
	if d.Names.OrgReaderRole == "" {
		d.Names.OrgReaderRole = DefaultOrgReaderRoleName
	}
}

// ValidationError lists every problem found, each prefixed with its field
// path (e.g. "deployment.alerts.emails[1]: ...").
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid configuration (%d problem(s)):\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// Problem is one finding: a field path and what is wrong there.
type Problem struct {
	Path, Message string
}

// Problems collects field-path problems; a nil *Problems is not usable.
type Problems struct{ list []Problem }

// Addf records a problem at path.
func (p *Problems) Addf(path, format string, args ...any) {
	p.list = append(p.list, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Enum records a problem at path unless got is one of allowed, naming the
// allowed values and the nearest of them.
func (p *Problems) Enum(path, got string, allowed ...string) {
	if slices.Contains(allowed, got) {
		return
	}
	p.Addf(path, "want %s, got %q%s", orList(allowed), got, didyoumean.Hint(got, allowed))
}

// orList writes "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// List returns the problems recorded so far, in order.
func (p *Problems) List() []Problem { return slices.Clone(p.list) }

// Err returns a *ValidationError with every problem, or nil.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	lines := make([]string, len(p.list))
	for i, pr := range p.list {
		lines[i] = pr.Path + ": " + pr.Message
	}
	return &ValidationError{Problems: lines}
}

var (
	targetRe   = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
	busNameRe  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,256}$`)
	roleNameRe = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
	arnRe      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+)$`)
)

// RetentionDays are the values CloudWatch Logs accepts for a retention.
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Validate checks the section on its own and reports every problem.
func (d *Deployment) Validate() error {
	var p Problems
	d.ValidateInto(&p)
	return p.Err()
}

// ValidateInto adds the section's problems to p, so a caller can report them
// together with problems of other sections.
func (d *Deployment) ValidateInto(p *Problems) {
	const s = "deployment"
	if !awsid.IsAccountID(d.AutomationAccount) {
		p.Addf(s+".automationAccount", "want a 12-digit account id, got %q", d.AutomationAccount)
	}
	if len(d.Regions) == 0 {
		p.Addf(s+".regions", "list at least one enabled Region")
	}
	seen := map[string]bool{}
	for i, r := range d.Regions {
		path := fmt.Sprintf("%s.regions[%d]", s, i)
		switch {
		case !awsid.IsRegion(r):
			p.Addf(path, "%q is not a Region name like us-east-1", r)
		case seen[r]:
			p.Addf(path, "%q is listed twice", r)
		}
		seen[r] = true
	}
	d.Operators.validateInto(p, s+".operators")
	if u, err := url.Parse(d.RunbookBaseURL); err != nil || u.Scheme != "https" || u.Host == "" {
		p.Addf(s+".runbookBaseUrl", "%q is not an https URL", d.RunbookBaseURL)
	}
	for i, e := range d.Alerts.Emails {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			p.Addf(fmt.Sprintf("%s.alerts.emails[%d]", s, i), "%q is not a bare e-mail address", e)
		}
	}
	for i, h := range d.Alerts.HTTPS {
		u, err := url.Parse(h)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			p.Addf(fmt.Sprintf("%s.alerts.https[%d]", s, i), "%q is not an https:// URL", h)
		}
	}
	d.Schedules.validateInto(p, s+".schedules")
	positive := func(path string, v time.Duration) {
		if v <= 0 {
			p.Addf(path, "must be positive, got %s", v)
		}
	}
	positive(s+".ledger.coalesceWindow", d.Ledger.CoalesceWindow.Duration)
	positive(s+".ledger.itemInterval", d.Ledger.ItemInterval.Duration)
	positive(s+".enableDeadline", d.EnableDeadline.Duration)
	positive(s+".neverStartedAfter", d.NeverStartedAfter.Duration)
	positive(s+".staleFloor", d.StaleFloor.Duration)
	if d.StaleFloor.Duration > 0 && d.StaleFloor.Duration < time.Hour {
		p.Addf(s+".staleFloor", "at least 1h: digest files, the heartbeat, arrive hourly; got %s", d.StaleFloor.Duration)
	}
	p.Enum(s+".objectCheck", d.ObjectCheck, ObjectCheckNone, ObjectCheckSample, ObjectCheckAll)
	p.Enum(s+".integrity.logFiles", d.Integrity.LogFiles, ObjectCheckNone, ObjectCheckSample, ObjectCheckAll)
	if d.VerifierConcurrency < 2 || d.VerifierConcurrency > 1000 {
		p.Addf(s+".verifierConcurrency", "%d must be between 2 and 1000 (an SQS event source's MaximumConcurrency)", d.VerifierConcurrency)
	}
	if !slices.Contains(RetentionDays, d.LogRetentionDays) {
		p.Addf(s+".logRetentionDays", "%d is not a CloudWatch Logs retention (one of %v)", d.LogRetentionDays, RetentionDays)
	}
	p.Enum(s+".logLevel", d.LogLevel, "debug", "info", "warn", "error")
	d.Bucket.validateInto(p, s+".bucket")
	for i, t := range d.MemberRoleStackSet.Targets {
		if !targetRe.MatchString(t) {
			p.Addf(fmt.Sprintf("%s.memberRoleStackSet.targets[%d]", s, i), "%q is not a root id (r-…) or OU id (ou-…)", t)
		}
	}
	if !d.SingleAccount && len(d.MemberRoleStackSet.Targets) == 0 {
		p.Addf(s+".memberRoleStackSet.targets", "list the organization root id (r-…) or the OU ids the member role is deployed to")
	}
	if !busNameRe.MatchString(d.Names.EventBus) || d.Names.EventBus == "default" || strings.HasPrefix(d.Names.EventBus, "aws.") {
		p.Addf(s+".names.eventBus", "%q is not a usable custom event bus name", d.Names.EventBus)
	}
	if !roleNameRe.MatchString(d.Names.OrgReaderRole) {
		p.Addf(s+".names.orgReaderRole", "%q is not an IAM role name", d.Names.OrgReaderRole)
	}
}

// Function timeouts the schedules depend on: a scheduled function's run must
// end before the next one starts. The CDK app gives the functions these
// timeouts.
const (
	ReconcilerTimeoutSeconds = 300
	WatchdogTimeoutSeconds   = 240 // below the default 5-minute schedule

	ReconcilerTimeout = ReconcilerTimeoutSeconds * time.Second
	WatchdogTimeout   = WatchdogTimeoutSeconds * time.Second
)

func (sc Schedules) validateInto(p *Problems, s string) {
	check := func(path, fn string, v, timeout time.Duration) {
		switch {
		case v < time.Minute:
			p.Addf(path, "at least 1m, got %s", v)
		case v%time.Minute != 0:
			p.Addf(path, "whole minutes only (EventBridge rates), got %s", v)
		case v <= timeout:
			p.Addf(path, "%s must be longer than the %s's timeout (%s), so that one run ends before the next starts", v, fn, timeout)
		}
	}
	check(s+".reconcile", "reconciler", sc.Reconcile.Duration, ReconcilerTimeout)
	check(s+".watchdog", "watchdog", sc.Watchdog.Duration, WatchdogTimeout)
	if sc.Watchdog.Duration > time.Hour {
		p.Addf(s+".watchdog", "at most 1h (digests arrive hourly), got %s", sc.Watchdog.Duration)
	}
}

func (b *Bucket) validateInto(p *Problems, s string) {
	if b.ObjectLock.Enabled {
		p.Enum(s+".objectLock.mode", b.ObjectLock.Mode, "GOVERNANCE", "COMPLIANCE")
		if b.ObjectLock.Days < 1 {
			p.Addf(s+".objectLock.days", "a default retention of at least 1 day is required when Object Lock is enabled")
		}
		if b.Lifecycle.ExpireDays > 0 && b.Lifecycle.ExpireDays < b.ObjectLock.Days {
			p.Addf(s+".lifecycle.expireDays", "%d is shorter than the Object Lock retention (%d days)", b.Lifecycle.ExpireDays, b.ObjectLock.Days)
		}
	} else if b.ObjectLock.Mode != "" || b.ObjectLock.Days != 0 {
		p.Addf(s+".objectLock", "mode/days are set but enabled is false")
	}
	l := b.Lifecycle
	for _, f := range []struct {
		name string
		v    int
	}{{"glacierInstantRetrievalDays", l.GlacierIRDays}, {"expireDays", l.ExpireDays}, {"noncurrentDays", l.NoncurrentDays}, {"accessLogDays", l.AccessLogDays}} {
		if f.v < 0 {
			p.Addf(s+".lifecycle."+f.name, "must not be negative, got %d", f.v)
		}
	}
	if l.ExpireDays > 0 && l.GlacierIRDays > 0 && l.ExpireDays <= l.GlacierIRDays {
		p.Addf(s+".lifecycle.expireDays", "%d must be later than glacierInstantRetrievalDays (%d)", l.ExpireDays, l.GlacierIRDays)
	}
	if l.GlacierIRDays > 0 && l.GlacierIRDays < 30 {
		// S3 rejects transitions out of STANDARD earlier than 30 days for
		// the infrequent-access classes; Glacier IR has a 90-day minimum
		// charge, so earlier is almost always a mistake anyway.
		p.Addf(s+".lifecycle.glacierInstantRetrievalDays", "at least 30, got %d", l.GlacierIRDays)
	}
	for i, r := range b.Readers {
		if !arnRe.MatchString(r) {
			p.Addf(fmt.Sprintf("%s.readers[%d]", s, i), "%q is not an IAM role, user or account-root ARN", r)
		}
	}
	switch b.WriterScope {
	case WriterScopeOrganization:
		if len(b.WriterAccounts) > 0 {
			p.Addf(s+".writerAccounts", "only used with writerScope: accounts")
		}
	case WriterScopeAccounts:
		for i, a := range b.WriterAccounts {
			if !awsid.IsAccountID(a) {
				p.Addf(fmt.Sprintf("%s.writerAccounts[%d]", s, i), "want a 12-digit account id, got %q", a)
			}
		}
	default:
		p.Enum(s+".writerScope", b.WriterScope, WriterScopeOrganization, WriterScopeAccounts)
	}
}

// SortedRegions returns the Regions sorted, for deterministic output.
func (d *Deployment) SortedRegions() []string {
	out := append([]string(nil), d.Regions...)
	sort.Strings(out)
	return out
}
