// Package costmodel computes trailwarden's monthly cost in us-east-1 against
// the SNS + SQS transport of the notifications (the floor), from public
// prices and the volumes the benchmarks measure: every line of docs/cost.md,
// with its computation. The goal is own cost ≤ 25% of the floor at 1,000,
// 10,000 and 100,000 accounts (TestGoal); `make bench` prints the tables
// (BenchmarkCostTables).
package costmodel

import (
	"fmt"
	"io"
	"strings"
)

// Prices in USD, us-east-1, with the public page each comes from (docs/cost.md
// names where each was read).
const (
	LambdaGBSecond = 0.0000133334 // Arm duration; AWS Lambda pricing
	LambdaRequest  = 0.20 / 1e6   // AWS Lambda pricing
	DynamoWRU      = 0.625 / 1e6  // on-demand write request unit; Amazon DynamoDB pricing
	DynamoRRU      = 0.125 / 1e6  // on-demand read request unit; Amazon DynamoDB pricing
	S3Head         = 0.0004 / 1e3 // GET class; Amazon S3 pricing
	SNSPublish     = 0.50 / 1e6   // standard topic; Amazon SNS pricing
	SQSRequest     = 0.40 / 1e6   // standard queue, per 64 KB; Amazon SQS pricing
	// EventBridge: an event sent to another account's event bus is
	// charged to the sender as a custom event (EventBridge User Guide,
	// "Sending and receiving events between AWS accounts"; custom events
	// $1.00 per million, Amazon EventBridge pricing); a delivery to a
	// target in another account is $0.05 per million (AWS Price List,
	// AWSEvents, "cross-account invocations").
	EventBusToBus      = 1.00 / 1e6
	EventCrossAccount  = 0.05 / 1e6
	LogsIngestGB       = 0.50 // CloudWatch Logs ingestion; Amazon CloudWatch pricing
	CustomMetricMonth  = 0.30 // first 10,000 metrics; Amazon CloudWatch pricing
	AlarmMetricMonth   = 0.10 // standard resolution; Amazon CloudWatch pricing
	DashboardMonth     = 3.00 // per dashboard; Amazon CloudWatch pricing
	HoursPerMonth      = 730
	FiveMinutesInMonth = HoursPerMonth * 12
)

// Traffic is a traffic model's volumes per 1,000 accounts and month.
type Traffic struct {
	Name string
	// Notifications: log-file notifications (SNS publishes, SQS messages).
	Notifications float64
	// LogFilesPerNotification: log files announced per notification.
	LogFilesPerNotification float64
	// Digests: digest objects (S3 → EventBridge → SQS), one per account ×
	// Region × hour with log file validation on.
	Digests float64
}

// Reference is cloudtrailsim.NewModel (17 Regions, 3 active, log-normal
// log files: median 12 an hour, 90th percentile 60; 10% of notifications
// carry 2–5 keys), from BenchmarkLedgerModel/accounts=1000/instances=2
// scaled × 730/24.
var Reference = Traffic{Name: "reference (3 active Regions, log-normal)",
	Notifications: 46.46e6, LogFilesPerNotification: 69.65/46.46 - 12.41/46.46, Digests: 17 * 1000 * HoursPerMonth}

// Sensitivity are the other traffic models of docs/cost.md.
var Sensitivity = []Traffic{
	{Name: "1 active Region, log-normal", Notifications: Reference.Notifications / 3, LogFilesPerNotification: Reference.LogFilesPerNotification, Digests: Reference.Digests},
	{Name: "3 active Regions, one log file every 5 minutes", Notifications: 3 * 12 * 1000 * HoursPerMonth, LogFilesPerNotification: 1, Digests: Reference.Digests},
	{Name: "1 active Region, one log file every 5 minutes", Notifications: 12 * 1000 * HoursPerMonth, LogFilesPerNotification: 1, Digests: Reference.Digests},
}

// Digest transport from the logging account to the delivery queue.
type Digest int

const (
	// DigestDirect: the logging account's default bus → the delivery
	// queue, a cross-account target (the deployed design).
	DigestDirect Digest = iota
	// DigestViaBus: → the central bus → a rule → the queue (before).
	DigestViaBus
)

