package watchdog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/watchdog"
	"github.com/trailwarden/trailwarden/shared/workitem"
)

func TestMain(m *testing.M) { emulator.RunTests(m) }

const (
	accountsTable  = "trailwarden-accounts"
	ledgerTable    = "trailwarden-ledger"
	incidentsTable = "trailwarden-incidents"
	quietRegion    = "eu-west-1"
)

// t0 is the test clock's origin: the moment the last busy delivery lands.
var t0 = time.Date(2025, 3, 12, 14, 0, 0, 0, time.UTC)

// failingSessions is a fake for what moto cannot do: a member role that
// cannot be assumed (STS answers AccessDenied) for the accounts in Deny.
type failingSessions struct {
	inner *awsenv.Assumer
	Deny  map[string]bool
}

func (f *failingSessions) Config(ctx context.Context, account, role, region string) (aws.Config, error) {
	if f.Deny[account] {
		return aws.Config{}, &awsenv.RoleError{Account: account, Role: awsenv.RoleARN(region, account, role),
			Err: errors.New("fake: AccessDenied: not authorized to perform sts:AssumeRole")}
	}
	return f.inner.Config(ctx, account, role, region)
}

type harness struct {
	t        *testing.T
	env      *emulator.Env
	res      *central.Resources
	pol      *policy.Policy
	db       *dynamodb.Client
	sq       *sqs.Client
	wd       *watchdog.Watchdog
	sessions *failingSessions
	metrics  *telemetry.Metrics
	logs     *bytes.Buffer
	home     string
}

