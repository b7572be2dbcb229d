package asff

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

// Sources of events: the component that found the cause (GeneratorId).
const (
	SourceWatchdog = "watchdog"
	SourceVerifier = "verifier"
	SourceEnabler  = "enabler"
)

// Kinds of event that have their own runbook page (docs/runbooks/<kind>.md).
// KindFinding is a verifier finding; its page is finding-<code>.md.
const (
	KindStale        = "stale"
	KindNeverStarted = "never-started"
	KindMass         = "mass"
	KindTampered     = "trail-tampered"
	KindFinding      = "security-finding"
)

// Event is one cause as trailwarden knows it: an incident (watchdog,
// enabler) or a verifier finding. Key identifies the cause (the incident
// or finding id); with FirstObserved it makes the finding's Id, so a cause
// that resolves and comes back later is a new finding.
type Event struct {
	Key      string
	Source   string
	Kind     string
	Code     string // diagnosis reason or finding code
	Severity string // critical | high | medium | low | info
	Summary  string // one human line: what happened
	Detail   string
	Action   string // what to do next
	Account  string // the member account
	Region   string // the member Region ("" for account-wide causes)
	TrailARN string
	Bucket   string
	Object   string // object key, for a verifier finding
	// FirstObserved is when the cause began (the incident's Since, the
	// finding's first occurrence); LastObserved the newest evidence.
	FirstObserved, LastObserved time.Time
	// Resolved is when the cause ended; zero while open.
	Resolved time.Time
}

var severities = map[string]string{
	"critical": "CRITICAL", "high": "HIGH", "medium": "MEDIUM", "low": "LOW", "info": "INFORMATIONAL",
}

// Types of trailwarden's findings, from the ASFF types taxonomy
// (namespace/category/classifier; docs/securityhub.md says why):
//   - a trail that stopped, never started or lost deliveries, and foreign
//     or misplaced deliveries that show a trail set up wrongly: a
//     configuration check against AWS's best practice of logging every
//     Region with CloudTrail;
//   - a person changing the audit trail: the MITRE ATT&CK tactic Defense
//     Evasion (the taxonomy's own example is TTPs/Defense Evasion/CloudTrailStopped);
//   - objects in the log bucket that CloudTrail did not write: unusual
//     data; announced log files that are missing or empty: data destruction.
const (
	typeConfig      = "Software and Configuration Checks/AWS Security Best Practices/"
	typeEvasion     = "TTPs/Defense Evasion/"
	typeUnusualData = "Unusual Behaviors/Data/"
	typeDestruction = "Effects/Data Destruction/"
)

var findingTypes = map[string]string{
	"wrong-bucket": typeConfig, "wrong-prefix": typeConfig, "missing-organization": typeConfig,
	"object-not-kms": typeConfig, "object-wrong-key": typeConfig, "foreign-trail": typeConfig,
	"bad-key": typeUnusualData, "foreign-organization": typeUnusualData, "foreign-account": typeUnusualData,
	"account-mismatch": typeUnusualData, "region-mismatch": typeUnusualData, "unknown-region": typeUnusualData,
	"wrong-partition": typeUnusualData, "future-timestamp": typeUnusualData, "too-many-keys": typeUnusualData,
	"object-missing": typeDestruction, "object-empty": typeDestruction,
	// Log file integrity: logs altered or deleted after delivery.
	"digest-invalid": typeEvasion, "digest-link-broken": typeEvasion, "log-file-invalid": typeEvasion,
	"log-file-missing": typeEvasion, "log-object-deleted": typeEvasion, "log-object-overwritten": typeEvasion,
	"digests-missing": typeEvasion,
}

// findingType is the one ASFF type of e.
func findingType(e Event) (string, error) {
	switch e.Kind {
	case KindStale, KindNeverStarted, KindMass:
		return typeConfig + "CloudTrail " + e.Kind, nil
	case KindTampered:
		return typeEvasion + "CloudTrail " + e.Code, nil
	case KindFinding:
		if ns, ok := findingTypes[e.Code]; ok {
			return ns + "CloudTrail delivery " + e.Code, nil
		}
		return "", fmt.Errorf("finding code %q has no ASFF type", e.Code)
	}
	return "", fmt.Errorf("event kind %q has no ASFF type", e.Kind)
}

// RunbookPage is the runbook file (with an anchor for a stale incident's
// reason) of an event kind and code, relative to docs/runbooks/.
func RunbookPage(kind, code string) string {
	switch kind {
	case KindFinding:
		return "finding-" + code + ".md"
	case KindStale:
		if code != "" {
			return "stale.md#" + code
		}
	}
	return kind + ".md"
}

