package asff

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/trailwarden/trailwarden/internal/emulator"
)

func TestMain(m *testing.M) { emulator.RunTests(m) }

// TestSecurityHubOnEmulator imports an open finding and its resolution
// into moto's Security Hub (patched: the caller must be the finding's
// account) and reads them back with GetFindings.
func TestSecurityHubOnEmulator(t *testing.T) {
	srv := emulator.Reset(t)
	ctx := t.Context()
	awsCfg, err := srv.Config(ctx, cfg.Account, cfg.Region)
	if err != nil {
		t.Fatal(err)
	}
	hub := securityhub.NewFromConfig(awsCfg)
	if _, err := hub.EnableSecurityHub(ctx, &securityhub.EnableSecurityHubInput{}); err != nil {
		t.Fatal(err)
	}
	pub := &Publisher{API: hub, Account: cfg.Account}

	open, err := cfg.Map(events["stale-logging-stopped"], now)
	if err != nil {
		t.Fatal(err)
	}
	finding, err := cfg.Map(events["finding-foreign-account"], now)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pub.Publish(ctx, []Finding{open, finding})
	if err != nil || res.Imported != 2 || len(res.Failed) != 0 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	resolved, err := cfg.Map(events["stale-resolved"], now.Add(RefreshAfter))
	if err != nil {
		t.Fatal(err)
	}
	if resolved.ID != open.ID {
		t.Fatalf("resolution id %s is not the open finding's %s", resolved.ID, open.ID)
	}
	if res, err := pub.Publish(ctx, []Finding{resolved}); err != nil || res.Imported != 1 {
		t.Fatalf("resolve: %+v, %v", res, err)
	}

	out, err := hub.GetFindings(ctx, &securityhub.GetFindingsInput{MaxResults: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]shtypes.AwsSecurityFinding{}
	for _, f := range out.Findings {
		got[aws.ToString(f.Id)] = f
	}
	if len(got) != 2 {
		t.Fatalf("%d findings in Security Hub, want 2", len(got))
	}
	if s := got[open.ID]; s.RecordState != shtypes.RecordStateArchived || aws.ToString(s.CreatedAt) != open.CreatedAt {
		t.Errorf("resolved finding: state %s, created %s", s.RecordState, aws.ToString(s.CreatedAt))
	}
	f := got[finding.ID]
	if f.RecordState != shtypes.RecordStateActive || aws.ToString(f.Remediation.Recommendation.Url) != finding.Remediation.Recommendation.URL ||
		len(f.Resources) != 3 || aws.ToString(f.Resources[2].Id) != "AWS::::Account:444444444444" {
		t.Errorf("finding as stored: %+v", f)
	}

	// The documented rule, enforced by the patched emulator: a finding of
	// another account under this account's call is refused.
	other := finding
	other.AwsAccountID = "444444444444"
	sdk, _, err := toSDK(other)
	if err != nil {
		t.Fatal(err)
	}
	_, err = hub.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{sdk}})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
		t.Errorf("import of another account's finding: %v, want AccessDeniedException", err)
	}
}
