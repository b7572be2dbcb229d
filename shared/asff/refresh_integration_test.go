package asff

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/incident"
)

// TestRefreshOnEmulator runs the refresher twice against moto's Security
// Hub (patched: GetFindings applies its filters) and a real incidents
// table: an open finding last updated 89 days ago is re-imported with
// UpdatedAt now, a resolved one stays ARCHIVED and untouched, a recent one
// and one whose incident has closed are left alone, and the second run
// changes nothing.
func TestRefreshOnEmulator(t *testing.T) {
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
	store := incidentsTable(t, dynamodb.NewFromConfig(awsCfg))
	runAt := since.Add(100 * 24 * time.Hour)
	old := runAt.Add(-89 * 24 * time.Hour)

	open := staleEvent("eu-central-1", since)
	recent := staleEvent("eu-west-2", since)
	closed := staleEvent("ap-south-1", since)
	resolved := staleEvent("eu-west-3", since)
	resolved.Resolved = old
	for _, e := range []Event{open, recent, closed} {
		inc := incident.Incident{ID: e.Key, Kind: incident.KindStale, Account: e.Account, Region: e.Region, Since: since}
		if e.Key == closed.Key {
			inc.Since = since.Add(time.Hour) // the incident reopened later: the old finding's cause is over
		}
		if _, err := store.Open(ctx, inc, since); err != nil {
			t.Fatal(err)
		}
	}
	pub := &Publisher{API: hub, Account: cfg.Account}
	imported := map[string]Finding{}
	for _, c := range []struct {
		e  Event
		at time.Time
	}{{open, old}, {recent, runAt.Add(-24 * time.Hour)}, {closed, old}, {resolved, old}} {
		f, err := cfg.Map(c.e, c.at)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := pub.Publish(ctx, []Finding{f}); err != nil || res.Imported != 1 {
			t.Fatalf("import %s: %+v %v", f.ID, res, err)
		}
		imported[c.e.Region] = f
	}

	r := &Refresher{Findings: hub, Publisher: pub, Causes: IncidentCauses{Store: store}, ProductArn: cfg.ProductArn()}
	for run, want := range []RefreshReport{{Candidates: 2, Closed: 1, Refreshed: 1}, {Candidates: 1, Closed: 1}} {
		rep, err := r.Run(ctx, runAt.Add(time.Duration(run)*time.Hour))
		if err != nil || rep.Candidates != want.Candidates || rep.Closed != want.Closed || rep.Refreshed != want.Refreshed || len(rep.Failed) != 0 {
			t.Fatalf("run %d: %+v, %v; want %+v", run+1, rep, err, want)
		}
	}

	got := stored(ctx, t, hub)
	check := func(region, state, updated string) {
		t.Helper()
		f := got[imported[region].ID]
		if string(f.RecordState) != state || aws.ToString(f.UpdatedAt) != updated || aws.ToString(f.CreatedAt) != imported[region].CreatedAt {
			t.Errorf("%s: state %s updated %s created %s; want %s updated %s", region, f.RecordState, aws.ToString(f.UpdatedAt),
				aws.ToString(f.CreatedAt), state, updated)
		}
	}
	check("eu-central-1", RecordActive, stamp(runAt))
	check("eu-west-2", RecordActive, imported["eu-west-2"].UpdatedAt)
	check("ap-south-1", RecordActive, imported["ap-south-1"].UpdatedAt)
	check("eu-west-3", RecordArchived, imported["eu-west-3"].UpdatedAt)
	if f := got[imported["eu-central-1"].ID]; aws.ToString(f.Title) != imported["eu-central-1"].Title || len(f.Resources) != len(imported["eu-central-1"].Resources) {
		t.Errorf("refreshed finding changed beyond UpdatedAt: %+v", f)
	}
}

func staleEvent(region string, first time.Time) Event {
	e := events["stale-logging-stopped"]
	e.Key = incident.StaleID(e.Account, region)
	e.Region = region
	e.FirstObserved, e.LastObserved = first, first
	return e
}

func incidentsTable(t *testing.T, db *dynamodb.Client) *incident.Store {
	t.Helper()
	_, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String("incidents"),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(incident.KeyAttribute), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(incident.KeyAttribute), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &incident.Store{DB: db, Table: "incidents"}
}

func stored(ctx context.Context, t *testing.T, hub *securityhub.Client) map[string]shtypes.AwsSecurityFinding {
	t.Helper()
	out, err := hub.GetFindings(ctx, &securityhub.GetFindingsInput{MaxResults: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]shtypes.AwsSecurityFinding{}
	for _, f := range out.Findings {
		got[aws.ToString(f.Id)] = f
	}
	return got
}
