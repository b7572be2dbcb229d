package enabler_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/internal/flow"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/policy"
)

// tamperWorld is an enabled member and a way to read the alerts topic.
type tamperWorld struct {
	*harness
	member string
	ct     *cloudtrail.Client
}

func newTamperWorld(t *testing.T, opts central.PolicyOptions) *tamperWorld {
	h := newHarness(t, emulator.WorldSpec{}, opts)
	member := h.env.MustMember("member-1").ID
	h.send(fixture(t, "organizations/create-account-result-succeeded.json", "333333333333", member))
	if st := h.drain(2); st.Failed != 0 {
		t.Fatalf("enable: %+v\n%s", st, h.logs.String())
	}
	cfg, err := h.env.Assume(t.Context(), member, "")
	if err != nil {
		t.Fatal(err)
	}
	tw := &tamperWorld{harness: h, member: member, ct: cloudtrail.NewFromConfig(cfg)}
	tw.alerts() // drop anything from enabling
	return tw
}

// event is a tamper fixture aimed at this world's member and Region.
func (w *tamperWorld) event(name string) string {
	return fixture(w.t, "tamper/"+name, "333333333333", w.member)
}

func (w *tamperWorld) alerts() []alert.Alert {
	w.t.Helper()
	q := sqs.NewFromConfig(w.env.Logging.Config)
	var out []alert.Alert
	for {
		msgs, err := q.ReceiveMessage(w.t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.res.AlertsQueueURL), MaxNumberOfMessages: 10})
		if err != nil {
			w.t.Fatal(err)
		}
		if len(msgs.Messages) == 0 {
			return out
		}
		for _, m := range msgs.Messages {
			var a alert.Alert
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &a); err != nil {
				w.t.Fatalf("alert not JSON: %v", err)
			}
			out = append(out, a)
			q.DeleteMessage(w.t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(w.res.AlertsQueueURL), ReceiptHandle: m.ReceiptHandle})
		}
	}
}

// incident reads a cause incident.
func (w *tamperWorld) incident(id string) incident.Incident {
	w.t.Helper()
	inc, ok, err := (&incident.Store{DB: dynamodb.NewFromConfig(w.env.Logging.Config), Table: flow.IncidentsTable}).Get(w.t.Context(), id)
	if err != nil || !ok {
		w.t.Fatalf("incident %s: %v %v", id, ok, err)
	}
	return inc
}

func kinds(as []alert.Alert) string {
	var k []string
	for _, a := range as {
		k = append(k, a.Kind)
	}
	return strings.Join(k, ",")
}

func (w *tamperWorld) logging() bool {
	st, err := w.ct.GetTrailStatus(w.t.Context(), &cloudtrail.GetTrailStatusInput{Name: aws.String("org-audit")})
	if err != nil {
		return false
	}
	return aws.ToBool(st.IsLogging)
}

