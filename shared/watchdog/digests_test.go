package watchdog_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/integrity"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/verifier"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

func TestJudgeDigestGap(t *testing.T) {
	end := time.Date(2026, 5, 1, 12, 0, 30, 0, time.UTC)
	h := integritywatch.Head{ID: "b/AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/05/01/d.json.gz", End: end}
	now := end.Add(2*time.Hour + 5*time.Minute)
	logging := &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(true), StartLoggingTime: aws.Time(end.Add(-48 * time.Hour))}
	tests := map[string]struct {
		st     *cloudtrail.GetTrailStatusOutput
		err    error
		kind   string
		since  time.Time
		reason string
	}{
		"logging":           {st: logging, kind: watchdog.DigestGapMissing, since: end, reason: "the trail is logging"},
		"stopped":           {st: &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(false), StopLoggingTime: aws.Time(end.Add(10 * time.Minute))}, kind: watchdog.DigestGapStopped, since: end, reason: "not logging"},
		"trail deleted":     {err: &smithy.GenericAPIError{Code: "TrailNotFoundException"}, kind: watchdog.DigestGapStopped, since: end, reason: "no longer exists"},
		"status unreadable": {err: errors.New("AccessDenied"), kind: watchdog.DigestGapMissing, since: end, reason: "could not be read"},
		"restarted lately": {st: &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(true), StartLoggingTime: aws.Time(now.Add(-30 * time.Minute))},
			kind: watchdog.DigestGapRestarted, since: now.Add(-30 * time.Minute)},
		"restarted, then missing": {st: &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(true), StartLoggingTime: aws.Time(end.Add(time.Minute))},
			kind: watchdog.DigestGapMissing, since: end.Add(time.Minute), reason: "the trail is logging"},
		"delivered, never verified": {st: &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(true), LatestDigestDeliveryTime: aws.Time(end.Add(time.Hour))},
			kind: watchdog.DigestGapMissing, since: end, reason: "never verified"},
	}
	for name, tc := range tests {
		kind, since, reason := watchdog.JudgeDigestGap(h, tc.st, tc.err, now)
		if kind != tc.kind || !since.Equal(tc.since) || !strings.Contains(reason, tc.reason) || !strings.Contains(reason, h.Key()) {
			t.Errorf("%s: %s since %s (%s), want %s since %s", name, kind, since, reason, tc.kind, tc.since)
		}
	}
}

// digestWorld: CloudTrail (the simulator) delivers hourly digests for one
// account × Region, the verifier's watch verifies each as it arrives, and
// the watchdog runs every five minutes with the ledger saying log files
// keep arriving.
type digestWorld struct {
	sim      *cloudtrailsim.Deliverer
	s3       *s3.Client
	watch    *integritywatch.Watcher
	wd       *watchdog.Watchdog
	status   *cloudtrail.GetTrailStatusOutput
	findings *findingLog
	silent   bool // the ledger says every delivery stopped
}

const (
	dAccount = "111122223333"
	dRegion  = "eu-west-1"
	dBucket  = "central-logs"
)

var dStart = time.Date(2026, 5, 1, 10, 0, 30, 0, time.UTC)

type findingLog struct {
	mu  sync.Mutex
	got []verifier.Finding
}

func (f *findingLog) Report(_ context.Context, fd verifier.Finding) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, fd)
	return true, nil
}

type oneAccount struct{}

func (oneAccount) List(context.Context, int) ([]accounts.Account, error) {
	return []accounts.Account{{AccountID: dAccount, Status: accounts.StatusEnabled, EnabledAt: dStart.Add(-24 * time.Hour)}}, nil
}

// busyLedger: log files arrived a minute ago, unless silent.
type busyLedger struct{ w *digestWorld }

func (l busyLedger) Scan(_ context.Context, asOf time.Time, _ int, fn func(ledger.Item) error) (ledger.ScanStats, error) {
	last := asOf.Add(-time.Minute)
	if l.w.silent {
		last = dStart
	}
	return ledger.ScanStats{}, fn(ledger.Item{AccountID: dAccount, Regions: map[string]ledger.RegionState{dRegion: {LastLog: last},
		"us-east-1": {LastLog: asOf.Add(-time.Minute)}}})
}

type anySession struct{}

