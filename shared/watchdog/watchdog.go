// Package watchdog is the watchdog function's logic: one pass reads the
// arrival ledger and the accounts table, finds account × Regions whose
// deliveries stopped and enabled accounts that never delivered, asks the
// member account's CloudTrail why, and raises one alert per incident (with
// a repair request when a converge fixes the cause), then a recovery
// message when deliveries resume. See docs/watchdog.md.
package watchdog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/workitem"
)

// AccountLister lists the accounts table (accounts.Store).
type AccountLister interface {
	List(ctx context.Context, segments int) ([]accounts.Account, error)
}

// OverdueMarker remembers that an account's enable-deadline alert went out
// (accounts.Store).
type OverdueMarker interface {
	MarkDeadlineAlerted(ctx context.Context, id string) error
}

// LedgerScanner scans the arrival ledger (ledger.Reader).
type LedgerScanner interface {
	Scan(ctx context.Context, asOf time.Time, segments int, fn func(ledger.Item) error) (ledger.ScanStats, error)
}

// ActiveIncidents lists live incidents: the pass's incidents step.
type ActiveIncidents interface {
	Active(ctx context.Context, segments int) ([]incident.Incident, error)
}

// IncidentRecorder records what the diagnosis step found: new incidents,
// lulls and re-diagnoses.
type IncidentRecorder interface {
	Open(ctx context.Context, inc incident.Incident, now time.Time) (bool, error)
	Watch(ctx context.Context, inc incident.Incident, now time.Time) error
	Rediagnosed(ctx context.Context, id string, now time.Time, reason, summary, detail, action string) error
}

// AlertLeases deliver an incident's alert through the shared outbox step
// (claim → publish → mark, or release) and record its repair request.
type AlertLeases interface {
	SendAlert(ctx context.Context, pub incident.Publisher, a alert.Alert, now time.Time, lease time.Duration) (bool, error)
	MarkRepairRequested(ctx context.Context, id string, now time.Time) error
}

// RecoveryStore resolves incidents and delivers their recovery message
// through the same outbox step.
type RecoveryStore interface {
	Resolve(ctx context.Context, id string, now time.Time) (incident.Incident, bool, error)
	SendRecovery(ctx context.Context, pub incident.Publisher, a alert.Alert, now time.Time, lease time.Duration) (bool, error)
}

// IncidentStore keeps incident state (incident.Store): every step's part.
type IncidentStore interface {
	ActiveIncidents
	IncidentRecorder
	AlertLeases
	RecoveryStore
	CauseStore
}

// Alerter publishes alerts (alert.Publisher).
type Alerter interface {
	Publish(ctx context.Context, a alert.Alert) error
}

// SendAPI sends repair requests to the enabler's request queue.
type SendAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var (
	_ AccountLister = (*accounts.Store)(nil)
	_ LedgerScanner = (*ledger.Reader)(nil)
	_ IncidentStore = (*incident.Store)(nil)
	_ Alerter       = (*alert.Publisher)(nil)
	_ SendAPI       = (*sqs.Client)(nil)
)