func newHarness(t *testing.T, members ...string) *harness {
	t.Helper()
	spec := emulator.WorldSpec{}
	for _, m := range members {
		spec.Members = append(spec.Members, emulator.MemberSpec{Name: m})
	}
	env := emulator.NewEnvWith(t, spec)
	ctx := t.Context()
	res, err := central.Provision(ctx, env.Logging.Config, env.Logging.Config, env.Logging.ID, env.Logging.ID, central.Spec{
		OrganizationID: env.OrganizationID, Bucket: "acme-org-cloudtrail", KeyPrefix: "cloudtrail", TrailName: "org-audit",
		Tables: []central.Table{{Name: accountsTable, PartitionKey: accounts.KeyAttribute},
			{Name: ledgerTable, PartitionKey: ledger.KeyAttribute}, {Name: incidentsTable, PartitionKey: incident.KeyAttribute}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse([]byte(res.PolicyYAML(central.PolicyOptions{OrganizationID: env.OrganizationID,
		ManagementAccount: emulator.ManagementAccountID, LoggingAccount: env.Logging.ID})))
	if err != nil {
		t.Fatal(err)
	}
	auto := env.Logging.Config
	logs := &bytes.Buffer{}
	h := &harness{t: t, env: env, res: res, pol: pol, db: dynamodb.NewFromConfig(auto), sq: sqs.NewFromConfig(auto),
		sessions: &failingSessions{inner: awsenv.NewAssumer(env.Management, sts.NewFromConfig(env.Management), "trailwarden"), Deny: map[string]bool{}},
		metrics:  telemetry.NewMetrics(logs, "Trailwarden", "watchdog"), logs: logs, home: pol.Organization.HomeRegion}
	h.wd = &watchdog.Watchdog{
		Policy:          pol,
		Accounts:        &accounts.Store{DB: h.db, Table: accountsTable},
		Ledger:          &ledger.Reader{DB: h.db, Table: ledgerTable},
		Incidents:       &incident.Store{DB: h.db, Table: incidentsTable},
		Sessions:        h.sessions,
		NewTrail:        func(c aws.Config) watchdog.TrailAPI { return cloudtrail.NewFromConfig(c) },
		Alerts:          &alert.Publisher{SNS: sns.NewFromConfig(auto), TopicARN: res.AlertsTopicARN},
		Requests:        h.sq,
		RequestQueueURL: res.RequestQueueURL,
		Repair:          true,
		Metrics:         h.metrics,
		Logger:          telemetry.NewLogger(logs, "debug"),
		Cadence:         watchdog.DefaultCadence(),
		EnabledRegions:  []string{h.home, quietRegion},
		ScanSegments:    2,
	}
	return h
}

// enable creates the policy's trail in a member (as the enabler does) and
// records the account as enabled at enabledAt.
func (h *harness) enable(name string, enabledAt time.Time) string {
	h.t.Helper()
	ctx := h.t.Context()
	m := h.env.MustMember(name)
	trail, err := h.pol.Effective(m.ID, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req, err := policy.Render(trail, policy.RenderContext{Account: m.ID, HomeRegion: h.home})
	if err != nil {
		h.t.Fatal(err)
	}
	cfg := h.env.AccountConfig(m.ID)
	rep, err := (&converge.Engine{CloudTrail: cloudtrail.NewFromConfig(cfg), Region: h.home}).Converge(ctx, req, converge.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	store := &accounts.Store{DB: h.db, Table: accountsTable, Now: func() time.Time { return enabledAt }}
	if err := store.Seen(ctx, m.ID, "created", name, []string{"ou-root-workloads"}); err != nil {
		h.t.Fatal(err)
	}
	if err := store.Converged(ctx, m.ID, accounts.Converge{TrailARN: rep.TrailARN, PolicyHash: trail.Hash(), HomeRegion: h.home,
		OUPath: []string{"ou-root-workloads"}}); err != nil {
		h.t.Fatal(err)
	}
	return m.ID
}

// putLedger writes one Region of an account's ledger item in the layout
// shared/ledger documents (the verifier's writer is not used here).
func (h *harness) putLedger(account, region string, lastLog, lastDigest time.Time, counts map[string]int64) {
	h.t.Helper()
	names := map[string]string{}
	values := map[string]ddbtypes.AttributeValue{}
	var sets []string
	set := func(attr string, v ddbtypes.AttributeValue) {
		n, p := fmt.Sprintf("#a%d", len(sets)), fmt.Sprintf(":v%d", len(sets))
		names[n], values[p] = attr, v
		sets = append(sets, n+" = "+p)
	}
	epoch := func(t time.Time) ddbtypes.AttributeValue {
		return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
	}
	if !lastLog.IsZero() {
		set(ledger.PrefixLog+region, epoch(lastLog))
		set(ledger.PrefixKey+region, &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("cloudtrail/AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_AbCdEfGhIjKlMnOp.json.gz",
			account, region, lastLog.Format("2006/01/02"), account, region, lastLog.Format("20060102T1504Z"))})
	}
	if !lastDigest.IsZero() {
		set(ledger.PrefixDigest+region, epoch(lastDigest))
	}
	for day, n := range counts {
		set(ledger.PrefixCount+day+"#"+region, &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)})
	}
	last := lastLog
	if lastDigest.After(last) {
		last = lastDigest
	}
	set("UpdatedAt", epoch(last))
	_, err := h.db.UpdateItem(h.t.Context(), &dynamodb.UpdateItemInput{TableName: aws.String(ledgerTable),
		Key:              map[string]ddbtypes.AttributeValue{ledger.KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: account}},
		UpdateExpression: aws.String("SET " + strings.Join(sets, ", ")), ExpressionAttributeNames: names, ExpressionAttributeValues: values})
	if err != nil {
		h.t.Fatal(err)
	}
}

// busy records a Region delivering a log file every 5 minutes since
// yesterday 00:00 until last, with a digest at the top of each hour (and
// the hourly digest of the quiet Region, which a multi-Region trail
// delivers too).
func (h *harness) busy(account, region string, last time.Time) {
	today := last.Truncate(24 * time.Hour)
	counts := map[string]int64{
		today.Add(-24 * time.Hour).Format("20060102"): 288,
		today.Format("20060102"):                      int64(last.Sub(today) / (5 * time.Minute)),
	}
	h.putLedger(account, region, last, last.Truncate(time.Hour), counts)
	if region != quietRegion {
		h.putLedger(account, quietRegion, time.Time{}, last.Truncate(time.Hour), nil)
	}
}

func (h *harness) run(at time.Time) watchdog.Report {
	h.t.Helper()
	rep, err := h.wd.Run(h.t.Context(), at)
	if err != nil {
		h.t.Fatalf("pass at %s: %v\n%s", at, err, h.logs.String())
	}
	if len(rep.Errors) > 0 {
		h.t.Fatalf("pass at %s: step errors %v\n%s", at, rep.Errors, h.logs.String())
	}
	return rep
}

// drain reads every message of a queue (deleting them).
func (h *harness) drain(url string) []string {
	h.t.Helper()
	var bodies []string
	for {
		out, err := h.sq.ReceiveMessage(h.t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			h.t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			if _, err := h.sq.DeleteMessage(h.t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				h.t.Fatal(err)
			}
		}
	}
}

func (h *harness) alerts() []alert.Alert {
	h.t.Helper()
	var out []alert.Alert
	for _, b := range h.drain(h.res.AlertsQueueURL) {
		var a alert.Alert
		if err := json.Unmarshal([]byte(b), &a); err != nil {
			h.t.Fatalf("alert is not JSON: %v\n%s", err, b)
		}
		out = append(out, a)
	}
	return out
}

func (h *harness) repairs() []workitem.Item {
	h.t.Helper()
	var out []workitem.Item
	for _, b := range h.drain(h.res.RequestQueueURL) {
		it, err := workitem.Parse([]byte(b))
		if err != nil {
			h.t.Fatalf("request queue holds a bad work item: %v\n%s", err, b)
		}
		out = append(out, it)
	}
	return out
}

func (h *harness) memberTrail(account string) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(h.env.AccountConfig(account))
}