func (anySession) Config(context.Context, string, string, string) (aws.Config, error) {
	return aws.Config{}, nil
}

type statusAPI struct{ w *digestWorld }

func (s statusAPI) GetTrail(context.Context, *cloudtrail.GetTrailInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailOutput, error) {
	return nil, errors.New("not asked")
}

func (s statusAPI) GetTrailStatus(_ context.Context, in *cloudtrail.GetTrailStatusInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
	if want := "arn:aws:cloudtrail:us-east-1:" + dAccount + ":trail/org-trail"; aws.ToString(in.Name) != want {
		return nil, errors.New("GetTrailStatus of " + aws.ToString(in.Name) + ", want " + want)
	}
	return s.w.status, nil
}

func newDigestWorld(t *testing.T) *digestWorld {
	t.Helper()
	emulator.Reset(t)
	cfg := emulator.Shared(t).ManagementConfig(emulator.DefaultRegion)
	sc := s3.NewFromConfig(cfg, emulator.S3Options)
	if _, err := sc.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(dBucket)}); err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	for name, key := range map[string]string{"integrity": "id", "heads": integritywatch.HeadsKey} {
		if _, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(key), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
			t.Fatal(err)
		}
	}
	sim, err := cloudtrailsim.New(sc, nil, cloudtrailsim.Trail{Name: "org-trail", HomeRegion: "us-east-1", Bucket: dBucket}, cloudtrailsim.Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var keys integrity.StaticKeys
	for _, k := range sim.PublicKeys() {
		pub, err := integrity.ParseDERKey(k.DER)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, integrity.PublicKey{Fingerprint: k.Fingerprint, Key: pub, Start: k.Start, End: k.End})
	}
	w := &digestWorld{sim: sim, s3: sc, findings: &findingLog{},
		status: &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(true), StartLoggingTime: aws.Time(dStart.Add(-24 * time.Hour))}}
	w.watch = &integritywatch.Watcher{S3: sc, Keys: keys, State: &integritywatch.Table{DB: db, Name: "integrity", Heads: "heads"}}
	w.wd = &watchdog.Watchdog{
		Policy: &policy.Policy{Organization: policy.Organization{HomeRegion: "us-east-1", MemberRole: "OrganizationAccountAccessRole"},
			Trail: policy.Trail{Name: "org-trail", MultiRegion: true, LogFileValidation: true}},
		Accounts: oneAccount{}, Ledger: busyLedger{w}, Incidents: fakeIncidents{}, Sessions: anySession{},
		NewTrail: func(aws.Config) watchdog.TrailAPI { return statusAPI{w} },
		Alerts:   &findingAlerts{},
		Heads:    &integritywatch.HeadReader{DB: db, Table: "heads", Segments: 2}, Findings: w.findings,
		Cadence: watchdog.DefaultCadence(), EnabledRegions: []string{dRegion}, Logger: telemetry.NewLogger(&strings.Builder{}, "error"),
	}
	return w
}

// run delivers CloudTrail's hourly digests from hour 0 to the end, the
// ones from hour gone on deleted before the verifier reads them (a chain
// truncated as it grows), verifies the others as they arrive, and runs the
// watchdog every five minutes. It returns the first pass's time with a
// digests-missing finding (zero: none) and that pass's report.
func (w *digestWorld) run(t *testing.T, gone int, until time.Time) (time.Time, watchdog.Report) {
	t.Helper()
	next := 0
	for now := dStart; !now.After(until); now = now.Add(5 * time.Minute) {
		for at := dStart.Add(time.Duration(next) * time.Hour); !at.After(now); at = dStart.Add(time.Duration(next) * time.Hour) {
			df, err := w.sim.DeliverDigest(t.Context(), dAccount, dRegion, at, nil)
			if err != nil {
				t.Fatal(err)
			}
			if next >= gone {
				if err := cloudtrailsim.DeleteObjects(t.Context(), w.s3, dBucket, df.Key); err != nil {
					t.Fatal(err)
				}
			}
			if fs, err := w.watch.Digest(t.Context(), dBucket, df.Key, ""); err != nil || len(fs) != 0 {
				t.Fatalf("verify %s: %v %v", df.Key, fs, err)
			}
			next++
		}
		rep, err := w.wd.Run(t.Context(), now)
		if err != nil {
			t.Fatal(err)
		}
		if len(w.findings.got) > 0 {
			return now, rep
		}
	}
	return time.Time{}, watchdog.Report{}
}

