package alarmrelay

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/alert"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

const (
	testAccount = "111122223333"
	testTopic   = "arn:aws:sns:us-east-1:111122223333:TrailwardenAutomation-AlarmNotifications4F2C1D7E-Xq3HcY1bWmZs"
	testBase    = "https://github.com/trailwarden/trailwarden/blob/main/docs/runbooks"
)

var testSource = Source{TopicARN: testTopic, Account: testAccount, Region: "us-east-1", NamePrefix: "TrailwardenAutomation-"}

func sample(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "alarms", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// edit rewrites the alarm message inside the sample's envelope.
func edit(t *testing.T, body string, f func(m map[string]any)) string {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(env["Message"].(string)), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, _ := json.Marshal(m)
	env["Message"] = string(b)
	out, _ := json.Marshal(env)
	return string(out)
}

func TestParse(t *testing.T) {
	alarm := sample(t, "sns-alarm.json")
	cases := []struct {
		name, body, err string
		state, region   string
	}{
		{name: "alarm", body: alarm, state: StateAlarm, region: "us-east-1"},
		{name: "ok", body: sample(t, "sns-ok.json"), state: StateOK, region: "us-east-1"},
		{name: "not json", body: `{"Type":`, err: "SNS envelope"},
		{name: "duplicate member", body: strings.Replace(alarm, `"Type": "Notification",`, `"Type": "Notification", "Type": "Notification",`, 1), err: "duplicate JSON member"},
		{name: "not a notification", body: strings.Replace(alarm, `"Type": "Notification"`, `"Type": "SubscriptionConfirmation"`, 1), err: "not an SNS Notification"},
		{name: "type null", body: strings.Replace(alarm, `"Type": "Notification"`, `"Type": null`, 1), err: "not an SNS Notification"},
		{name: "other topic", body: strings.ReplaceAll(alarm, testTopic, "arn:aws:sns:us-east-1:111122223333:other"), err: "is not the alarms topic"},
		{name: "message not an object", body: `{"Type":"Notification","TopicArn":"` + testTopic + `","Message":"[1]"}`, err: "alarm message"},
		{name: "no message", body: `{"Type":"Notification","TopicArn":"` + testTopic + `"}`, err: "no Message"},
		{name: "unknown state", body: edit(t, alarm, func(m map[string]any) { m["NewStateValue"] = "alarm" }), err: "states"},
		{name: "bad time", body: edit(t, alarm, func(m map[string]any) { m["StateChangeTime"] = "Dec 7, 2026" }), err: "StateChangeTime"},
		{name: "arn names another alarm", body: edit(t, alarm, func(m map[string]any) { m["AlarmName"] = "TrailwardenAutomation-NoDeliveries" }), err: "does not name alarm"},
		{name: "other account", body: edit(t, alarm, func(m map[string]any) {
			m["AWSAccountId"] = "444455556666"
			m["AlarmArn"] = "arn:aws:cloudwatch:us-east-1:444455556666:alarm:TrailwardenAutomation-DeliveriesDLQDepth"
		}), err: "not one of trailwarden's"},
		{name: "other stack", body: edit(t, alarm, func(m map[string]any) {
			m["AlarmName"] = "Other-DeliveriesDLQDepth"
			m["AlarmArn"] = "arn:aws:cloudwatch:us-east-1:111122223333:alarm:Other-DeliveriesDLQDepth"
		}), err: "is not named TrailwardenAutomation-*"},
		{name: "no rule", body: edit(t, alarm, func(m map[string]any) {
			m["AlarmName"] = "TrailwardenAutomation-Mystery"
			m["AlarmArn"] = "arn:aws:cloudwatch:us-east-1:111122223333:alarm:TrailwardenAutomation-Mystery"
		}), err: "has no rule"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, _, err := Parse(c.body, testSource)
			if c.err != "" {
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want malformed with %q", err, c.err)
				}
				return
			}
			if err != nil || n.NewStateValue != c.state || n.Region != c.region || n.Changed.IsZero() {
				t.Fatalf("%+v, %v", n, err)
			}
		})
	}
}

