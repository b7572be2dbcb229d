// Package asff maps trailwarden's findings and incidents to the AWS Security
// Finding Format (ASFF) that Security Hub CSPM imports with
// BatchImportFindings, and publishes them (docs/securityhub.md).
//
// The mapping is pure: an Event (one cause: an incident or a verifier
// finding) and the importing deployment's Config give one Finding.
//
// ASFF syntax: https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-syntax.html
// Types taxonomy: https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-type-taxonomy.html
package asff

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

// SchemaVersion is the only ASFF schema version.
const SchemaVersion = "2018-10-08"

// Length limits of AwsSecurityFinding (API reference, AwsSecurityFinding):
// Title 256, Description 1024; Recommendation.Text 512.
const (
	maxTitle       = 256
	maxDescription = 1024
	maxRemediation = 512
)

// Record states (a finding provider sets RecordState; Workflow is the
// customer's and trailwarden never sends it).
const (
	RecordActive   = "ACTIVE"
	RecordArchived = "ARCHIVED"
)

// TimeFormat is the ASFF timestamp: RFC 3339, UTC, milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Finding is one ASFF finding: exactly the fields trailwarden sets, named
// and shaped as ASFF names them, so its JSON is the finding.
type Finding struct {
	SchemaVersion         string                `json:"SchemaVersion"`
	ID                    string                `json:"Id"`
	ProductArn            string                `json:"ProductArn"`
	GeneratorID           string                `json:"GeneratorId"`
	AwsAccountID          string                `json:"AwsAccountId"`
	Types                 []string              `json:"Types"`
	FirstObservedAt       string                `json:"FirstObservedAt,omitempty"`
	LastObservedAt        string                `json:"LastObservedAt,omitempty"`
	CreatedAt             string                `json:"CreatedAt"`
	UpdatedAt             string                `json:"UpdatedAt"`
	Severity              Severity              `json:"Severity"`
	Title                 string                `json:"Title"`
	Description           string                `json:"Description"`
	Remediation           Remediation           `json:"Remediation"`
	ProductFields         map[string]string     `json:"ProductFields,omitempty"`
	Resources             []Resource            `json:"Resources"`
	RecordState           string                `json:"RecordState"`
	FindingProviderFields FindingProviderFields `json:"FindingProviderFields"`
}

// Severity is ASFF's Severity (Label only).
type Severity struct {
	Label string `json:"Label"`
}

// Remediation is ASFF's Remediation.
type Remediation struct {
	Recommendation Recommendation `json:"Recommendation"`
}

// Recommendation is the remediation text and the runbook's URL.
type Recommendation struct {
	Text string `json:"Text"`
	URL  string `json:"Url,omitempty"`
}

// FindingProviderFields carry Severity and Types: after a finding is
// created, a provider updates them here, not in the top-level fields
// (BatchImportFindings API reference).
type FindingProviderFields struct {
	Severity Severity `json:"Severity"`
	Types    []string `json:"Types"`
}

// Resource is one ASFF resource.
type Resource struct {
	Type      string `json:"Type"`
	ID        string `json:"Id"`
	Partition string `json:"Partition,omitempty"`
	Region    string `json:"Region,omitempty"`
}

// Config is the importing side: the account and Region that call
// BatchImportFindings (the automation account), and where runbooks live.
type Config struct {
	Partition string
	Region    string
	Account   string
	// RunbookBase is the URL of docs/runbooks/ (the deployment's copy of
	// the repository's docs), without a trailing slash.
	RunbookBase string
}

// ProductArn is the default product ARN of the importing account:
// arn:<partition>:securityhub:<region>:<account>:product/<account>/default.
func (c Config) ProductArn() string {
	return fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", c.Partition, c.Region, c.Account, c.Account)
}

// Validate reports a Config that cannot produce findings.
func (c Config) Validate() error {
	var errs []error
	if !awsid.IsPartition(c.Partition) {
		errs = append(errs, fmt.Errorf("partition %q is not an AWS partition", c.Partition))
	}
	if awsid.Partition(c.Region) != c.Partition {
		errs = append(errs, fmt.Errorf("region %q is not a Region of partition %q", c.Region, c.Partition))
	}
	if !awsid.IsAccountID(c.Account) {
		errs = append(errs, fmt.Errorf("account %q is not a 12-digit account id", c.Account))
	}
	if !strings.HasPrefix(c.RunbookBase, "https://") {
		errs = append(errs, fmt.Errorf("runbook base %q is not an https URL", c.RunbookBase))
	}
	return errors.Join(errs...)
}

func stamp(t time.Time) string { return t.UTC().Format(TimeFormat) }

// clip cuts s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-len("…")]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