func TestTamperIsRepairedWithAlerts(t *testing.T) {
	cases := []struct {
		name    string
		fixture string
		tamper  func(w *tamperWorld) error
		check   func(w *tamperWorld) bool
	}{
		{"StopLogging", "stop-logging.json", func(w *tamperWorld) error {
			_, err := w.ct.StopLogging(t.Context(), &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")})
			return err
		}, (*tamperWorld).logging},
		{"DeleteTrail", "delete-trail.json", func(w *tamperWorld) error {
			_, err := w.ct.DeleteTrail(t.Context(), &cloudtrail.DeleteTrailInput{Name: aws.String("org-audit")})
			return err
		}, (*tamperWorld).logging},
		{"UpdateTrail to another bucket", "update-trail-other-bucket.json", func(w *tamperWorld) error {
			logging, _ := w.env.Assume(t.Context(), w.member, "")
			if _, err := s3.NewFromConfig(logging, awsenv.S3Options(logging)).CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("exfil-bucket-example")}); err != nil {
				return err
			}
			_, err := w.ct.UpdateTrail(t.Context(), &cloudtrail.UpdateTrailInput{Name: aws.String("org-audit"), S3BucketName: aws.String("exfil-bucket-example")})
			return err
		}, func(w *tamperWorld) bool {
			tr, err := w.ct.GetTrail(t.Context(), &cloudtrail.GetTrailInput{Name: aws.String("org-audit")})
			return err == nil && aws.ToString(tr.Trail.S3BucketName) == w.res.Bucket
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newTamperWorld(t, central.PolicyOptions{})
			if err := tc.tamper(w); err != nil {
				t.Fatal(err)
			}
			if tc.check(w) {
				t.Fatal("tampering had no effect")
			}
			arrived := time.Now()
			w.send(w.event(tc.fixture))
			calls := w.sessions.Attempts.Load()
			if st := w.drain(2); st.Failed != 0 {
				t.Fatalf("%+v\n%s", st, w.logs.String())
			}
			elapsed := time.Since(arrived)
			if !tc.check(w) {
				t.Fatalf("not repaired\n%s", w.logs.String())
			}
			// One alert: the incident's opening. The repair is recorded on
			// the incident; its resolution (the watchdog's) says so.
			as := w.alerts()
			if kinds(as) != "trail-tampered" {
				t.Fatalf("alerts = %s", kinds(as))
			}
			a := as[0]
			if !strings.Contains(a.Reason, "called") || a.Account != w.member || a.Severity != "critical" ||
				a.IncidentID != incident.CauseID(w.member, incident.CauseTampered) || a.Transition != alert.TransitionOpened ||
				a.Cause != incident.CauseTampered || a.Event == nil || a.Event.ID == "" || a.Event.Name != a.Code ||
				a.Event.SourceIP != "203.0.113.77" || !strings.Contains(a.Event.Actor, "assumed-role/AWSReservedSSO_AdministratorAccess") ||
				a.Event.Time.IsZero() || !strings.HasPrefix(a.TrailARN, "arn:aws:cloudtrail:") {
				t.Errorf("tamper alert: %+v", a)
				if a.Event != nil {
					t.Errorf("event: %+v", *a.Event)
				}
			}
			if b, _ := json.Marshal(a); strings.Contains(string(b), "@") {
				t.Errorf("an e-mail address in the alert: %s", b)
			}
			inc := w.incident(a.IncidentID)
			if inc.RepairConfirmedAt.IsZero() || inc.RepairAttemptAt.IsZero() || inc.EventName != a.Event.Name {
				t.Errorf("incident after the repair: %+v", inc)
			}
			t.Logf("%s: alert and repair %v after the event reached the queue (goal ≤ 2 min); %d member session(s)", tc.name, elapsed.Round(time.Millisecond), w.sessions.Attempts.Load()-calls)
			if elapsed > 2*time.Minute {
				t.Errorf("detection goal missed: %v", elapsed)
			}
			// The repair's own calls produce the same kind of events, by our role: no alert, no second repair.
			own := strings.NewReplacer("TrailwardenMemberRole", policy.DefaultMemberRole, "trailwarden-enabler-5f3a9c", "trailwarden").
				Replace(w.event("stop-logging-by-trailwarden.json"))
			w.send(own)
			w.drain(2)
			if as := w.alerts(); len(as) != 0 {
				t.Fatalf("own change caused alerts %s", kinds(as))
			}
			if !strings.Contains(w.logs.String(), "own change, trail as the policy says") {
				t.Fatalf("own change was not re-checked without writes:\n%s", w.logs.String())
			}
		})
	}
}

func TestTamperOnAnotherTrailIsIgnored(t *testing.T) {
	w := newTamperWorld(t, central.PolicyOptions{})
	before := w.sessions.Attempts.Load()
	w.send(w.event("stop-logging-other-trail.json"))
	if st := w.drain(2); st.Failed != 0 {
		t.Fatalf("%+v", st)
	}
	if as := w.alerts(); len(as) != 0 || w.sessions.Attempts.Load() != before {
		t.Fatalf("another trail's change caused alerts %s or a repair", kinds(as))
	}
}