// Watchdog runs passes. Fields left zero take the defaults of Config.
type Watchdog struct {
	Policy    *policy.Policy
	Accounts  AccountLister
	Ledger    LedgerScanner
	Incidents IncidentStore
	Sessions  Sessions
	NewTrail  func(aws.Config) TrailAPI
	Alerts    Alerter
	// Requests and RequestQueueURL carry repair requests when Repair is on.
	Requests        SendAPI
	RequestQueueURL string
	Repair          bool
	Metrics         *telemetry.Metrics
	Logger          *slog.Logger

	// EnableDeadline: an account still pending this long after it was
	// first seen gets one enable-overdue alert (0: not checked). The
	// enabler alerts too while it retries; this pass catches accounts whose
	// retries ended or never started.
	EnableDeadline time.Duration
	Overdue        OverdueMarker

	Cadence             Cadence
	EnabledRegions      []string
	NeverStartedAfter   time.Duration
	RediagnoseEvery     time.Duration
	ScanSegments        int
	DiagnoseConcurrency int
	MaxDiagnoses        int
	MassThreshold       int
	// AlertLease is how long a run holds the right to publish one alert
	// (default 2m): a run that crashed mid-publish is retried after it.
	AlertLease time.Duration
	// ResolveQuiet and TamperQuiet: how long a cause incident stays quiet
	// before it resolves (DefaultResolveQuiet, DefaultTamperQuiet).
	ResolveQuiet, TamperQuiet time.Duration

	// Heads and Findings run the digest step (expected-but-missing
	// digests, digests.go); nil: not run. MaxDigestChecks bounds its
	// GetTrailStatus calls per pass (DefaultMaxDigestChecks when 0).
	Heads           HeadScanner
	Findings        FindingReporter
	MaxDigestChecks int
	// DigestScanEvery: the digest step scans the heads at most this often
	// (DefaultDigestScanEvery when 0; digests.go says why 75 minutes hold).
	DigestScanEvery time.Duration
	headScan        scanClock
}

// OpenedIncident is one incident a pass opened.
type OpenedIncident struct {
	IncidentID string    `json:"incidentId"`
	Kind       string    `json:"kind"`
	Account    string    `json:"account"`
	Region     string    `json:"region,omitempty"`
	Since      time.Time `json:"since"`
	Verdict    string    `json:"verdict,omitempty"`
	Diagnosis  Diagnosis `json:"diagnosis"`
	Repair     bool      `json:"repairRequested"`
	// Alerted: the Region joined its cause incident (which alerts for it;
	// for the organization-wide incident, its alert was published).
	Alerted bool `json:"alerted"`
}

// Report says what one pass saw and did.
type Report struct {
	At              time.Time        `json:"at"`
	Accounts        int              `json:"accounts"`        // rows of the accounts table
	EnabledAccounts int              `json:"enabledAccounts"` // watched
	Pairs           int              `json:"pairs"`           // account × Regions assessed
	Ledger          ledger.ScanStats `json:"ledger"`
	Stale           int              `json:"stale"`   // pairs past the heartbeat
	Suspect         int              `json:"suspect"` // busy pairs gone silent
	NeverStarted    int              `json:"neverStarted"`
	EnableOverdue   int              `json:"enableOverdue"` // alerts sent for accounts still not enabled
	Opened          []OpenedIncident `json:"opened,omitempty"`
	StillOpen       int              `json:"stillOpen"`
	// Recovered lists the per-Region items that deliver again; Resolved
	// the incidents (cause, organization-wide) this pass closed.
	Recovered       []string `json:"recovered,omitempty"`
	Resolved        []string `json:"resolved,omitempty"`
	Lulls           int      `json:"lulls"`    // suspects diagnosed healthy and quiet
	Watched         int      `json:"watched"`  // known lulls not asked again
	Deferred        int      `json:"deferred"` // diagnoses left for the next pass
	Diagnoses       int      `json:"diagnoses"`
	CloudTrailCalls int      `json:"cloudTrailCalls"`
	RepairRequests  int      `json:"repairRequests"`
	AlertsSent      int      `json:"alertsSent"`
	Recoveries      int      `json:"recoveries"`
	Mass            bool     `json:"mass"` // an organization-wide incident is open
	// StaleAccountRegions and OpenIncidents are the metrics' values.
	StaleAccountRegions int           `json:"staleAccountRegions"`
	OpenIncidents       int           `json:"openIncidents"`
	Duration            time.Duration `json:"duration"`
	Errors              []string      `json:"errors,omitempty"`
	// Digests is the digest step's part (expected-but-missing digests).
	Digests DigestsReport `json:"digests"`
}

func (w *Watchdog) log() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