// Done when 1–4: a busy Region whose trail is stopped in the member account
// raises one incident with the right reason within 20 minutes of its last
// delivery; a quiet Region whose hourly digests keep arriving raises
// nothing; a second pass sends no duplicate; deliveries resuming send one
// recovery message.
func TestStoppedTrailDetectedThenRecovers(t *testing.T) {
	h := newHarness(t, "busy", "quiet")
	ctx := t.Context()
	enabledAt := t0.Add(-72 * time.Hour)
	busy := h.enable("busy", enabledAt)
	quiet := h.enable("quiet", enabledAt)

	h.busy(busy, h.home, t0)
	h.putLedger(busy, quietRegion, time.Time{}, t0.Truncate(time.Hour), nil)
	// The quiet account: no log file for two days, a digest every hour.
	for _, r := range []string{h.home, quietRegion} {
		h.putLedger(quiet, r, t0.Add(-49*time.Hour), t0.Add(-40*time.Minute), nil)
	}

	if _, err := h.memberTrail(busy).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}

	var detected time.Time
	for at := t0.Add(5 * time.Minute); at.Sub(t0) <= 20*time.Minute; at = at.Add(5 * time.Minute) {
		// The quiet account's digests keep arriving on the hour (+3 min).
		if d := at.Truncate(time.Hour).Add(3 * time.Minute); !d.After(at) {
			for _, r := range []string{h.home, quietRegion} {
				h.putLedger(quiet, r, time.Time{}, d, nil)
			}
		}
		rep := h.run(at)
		if len(rep.Opened) > 0 && detected.IsZero() {
			detected = at
			if len(rep.Opened) != 1 {
				t.Fatalf("opened %d incidents, want 1: %+v", len(rep.Opened), rep.Opened)
			}
			f := rep.Opened[0]
			if f.Account != busy || f.Region != h.home || f.Diagnosis.Reason != watchdog.ReasonLoggingStopped || !f.Repair || !f.Alerted {
				t.Fatalf("finding = %+v", f)
			}
		}
	}
	if detected.IsZero() {
		t.Fatalf("stopped trail not detected within 20 minutes\n%s", h.logs.String())
	}
	t.Logf("stopped busy Region detected %s after its last delivery", detected.Sub(t0))

	got := h.alerts()
	if len(got) != 1 {
		t.Fatalf("alerts = %d, want 1: %+v", len(got), got)
	}
	a := got[0]
	if a.Kind != alert.KindDeliveryStopped || a.Account != busy || a.AccountName != "busy" || a.OU != "ou-root-workloads" ||
		!slices.Equal(a.Regions, []string{h.home}) || !a.Since.Equal(t0) || !strings.HasPrefix(a.Reason, "logging stopped at ") ||
		!strings.Contains(a.Repair, "re-converge requested") || a.Action == "" || !strings.Contains(a.Summary, busy) ||
		a.IncidentID != incident.CauseID(busy, incident.CauseStopped) || a.Transition != alert.TransitionOpened ||
		a.Code != watchdog.ReasonLoggingStopped || a.Cause != incident.CauseStopped || !a.At.Equal(detected) {
		t.Fatalf("alert = %+v", a)
	}
	reps := h.repairs()
	if len(reps) != 1 || reps[0].Account != busy || reps[0].Reason != workitem.ReasonRepair {
		t.Fatalf("repair requests = %+v", reps)
	}

	// Done when 4: another pass while open: no second alert, no second repair.
	rep := h.run(t0.Add(25 * time.Minute))
	if len(rep.Opened) != 0 || rep.StillOpen != 1 || rep.OpenIncidents != 1 || rep.StaleAccountRegions != 1 {
		t.Fatalf("second pass: %+v", rep)
	}
	if n := len(h.alerts()); n != 0 {
		t.Fatalf("second pass sent %d alerts", n)
	}
	if n := len(h.repairs()); n != 0 {
		t.Fatalf("second pass sent %d repair requests", n)
	}

	// Done when 3: logging restarts, deliveries resume: one recovery message.
	if _, err := h.memberTrail(busy).StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	h.busy(busy, h.home, t0.Add(32*time.Minute))
	rep = h.run(t0.Add(35 * time.Minute))
	if len(rep.Recovered) != 1 || len(rep.Resolved) != 0 || rep.OpenIncidents != 1 || len(h.alerts()) != 0 {
		t.Fatalf("after resume: %+v\n%s", rep, h.logs.String())
	}
	// The incident resolves once its Region delivered for the quiet time.
	var resolvedAt time.Time
	for at := t0.Add(40 * time.Minute); at.Sub(t0) <= 75*time.Minute; at = at.Add(5 * time.Minute) {
		h.busy(busy, h.home, at.Add(-2*time.Minute))
		if d := at.Truncate(time.Hour).Add(3 * time.Minute); !d.After(at) {
			h.putLedger(busy, quietRegion, time.Time{}, d, nil)
			for _, r := range []string{h.home, quietRegion} {
				h.putLedger(quiet, r, time.Time{}, d, nil)
			}
		}
		rep = h.run(at)
		got = h.alerts()
		if len(got) == 0 {
			continue
		}
		if !resolvedAt.IsZero() || len(got) != 1 || got[0].Kind != alert.KindRecovered || got[0].Transition != alert.TransitionResolved ||
			got[0].Account != busy || !slices.Equal(got[0].Regions, []string{h.home}) || got[0].IncidentID != a.IncidentID ||
			len(rep.Resolved) != 1 || rep.OpenIncidents != 0 {
			t.Fatalf("resolution at %s: %+v (%+v)", at, got, rep)
		}
		resolvedAt = at
	}
	if want := t0.Add(35*time.Minute + watchdog.DefaultResolveQuiet); !resolvedAt.Equal(want) {
		t.Fatalf("resolved at %s, want %s (the quiet time after the Region delivered again)", resolvedAt, want)
	}

	// The quiet account never raised anything; metrics were emitted.
	if !strings.Contains(h.logs.String(), `"StaleAccountRegions"`) || !strings.Contains(h.logs.String(), `"WatchdogRunSeconds"`) {
		t.Errorf("EMF metrics missing:\n%s", h.logs.String())
	}
}

