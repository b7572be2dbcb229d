package accounts

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/converge"
)

// The accounts table keeps two attributes as JSON strings: LastReport and
// LastTamper. Their schemas are the types below; the Store refuses to write
// a value that does not decode into them and validate, and readers decode
// them with ParseReport and ParseTamper.

// CoveredByOrganizationTrail is Report.CoveredBy of a member that the
// management account's organization trail logs (nothing converged in it).
const CoveredByOrganizationTrail = "organization trail"

// Report is the LastReport attribute: the last converge's report, or, in
// organization-trail mode, the trail that covers the member.
type Report struct {
	converge.Report
	CoveredBy string `json:"coveredBy,omitempty"`
}

// Validate checks what readers rely on.
func (r Report) Validate() error {
	var p []string
	if r.CoveredBy != "" {
		if r.CoveredBy != CoveredByOrganizationTrail {
			p = append(p, fmt.Sprintf("coveredBy %q is not %q", r.CoveredBy, CoveredByOrganizationTrail))
		}
		if !strings.HasPrefix(r.TrailARN, "arn:") {
			p = append(p, fmt.Sprintf("trailArn %q is not an ARN", r.TrailARN))
		}
		return problems("LastReport", p)
	}
	if r.Trail == "" {
		p = append(p, "trail is empty")
	}
	if !awsid.IsRegion(r.Region) {
		p = append(p, fmt.Sprintf("region %q is not a Region", r.Region))
	}
	if r.Writes < 0 || r.Writes > len(r.Calls) {
		p = append(p, fmt.Sprintf("writes %d is not between 0 and the %d calls", r.Writes, len(r.Calls)))
	}
	for i, c := range r.Changes {
		if c.Field == "" {
			p = append(p, fmt.Sprintf("changes[%d] names no field", i))
		}
	}
	return problems("LastReport", p)
}

// ParseReport decodes and validates a LastReport value.
func ParseReport(s string) (Report, error) {
	var r Report
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return Report{}, fmt.Errorf("LastReport: %w", err)
	}
	return r, r.Validate()
}

// Encode validates r and returns its JSON, as the table stores it.
func (r Report) Encode() (string, error) { return encode(r) }

// Tamper is the LastTamper attribute: the last change to the trail made
// outside trailwarden, from the CloudTrail event that recorded it.
type Tamper struct {
	Event     string `json:"event"` // StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors, ...
	At        string `json:"at"`    // the event's time, RFC 3339 UTC
	Actor     string `json:"actor,omitempty"`
	InvokedBy string `json:"invokedBy,omitempty"`
	SourceIP  string `json:"sourceIp,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	Region    string `json:"region,omitempty"`
	Changed   string `json:"changed,omitempty"` // the settings it changed, comma-separated
	Response  string `json:"response"`          // the policy's tamper response: repair | alert-only
}

// Validate checks what readers rely on.
func (t Tamper) Validate() error {
	var p []string
	if t.Event == "" {
		p = append(p, "event is empty")
	}
	if _, err := time.Parse(time.RFC3339, t.At); err != nil {
		p = append(p, fmt.Sprintf("at %q is not an RFC 3339 time", t.At))
	}
	if t.Region != "" && !awsid.IsRegion(t.Region) {
		p = append(p, fmt.Sprintf("region %q is not a Region", t.Region))
	}
	if t.Response == "" {
		p = append(p, "response is empty")
	}
	return problems("LastTamper", p)
}

// ParseTamper decodes and validates a LastTamper value.
func ParseTamper(s string) (Tamper, error) {
	var t Tamper
	if err := json.Unmarshal([]byte(s), &t); err != nil {
		return Tamper{}, fmt.Errorf("LastTamper: %w", err)
	}
	return t, t.Validate()
}

// Encode validates t and returns its JSON, as the table stores it.
func (t Tamper) Encode() (string, error) { return encode(t) }

// ErrSchema marks a JSON attribute that does not follow its schema.
var ErrSchema = errors.New("does not follow its schema")

func problems(attr string, p []string) error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%s %w: %s", attr, ErrSchema, strings.Join(p, "; "))
}

func encode(v interface{ Validate() error }) (string, error) {
	if err := v.Validate(); err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// Report decodes the item's LastReport ("" when it has none).
func (a Account) Report() (Report, error) {
	if a.LastReport == "" {
		return Report{}, nil
	}
	return ParseReport(a.LastReport)
}

// Tamper decodes the item's LastTamper ("" when it has none).
func (a Account) Tamper() (Tamper, error) {
	if a.LastTamper == "" {
		return Tamper{}, nil
	}
	return ParseTamper(a.LastTamper)
}