// Deployment is what the stacks deploy, and the measured per-unit volumes.
type Deployment struct {
	Instances int // warm verifier instances (deployment.verifierConcurrency)
	// ItemWritesPerAccountHour is the ledger's item-write volume
	// (BenchmarkLedgerModel: 2.49 at 2 instances, 7.07 at 5), an explicit
	// input: the ledger's layout sets it.
	ItemWritesPerAccountHour float64
	// ItemWRU: write units per item write (1 while items are under 1 KB).
	ItemWRU float64
	// JournalWRUPerInvocation: write units of one journal item
	// (0.623 M units for 0.589 M invocations).
	JournalWRUPerInvocation float64
	BatchSize               float64 // delivery messages per invocation
	HeadShare               float64 // objectCheck sample: 1%
	// ScanRRUPer1000: one members refresh of the accounts table (~0.9 KB
	// items), every 5 minutes per instance.
	ScanRRUPer1000 float64
	// VerifierSeconds: billed duration of one invocation on 256 MB.
	VerifierSeconds, VerifierGB float64
	PlatformLogKB               float64 // Lambda's START/END/REPORT lines per invocation
	// WatchdogRRUPer1000 per pass; WatchdogSecondsPer1000 of the 1 GB
	// function per pass (15 s at 100,000 accounts).
	WatchdogRRUPer1000, WatchdogSecondsPer1000 float64
	Digest                                     Digest

	// Fixed CloudWatch items, counted in the synthesized templates
	// (infra/stacks TestCostModelCountsTheTemplates): alarm metrics in the
	// automation account and in the other accounts' stacks (the logging and
	// management accounts' forwarding-DLQ alarms).
	CustomMetrics, AlarmMetrics, OtherAlarmMetrics, Dashboards int
	// OccasionalMetrics: the enabler's and reconciler's metrics, billed
	// only in the hours they publish (about $0.10 a month).
	OccasionalMetrics float64
	EMFDocumentKB     float64 // one document a minute per instance, one per watchdog pass
	// FreeTier counts the automation account's CloudWatch free tier (3
	// dashboards, 10 custom metrics, 10 alarm metrics, 5 GB of logs): off
	// for the goal. The other accounts' free tier is not counted.
	FreeTier bool
}

// Deployed is the stacks' default deployment.
var Deployed = Deployment{
	Instances: 2, ItemWritesPerAccountHour: 1.08, ItemWRU: 1, JournalWRUPerInvocation: 1.005,
	BatchSize: 100, HeadShare: 0.01, ScanRRUPer1000: 111.6,
	VerifierSeconds: 0.05, VerifierGB: 0.25, PlatformLogKB: 0.35,
	WatchdogRRUPer1000: 274.6, WatchdogSecondsPer1000: 15.0 / 100,
	Digest:        DigestDirect,
	CustomMetrics: 3, AlarmMetrics: 13, OtherAlarmMetrics: 2, Dashboards: 1, OccasionalMetrics: 0.10, EMFDocumentKB: 1.5,
}

// Line is one cost item.
type Line struct {
	Item, Computation string
	USD               float64
}

func m(v float64) string { return fmt.Sprintf("%.3f M", v/1e6) }

// Floor is the SNS + SQS transport of the notifications, per 1,000 accounts.
func Floor(t Traffic) []Line {
	n := t.Notifications
	return []Line{
		{"SNS publishes", m(n) + " × $0.50/M", n * SNSPublish},
		{"SQS SendMessage (by SNS)", m(n) + " × $0.40/M", n * SQSRequest},
		{"SQS ReceiveMessage + DeleteMessageBatch (10 per call)", m(2*n/10) + " × $0.40/M", 2 * n / 10 * SQSRequest},
	}
}

// Variable is trailwarden's cost per 1,000 accounts.
func Variable(t Traffic, d Deployment) []Line {
	inv := (t.Notifications + t.Digests) / d.BatchSize
	objects := t.Notifications*t.LogFilesPerNotification + t.Digests
	items := d.ItemWritesPerAccountHour * 1000 * HoursPerMonth
	scans := float64(d.Instances) * FiveMinutesInMonth * d.ScanRRUPer1000
	digestEB := Line{"digest path: EventBridge → delivery queue (cross-account target)", m(t.Digests) + " × $0.05/M", t.Digests * EventCrossAccount}
	if d.Digest == DigestViaBus {
		digestEB = Line{"digest path: EventBridge → central bus (custom events)", m(t.Digests) + " × $1.00/M", t.Digests * EventBusToBus}
	}
	return []Line{
		{"digest path: SQS SendMessage", m(t.Digests) + " × $0.40/M", t.Digests * SQSRequest},
		{"digest path: SQS receive + delete", m(2*t.Digests/10) + " × $0.40/M", 2 * t.Digests / 10 * SQSRequest},
		digestEB,
		{"DynamoDB journal writes", fmt.Sprintf("%s invocations × %.3f WRU × $0.625/M", m(inv), d.JournalWRUPerInvocation), inv * d.JournalWRUPerInvocation * DynamoWRU},
		{"DynamoDB ledger item writes", fmt.Sprintf("%.2f per account-hour × 730 h × 1,000 × %.0f WRU × $0.625/M", d.ItemWritesPerAccountHour, d.ItemWRU), items * d.ItemWRU * DynamoWRU},
		{"DynamoDB members refresh (accounts-table scan)", fmt.Sprintf("%d instances × 8,760 × %.1f RRU × $0.125/M", d.Instances, d.ScanRRUPer1000), scans * DynamoRRU},
		{"S3 HEAD (object check sample)", fmt.Sprintf("%s objects × %.0f%% × $0.0004/1,000", m(objects), 100*d.HeadShare), objects * d.HeadShare * S3Head},
		{"Lambda requests (verifier)", m(inv) + " × $0.20/M", inv * LambdaRequest},
		{"Lambda duration (verifier)", fmt.Sprintf("%s × %.2f s × %.2f GB × $0.0000133334", m(inv), d.VerifierSeconds, d.VerifierGB), inv * d.VerifierSeconds * d.VerifierGB * LambdaGBSecond},
		{"CloudWatch Logs: Lambda platform lines", fmt.Sprintf("%s × %.2f KB × $0.50/GB", m(inv), d.PlatformLogKB), inv * d.PlatformLogKB * 1e3 / 1e9 * LogsIngestGB},
		{"watchdog: DynamoDB reads", fmt.Sprintf("%.0f RRU × 8,760 passes × $0.125/M", d.WatchdogRRUPer1000), d.WatchdogRRUPer1000 * FiveMinutesInMonth * DynamoRRU},
		{"watchdog: Lambda", fmt.Sprintf("8,760 × %.2f s × 1 GB × $0.0000133334", d.WatchdogSecondsPer1000), FiveMinutesInMonth * d.WatchdogSecondsPer1000 * LambdaGBSecond},
	}
}