// Done when 2, over hours: a quiet Region whose digests arrive every hour
// (late by up to 4 minutes, seen by the ledger up to 5 minutes later) never
// raises an incident, and no diagnosis call is made.
func TestQuietRegionWithHourlyDigestsRaisesNothing(t *testing.T) {
	h := newHarness(t, "quiet")
	quiet := h.enable("quiet", t0.Add(-72*time.Hour))
	for at := t0; at.Sub(t0) <= 4*time.Hour; at = at.Add(5 * time.Minute) {
		// The digest of hour H lands at H:04 and reaches the ledger at H:09.
		if d := at.Add(-9 * time.Minute).Truncate(time.Hour).Add(4 * time.Minute); at.Sub(d) >= 5*time.Minute {
			for _, r := range []string{h.home, quietRegion} {
				h.putLedger(quiet, r, time.Time{}, d, nil)
			}
		}
		rep := h.run(at)
		if len(rep.Opened) != 0 || rep.Stale != 0 || rep.Diagnoses != 0 {
			t.Fatalf("pass at %s: %+v", at, rep)
		}
	}
	if n := len(h.alerts()); n != 0 {
		t.Fatalf("%d alerts for a quiet Region", n)
	}
}

// A quiet Region whose trail stops is detected within 75 minutes of its last
// digest, by the heartbeat alone.
func TestQuietRegionStopDetectedWithin75Minutes(t *testing.T) {
	h := newHarness(t, "quiet")
	ctx := t.Context()
	quiet := h.enable("quiet", t0.Add(-72*time.Hour))
	last := t0.Add(2 * time.Minute) // the last digest before the stop
	for _, r := range []string{h.home, quietRegion} {
		h.putLedger(quiet, r, t0.Add(-30*time.Hour), last, nil)
	}
	if _, err := h.memberTrail(quiet).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	var detected time.Time
	for at := t0.Add(5 * time.Minute); at.Sub(last) <= 75*time.Minute; at = at.Add(5 * time.Minute) {
		if rep := h.run(at); len(rep.Opened) > 0 {
			detected = at
			for _, f := range rep.Opened {
				if f.Diagnosis.Reason != watchdog.ReasonLoggingStopped {
					t.Fatalf("finding = %+v", f)
				}
			}
			break
		}
	}
	if detected.IsZero() {
		t.Fatalf("quiet Region stop not detected within 75 minutes\n%s", h.logs.String())
	}
	t.Logf("stopped quiet Region detected %s after its last digest", detected.Sub(last))
	// One repair request for the account although two Regions opened.
	if reps := h.repairs(); len(reps) != 1 {
		t.Fatalf("repair requests = %d, want 1 per account", len(reps))
	}
}

