package asff

import (
	"cmp"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

var (
	cfg = Config{Partition: "aws", Region: "eu-west-1", Account: "111111111111",
		RunbookBase: "https://example.com/trailwarden/docs/runbooks"}
	since = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	now   = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	trail = "arn:aws:cloudtrail:eu-west-1:222222222222:trail/org-audit"
)

// events are the golden cases: one per kind, open and resolved.
var events = map[string]Event{
	"stale-logging-stopped": {Key: "stale#222222222222#eu-central-1", Source: SourceWatchdog, Kind: KindStale,
		Code: "logging-stopped", Severity: "high", Summary: "logging stopped at 2026-03-01T09:58:00Z",
		Action: "re-converge the account (StartLogging) and find out who stopped it", Account: "222222222222",
		Region: "eu-central-1", TrailARN: trail, FirstObserved: since, LastObserved: now},
	"stale-resolved": {Key: "stale#222222222222#eu-central-1", Source: SourceWatchdog, Kind: KindStale,
		Code: "logging-stopped", Severity: "high", Summary: "logging stopped at 2026-03-01T09:58:00Z",
		Account: "222222222222", Region: "eu-central-1", TrailARN: trail, FirstObserved: since, Resolved: now},
	"never-started": {Key: "never#333333333333", Source: SourceWatchdog, Kind: KindNeverStarted, Code: "kms-key-unusable",
		Severity: "high", Summary: "KMS key unusable", Account: "333333333333", FirstObserved: since},
	"mass": {Key: "mass#organization", Source: SourceWatchdog, Kind: KindMass, Code: "pipeline-silent",
		Severity: "critical", Summary: "40 of 50 account-Regions went silent at once", FirstObserved: since},
	"tampered": {Key: "tamper#222222222222", Source: SourceEnabler, Kind: KindTampered, Code: "StopLogging",
		Severity: "critical", Summary: "StopLogging by arn:aws:iam::222222222222:role/admin from 198.51.100.7",
		Detail: "event id 3b1f…, at 2026-03-01T09:58:00Z", Account: "222222222222", Region: "eu-west-1",
		TrailARN: trail, FirstObserved: since},
	"finding-foreign-account": {Key: "finding#444444444444#foreign-account", Source: SourceVerifier, Kind: KindFinding,
		Code: "foreign-account", Severity: "high", Summary: "account 444444444444 is not a member of the organization",
		Account: "444444444444", Region: "us-east-1", Bucket: "org-trail-logs",
		Object:        "AWSLogs/o-abc/444444444444/CloudTrail/us-east-1/2026/03/01/444444444444_CloudTrail_us-east-1_20260301T1000Z_x.json.gz",
		FirstObserved: since},
	"finding-object-missing": {Key: "finding#222222222222#object-missing", Source: SourceVerifier, Kind: KindFinding,
		Code: "object-missing", Severity: "high", Summary: "announced object does not exist", Account: "222222222222",
		Region: "eu-west-1", Bucket: "org-trail-logs", Object: "AWSLogs/o-abc/222222222222/CloudTrail/eu-west-1/k.json.gz", FirstObserved: since},
}

func TestMapGolden(t *testing.T) {
	for name, e := range events {
		t.Run(name, func(t *testing.T) {
			f, err := cfg.Map(e, now)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.MarshalIndent(f, "", "  ")
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from the golden file:\n%s", name, got)
			}
		})
	}
}

