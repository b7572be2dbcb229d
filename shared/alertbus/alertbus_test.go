package alertbus

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/trailwarden/trailwarden/shared/alert"
)

type fakeEvents struct {
	in  *eventbridge.PutEventsInput
	out *eventbridge.PutEventsOutput
}

func (f *fakeEvents) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.in = in
	return f.out, nil
}

var at = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

var sample = alert.Alert{Kind: alert.KindDeliveryStopped, Severity: "critical", IncidentID: "cause#111122223333#trail",
	Transition: alert.TransitionOpened, Version: 1, Account: "111122223333", Regions: []string{"eu-west-1", "us-east-1"},
	Code: "logging-stopped", Cause: "stopped", Reason: "logging stopped <at 11:40>", At: at}

// TestEntry: source, detail-type per kind, bus, time and a detail with the
// schema version and the alert's fields.
func TestEntry(t *testing.T) {
	f := &fakeEvents{out: &eventbridge.PutEventsOutput{}}
	if err := (&Publisher{Events: f, Bus: "trailwarden-central"}).Publish(t.Context(), sample); err != nil {
		t.Fatal(err)
	}
	e := f.in.Entries[0]
	if aws.ToString(e.Source) != "trailwarden.alerts" || aws.ToString(e.DetailType) != "trailwarden alert delivery-stopped" ||
		aws.ToString(e.EventBusName) != "trailwarden-central" || !aws.ToTime(e.Time).Equal(at) {
		t.Errorf("entry %+v", e)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"schemaVersion": "2", "kind": "delivery-stopped", "severity": "critical",
		"account": "111122223333", "incidentId": "cause#111122223333#trail", "transition": "opened", "version": 1.0,
		"code": "logging-stopped", "cause": "stopped", "reason": "logging stopped <at 11:40>"} {
		if d[k] != want {
			t.Errorf("detail %s = %v, want %v", k, d[k], want)
		}
	}
	if rs, _ := d["regions"].([]any); len(rs) != 2 || rs[0] != "eu-west-1" {
		t.Errorf("regions %v", d["regions"])
	}
	if strings.Contains(aws.ToString(e.Detail), `\u003c`) {
		t.Errorf("detail is HTML-escaped: %s", aws.ToString(e.Detail))
	}
	if s, _ := d["summary"].(string); s == "" {
		t.Errorf("no summary: %v", d)
	}
}

// TestRefusedEntry: an entry EventBridge refuses (FailedEntryCount) is an
// error, so the alert is retried.
func TestRefusedEntry(t *testing.T) {
	f := &fakeEvents{out: &eventbridge.PutEventsOutput{FailedEntryCount: 1,
		Entries: []ebtypes.PutEventsResultEntry{{ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("try again")}}}}
	err := (&Publisher{Events: f, Bus: "b"}).Publish(t.Context(), sample)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("err %v", err)
	}
}