// Done when 5: a deleted trail and a trail re-pointed at another bucket each
// get their reason and a repair request.
func TestDeletedAndRepointedTrailsRequestRepair(t *testing.T) {
	h := newHarness(t, "deleted", "repointed")
	ctx := t.Context()
	deleted := h.enable("deleted", t0.Add(-72*time.Hour))
	repointed := h.enable("repointed", t0.Add(-72*time.Hour))
	h.busy(deleted, h.home, t0)
	h.busy(repointed, h.home, t0)

	if _, err := h.memberTrail(deleted).DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	cfg := h.env.AccountConfig(repointed)
	if _, err := s3.NewFromConfig(cfg, emulator.S3Options).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("someone-elses-bucket")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cloudtrail.NewFromConfig(cfg).UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("org-audit"),
		S3BucketName: aws.String("someone-elses-bucket")}); err != nil {
		t.Fatal(err)
	}

	rep := h.run(t0.Add(20 * time.Minute))
	if len(rep.Opened) != 2 {
		t.Fatalf("opened = %+v\n%s", rep.Opened, h.logs.String())
	}
	want := map[string]string{deleted: watchdog.ReasonTrailDeleted, repointed: watchdog.ReasonTrailChanged}
	for _, f := range rep.Opened {
		if f.Diagnosis.Reason != want[f.Account] || !f.Repair {
			t.Errorf("finding for %s = %+v", f.Account, f)
		}
	}
	for _, a := range h.alerts() {
		switch a.Account {
		case deleted:
			if a.Reason != "trail deleted" {
				t.Errorf("deleted trail alert reason = %q", a.Reason)
			}
		case repointed:
			if !strings.Contains(a.Reason, `S3 bucket is "someone-elses-bucket", policy says "acme-org-cloudtrail"`) {
				t.Errorf("re-pointed trail alert reason = %q", a.Reason)
			}
		}
		if !strings.Contains(a.Repair, "re-converge requested") {
			t.Errorf("alert does not say the repair was requested: %+v", a)
		}
	}
	got := map[string]bool{}
	for _, it := range h.repairs() {
		if it.Reason != workitem.ReasonRepair || !strings.Contains(it.Detail, "watchdog") {
			t.Errorf("repair request = %+v", it)
		}
		got[it.Account] = true
	}
	if !got[deleted] || !got[repointed] || len(got) != 2 {
		t.Fatalf("repair requests for %v", got)
	}
}