func TestRuleFor(t *testing.T) {
	cases := map[string]Rule{
		"NoDeliveriesAlarm":       {Severity: SeverityCritical, Code: "no-deliveries"},
		"DeliveriesDLQDepth":      {Severity: SeverityHigh, Code: "dlq-depth"},
		"AlarmRelayDLQDepth":      {Severity: SeverityHigh, Code: "dlq-depth", Direct: true},
		"AlarmRelayErrorsAlarm":   {Severity: SeverityHigh, Code: "function-errors", Direct: true},
		"VerifierErrors":          {Severity: SeverityHigh, Code: "function-errors"},
		"StaleAccountRegions":     {Severity: SeverityInfo, Code: "stale-account-regions"},
		"DeliveriesQueueAgeAlarm": {Severity: SeverityHigh, Code: "queue-age"},
	}
	for id, want := range cases {
		if got, ok := RuleFor(id); !ok || got != want {
			t.Errorf("%s: %+v %v, want %+v", id, got, ok, want)
		}
	}
	for _, id := range []string{"Errors", "DLQDepth", "Unknown"} {
		if r, ok := RuleFor(id); ok {
			t.Errorf("%s has a rule %+v", id, r)
		}
	}
}

var at = time.Date(2026, 12, 7, 21, 40, 30, 0, time.UTC)

// TestGoldenBodies: the alert of each sample, as e-mail text and JSON
// document (testdata/golden; -update rewrites).
func TestGoldenBodies(t *testing.T) {
	for _, name := range []string{"sns-alarm", "sns-ok"} {
		n, rule, err := Parse(sample(t, name+".json"), testSource)
		if err != nil {
			t.Fatal(err)
		}
		a, ok := ToAlert(n, rule, at)
		if !ok {
			t.Fatalf("%s not relayed", name)
		}
		doc, err := alert.JSON(a)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name+".email.txt", []byte(alert.Email(a, testBase)))
		golden(t, name+".json", append(doc, '\n'))
		attrs := alert.Attributes(a)
		if *attrs["severity"].StringValue != SeverityHigh || *attrs["kind"].StringValue != alert.KindAlarm || *attrs["account"].StringValue != testAccount {
			t.Errorf("%s: attributes %v %v %v", name, *attrs["severity"].StringValue, *attrs["kind"].StringValue, *attrs["account"].StringValue)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

type fakePublisher struct {
	got []alert.Alert
	err error
}

func (f *fakePublisher) Publish(_ context.Context, a alert.Alert) error {
	if f.err != nil {
		return f.err
	}
	f.got = append(f.got, a)
	return nil
}

// TestHandle: ALARM and OK are relayed, OK after INSUFFICIENT_DATA is
// deleted unrelayed, a malformed body and a failed publish fail their
// records (counted), and nothing else fails.
func TestHandle(t *testing.T) {
	rec := func(id, body string) events.SQSMessage { return events.SQSMessage{MessageId: id, Body: body} }
	ev := events.SQSEvent{Records: []events.SQSMessage{
		rec("a", sample(t, "sns-alarm.json")), rec("b", sample(t, "sns-ok.json")),
		rec("c", sample(t, "sns-ok-after-insufficient-data.json")), rec("d", "not json"),
	}}
	pub := &fakePublisher{}
	r := &Relay{Source: testSource, Publisher: pub, Now: func() time.Time { return at }}
	resp, rep := r.Handle(t.Context(), ev)
	if rep != (Report{Relayed: 2, Ignored: 1, Malformed: 1}) {
		t.Errorf("report %+v", rep)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "d" {
		t.Errorf("failures %+v", resp.BatchItemFailures)
	}
	if len(pub.got) != 2 || pub.got[0].Transition != alert.TransitionOpened || pub.got[1].Transition != alert.TransitionResolved ||
		pub.got[1].Severity != SeverityHigh || pub.got[0].IncidentID != pub.got[1].IncidentID {
		t.Errorf("published %+v", pub.got)
	}
	pub.err = errors.New("throttled")
	resp, rep = r.Handle(t.Context(), events.SQSEvent{Records: ev.Records[:1]})
	if rep.Failed != 1 || len(resp.BatchItemFailures) != 1 {
		t.Errorf("failed publish: %+v %+v", rep, resp)
	}
}

func TestLoadConfig(t *testing.T) {
	env := map[string]string{"TRAILWARDEN_ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:111122223333:alerts",
		"TRAILWARDEN_ALARMS_TOPIC_ARN": testTopic, "TRAILWARDEN_ALARM_NAME_PREFIX": "TrailwardenAutomation-"}
	c, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil || c.Source != testSource {
		t.Fatalf("%+v %v", c, err)
	}
	env["TRAILWARDEN_ALARMS_TOPIC_ARN"] = "alarms"
	if _, err := LoadConfig(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "not an SNS topic ARN") {
		t.Fatalf("bad topic ARN: %v", err)
	}
}
