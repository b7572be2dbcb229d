package asff

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// Retention and refresh. Security Hub CSPM deletes an active finding
// (RecordState ACTIVE) that has not been updated for 90 days, and an
// archived one after 30 days
// (https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings.html;
// the same 90 days for active OCSF findings:
// https://docs.aws.amazon.com/securityhub/latest/userguide/ocsf-findings.html).
// trailwarden re-imports an open finding once its UpdatedAt is RefreshAfter
// old; the refresher runs daily (RefreshEvery), so a finding is refreshed
// at 30 to 31 days and 59 days of failed runs pass before any is lost.
const (
	Retention    = 90 * 24 * time.Hour
	RefreshAfter = 30 * 24 * time.Hour
	RefreshEvery = 24 * time.Hour
)

// Refresh returns the open (ACTIVE) findings of fs whose UpdatedAt is at
// least RefreshAfter before now, with UpdatedAt set to now; archived
// findings are left to expire. A finding whose UpdatedAt does not parse is
// refreshed too (better a needless update than a lost finding).
func Refresh(fs []Finding, now time.Time) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.RecordState != RecordActive {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.UpdatedAt)
		if err == nil && now.Sub(t) < RefreshAfter {
			continue
		}
		f.UpdatedAt = stamp(now)
		out = append(out, f)
	}
	return out
}

// RefreshedSources are the components whose findings trailwarden keeps
// alive: the watchdog's incidents stay open until trailwarden resolves
// them (and archives the finding). Verifier findings and tamper alerts are
// events: a persisting cause raises them again, and Security Hub's
// retention ends the rest, as for other providers' findings.
var RefreshedSources = []string{SourceWatchdog}

// GetFindingsAPI is the Security Hub read the refresher makes.
type GetFindingsAPI interface {
	GetFindings(ctx context.Context, in *securityhub.GetFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.GetFindingsOutput, error)
}

var _ GetFindingsAPI = (*securityhub.Client)(nil)

// Causes tells whether the cause a finding describes is still open in
// trailwarden's own state: key is the finding's trailwarden/Key (the
// incident id), since its FirstObservedAt (the incident's Since).
type Causes interface {
	StillOpen(ctx context.Context, key string, since time.Time) (bool, error)
}

// RefreshFilters select the candidates of a refresh at now: this product's
// ACTIVE findings from RefreshedSources not updated for RefreshAfter
// (GetFindings filters: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFindingFilters.html).
func RefreshFilters(productArn string, now time.Time) *shtypes.AwsSecurityFindingFilters {
	f := &shtypes.AwsSecurityFindingFilters{
		ProductArn:  []shtypes.StringFilter{{Comparison: shtypes.StringFilterComparisonEquals, Value: aws.String(productArn)}},
		RecordState: []shtypes.StringFilter{{Comparison: shtypes.StringFilterComparisonEquals, Value: aws.String(RecordActive)}},
		UpdatedAt:   []shtypes.DateFilter{{End: aws.String(stamp(now.Add(-RefreshAfter)))}},
	}
	for _, s := range RefreshedSources {
		f.GeneratorId = append(f.GeneratorId, shtypes.StringFilter{Comparison: shtypes.StringFilterComparisonPrefix, Value: aws.String("trailwarden/" + s + "/")})
	}
	return f
}

// Refresher re-imports open findings before Security Hub's retention
// deletes them. Security Hub says which findings trailwarden imported and
// when it last updated them; Causes, trailwarden's incidents table, says
// which are still open.
type Refresher struct {
	Findings  GetFindingsAPI
	Publisher *Publisher
	Causes    Causes
	// ProductArn is the importing account's default product ARN.
	ProductArn string
}

// RefreshReport is what one run did.
type RefreshReport struct {
	Candidates int // ACTIVE findings not updated for RefreshAfter
	Closed     int // candidates whose cause is no longer open: left to expire
	Refreshed  int
	Failed     []Failure
}

// Run refreshes every open finding due at now. A second run at the same
// time refreshes nothing: the first moved their UpdatedAt to now. An error
// means a whole call failed; findings Security Hub refused are in Failed.
func (r *Refresher) Run(ctx context.Context, now time.Time) (RefreshReport, error) {
	var rep RefreshReport
	due, err := r.candidates(ctx, now)
	if err != nil {
		return rep, err
	}
	rep.Candidates = len(due)
	var open []Finding
	for _, f := range Refresh(due, now) {
		since, _ := time.Parse(time.RFC3339, f.FirstObservedAt)
		ok, err := r.Causes.StillOpen(ctx, f.ProductFields["trailwarden/Key"], since)
		if err != nil {
			return rep, fmt.Errorf("finding %s: %w", f.ID, err)
		}
		if !ok {
			rep.Closed++
			continue
		}
		open = append(open, f)
	}
	res, err := r.Publisher.Publish(ctx, open)
	rep.Refreshed, rep.Failed = res.Imported, res.Failed
	return rep, err
}

// candidates reads every finding RefreshFilters select, page by page, as
// trailwarden's Finding (the fields Security Hub adds are dropped, so the
// re-import sends exactly what trailwarden sent).
func (r *Refresher) candidates(ctx context.Context, now time.Time) ([]Finding, error) {
	in := &securityhub.GetFindingsInput{Filters: RefreshFilters(r.ProductArn, now), MaxResults: aws.Int32(100)}
	var out []Finding
	for {
		page, err := r.Findings.GetFindings(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("GetFindings: %w", err)
		}
		for _, sf := range page.Findings {
			f, err := fromSDK(sf)
			if err != nil {
				return nil, err
			}
			if f.ProductArn == r.ProductArn && strings.HasPrefix(f.ID, "trailwarden/") {
				out = append(out, f)
			}
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// fromSDK is toSDK's inverse. The product fields Security Hub adds
// (aws/securityhub/FindingId, ProductName, CompanyName) are dropped: they
// are Security Hub's, not the provider's.
func fromSDK(sf shtypes.AwsSecurityFinding) (Finding, error) {
	var f Finding
	b, err := json.Marshal(sf)
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil {
		return Finding{}, fmt.Errorf("finding %s as read: %w", aws.ToString(sf.Id), err)
	}
	for k := range f.ProductFields {
		if strings.HasPrefix(k, "aws/") {
			delete(f.ProductFields, k)
		}
	}
	return f, nil
}