func orDefault[T int | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// candidate is a pair (or an account, for never-started) that needs a look.
type candidate struct {
	acct    *accounts.Account
	kind    string
	id      string
	a       Assessment
	rediag  bool // an open incident due for another diagnosis
	diag    Diagnosis
	skipped bool // not diagnosed this pass
}

// scanState is what the ledger scan gathers (shared by the segments).
type scanState struct {
	mu        sync.Mutex
	cands     []*candidate
	tracked   map[string]Assessment // assessments of pairs with a live incident
	delivered map[string]bool       // accounts with any delivery
	pairs     int
}

func priority(c *candidate) int {
	switch {
	case c.kind == incident.KindStale && c.a.Verdict == Stale:
		return 0
	case c.kind == incident.KindNeverStarted:
		return 1
	default:
		return 2
	}
}

// assessItem judges every Region of one account's ledger item.
func (w *Watchdog) assessItem(cad Cadence, st *scanState, byID map[string]incident.Incident, acct *accounts.Account, it ledger.Item, multi bool, now time.Time) {
	regions := make([]string, 0, len(it.Regions)+len(w.EnabledRegions)+1)
	delivered := false
	for r, rs := range it.Regions {
		regions = append(regions, r)
		if !rs.LastDelivery().IsZero() {
			delivered = true
		}
	}
	if !delivered {
		return // never-started, decided per account
	}
	extra := []string{w.home(acct)}
	if multi {
		extra = append(extra, w.EnabledRegions...)
	}
	for _, r := range extra {
		if _, ok := it.Regions[r]; !ok && r != "" {
			regions = append(regions, r)
			it.Regions[r] = ledger.RegionState{}
		}
	}
	since := enabledAt(acct)
	var found []*candidate
	tracked := map[string]Assessment{}
	for _, r := range regions {
		a := cad.Assess(r, it.Regions[r], since, now)
		id := incident.StaleID(acct.AccountID, r)
		if _, ok := byID[id]; ok {
			tracked[id] = a
		}
		if a.Verdict != OK {
			found = append(found, &candidate{acct: acct, kind: incident.KindStale, id: id, a: a})
		}
	}
	st.mu.Lock()
	st.pairs += len(regions)
	st.delivered[acct.AccountID] = true
	st.cands = append(st.cands, found...)
	for id, a := range tracked {
		st.tracked[id] = a
	}
	st.mu.Unlock()
}

func (w *Watchdog) diagnoseAll(ctx context.Context, dg *Diagnoser, todo []*candidate) {
	conc := orDefault(w.DiagnoseConcurrency, DefaultDiagnoseConcurrency)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for _, c := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func(c *candidate) {
			defer wg.Done()
			defer func() { <-sem }()
			c.diag = dg.Diagnose(ctx, *c.acct, c.a.Region, c.a.LastLog, ledger.Newest(c.a.LastLog, c.a.LastDigest), c.a.Verdict == Stale || c.kind == incident.KindNeverStarted)
		}(c)
	}
	wg.Wait()
}

func (w *Watchdog) newIncident(c *candidate) incident.Incident {
	region := c.a.Region
	// Group stays what the first diagnosis said: a later re-diagnosis
	// (Rediagnosed) must not move the Region to another incident.
	return incident.Incident{ID: c.id, Kind: c.kind, Account: c.acct.AccountID, Region: region, Since: c.a.Since,
		Reason: c.diag.Reason, Summary: c.diag.Summary, Detail: c.diag.Detail, Action: c.diag.Action, Severity: c.diag.Severity,
		Group: incident.CauseID(c.acct.AccountID, causeOf(c.kind, c.diag.Reason))}
}

// repairable says whether a converge fixes the cause.
func repairable(reason string) bool {
	switch reason {
	case ReasonLoggingStopped, ReasonTrailDeleted, ReasonTrailChanged:
		return true
	}
	return false
}

