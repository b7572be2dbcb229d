package backfill_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/internal/eventsource"
	"github.com/trailwarden/trailwarden/internal/flow"
	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/backfill"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/policy"
)

func TestMain(m *testing.M) { emulator.RunTests(m) }

type world struct {
	env *emulator.Env
	res *central.Resources
	pol *policy.Policy
}

func newWorld(tb testing.TB, members int) *world {
	tb.Helper()
	specs := make([]emulator.MemberSpec, members)
	for i := range specs {
		specs[i] = emulator.MemberSpec{Name: fmt.Sprintf("member-%04d", i)}
	}
	env := emulator.NewEnvWith(tb, emulator.WorldSpec{Members: specs})
	ctx := context.Background()
	res, err := central.Provision(ctx, env.Logging.Config, env.Logging.Config, env.Logging.ID, env.Logging.ID, central.Spec{
		OrganizationID: env.OrganizationID, Bucket: "acme-org-cloudtrail", KeyPrefix: "cloudtrail", TrailName: "org-audit", Tables: flow.Tables()})
	if err != nil {
		tb.Fatal(err)
	}
	pol, err := policy.Parse([]byte(res.PolicyYAML(central.PolicyOptions{OrganizationID: env.OrganizationID,
		ManagementAccount: emulator.ManagementAccountID, LoggingAccount: env.Logging.ID})))
	if err != nil {
		tb.Fatal(err)
	}
	return &world{env: env, res: res, pol: pol}
}

func TestDirectBackfillConvergesEveryActiveAccount(t *testing.T) {
	w := newWorld(t, 6)
	ctx := t.Context()
	proc := flow.Enabler(w.env.Management, w.env.Logging.Config, w.res, w.pol, flow.EnablerOptions{})
	active, inactive, err := backfill.Active(ctx, orgdir.New(organizations.NewFromConfig(w.env.Management)))
	if err != nil {
		t.Fatal(err)
	}
	// management + logging + 6 members
	if len(active) != 8 || inactive != 0 {
		t.Fatalf("active=%d inactive=%d", len(active), inactive)
	}
	var seen int
	rs := backfill.Direct(ctx, proc, active, 4, func(done int, _ backfill.Result) { seen = max(seen, done) })
	s := backfill.Summarize(rs, 0)
	if s.Enabled != 8 || s.Created != 8 || s.Failed != 0 || seen != 8 {
		t.Fatalf("summary %+v (progress %d): %+v", s, seen, rs)
	}
	// A second backfill changes nothing.
	s2 := backfill.Summarize(backfill.Direct(ctx, proc, active, 4, nil), 0)
	if s2.Unchanged != 8 {
		t.Fatalf("second pass: %+v", s2)
	}
	for _, a := range active {
		cfg, err := w.env.Assume(ctx, a.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cloudtrail.NewFromConfig(cfg).GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("org-audit")}); err != nil {
			t.Errorf("account %s: %v", a.ID, err)
		}
	}
}

func TestEnqueueThenEnablerConverges(t *testing.T) {
	w := newWorld(t, 3)
	ctx := t.Context()
	active, _, err := backfill.Active(ctx, orgdir.New(organizations.NewFromConfig(w.env.Management)))
	if err != nil {
		t.Fatal(err)
	}
	sq := sqs.NewFromConfig(w.env.Logging.Config)
	n, err := backfill.Enqueue(ctx, sq, w.res.RequestQueueURL, "reconcile", active, time.Now(), nil)
	if err != nil || n != len(active) {
		t.Fatalf("enqueued %d of %d: %v", n, len(active), err)
	}
	proc := flow.Enabler(w.env.Management, w.env.Logging.Config, w.res, w.pol, flow.EnablerOptions{})
	m := &eventsource.Mapping{SQS: sq, QueueURL: w.res.RequestQueueURL, QueueARN: w.res.RequestQueueARN, Region: w.env.Region, RetryNow: true}
	st, err := m.Drain(ctx, proc.Handle, 10)
	if err != nil || st.Failed != 0 || st.Records != len(active) {
		t.Fatalf("drain %+v %v", st, err)
	}
	store := proc.Accounts.(*accounts.Store)
	list, err := store.List(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.Status != accounts.StatusEnabled {
			t.Errorf("%s: %s %s", a.AccountID, a.Status, a.LastError)
		}
	}
}

// BenchmarkBackfill compares the direct backfill (bounded parallel workers)
// with a sequential loop over the same accounts, in one run. The emulator
// answers in about a millisecond where AWS takes tens; every request waits
// a fixed fake network latency (BACKFILL_LATENCY, default 30ms) in both arms.
// BACKFILL_ACCOUNTS (default 1000) members; BACKFILL_WORKERS (default 32).
func BenchmarkBackfill(b *testing.B) {
	n := envInt("BACKFILL_ACCOUNTS", 1000)
	workers := envInt("BACKFILL_WORKERS", 32)
	latency := time.Duration(envInt("BACKFILL_LATENCY_MS", 30)) * time.Millisecond
	for i := 0; i < b.N; i++ {
		w := newWorld(b, n)
		ctx := context.Background()
		active, _, err := backfill.Active(ctx, orgdir.New(organizations.NewFromConfig(w.env.Management)))
		if err != nil {
			b.Fatal(err)
		}
		run := func(workers int) (time.Duration, backfill.Summary) {
			proc := flow.Enabler(w.env.Management, w.env.Logging.Config, w.res, w.pol, flow.EnablerOptions{Latency: latency})
			start := time.Now()
			rs := backfill.Direct(ctx, proc, active, workers, nil)
			d := time.Since(start)
			return d, backfill.Summarize(rs, d)
		}
		// Sequential first over half the accounts' fresh state would be unfair;
		// both arms converge the same fresh accounts: reset trails in between.
		seqT, seqS := run(1)
		if seqS.Created != len(active) {
			b.Fatalf("sequential: %+v", seqS)
		}
		deleteTrails(b, w, active)
		parT, parS := run(workers)
		if parS.Created != len(active) {
			b.Fatalf("parallel: %+v", parS)
		}
		b.ReportMetric(float64(len(active)), "accounts")
		b.ReportMetric(seqT.Seconds(), "sequential-s")
		b.ReportMetric(parT.Seconds(), "backfill-s")
		b.ReportMetric(seqT.Seconds()/parT.Seconds(), "speedup")
	}
}

func deleteTrails(b *testing.B, w *world, active []orgdir.Account) {
	ctx := context.Background()
	for _, a := range active {
		cfg, err := w.env.Assume(ctx, a.ID, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cloudtrail.NewFromConfig(cfg).DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("org-audit")}); err != nil {
			b.Fatal(err)
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

var _ backfill.Converger = (*enabler.Processor)(nil)
