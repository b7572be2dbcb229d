package costmodel

import (
	"bytes"
	"fmt"
	"math"
	"sync"
	"testing"
)

var printOnce sync.Once

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 0.006 {
		t.Errorf("%s = %.3f, want %.2f", what, got, want)
	}
}

// The volumes and prices reproduce the measured figures of docs/cost.md.
func TestReferenceVolumes(t *testing.T) {
	near(t, "floor per 1,000 accounts", Sum(Floor(Reference)), 45.53)
	near(t, "digests (M)", Reference.Digests/1e6, 12.41)
	near(t, "objects (M)", (Reference.Notifications*Reference.LogFilesPerNotification+Reference.Digests)/1e6, 69.65)
	v := Variable(Reference, Deployed)
	for _, tc := range []struct {
		item string
		usd  float64
	}{
		{"digest path: SQS SendMessage", 4.96},
		{"digest path: SQS receive + delete", 0.99},
		{"digest path: EventBridge → delivery queue (cross-account target)", 0.62},
		{"DynamoDB journal writes", 0.37},
		{"DynamoDB ledger item writes", 0.49},
		{"DynamoDB members refresh (accounts-table scan)", 0.24},
		{"S3 HEAD (object check sample)", 0.28},
		{"watchdog: DynamoDB reads", 0.30},
	} {
		found := false
		for _, l := range v {
			if l.Item == tc.item {
				near(t, tc.item, l.USD, tc.usd)
				found = true
			}
		}
		if !found {
			t.Errorf("no line %q", tc.item)
		}
	}
}

// The goal, as docs/cost.md states it: own cost ≤ 25% of the floor at
// 10,000 and 100,000 accounts with the deployed design (2 and 5 warm
// verifier instances), without counting CloudWatch's free tier; at 1,000
// accounts only with the free tier (the fixed CloudWatch items are 11.8% of
// the floor there). A lever undone (a metric, an alarm, the digests back
// through the central bus) fails here.
func TestGoal(t *testing.T) {
	// Five instances: the members refresh and the journal's write units
	// scale with them; the item writes do not (the watchdog folds each
	// account once per interval: BenchmarkLedgerModel).
	five := Deployed
	five.Instances = 5
	five.JournalWRUPerInvocation = 1.256 // BenchmarkLedgerModel, 5 instances
	free := Deployed
	free.FreeTier = true
	noDashboard := Deployed
	noDashboard.Dashboards = 0 // deployment.dashboard.enabled: false
	for _, tc := range []struct {
		name     string
		d        Deployment
		accounts int
	}{
		{"10,000 accounts", Deployed, 10000},
		{"100,000 accounts", Deployed, 100000},
		{"100,000 accounts, 5 instances", five, 100000},
		{"1,000 accounts, free tier counted", free, 1000},
		{"1,000 accounts, no dashboard", noDashboard, 1000},
		{"10,000 accounts, free tier counted", free, 10000},
	} {
		if s := Share(Reference, tc.d, tc.accounts); s > Goal {
			t.Errorf("%s: own cost is %.1f%% of the floor, the goal is ≤ 25%%", tc.name, 100*s)
		}
	}
	// The gap docs/cost.md reports at 1,000 accounts with the dashboard
	// billed: it may shrink, not grow.
	if s := Share(Reference, Deployed, 1000); s > 0.315 {
		t.Errorf("1,000 accounts: %.1f%% of the floor, documented as 31.1%%", 100*s)
	}
}

// Digests through the central bus (a custom event each, $1.00 per million)
// miss the goal at every size: the lever docs/cost.md records.
func TestDigestsThroughTheBusMissTheGoal(t *testing.T) {
	d := Deployed
	d.Digest = DigestViaBus
	for _, n := range Sizes {
		if s := Share(Reference, d, n); s <= Goal {
			t.Errorf("%d accounts: digests through the central bus at %.1f%% of the floor", n, 100*s)
		}
	}
}

// BenchmarkCostTables prints docs/cost.md's tables (the reference traffic
// and each sensitivity model) and reports the share of the floor at each
// size: `make bench` runs it.
func BenchmarkCostTables(b *testing.B) {
	var buf bytes.Buffer
	for range b.N {
		buf.Reset()
		WriteTables(&buf, Reference, Deployed)
		WriteSensitivity(&buf, Deployed, append([]Traffic{Reference}, Sensitivity...)...)
		free := Deployed
		free.FreeTier = true
		fmt.Fprint(&buf, "\nWith CloudWatch's free tier counted:\n")
		WriteSensitivity(&buf, free, Reference)
	}
	printOnce.Do(func() { fmt.Print(buf.String()) })
	for _, n := range Sizes {
		b.ReportMetric(100*Share(Reference, Deployed, n), fmt.Sprintf("%%floor@%d", n))
	}
}