// alertIncident publishes the organization-wide incident's alert once
// (per-Region items alert through their cause incident), through the
// store's claim → publish → release step. A repairable cause is sent to
// the enabler's request queue under the claim, just before publishing, so
// the alert says whether the repair was requested. A failed publish leaves
// the incident un-alerted for the next pass.
func (w *Watchdog) alertIncident(ctx context.Context, rep *Report, inc incident.Incident, acct *accounts.Account, d Diagnosis, now time.Time, requested map[string]bool) (repaired, alerted bool) {
	kind := alert.KindDeliveryStopped
	if inc.Kind == incident.KindNeverStarted {
		kind = alert.KindNeverStarted
	}
	a := alert.Alert{Kind: kind, Severity: cmp.Or(d.Severity, "high"), IncidentID: inc.ID, Transition: alert.TransitionOpened,
		Version: 1, Account: inc.Account, Region: inc.Region, Code: d.Reason, Cause: d.Reason, Since: inc.Since, Reason: d.Summary,
		Detail: d.Detail, Action: d.Action, At: now}
	if acct != nil {
		a.AccountName = acct.Name
		a.OU = lastOU(acct.OUPath)
	}
	pub := publishFunc(func(ctx context.Context, a alert.Alert) error {
		a.Repair, repaired = w.repairStep(ctx, rep, inc, d, now, requested)
		a.Summarize()
		return w.Alerts.Publish(ctx, a)
	})
	sent, err := w.Incidents.SendAlert(ctx, pub, a, now, orDefault(w.AlertLease, 2*time.Minute))
	if err != nil {
		w.failContext(ctx, rep, err)
	}
	if sent {
		rep.AlertsSent++
	}
	return repaired, sent
}

// publishFunc adapts a function to incident.Publisher.
type publishFunc func(ctx context.Context, a alert.Alert) error

func (f publishFunc) Publish(ctx context.Context, a alert.Alert) error { return f(ctx, a) }

// repairStep requests a repair for a repairable cause, once per incident
// and per pass, and returns the alert's repair line.
func (w *Watchdog) repairStep(ctx context.Context, rep *Report, inc incident.Incident, d Diagnosis, now time.Time, requested map[string]bool) (string, bool) {
	if !w.Repair || !d.Repairable || w.Requests == nil || w.RequestQueueURL == "" {
		return "", false
	}
	if !inc.RepairRequestedAt.IsZero() || (requested != nil && requested[inc.Account]) {
		return "re-converge requested", true
	}
	if err := w.requestRepair(ctx, inc, d, now); err != nil {
		w.failContext(ctx, rep, err)
		return "repair request failed: " + err.Error(), false
	}
	rep.RepairRequests++
	if requested != nil {
		requested[inc.Account] = true
	}
	if err := w.Incidents.MarkRepairRequested(ctx, inc.ID, now); err != nil {
		w.failContext(ctx, rep, err)
	}
	return "re-converge requested through the enabler's request queue", true
}

func (w *Watchdog) requestRepair(ctx context.Context, inc incident.Incident, d Diagnosis, now time.Time) error {
	body, err := workitem.New(inc.Account, workitem.ReasonRepair, fmt.Sprintf("watchdog %s: %s", inc.ID, d.Summary), now).Marshal()
	if err != nil {
		return fmt.Errorf("repair request for %s: %w", inc.Account, err)
	}
	if _, err := w.Requests.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(w.RequestQueueURL), MessageBody: aws.String(body)}); err != nil {
		return fmt.Errorf("send repair request for %s: %w", inc.Account, err)
	}
	w.log().InfoContext(ctx, "repair requested", "account", inc.Account, "incident", inc.ID, "reason", d.Reason)
	return nil
}