// Done when 6: a member role that cannot be assumed gets its own reason and
// no repair request (the enabler could not assume it either). An account
// enabled 40 minutes ago that never delivered is never-started.
func TestRoleNotAssumableAndNeverStarted(t *testing.T) {
	h := newHarness(t, "locked", "silent")
	locked := h.enable("locked", t0.Add(-72*time.Hour))
	silent := h.enable("silent", t0.Add(-20*time.Minute))
	h.busy(locked, h.home, t0)
	h.sessions.Deny[locked] = true

	rep := h.run(t0.Add(20 * time.Minute))
	if len(rep.Opened) != 2 {
		t.Fatalf("opened = %+v\n%s", rep.Opened, h.logs.String())
	}
	for _, f := range rep.Opened {
		switch f.Account {
		case locked:
			if f.Diagnosis.Reason != watchdog.ReasonRoleNotAssumable || f.Repair || f.Diagnosis.Severity != "critical" {
				t.Errorf("locked: %+v", f)
			}
		case silent:
			if f.Kind != incident.KindNeverStarted || f.Diagnosis.Reason != watchdog.ReasonDeliveriesMissing {
				t.Errorf("silent: %+v", f)
			}
		}
	}
	if rep.NeverStarted != 1 {
		t.Errorf("NeverStarted = %d", rep.NeverStarted)
	}
	var kinds []string
	for _, a := range h.alerts() {
		kinds = append(kinds, a.Kind+":"+a.Account)
		if a.Account == locked && !strings.Contains(a.Reason, "cannot be assumed") {
			t.Errorf("role alert reason = %q", a.Reason)
		}
	}
	if len(kinds) != 2 {
		t.Fatalf("alerts = %v", kinds)
	}
	if n := len(h.repairs()); n != 0 {
		t.Fatalf("%d repair requests for causes a converge cannot fix", n)
	}
	// The silent account's first delivery resolves never-started.
	h.putLedger(silent, h.home, t0.Add(22*time.Minute), time.Time{}, map[string]int64{t0.Format("20060102"): 1})
	rep = h.run(t0.Add(25 * time.Minute))
	if len(rep.Recovered) != 1 || rep.Recovered[0] != incident.NeverID(silent) {
		t.Fatalf("recovered = %v", rep.Recovered)
	}
}