// Fixed is the cost per deployment, whatever its size.
func Fixed(d Deployment) []Line {
	metrics, alarms, dashboards := d.CustomMetrics, d.AlarmMetrics, d.Dashboards
	emfGB := (float64(d.Instances)*HoursPerMonth*60 + FiveMinutesInMonth) * d.EMFDocumentKB * 1e3 / 1e9
	emf, note := emfGB*LogsIngestGB, ""
	if d.FreeTier {
		metrics, alarms, dashboards = max(0, metrics-10), max(0, alarms-10), max(0, dashboards-3)
		emf, note = 0, " (after the automation account's free tier)"
	}
	return []Line{
		{"custom metrics, continuous", fmt.Sprintf("%d × $0.30%s", metrics, note), float64(metrics) * CustomMetricMonth},
		{"custom metrics, occasional (enabler, reconciler)", "published only in the hours they run", d.OccasionalMetrics},
		{"alarms", fmt.Sprintf("(%d + %d in other accounts) alarm metrics × $0.10%s", alarms, d.OtherAlarmMetrics, note), float64(alarms+d.OtherAlarmMetrics) * AlarmMetricMonth},
		{"dashboard", fmt.Sprintf("%d × $3.00%s", dashboards, note), float64(dashboards) * DashboardMonth},
		{"CloudWatch Logs: EMF documents", fmt.Sprintf("%.4f GB × $0.50%s", emfGB, note), emf},
	}
}

// Sum adds lines.
func Sum(lines []Line) float64 {
	t := 0.0
	for _, l := range lines {
		t += l.USD
	}
	return t
}

// Share is own cost over the floor for an organization of accounts.
func Share(t Traffic, d Deployment, accounts int) float64 {
	per1000 := Sum(Variable(t, d)) + Sum(Fixed(d))*1000/float64(accounts)
	return per1000 / Sum(Floor(t))
}

// Goal is the share own cost may take of the floor.
const Goal = 0.25

// Sizes are the organizations the goal is judged at.
var Sizes = []int{1000, 10000, 100000}

// WriteTables writes docs/cost.md's tables for t and d as Markdown.
func WriteTables(w io.Writer, t Traffic, d Deployment) {
	table := func(title string, lines []Line) {
		fmt.Fprintf(w, "\n%s\n\n| item | computation | $ / month |\n|---|---|---:|\n", title)
		for _, l := range lines {
			fmt.Fprintf(w, "| %s | %s | %.2f |\n", l.Item, l.Computation, l.USD)
		}
		fmt.Fprintf(w, "| **total** | | **%.2f** |\n", Sum(lines))
	}
	table("Floor, per 1,000 accounts ("+t.Name+")", Floor(t))
	table("Variable, per 1,000 accounts", Variable(t, d))
	table("Fixed, per deployment", Fixed(d))
	fmt.Fprintf(w, "\n| organization | own cost per 1,000 accounts | share of the floor | goal ≤ 25%% |\n|---|---:|---:|---|\n")
	for _, n := range Sizes {
		s := Share(t, d, n)
		fmt.Fprintf(w, "| %s accounts | %.2f | %.1f%% | %s |\n", thousands(n), s*Sum(Floor(t)), 100*s, map[bool]string{true: "met", false: "**not met**"}[s <= Goal])
	}
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// WriteSensitivity writes the share of the floor for each traffic model.
func WriteSensitivity(w io.Writer, d Deployment, models ...Traffic) {
	fmt.Fprintf(w, "\n| traffic | notifications per 1,000 accounts | floor per 1,000 | own cost per 1,000 (10,000 accounts) | 1,000 | 10,000 | 100,000 |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, t := range models {
		floor := Sum(Floor(t))
		fmt.Fprintf(w, "| %s | %.2f M | %.2f | %.2f | %.1f%% | %.1f%% | %.1f%% |\n", t.Name, t.Notifications/1e6, floor,
			Share(t, d, 10000)*floor, 100*Share(t, d, 1000), 100*Share(t, d, 10000), 100*Share(t, d, 100000))
	}
}