// TestMapRules checks the documented rules on every golden case, so a
// golden file rewritten with a mistake still fails.
func TestMapRules(t *testing.T) {
	for name, e := range events {
		f, err := cfg.Map(e, now)
		if err != nil {
			t.Fatal(err)
		}
		if f.AwsAccountID != cfg.Account || f.ProductArn != "arn:aws:securityhub:eu-west-1:111111111111:product/111111111111/default" {
			t.Errorf("%s: account %s, product %s: must be the importing account's default product", name, f.AwsAccountID, f.ProductArn)
		}
		if want := map[bool]string{true: RecordArchived, false: RecordActive}[!e.Resolved.IsZero()]; f.RecordState != want {
			t.Errorf("%s: RecordState %s, want %s", name, f.RecordState, want)
		}
		if len(f.Types) != 1 || strings.Count(f.Types[0], "/") != 2 {
			t.Errorf("%s: types %q are not namespace/category/classifier", name, f.Types)
		}
		last := f.Resources[len(f.Resources)-1]
		if last.Type != "AwsAccount" || last.ID != "AWS::::Account:"+cmp.Or(e.Account, cfg.Account) {
			t.Errorf("%s: last resource %+v is not the member account", name, last)
		}
		page, _, _ := strings.Cut(RunbookPage(e.Kind, e.Code), "#")
		if _, err := os.Stat(filepath.Join("..", "..", "docs", "runbooks", page)); err != nil {
			t.Errorf("%s: runbook %v", name, err)
		}
		if f.CreatedAt != "2026-03-01T10:00:00.000Z" || f.UpdatedAt != "2026-03-01T12:30:00.000Z" {
			t.Errorf("%s: CreatedAt %s UpdatedAt %s", name, f.CreatedAt, f.UpdatedAt)
		}
		if f.FindingProviderFields.Severity != f.Severity || f.FindingProviderFields.Types[0] != f.Types[0] {
			t.Errorf("%s: FindingProviderFields differ from the top-level severity and types", name)
		}
		b, _ := json.Marshal(f)
		if strings.Contains(string(b), "Workflow") {
			t.Errorf("%s: a provider never sets Workflow", name)
		}
	}
}

// TestEveryFindingCodeHasAType: each finding code the runbooks know maps.
func TestEveryFindingCodeHasAType(t *testing.T) {
	pages, _ := filepath.Glob(filepath.Join("..", "..", "docs", "runbooks", "finding-*.md"))
	if len(pages) == 0 {
		t.Fatal("no finding runbooks")
	}
	for _, p := range pages {
		code := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "finding-"), ".md")
		if _, err := findingType(Event{Kind: KindFinding, Code: code}); err != nil {
			t.Error(err)
		}
	}
}

func TestMapRejects(t *testing.T) {
	good := events["tampered"]
	for name, mut := range map[string]func(*Event){
		"no key":       func(e *Event) { e.Key = "" },
		"bad source":   func(e *Event) { e.Source = "cron" },
		"bad account":  func(e *Event) { e.Account = "12" },
		"bad region":   func(e *Event) { e.Region = "EU" },
		"no time":      func(e *Event) { e.FirstObserved = time.Time{} },
		"no summary":   func(e *Event) { e.Summary = " " },
		"bad severity": func(e *Event) { e.Severity = "urgent" },
		"unknown kind": func(e *Event) { e.Kind = "other" },
		"unknown code": func(e *Event) { e.Kind, e.Code = KindFinding, "nope" },
	} {
		e := good
		mut(&e)
		if _, err := cfg.Map(e, now); err == nil {
			t.Errorf("%s: mapped without error", name)
		}
	}
}

func TestMapClipsLongText(t *testing.T) {
	e := events["tampered"]
	e.Summary = strings.Repeat("é", 2000)
	e.Action = strings.Repeat("x", 2000)
	f, err := cfg.Map(e, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Description) > maxDescription || len(f.Remediation.Recommendation.Text) > maxRemediation || len(f.Title) > maxTitle {
		t.Errorf("not clipped: %d %d %d", len(f.Description), len(f.Remediation.Recommendation.Text), len(f.Title))
	}
	if !strings.HasSuffix(f.Description, "…") {
		t.Error("clip is not marked")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []Config{
		{Partition: "aws", Region: "cn-north-1", Account: "111111111111", RunbookBase: cfg.RunbookBase},
		{Partition: "azure", Region: "eu-west-1", Account: "111111111111", RunbookBase: cfg.RunbookBase},
		{Partition: "aws", Region: "eu-west-1", Account: "1", RunbookBase: cfg.RunbookBase},
		{Partition: "aws", Region: "eu-west-1", Account: "111111111111", RunbookBase: "http://x"},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v validated", c)
		}
	}
}