// Map turns e into the finding the automation account imports: CreatedAt
// is when the cause began (stable across updates), UpdatedAt is now.
func (c Config) Map(e Event, now time.Time) (Finding, error) {
	if err := e.validate(); err != nil {
		return Finding{}, err
	}
	typ, err := findingType(e)
	if err != nil {
		return Finding{}, err
	}
	sev := severities[e.Severity]
	if sev == "" {
		return Finding{}, fmt.Errorf("severity %q is not one of critical, high, medium, low, info", e.Severity)
	}
	f := Finding{
		SchemaVersion: SchemaVersion,
		ID:            fmt.Sprintf("trailwarden/%s/%s", e.Key, e.FirstObserved.UTC().Format("20060102T150405Z")),
		ProductArn:    c.ProductArn(),
		GeneratorID:   generatorID(e),
		AwsAccountID:  c.Account,
		Types:         []string{typ},
		CreatedAt:     stamp(e.FirstObserved),
		UpdatedAt:     stamp(now),
		Severity:      Severity{Label: sev},
		Title:         clip(e.title(), maxTitle),
		Description:   clip(e.description(), maxDescription),
		Remediation: Remediation{Recommendation: Recommendation{
			Text: clip(cmp.Or(e.Action, "Follow the runbook."), maxRemediation),
			URL:  c.RunbookBase + "/" + RunbookPage(e.Kind, e.Code),
		}},
		ProductFields: map[string]string{"trailwarden/Kind": e.Kind, "trailwarden/Code": e.Code, "trailwarden/Key": e.Key},
		Resources:     c.resources(e),
		RecordState:   RecordActive,
	}
	f.FirstObservedAt = stamp(e.FirstObserved)
	if !e.LastObserved.IsZero() {
		f.LastObservedAt = stamp(e.LastObserved)
	}
	if e.Region != "" {
		f.ProductFields["trailwarden/Region"] = e.Region
	}
	if !e.Resolved.IsZero() {
		f.RecordState = RecordArchived
		f.ProductFields["trailwarden/ResolvedAt"] = stamp(e.Resolved)
	}
	f.FindingProviderFields = FindingProviderFields{Severity: f.Severity, Types: f.Types}
	return f, nil
}

// generatorID names the check: the component and the kind, and for a
// verifier finding its code (each code is its own rule).
func generatorID(e Event) string {
	id := "trailwarden/" + e.Source + "/" + e.Kind
	if e.Kind == KindFinding {
		id += "/" + e.Code
	}
	return id
}

func (e Event) validate() error {
	var errs []error
	if e.Key == "" {
		errs = append(errs, errors.New("event has no key"))
	}
	switch e.Source {
	case SourceWatchdog, SourceVerifier, SourceEnabler:
	default:
		errs = append(errs, fmt.Errorf("source %q is not watchdog, verifier or enabler", e.Source))
	}
	if e.Account != "" && !awsid.IsAccountID(e.Account) {
		errs = append(errs, fmt.Errorf("account %q is not a 12-digit account id", e.Account))
	}
	if e.Region != "" && !awsid.IsRegion(e.Region) {
		errs = append(errs, fmt.Errorf("region %q is not a Region code", e.Region))
	}
	if e.FirstObserved.IsZero() {
		errs = append(errs, errors.New("event has no first-observed time"))
	}
	if strings.TrimSpace(e.Summary) == "" {
		errs = append(errs, errors.New("event has no summary"))
	}
	return errors.Join(errs...)
}

func (e Event) title() string {
	where := ""
	if e.Account != "" {
		where = " in account " + e.Account
	}
	if e.Region != "" {
		where += ", " + e.Region
	}
	what := map[string]string{
		KindStale: "CloudTrail stopped delivering", KindNeverStarted: "CloudTrail never delivered",
		KindMass: "CloudTrail deliveries stopped across the organization", KindTampered: "CloudTrail trail changed by someone",
		KindFinding: "CloudTrail delivery failed verification",
	}[e.Kind]
	return fmt.Sprintf("%s (%s)%s", what, e.Code, where)
}

func (e Event) description() string {
	s := e.Summary
	if e.Detail != "" {
		s += " — " + e.Detail
	}
	return s
}

// resources: the member account always; the trail and the bucket object
// (or bucket) when the event names them.
func (c Config) resources(e Event) []Resource {
	part := resourcePartition(c.Partition)
	region := cmp.Or(e.Region, c.Region)
	var rs []Resource
	if e.TrailARN != "" {
		rs = append(rs, Resource{Type: "AwsCloudTrailTrail", ID: e.TrailARN, Partition: part, Region: region})
	}
	if e.Bucket != "" {
		if e.Object != "" {
			rs = append(rs, Resource{Type: "AwsS3Object", ID: fmt.Sprintf("arn:%s:s3:::%s/%s", c.Partition, e.Bucket, e.Object), Partition: part, Region: c.Region})
		}
		rs = append(rs, Resource{Type: "AwsS3Bucket", ID: fmt.Sprintf("arn:%s:s3:::%s", c.Partition, e.Bucket), Partition: part, Region: c.Region})
	}
	account := cmp.Or(e.Account, c.Account)
	rs = append(rs, Resource{Type: "AwsAccount", ID: "AWS::::Account:" + account, Partition: part, Region: region})
	return rs
}

// resourcePartition: Resources[].Partition takes aws, aws-cn or aws-us-gov
// (ASFF resource attributes); other partitions leave it out.
func resourcePartition(p string) string {
	switch p {
	case "aws", "aws-cn", "aws-us-gov":
		return p
	}
	return ""
}
