package asff

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/alert"
)

var (
	sinceA = time.Date(2026, 3, 1, 9, 58, 0, 0, time.UTC)
	atA    = time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
)

var alerts = map[string]alert.Alert{
	"stopped": {Kind: alert.KindDeliveryStopped, Severity: "high", IncidentID: "cause#222222222222#trail", Transition: alert.TransitionOpened,
		Version: 1, Account: "222222222222", Regions: []string{"eu-central-1"}, Code: "logging-stopped", Cause: "stopped",
		Since: sinceA, Reason: "logging stopped", At: atA},
	"updated": {Kind: alert.KindDeliveryStopped, Severity: "high", IncidentID: "cause#222222222222#trail", Transition: alert.TransitionUpdated,
		Version: 2, Account: "222222222222", Regions: []string{"eu-central-1", "us-east-1"}, Code: "logging-stopped", Cause: "stopped",
		Since: sinceA, Reason: "logging stopped", At: atA.Add(10 * time.Minute)},
	"recovered": {Kind: alert.KindRecovered, Severity: "info", IncidentID: "cause#222222222222#trail", Transition: alert.TransitionResolved,
		Version: 2, Account: "222222222222", Regions: []string{"eu-central-1", "us-east-1"}, Code: "logging-stopped", Cause: "stopped",
		Since: sinceA, Reason: "deliveries resumed", At: atA.Add(time.Hour)},
	"finding": {Kind: alert.KindSecurityFinding, Severity: "high", IncidentID: "finding#444444444444#foreign-account",
		Account: "444444444444", Region: "us-east-1", Code: "foreign-account", Reason: "foreign-account: not a member",
		Bucket: "org-trail-logs", ObjectKey: "AWSLogs/o-abc/444444444444/x.json.gz", At: atA},
	"tampered": {Kind: alert.KindTampered, Severity: "critical", IncidentID: "cause#222222222222#trail", Transition: alert.TransitionOpened,
		Version: 1, Account: "222222222222", Cause: "tampered", Code: "StopLogging", Since: sinceA,
		Event:  &alert.Event{Name: "StopLogging", ID: "ev1", Actor: "arn:aws:iam::222222222222:role/admin", SourceIP: "198.51.100.7"},
		Reason: "arn:aws:iam::222222222222:role/admin called StopLogging on trail org from 198.51.100.7", At: atA},
	"overdue": {Kind: alert.KindEnableOverdue, Severity: "high", Account: "222222222222", Reason: "late", At: atA},
}

// TestEventOf: each alert that is a finding maps to its cause (kind, code,
// source, key, times); the recovery resolves the same finding; others are
// not findings.
func TestEventOf(t *testing.T) {
	for name, want := range map[string]struct {
		ok              bool
		kind, code, src string
		resolved        bool
		bucket          string
	}{
		"stopped":   {true, KindStale, "logging-stopped", SourceWatchdog, false, ""},
		"updated":   {true, KindStale, "logging-stopped", SourceWatchdog, false, ""},
		"recovered": {true, KindStale, "logging-stopped", SourceWatchdog, true, ""},
		"finding":   {true, KindFinding, "foreign-account", SourceVerifier, false, "org-trail-logs"},
		"tampered":  {true, KindTampered, "StopLogging", SourceEnabler, false, ""},
		"overdue":   {false, "", "", "", false, ""},
	} {
		e, ok := EventOf(alerts[name])
		if ok != want.ok || e.Kind != want.kind || e.Code != want.code || e.Source != want.src ||
			e.Resolved.IsZero() == want.resolved || e.Bucket != want.bucket {
			t.Errorf("%s: %+v, %v", name, e, ok)
		}
		if ok {
			if _, err := cfg.Map(e, atA); err != nil {
				t.Errorf("%s: map: %v", name, err)
			}
		}
	}
	open, _ := EventOf(alerts["stopped"])
	upd, _ := EventOf(alerts["updated"])
	res, _ := EventOf(alerts["recovered"])
	fo, _ := cfg.Map(open, atA)
	fu, _ := cfg.Map(upd, atA.Add(10*time.Minute))
	fr, _ := cfg.Map(res, atA.Add(time.Hour))
	if fo.ID != fr.ID || fo.ID != fu.ID || fr.RecordState != "ARCHIVED" || fo.RecordState != "ACTIVE" || fu.RecordState != "ACTIVE" {
		t.Errorf("open %s %s, update %s, recovery %s %s", fo.ID, fo.RecordState, fu.ID, fr.ID, fr.RecordState)
	}
	if open.Region != "eu-central-1" || upd.Region != "" || !strings.Contains(upd.Summary, "eu-central-1, us-east-1") {
		t.Errorf("regions: open %q, update %q %q", open.Region, upd.Region, upd.Summary)
	}
}

func TestConfigOf(t *testing.T) {
	c, err := ConfigOf("arn:aws:securityhub:eu-west-1:111111111111:product/111111111111/default", "https://x.example/runbooks/")
	if err != nil || c.Account != "111111111111" || c.Region != "eu-west-1" || c.Partition != "aws" || c.RunbookBase != "https://x.example/runbooks" {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []string{"", "arn:aws:securityhub:eu-west-1:111111111111:product/222222222222/default",
		"arn:aws:sns:eu-west-1:111111111111:product/111111111111/default", "arn:aws:securityhub:eu-west-1:12:product/12/default"} {
		if _, err := ConfigOf(bad, "https://x.example"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzConfigOf(f *testing.F) {
	f.Add("arn:aws:securityhub:eu-west-1:111111111111:product/111111111111/default")
	f.Add("arn:::::")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ConfigOf(s, "https://x.example")
		if err == nil && c.ProductArn() != s {
			t.Errorf("%q parsed as %s", s, c.ProductArn())
		}
	})
}

// TestAlertSinkOnEmulator: with Security Hub on, a finding alert and an
// incident's alert appear in GetFindings; the incident's recovery archives
// its finding.
func TestAlertSinkOnEmulator(t *testing.T) {
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
	sink, err := NewAlertSink(hub, cfg.ProductArn(), cfg.RunbookBase)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"finding", "stopped", "overdue", "recovered"} {
		if err := sink.Publish(ctx, alerts[n]); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	out, err := hub.GetFindings(ctx, &securityhub.GetFindingsInput{MaxResults: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]shtypes.RecordState{}
	for _, f := range out.Findings {
		states[aws.ToString(f.GeneratorId)] = f.RecordState
	}
	want := map[string]shtypes.RecordState{"trailwarden/verifier/security-finding/foreign-account": shtypes.RecordStateActive,
		"trailwarden/watchdog/stale": shtypes.RecordStateArchived}
	if len(states) != len(want) {
		t.Errorf("findings %v, want %v", states, want)
	}
	for g, s := range want {
		if states[g] != s {
			t.Errorf("%s: %q, want %q", g, states[g], s)
		}
	}
}

// TestAlertSinkGolden: the finding each alert imports, from its structured
// fields (testdata/golden/alert-<case>.json; -update rewrites).
func TestAlertSinkGolden(t *testing.T) {
	for name, a := range alerts {
		e, ok := EventOf(a)
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			f, err := cfg.Map(e, a.At)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.MarshalIndent(f, "", "  ")
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", "alert-"+name+".json")
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