// resolve closes an open incident and announces the recovery.
func (w *Watchdog) resolve(ctx context.Context, rep *Report, inc incident.Incident, acct *accounts.Account, now time.Time, why string) bool {
	res, ok, err := w.Incidents.Resolve(ctx, inc.ID, now)
	if err != nil {
		w.failContext(ctx, rep, err)
		return false
	}
	if !ok {
		return false
	}
	rep.Resolved = append(rep.Resolved, inc.ID)
	w.log().InfoContext(ctx, "incident resolved", "incident", inc.ID, "account", inc.Account, "region", inc.Region)
	w.announceRecovery(ctx, rep, res, acct, now, why)
	return true
}

func (w *Watchdog) announceRecovery(ctx context.Context, rep *Report, inc incident.Incident, acct *accounts.Account, now time.Time, why string) {
	reason := why
	if reason == "" {
		reason = fmt.Sprintf("deliveries resumed after %s of silence (incident was: %s)", incident.DurationText(now.Sub(inc.Since)), cmp.Or(inc.Summary, inc.Reason))
		if inc.ID == incident.MassID {
			reason = "the organization-wide silence ended: " + reason
		}
	}
	// The incident's severity: the resolution reaches whoever filtered on
	// it (incident.ResolutionOf).
	a := alert.Alert{Kind: alert.KindRecovered, Severity: cmp.Or(inc.Severity, "high"), IncidentID: inc.ID, Transition: alert.TransitionResolved,
		Version: 1, Account: inc.Account, Region: inc.Region, Code: inc.Reason, Cause: inc.Reason, Since: inc.Since, Reason: reason, At: now}
	if acct != nil {
		a.AccountName, a.OU = acct.Name, lastOU(acct.OUPath)
	}
	a.Summarize()
	sent, err := w.Incidents.SendRecovery(ctx, w.Alerts, a, now, orDefault(w.AlertLease, 2*time.Minute))
	if err != nil {
		w.failContext(ctx, rep, err)
	}
	if sent {
		rep.Recoveries++
		rep.AlertsSent++
	}
}

func (w *Watchdog) openMass(ctx context.Context, rep *Report, n int, now time.Time) {
	d := Diagnosis{Reason: ReasonPipeline, Severity: "critical",
		Summary: fmt.Sprintf("%d account × Regions went silent at once: the delivery pipeline (deliveries topic → queue → verifier → ledger) is the likely cause, not the trails", n),
		Action:  "check the verifier's errors, throttles and DLQ, the deliveries queue's age, and the topic subscription; per-pair incidents resume when the ledger moves again"}
	inc := incident.Incident{ID: incident.MassID, Kind: incident.KindMass, Since: now, Reason: d.Reason, Summary: d.Summary,
		Action: d.Action, Severity: d.Severity}
	ok, err := w.Incidents.Open(ctx, inc, now)
	if err != nil {
		w.failContext(ctx, rep, err)
		return
	}
	if !ok {
		return
	}
	inc.State = incident.StateOpen
	w.log().ErrorContext(ctx, "organization-wide silence", "pairs", n)
	_, alerted := w.alertIncident(ctx, rep, inc, nil, d, now, nil)
	rep.Opened = append(rep.Opened, OpenedIncident{IncidentID: inc.ID, Kind: inc.Kind, Since: now, Diagnosis: d, Alerted: alerted})
}

// failContext records a failed step in the report and logs it with the
// invocation's request id.
func (w *Watchdog) failContext(ctx context.Context, rep *Report, err error) {
	rep.Errors = append(rep.Errors, err.Error())
	w.log().ErrorContext(ctx, "watchdog step failed", "error", err)
}

// Metric names. Only StaleAccountRegions, which an alarm watches, is a
// CloudWatch metric (dimension Service=watchdog): a custom metric costs the
// same each month whatever its traffic. The others are fields of the same
// EMF log event, for CloudWatch Logs Insights (the dashboard's log
// widgets); the heartbeat alarm reads Lambda's own Invocations metric.
const (
	MetricStaleAccountRegions  = "StaleAccountRegions"
	MetricWatchdogRunSeconds   = "WatchdogRunSeconds"
	MetricNeverStartedAccounts = "NeverStartedAccounts"
	MetricOpenIncidents        = "OpenIncidents"
)

