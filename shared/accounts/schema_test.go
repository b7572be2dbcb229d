package accounts_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/converge"
)

func validReport() accounts.Report {
	return accounts.Report{Report: converge.Report{Trail: "org-audit", TrailARN: "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-audit",
		Region: "us-east-1", Created: true, Changes: []converge.Change{{Field: "logging", From: "stopped", To: "started"}},
		Calls: []string{"GetTrail", "CreateTrail", "StartLogging"}, Writes: 2, IsLogging: true}}
}

func validTamper() accounts.Tamper {
	return accounts.Tamper{Event: "StopLogging", At: "2026-03-14T12:05:00Z", Actor: "arn:aws:sts::111111111111:assumed-role/Admin/alice",
		SourceIP: "198.51.100.7", UserAgent: "aws-cli/2.15.0", Region: "eu-west-1", Changed: "logging", Response: "repair"}
}

// TestReportRoundTrip: what Encode writes, ParseReport reads back equal.
func TestReportRoundTrip(t *testing.T) {
	covered := accounts.Report{CoveredBy: accounts.CoveredByOrganizationTrail}
	covered.TrailARN = "arn:aws-cn:cloudtrail:cn-north-1:111111111111:trail/org-audit"
	for _, r := range []accounts.Report{validReport(), covered} {
		s, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := accounts.ParseReport(s)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("round trip of %s:\n got %+v, %v\nwant %+v", s, got, err, r)
		}
	}
	// The literal the enabler writes in organization-trail mode.
	if _, err := accounts.ParseReport(`{"coveredBy":"organization trail","trailArn":"arn:aws:cloudtrail:us-east-1:111111111111:trail/t"}`); err != nil {
		t.Error(err)
	}
}

func TestTamperRoundTrip(t *testing.T) {
	tm := validTamper()
	s, err := tm.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := accounts.ParseTamper(s)
	if err != nil || got != tm {
		t.Errorf("round trip of %s: %+v, %v", s, got, err)
	}
	a := accounts.Account{LastTamper: s}
	if got, err := a.Tamper(); err != nil || got != tm {
		t.Errorf("Account.Tamper: %+v, %v", got, err)
	}
}

func TestSchemaRefusesBadValues(t *testing.T) {
	badReports := map[string]string{
		"not JSON":        `{"trail":`,
		"no trail":        `{"region":"us-east-1","calls":[],"writes":0}`,
		"bad region":      `{"trail":"t","region":"Mars","calls":[],"writes":0}`,
		"more writes":     `{"trail":"t","region":"us-east-1","calls":["GetTrail"],"writes":2}`,
		"unnamed change":  `{"trail":"t","region":"us-east-1","calls":[],"writes":0,"changes":[{"from":"a","to":"b"}]}`,
		"other coverer":   `{"coveredBy":"someone","trailArn":"arn:aws:cloudtrail:us-east-1:1:trail/t"}`,
		"covered, no ARN": `{"coveredBy":"organization trail"}`,
		"wrong type":      `{"trail":"t","region":"us-east-1","writes":"two"}`,
	}
	for name, s := range badReports {
		if _, err := accounts.ParseReport(s); err == nil {
			t.Errorf("report %s: accepted %s", name, s)
		}
	}
	badTampers := map[string]string{
		"no event":    `{"at":"2026-03-14T12:05:00Z","response":"repair"}`,
		"bad time":    `{"event":"StopLogging","at":"yesterday","response":"repair"}`,
		"no response": `{"event":"StopLogging","at":"2026-03-14T12:05:00Z"}`,
		"bad region":  `{"event":"StopLogging","at":"2026-03-14T12:05:00Z","response":"repair","region":"EU"}`,
		"array":       `[]`,
	}
	for name, s := range badTampers {
		if _, err := accounts.ParseTamper(s); err == nil {
			t.Errorf("tamper %s: accepted %s", name, s)
		}
	}
	if _, err := accounts.ParseReport(`{"trail":"t","region":"us-east-1","calls":["GetTrail"],"writes":2}`); !errors.Is(err, accounts.ErrSchema) {
		t.Errorf("err = %v, want ErrSchema", err)
	}
}

// noDB fails the test on any call: a refused value writes nothing.
type noDB struct {
	accounts.API
	t *testing.T
}

func (d noDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	d.t.Error("UpdateItem called for a value that does not follow its schema")
	return &dynamodb.UpdateItemOutput{}, nil
}

func TestStoreRefusesBadJSON(t *testing.T) {
	s := &accounts.Store{DB: noDB{t: t}, Table: "accounts"}
	ctx := context.Background()
	if err := s.Converged(ctx, "111111111111", accounts.Converge{ReportJSON: `{"trail":""}`}); !errors.Is(err, accounts.ErrSchema) {
		t.Errorf("Converged: %v", err)
	}
	if err := s.RecordTamper(ctx, "111111111111", `{"event":"StopLogging"}`); !errors.Is(err, accounts.ErrSchema) {
		t.Errorf("RecordTamper: %v", err)
	}
}

func FuzzParseReport(f *testing.F) {
	s, _ := validReport().Encode()
	f.Add(s)
	f.Add(`{"coveredBy":"organization trail","trailArn":"arn:aws:cloudtrail:us-east-1:1:trail/t"}`)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := accounts.ParseReport(s)
		if err != nil {
			return
		}
		again, err := r.Encode()
		if err != nil {
			t.Fatalf("a parsed report does not encode: %v", err)
		}
		if r2, err := accounts.ParseReport(again); err != nil || !reflect.DeepEqual(r2, r) {
			t.Fatalf("re-parse differs: %+v %v", r2, err)
		}
	})
}

func FuzzParseTamper(f *testing.F) {
	s, _ := validTamper().Encode()
	f.Add(s)
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := accounts.ParseTamper(s)
		if err != nil {
			return
		}
		again, err := tm.Encode()
		if err != nil {
			t.Fatalf("a parsed tamper record does not encode: %v", err)
		}
		if t2, err := accounts.ParseTamper(again); err != nil || t2 != tm {
			t.Fatalf("re-parse differs: %+v %v", t2, err)
		}
	})
}
