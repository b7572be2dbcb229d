package asff

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// fakeHub records calls and refuses findings whose Id contains "bad".
type fakeHub struct {
	calls [][]shtypes.AwsSecurityFinding
	err   error
}

func (h *fakeHub) BatchImportFindings(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	if h.err != nil {
		return nil, h.err
	}
	h.calls = append(h.calls, in.Findings)
	out := &securityhub.BatchImportFindingsOutput{}
	ok := 0
	for _, f := range in.Findings {
		if strings.Contains(aws.ToString(f.Id), "bad") {
			out.FailedFindings = append(out.FailedFindings, shtypes.ImportFindingsError{Id: f.Id, ErrorCode: aws.String("InvalidInput"), ErrorMessage: aws.String("refused")})
			continue
		}
		ok++
	}
	out.SuccessCount, out.FailedCount = aws.Int32(int32(ok)), aws.Int32(int32(len(out.FailedFindings)))
	return out, nil
}

func many(t *testing.T, n int) []Finding {
	t.Helper()
	var fs []Finding
	for i := range n {
		e := events["stale-logging-stopped"]
		e.Key = fmt.Sprintf("stale#222222222222#r%d", i)
		f, err := cfg.Map(e, now)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	return fs
}

func TestPublishBatchesAndFailures(t *testing.T) {
	fs := many(t, 250)
	fs[7].ID = "bad-7"
	fs[120].AwsAccountID = "222222222222" // another account: refused before the call
	hub := &fakeHub{}
	res, err := (&Publisher{API: hub, Account: cfg.Account}).Publish(t.Context(), fs)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, c := range hub.calls {
		sizes = append(sizes, len(c))
	}
	if fmt.Sprint(sizes) != "[100 100 49]" {
		t.Errorf("batches %v, want [100 100 49]", sizes)
	}
	if res.Imported != 248 || len(res.Failed) != 2 {
		t.Fatalf("imported %d, failed %+v", res.Imported, res.Failed)
	}
	codes := map[string]string{}
	for _, f := range res.Failed {
		codes[f.ID] = f.Code
	}
	if codes["bad-7"] != "InvalidInput" || codes[fs[120].ID] != "AccountMismatch" {
		t.Errorf("failures %+v", res.Failed)
	}
	got := hub.calls[0][0]
	if aws.ToString(got.Remediation.Recommendation.Url) != fs[0].Remediation.Recommendation.URL ||
		got.Severity.Label != shtypes.SeverityLabelHigh || got.RecordState != shtypes.RecordStateActive ||
		got.FindingProviderFields.Severity.Label != shtypes.SeverityLabelHigh ||
		got.Resources[0].Partition != shtypes.PartitionAws || aws.ToString(got.AwsAccountId) != cfg.Account {
		t.Errorf("SDK finding lost fields: %+v", got)
	}
}

func TestPublishCallError(t *testing.T) {
	boom := errors.New("throttled")
	_, err := (&Publisher{API: &fakeHub{err: boom}, Account: cfg.Account}).Publish(t.Context(), many(t, 3))
	if !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the call's", err)
	}
}

func TestRefresh(t *testing.T) {
	open, _ := cfg.Map(events["tampered"], now)
	closed, _ := cfg.Map(events["stale-resolved"], now)
	later := now.Add(RefreshAfter)
	for name, tc := range map[string]struct {
		in   []Finding
		at   time.Time
		want int
	}{
		"young open finding waits":   {[]Finding{open}, later.Add(-time.Second), 0},
		"old open finding refreshed": {[]Finding{open}, later, 1},
		"archived left to expire":    {[]Finding{closed}, now.Add(Retention), 0},
		"unparsable time refreshed":  {[]Finding{func() Finding { f := open; f.UpdatedAt = "?"; return f }()}, now, 1},
	} {
		got := Refresh(tc.in, tc.at)
		if len(got) != tc.want {
			t.Errorf("%s: %d refreshed, want %d", name, len(got), tc.want)
			continue
		}
		for _, f := range got {
			if f.UpdatedAt != stamp(tc.at) || f.CreatedAt != open.CreatedAt {
				t.Errorf("%s: UpdatedAt %s CreatedAt %s", name, f.UpdatedAt, f.CreatedAt)
			}
		}
	}
	if RefreshAfter*2 > Retention {
		t.Error("RefreshAfter leaves no margin before Security Hub's retention")
	}
}