func (w *Watchdog) emit(ctx context.Context, rep Report) {
	if w.Metrics == nil {
		return
	}
	m := w.Metrics
	m.Count(MetricStaleAccountRegions, rep.StaleAccountRegions)
	for k, v := range map[string]any{MetricWatchdogRunSeconds: rep.Duration.Seconds(), MetricNeverStartedAccounts: rep.NeverStarted, MetricOpenIncidents: rep.OpenIncidents,
		"WatchdogDiagnoses": rep.Diagnoses, "WatchdogAlerts": rep.AlertsSent, "RepairRequests": rep.RepairRequests,
		"WatchdogErrors": len(rep.Errors), "LedgerItemsScanned": rep.Ledger.Items, "ledgerRCU": rep.Ledger.ConsumedRCU,
		"journalRCU": rep.Ledger.Journal.ConsumedRCU, "LedgerTimesFolded": rep.Ledger.Fold.Accounts,
		"LedgerFoldFailures": rep.Ledger.Fold.Failed} {
		m.Property(k, v)
	}
	// The digest step (digests.go): for Logs Insights, like the others.
	d := rep.Digests
	m.Property("DigestHeadsScanned", d.Heads)
	m.Property("DigestChainsOverdue", d.Overdue)
	m.Property("DigestsMissingFindings", d.Missing)
	m.Property("digestHeadsRCU", d.ReadUnits)
	if err := m.Flush(ctx); err != nil {
		w.log().ErrorContext(ctx, "flush metrics", "error", err)
	}
}

func (w *Watchdog) home(acct *accounts.Account) string {
	if acct != nil && acct.HomeRegion != "" {
		return acct.HomeRegion
	}
	if w.Policy != nil {
		return w.Policy.Organization.HomeRegion
	}
	return ""
}

// enabledAt is when the account's trail was first converged.
func enabledAt(a *accounts.Account) time.Time {
	for _, t := range []time.Time{a.EnabledAt, a.LastConvergeAt, a.FirstSeenAt} {
		if !t.IsZero() {
			return t.UTC()
		}
	}
	return time.Time{}
}

func lastOU(path []string) string {
	if len(path) == 0 {
		return ""
	}
	return path[len(path)-1]
}

// ErrNoPolicy is returned by New when the policy cannot be used.
var ErrNoPolicy = errors.New("watchdog: no usable policy")

// checkOverdue alerts once for each account that is still not enabled long
// after trailwarden first saw it.
func (w *Watchdog) checkOverdue(ctx context.Context, rep *Report, all []accounts.Account, now time.Time) {
	if w.EnableDeadline <= 0 || w.Alerts == nil || w.Overdue == nil {
		return
	}
	for i := range all {
		a := &all[i]
		pending := a.Status == accounts.StatusPending || (a.Status == accounts.StatusFailed && a.EnabledAt.IsZero())
		if !pending || a.DeadlineAlerted || a.FirstSeenAt.IsZero() || now.Sub(a.FirstSeenAt) < w.EnableDeadline {
			continue
		}
		ou := ""
		if len(a.OUPath) > 0 {
			ou = a.OUPath[len(a.OUPath)-1]
		}
		al := alert.EnableOverdue(a.AccountID, a.Name, ou, a.FirstSeenAt, now, a.LastErrorCode, a.LastError)
		if err := w.Alerts.Publish(ctx, al); err != nil {
			rep.Errors = append(rep.Errors, "enable-overdue alert for "+a.AccountID+": "+err.Error())
			continue
		}
		if err := w.Overdue.MarkDeadlineAlerted(ctx, a.AccountID); err != nil {
			rep.Errors = append(rep.Errors, "mark "+a.AccountID+" alerted: "+err.Error())
		}
		rep.EnableOverdue++
		rep.AlertsSent++
	}
}