func TestTamperAlertOnly(t *testing.T) {
	w := newTamperWorld(t, central.PolicyOptions{TrailExtra: "  tamperResponse: alert-only\n"})
	if _, err := w.ct.StopLogging(t.Context(), &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	w.send(w.event("stop-logging.json"))
	w.drain(2)
	as := w.alerts()
	if kinds(as) != "trail-tampered" || !strings.Contains(as[0].Repair, "alert-only") {
		t.Fatalf("alerts %s %+v", kinds(as), as)
	}
	if w.logging() {
		t.Fatal("alert-only must not touch the trail")
	}
	a := w.account(w.member)
	if !strings.Contains(a.LastTamper, "StopLogging") {
		t.Fatalf("tamper not recorded: %q", a.LastTamper)
	}
}

// TestTamperRepairFailsIsOneUpdate: the repair fails twice, then works:
// the incident's opening, one update saying the repair failed (not one per
// retry), and the confirmed repair recorded without a message.
func TestTamperRepairFailsIsOneUpdate(t *testing.T) {
	w := newTamperWorld(t, central.PolicyOptions{})
	w.stopLogging()
	w.sessions.Failures.Store(2)
	w.send(w.event("stop-logging.json"))
	w.drain(5)
	if !w.logging() {
		t.Fatalf("not repaired after the retries\n%s", w.logs.String())
	}
	as := w.alerts()
	if kinds(as) != "trail-tampered,trail-tampered" || as[0].Transition != alert.TransitionOpened ||
		as[1].Transition != alert.TransitionUpdated || as[1].Version != 2 || !strings.Contains(as[1].Repair, "repair failed") ||
		!strings.HasPrefix(as[1].Change, "the repair failed: ") {
		t.Fatalf("alerts %s %+v", kinds(as), as)
	}
	inc := w.incident(as[0].IncidentID)
	if inc.RepairConfirmedAt.IsZero() || !inc.RepairFailedAt.IsZero() || inc.AlertedVersion != 2 {
		t.Fatalf("incident %+v", inc)
	}
}

// TestOwnSessionNameCannotHideTampering: someone assumes the member role with
// trailwarden's session name and stops logging; the event looks like ours,
// but the re-check finds the trail wrong, repairs it and says so.
func TestOwnSessionNameCannotHideTampering(t *testing.T) {
	w := newTamperWorld(t, central.PolicyOptions{})
	if _, err := w.ct.StopLogging(t.Context(), &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	w.send(strings.NewReplacer("TrailwardenMemberRole", policy.DefaultMemberRole, "trailwarden-enabler-5f3a9c", "trailwarden").
		Replace(w.event("stop-logging-by-trailwarden.json")))
	w.drain(2)
	if !w.logging() {
		t.Fatal("not repaired")
	}
	as := w.alerts()
	if kinds(as) != "trail-repaired" || !strings.Contains(as[0].Reason, "trailwarden's own role") {
		t.Fatalf("alerts %s %+v", kinds(as), as)
	}
}

// TestTamperFromNonMemberIsIgnored: a tamper event whose account (envelope
// and recipient alike) is not a member did not come through a member's
// forwarding path: ignored as an unverified origin, counted, never
// poison, no alert, no member session.
func TestTamperFromNonMemberIsIgnored(t *testing.T) {
	w := newTamperWorld(t, central.PolicyOptions{})
	before := w.sessions.Attempts.Load()
	w.send(fixture(t, "tamper/stop-logging.json", "333333333333", "999999999999"))
	if st := w.drain(2); st.Failed != 0 {
		t.Fatalf("%+v\n%s", st, w.logs.String())
	}
	if as := w.alerts(); len(as) != 0 || w.sessions.Attempts.Load() != before {
		t.Fatalf("a non-member's event caused alerts %s or a member session", kinds(as))
	}
	if !strings.Contains(w.logs.String(), "unverified origin") || !strings.Contains(w.logs.String(), `"UnverifiedEvents"`) {
		t.Fatalf("not logged and counted as unverified:\n%s", w.logs.String())
	}
}