// A busy Region gone silent whose trail is healthy: when CloudTrail says it
// delivered newer files than the ledger holds, escalate ("trail healthy,
// deliveries missing"); when it delivered nothing newer, it is a lull — no
// alert, and no second diagnosis while the newest log file is unchanged.
// Bucket and KMS errors reported by GetTrailStatus get their own reasons.
func TestHealthyTrailEscalatesOrWaitsAndStatusErrors(t *testing.T) {
	h := newHarness(t, "missing", "lull", "denied", "kms")
	ids := map[string]string{}
	for _, n := range []string{"missing", "lull", "denied", "kms"} {
		ids[n] = h.enable(n, t0.Add(-72*time.Hour))
		h.busy(ids[n], h.home, t0)
	}
	sim, err := cloudtrailsim.New(s3.NewFromConfig(h.env.Logging.Config, emulator.S3Options), nil,
		cloudtrailsim.Trail{Name: "org-audit", HomeRegion: h.home, Bucket: h.res.Bucket}, cloudtrailsim.Options{ControlURL: h.env.Server.URL(), Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	record := func(name string, fields map[string]any) {
		if err := sim.RecordStatus(ctx, ids[name], h.home, fields); err != nil {
			t.Fatal(err)
		}
	}
	record("missing", map[string]any{"LatestDeliveryTime": t0.Add(12 * time.Minute).Unix()})
	record("lull", map[string]any{"LatestDeliveryTime": t0.Unix()})
	record("denied", map[string]any{"LatestDeliveryTime": t0.Unix(), "LatestDeliveryError": "AccessDenied"})
	record("kms", map[string]any{"LatestDeliveryTime": t0.Unix(), "LatestDeliveryError": "KMS.DisabledException"})

	rep := h.run(t0.Add(20 * time.Minute))
	want := map[string]string{ids["missing"]: watchdog.ReasonDeliveriesMissing, ids["denied"]: watchdog.ReasonBucketDelivery,
		ids["kms"]: watchdog.ReasonKMSKeyUnusable}
	if len(rep.Opened) != 3 || rep.Lulls != 1 {
		t.Fatalf("opened %+v, lulls %d\n%s", rep.Opened, rep.Lulls, h.logs.String())
	}
	for _, f := range rep.Opened {
		if f.Diagnosis.Reason != want[f.Account] || f.Repair {
			t.Errorf("%s: %+v", f.Account, f)
		}
	}
	for _, a := range h.alerts() {
		if a.Account == ids["missing"] && (a.Severity != "critical" || !strings.HasPrefix(a.Reason, "trail healthy, deliveries missing")) {
			t.Errorf("escalation alert = %+v", a)
		}
		if a.Account == ids["denied"] && !strings.HasPrefix(a.Reason, "AccessDenied on the bucket") {
			t.Errorf("bucket alert reason = %q", a.Reason)
		}
		if a.Account == ids["lull"] {
			t.Errorf("a lull raised an alert: %+v", a)
		}
	}
	rep = h.run(t0.Add(25 * time.Minute))
	if rep.Diagnoses != 0 || rep.Watched != 1 || len(rep.Opened) != 0 {
		t.Fatalf("second pass: diagnoses %d, watched %d, opened %d", rep.Diagnoses, rep.Watched, len(rep.Opened))
	}
}

// flakyAlerts fails every publish while down is set.
type flakyAlerts struct {
	inner watchdog.Alerter
	down  bool
	tries int
}

func (f *flakyAlerts) Publish(ctx context.Context, a alert.Alert) error {
	f.tries++
	if f.down {
		return errors.New("fake: SNS Publish: InternalError")
	}
	return f.inner.Publish(ctx, a)
}

// An incident alert or recovery whose publish fails stays owed: the pass
// reports the error, and the next pass publishes it exactly once.
func TestAlertAndRecoverySurvivePublishFailure(t *testing.T) {
	h := newHarness(t, "busy")
	ctx := t.Context()
	busy := h.enable("busy", t0.Add(-72*time.Hour))
	h.busy(busy, h.home, t0)
	if _, err := h.memberTrail(busy).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	flaky := &flakyAlerts{inner: h.wd.Alerts, down: true}
	h.wd.Alerts = flaky
	h.wd.AlertLease = time.Hour // only a released claim lets the next pass publish
	pass := func(at time.Time, wantErr bool) watchdog.Report {
		t.Helper()
		rep, err := h.wd.Run(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		if (len(rep.Errors) > 0) != wantErr {
			t.Fatalf("pass at %s: errors %v, want errors: %v", at, rep.Errors, wantErr)
		}
		return rep
	}
	opened := 0
	for at := t0.Add(5 * time.Minute); at.Sub(t0) <= 20*time.Minute; at = at.Add(5 * time.Minute) {
		rep, err := h.wd.Run(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		opened += len(rep.Opened)
	}
	if opened != 1 || flaky.tries == 0 {
		t.Fatalf("opened %d incidents, %d publish tries", opened, flaky.tries)
	}
	if n := len(h.alerts()); n != 0 {
		t.Fatalf("%d alerts while the topic fails", n)
	}
	flaky.down = false
	pass(t0.Add(25*time.Minute), false)
	got := h.alerts()
	if len(got) != 1 || got[0].Kind != alert.KindDeliveryStopped || got[0].Account != busy {
		t.Fatalf("alerts after the topic recovered = %+v", got)
	}
	pass(t0.Add(30*time.Minute), false)
	if n := len(h.alerts()); n != 0 {
		t.Fatalf("alerted again: %d", n)
	}
	if reps := h.repairs(); len(reps) != 1 {
		t.Fatalf("repair requests = %d, want 1", len(reps))
	}

	// The recovery: the first announcement fails, the next pass sends it once.
	if _, err := h.memberTrail(busy).StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("org-audit")}); err != nil {
		t.Fatal(err)
	}
	h.busy(busy, h.home, t0.Add(32*time.Minute))
	flaky.down = true
	h.wd.ResolveQuiet = 5 * time.Minute
	if rep := pass(t0.Add(35*time.Minute), false); len(rep.Recovered) != 1 || len(rep.Resolved) != 0 {
		t.Fatalf("recovered pass: %+v", rep)
	}
	if rep := pass(t0.Add(40*time.Minute), true); len(rep.Resolved) != 1 || rep.Recoveries != 0 {
		t.Fatalf("resolve pass: %+v", rep)
	}
	if n := len(h.alerts()); n != 0 {
		t.Fatalf("%d alerts while the topic fails", n)
	}
	flaky.down = false
	if rep := pass(t0.Add(45*time.Minute), false); rep.Recoveries != 1 {
		t.Fatalf("recovery pass: %+v", rep)
	}
	got = h.alerts()
	if len(got) != 1 || got[0].Kind != alert.KindRecovered || got[0].Account != busy {
		t.Fatalf("recovery alerts = %+v", got)
	}
	pass(t0.Add(50*time.Minute), false)
	if n := len(h.alerts()); n != 0 {
		t.Fatalf("recovery announced again: %d", n)
	}
}
