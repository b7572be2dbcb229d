package asff

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/trailwarden/trailwarden/shared/telemetry"
)

func TestLoadRefresherConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		want []string // substrings of the error; none: valid
	}{
		{"valid", map[string]string{"TRAILWARDEN_SECURITY_HUB_PRODUCT_ARN": cfg.ProductArn(), "TRAILWARDEN_INCIDENTS_TABLE": "incidents"}, nil},
		{"empty", map[string]string{}, []string{"TRAILWARDEN_SECURITY_HUB_PRODUCT_ARN", "TRAILWARDEN_INCIDENTS_TABLE"}},
		{"another product", map[string]string{"TRAILWARDEN_SECURITY_HUB_PRODUCT_ARN": "arn:aws:securityhub:eu-west-1::product/aws/guardduty",
			"TRAILWARDEN_INCIDENTS_TABLE": "incidents"}, []string{"not the account's default product ARN"}},
		{"not an ARN", map[string]string{"TRAILWARDEN_SECURITY_HUB_PRODUCT_ARN": "default", "TRAILWARDEN_INCIDENTS_TABLE": "t"}, []string{"not a Security Hub product ARN"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := LoadRefresherConfig(func(k string) string { return c.env[k] })
			if len(c.want) == 0 {
				if err != nil || got.MetricsNamespace == "" {
					t.Fatalf("%+v, %v", got, err)
				}
				return
			}
			for _, w := range c.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v lacks %q", err, w)
				}
			}
		})
	}
}

// pagedHub serves GetFindings two findings per page and imports like fakeHub.
type pagedHub struct {
	fakeHub
	findings []shtypes.AwsSecurityFinding
	filters  []*shtypes.AwsSecurityFindingFilters
}

func (h *pagedHub) GetFindings(_ context.Context, in *securityhub.GetFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.GetFindingsOutput, error) {
	h.filters = append(h.filters, in.Filters)
	start := 0
	if in.NextToken != nil {
		start = int(aws.ToString(in.NextToken)[0] - '0')
	}
	end := min(start+2, len(h.findings))
	out := &securityhub.GetFindingsOutput{Findings: h.findings[start:end]}
	if end < len(h.findings) {
		out.NextToken = aws.String(string(rune('0' + end)))
	}
	return out, nil
}

type openCauses map[string]bool

func (o openCauses) StillOpen(_ context.Context, key string, _ time.Time) (bool, error) {
	return o[key], nil
}

// TestRefreshFunction: every page is read, Security Hub's own product
// fields are dropped, a refused finding fails the invocation.
func TestRefreshFunction(t *testing.T) {
	hub := &pagedHub{}
	keys := openCauses{}
	for i, region := range []string{"eu-west-1", "eu-west-2", "eu-west-3", "bad"} {
		e := staleEvent("eu-central-1", since)
		e.Key = "stale#222222222222#" + region
		keys[e.Key] = i != 1 // the second one's incident has closed
		f, err := cfg.Map(e, since)
		if err != nil {
			t.Fatal(err)
		}
		if region == "bad" {
			f.ID += "-bad"
		}
		f.ProductFields["aws/securityhub/ProductName"] = "Default"
		sf, _, err := toSDK(f)
		if err != nil {
			t.Fatal(err)
		}
		hub.findings = append(hub.findings, sf)
	}
	var logs bytes.Buffer
	fn := &RefreshFunction{
		Refresher: &Refresher{Findings: hub, Publisher: &Publisher{API: hub, Account: cfg.Account}, Causes: keys, ProductArn: cfg.ProductArn()},
		Metrics:   telemetry.NewMetrics(&logs, "Test", "refresher"),
		Logger:    telemetry.NewLogger(&logs, "debug"),
		Now:       func() time.Time { return since.Add(40 * 24 * time.Hour) },
	}
	err := fn.Handle(t.Context(), lambdaevents.CloudWatchEvent{ID: "ev-1"})
	if !errors.Is(err, ErrNotRefreshed) {
		t.Fatalf("Handle: %v, want ErrNotRefreshed (one refused)", err)
	}
	if len(hub.filters) != 2 || hub.filters[0].ProductArn[0].Value == nil || *hub.filters[0].UpdatedAt[0].End != "2026-03-11T10:00:00.000Z" {
		t.Errorf("GetFindings calls %d, UpdatedAt filter end %s", len(hub.filters), aws.ToString(hub.filters[0].UpdatedAt[0].End))
	}
	if len(hub.calls) != 1 || len(hub.calls[0]) != 3 {
		t.Fatalf("imports %v, want one call of the 3 open findings", hub.calls)
	}
	for _, f := range hub.calls[0] {
		if _, ok := f.ProductFields["aws/securityhub/ProductName"]; ok || aws.ToString(f.UpdatedAt) != "2026-04-10T10:00:00.000Z" {
			t.Errorf("re-imported %s: product fields %v, updated %s", aws.ToString(f.Id), f.ProductFields, aws.ToString(f.UpdatedAt))
		}
	}
	if !strings.Contains(logs.String(), `"refreshed":2`) || !strings.Contains(logs.String(), `"closed":1`) {
		t.Errorf("log lacks the counts:\n%s", logs.String())
	}
}

// FuzzImporterOf: the product ARN from the environment never panics the
// parser, and what it accepts is exactly a default product ARN.
func FuzzImporterOf(f *testing.F) {
	for _, s := range []string{cfg.ProductArn(), "arn:aws-cn:securityhub:cn-north-1:111111111111:product/111111111111/default",
		"arn:aws:securityhub:eu-west-1::product/aws/guardduty", "", ":::::", "arn:aws:securityhub:eu-west-1:1:product/1/default"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arn string) {
		c, err := ImporterOf(arn)
		if err == nil && c.ProductArn() != arn {
			t.Errorf("accepted %q as the product ARN of %+v (%s)", arn, c, c.ProductArn())
		}
	})
}