// Detection goal: a missing hourly digest is a finding within 75 minutes
// of its hour's end, with 5-minute watchdog passes.
func TestMissingDigestFoundWithin75Minutes(t *testing.T) {
	w := newDigestWorld(t)
	const gone = 3
	found, rep := w.run(t, gone, dStart.Add(8*time.Hour))
	if found.IsZero() {
		t.Fatal("no digests-missing finding")
	}
	hourEnd := dStart.Add(gone * time.Hour) // the first missing digest's end
	lat := found.Sub(hourEnd)
	t.Logf("missing digest found %s after its hour ended (passes every 5m)", lat)
	if lat > 75*time.Minute || lat <= 60*time.Minute {
		t.Errorf("found %s after the missing digest's hour ended, want within (60m, 75m]", lat)
	}
	f := w.findings.got[0]
	if !f.At.Equal(found) || f.Code != verifier.CodeDigestsMissing || f.Account != dAccount || f.Region != dRegion || f.Bucket != dBucket ||
		!strings.Contains(f.Key, "CloudTrail-Digest/"+dRegion) || !strings.Contains(f.Reason, "trail org-trail") ||
		!strings.Contains(f.Reason, "since "+dStart.Add((gone-1)*time.Hour).Format("2006-01-02T15")) {
		t.Errorf("finding %+v", f)
	}
	if rep.Digests.Heads != 1 || rep.Digests.Overdue != 1 || rep.Digests.Missing != 1 || rep.Digests.Alerted != 1 {
		t.Errorf("digest report %+v", rep.Digests)
	}
}

// A stopped trail's silence is reported as stopped, and a pair whose
// deliveries all stopped is the staleness incident's: neither is a finding.
func TestStoppedOrSilentIsNoFinding(t *testing.T) {
	for name, edit := range map[string]func(*digestWorld){
		"stopped": func(w *digestWorld) {
			w.status = &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(false), StopLoggingTime: aws.Time(dStart.Add(2*time.Hour + 10*time.Minute))}
		},
		"silent": func(w *digestWorld) { w.silent = true },
		"single-Region trail": func(w *digestWorld) {
			w.wd.Policy.Trail.MultiRegion = false // logs us-east-1 only: eu-west-1's old chain is not expected to grow
		},
		"Region not enabled": func(w *digestWorld) { w.wd.EnabledRegions = []string{"us-east-1"} },
	} {
		t.Run(name, func(t *testing.T) {
			w := newDigestWorld(t)
			edit(w)
			if found, _ := w.run(t, 3, dStart.Add(6*time.Hour)); !found.IsZero() {
				t.Fatalf("finding %+v", w.findings.got)
			}
			rep, err := w.wd.Run(t.Context(), dStart.Add(6*time.Hour+watchdog.DefaultDigestScanEvery)) // the next scan
			if err != nil {
				t.Fatal(err)
			}
			wantOverdue := 1
			if strings.Contains(name, "Region") {
				wantOverdue = 0
			}
			if d := rep.Digests; d.Overdue != wantOverdue || (name == "stopped") != (d.Stopped == 1) || (name == "silent") != (d.Silent == 1) {
				t.Errorf("digest report %+v", d)
			}
		})
	}
}

// The heads are scanned on every other 5-minute pass, the schedule's
// jitter absorbed: passes a minute early or late still scan every 10
// minutes at most.
func TestHeadsScannedEveryOtherPass(t *testing.T) {
	w := newDigestWorld(t)
	var got []bool
	for i, jitter := range []time.Duration{0, time.Minute, -time.Minute, time.Minute, -time.Minute, 0} {
		rep, err := w.wd.Run(t.Context(), dStart.Add(time.Duration(i)*5*time.Minute+jitter))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rep.Digests.Scanned)
	}
	if want := []bool{true, false, true, false, true, false}; !slices.Equal(got, want) {
		t.Errorf("scanned %v, want %v", got, want)
	}
}

// findingAlerts records nothing: the digest step alerts through Findings.
type findingAlerts struct{}

func (findingAlerts) Publish(context.Context, alert.Alert) error { return nil }
