// Package watchdog is the watchdog function's logic: one pass reads the
// arrival ledger and the accounts table, finds account × Regions whose
// deliveries stopped and enabled accounts that never delivered, asks the
// member account's CloudTrail why, and raises one alert per incident (with
// a repair request when a converge fixes the cause), then a recovery
// message when deliveries resume. See docs/watchdog.md.
package watchdog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
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

// IncidentStore keeps incident state (incident.Store).
type IncidentStore interface {
	Active(ctx context.Context, segments int) ([]incident.Incident, error)
	Open(ctx context.Context, inc incident.Incident, now time.Time) (bool, error)
	Watch(ctx context.Context, inc incident.Incident, now time.Time) error
	ClaimAlert(ctx context.Context, id string, now time.Time, lease time.Duration) (bool, error)
	MarkAlerted(ctx context.Context, id string, now time.Time) error
	ReleaseAlert(ctx context.Context, id string) error
	MarkRepairRequested(ctx context.Context, id string, now time.Time) error
	Rediagnosed(ctx context.Context, id string, now time.Time, reason, summary, detail, action string) error
	Resolve(ctx context.Context, id string, now time.Time) (incident.Incident, bool, error)
	ClaimRecovery(ctx context.Context, id string, now time.Time, lease time.Duration) (bool, error)
	MarkRecoveryAlerted(ctx context.Context, id string, now time.Time) error
	ReleaseRecovery(ctx context.Context, id string) error
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
}

// Finding is one incident opened by a pass.
type Finding struct {
	IncidentID string    `json:"incidentId"`
	Kind       string    `json:"kind"`
	Account    string    `json:"account"`
	Region     string    `json:"region,omitempty"`
	Since      time.Time `json:"since"`
	Verdict    string    `json:"verdict,omitempty"`
	Diagnosis  Diagnosis `json:"diagnosis"`
	Repair     bool      `json:"repairRequested"`
	Alerted    bool      `json:"alerted"`
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
	Opened          []Finding        `json:"opened,omitempty"`
	StillOpen       int              `json:"stillOpen"`
	Resolved        []string         `json:"resolved,omitempty"`
	Lulls           int              `json:"lulls"`    // suspects diagnosed healthy and quiet
	Watched         int              `json:"watched"`  // known lulls not asked again
	Deferred        int              `json:"deferred"` // diagnoses left for the next pass
	Diagnoses       int              `json:"diagnoses"`
	CloudTrailCalls int              `json:"cloudTrailCalls"`
	RepairRequests  int              `json:"repairRequests"`
	AlertsSent      int              `json:"alertsSent"`
	Recoveries      int              `json:"recoveries"`
	Mass            bool             `json:"mass"` // an organization-wide incident is open
	// StaleAccountRegions and OpenIncidents are the metrics' values.
	StaleAccountRegions int           `json:"staleAccountRegions"`
	OpenIncidents       int           `json:"openIncidents"`
	Duration            time.Duration `json:"duration"`
	Errors              []string      `json:"errors,omitempty"`
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

// Run performs one pass at now.
func (w *Watchdog) Run(ctx context.Context, now time.Time) (Report, error) {
	started := time.Now()
	now = now.UTC()
	rep := Report{At: now}
	segs := orDefault(w.ScanSegments, DefaultScanSegments)
	cad := w.Cadence

	all, err := w.Accounts.List(ctx, segs)
	if err != nil {
		return rep, fmt.Errorf("watchdog: %w", err)
	}
	rep.Accounts = len(all)
	enabled := make(map[string]*accounts.Account, len(all))
	for i := range all {
		// Enabled accounts, and accounts once enabled whose last converge
		// (e.g. a repair) failed: their trail may still deliver, or not.
		if st := all[i].Status; st == accounts.StatusEnabled || (st == accounts.StatusFailed && !all[i].EnabledAt.IsZero()) {
			enabled[all[i].AccountID] = &all[i]
		}
	}
	rep.EnabledAccounts = len(enabled)
	w.checkOverdue(ctx, &rep, all, now)

	live, err := w.Incidents.Active(ctx, segs)
	if err != nil {
		return rep, fmt.Errorf("watchdog: %w", err)
	}
	byID := make(map[string]incident.Incident, len(live))
	for _, inc := range live {
		byID[inc.ID] = inc
	}

	st := &scanState{tracked: map[string]Assessment{}, delivered: map[string]bool{}}
	trails := newTrailCache(w.Policy)
	rep.Ledger, err = w.Ledger.Scan(ctx, now, segs, func(it ledger.Item) error {
		acct, ok := enabled[it.AccountID]
		if !ok {
			return nil
		}
		// The account's own policy (overrides may turn multi-Region or log
		// file validation off for an OU or an account).
		accCad, multi := cad, true
		if t := trails.get(acct); t != nil {
			multi = t.MultiRegion
			if !t.LogFileValidation {
				accCad.NoHeartbeat = true
			}
		}
		w.assessItem(accCad, st, byID, acct, it, multi, now)
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("watchdog: %w", err)
	}
	if f := rep.Ledger.Fold; f.Accounts+f.Failed > 0 {
		// Journal times the verifier instance that held them never wrote
		// into the items (it died or went idle): folded by this pass.
		w.log().Warn("journal times folded into ledger items", "accounts", f.Accounts, "failed", f.Failed)
	}
	if c := rep.Ledger.Journal.Corrupt; c > 0 {
		w.log().Error("corrupt journal items skipped", "items", c)
	}
	rep.Pairs = st.pairs

	// Never-started accounts: enabled long enough, nothing delivered anywhere.
	neverAfter := orDefault(w.NeverStartedAfter, DefaultNeverStartedAfter)
	ids := make([]string, 0, len(enabled))
	for id := range enabled {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		acct := enabled[id]
		if st.delivered[id] {
			continue
		}
		since := enabledAt(acct)
		if since.IsZero() || now.Sub(since) <= neverAfter {
			continue
		}
		rep.NeverStarted++
		st.cands = append(st.cands, &candidate{acct: acct, kind: incident.KindNeverStarted, id: incident.NeverID(id),
			a: Assessment{Region: w.home(acct), Since: since, Silence: now.Sub(since), Threshold: neverAfter, Verdict: Stale}})
	}

	open := map[string]bool{}
	for _, inc := range live {
		if inc.Open() {
			open[inc.ID] = true
		}
	}

	// Existing incidents: recover, retry owed messages, schedule re-diagnosis.
	var rediag []*candidate
	for _, inc := range live {
		switch {
		case inc.ID == incident.MassID:
			continue // decided below
		case inc.State == incident.StateResolved:
			if inc.RecoveryPending() {
				w.announceRecovery(ctx, &rep, inc, enabled[inc.Account], now, "")
			}
			continue
		case inc.State != incident.StateOpen:
			continue
		}
		acct := enabled[inc.Account]
		if acct == nil {
			if w.resolve(ctx, &rep, inc, nil, now, "the account is no longer enabled in trailwarden; it is not watched any more") {
				delete(open, inc.ID)
			}
			continue
		}
		recovered := false
		switch inc.Kind {
		case incident.KindNeverStarted:
			recovered = st.delivered[inc.Account]
		default:
			if a, ok := st.tracked[inc.ID]; ok {
				last := a.LastLog
				if a.LastDigest.After(last) {
					last = a.LastDigest
				}
				recovered = last.After(inc.Since)
				if a.Interval > 0 {
					// An active Region recovers when log files arrive again;
					// a digest alone says nothing about log delivery.
					recovered = a.LastLog.After(inc.Since)
				}
			}
		}
		if recovered {
			if w.resolve(ctx, &rep, inc, acct, now, "") {
				delete(open, inc.ID)
			}
			continue
		}
		rep.StillOpen++
		if inc.AlertPending() {
			w.alertIncident(ctx, &rep, inc, acct, Diagnosis{Reason: inc.Reason, Summary: inc.Summary, Detail: inc.Detail,
				Action: inc.Action, Severity: inc.Severity, Repairable: repairable(inc.Reason)}, now, nil)
		}
		if now.Sub(inc.DiagnosedAt) >= orDefault(w.RediagnoseEvery, DefaultRediagnoseEvery) {
			a := st.tracked[inc.ID]
			if a.Region == "" {
				a = Assessment{Region: orString(inc.Region, w.home(acct)), Since: inc.Since, Verdict: Stale}
			}
			rediag = append(rediag, &candidate{acct: acct, kind: inc.Kind, id: inc.ID, a: a, rediag: true})
		}
	}

	// New candidates: skip those already open and known lulls.
	var fresh []*candidate
	heartbeatNew := 0
	for _, c := range st.cands {
		if c.a.Verdict == Stale {
			rep.Stale++
		} else {
			rep.Suspect++
		}
		prev, ok := byID[c.id]
		if ok && prev.Open() {
			continue
		}
		if ok && prev.State == incident.StateWatch && c.a.Verdict == Suspect && prev.Since.Equal(c.a.Since) {
			rep.Watched++
			continue
		}
		if c.a.Verdict == Stale {
			heartbeatNew++
		}
		fresh = append(fresh, c)
	}

	// A pipeline outage silences everything at once: one incident, not
	// thousands, and no diagnosis storm.
	mass := w.MassThreshold
	if mass <= 0 {
		mass = DefaultMassThreshold
	}
	massOpen := byID[incident.MassID].Open()
	if heartbeatNew > mass {
		w.openMass(ctx, &rep, heartbeatNew, now)
		open[incident.MassID] = true
		rep.Mass = true
		var keep []*candidate
		for _, c := range fresh {
			if c.a.Verdict != Stale {
				keep = append(keep, c)
			}
		}
		rep.Deferred += len(fresh) - len(keep)
		fresh = keep
	}

	// Diagnose: heartbeat-stale first, then never-started, then suspects,
	// then re-diagnoses; oldest silence first; at most MaxDiagnoses.
	sort.SliceStable(fresh, func(i, j int) bool {
		pi, pj := priority(fresh[i]), priority(fresh[j])
		if pi != pj {
			return pi < pj
		}
		return fresh[i].a.Since.Before(fresh[j].a.Since)
	})
	todo := append(fresh, rediag...)
	max := orDefault(w.MaxDiagnoses, DefaultMaxDiagnoses)
	if len(todo) > max {
		for _, c := range todo[max:] {
			c.skipped = true
		}
		rep.Deferred += len(todo) - max
		todo = todo[:max]
	}
	dg := &Diagnoser{Policy: w.Policy, Sessions: w.Sessions, NewTrail: w.NewTrail}
	w.diagnoseAll(ctx, dg, todo)
	rep.Diagnoses = len(todo)
	rep.CloudTrailCalls = dg.Calls()

	// Delivery pipeline check after diagnosis: many "healthy, missing".
	missing := 0
	for _, c := range todo {
		if !c.rediag && c.diag.Reason == ReasonDeliveriesMissing {
			missing++
		}
	}
	if missing > mass && !rep.Mass {
		w.openMass(ctx, &rep, missing, now)
		open[incident.MassID] = true
		rep.Mass = true
	}

	requested := map[string]bool{}
	for _, c := range todo {
		switch {
		case c.rediag:
			inc := byID[c.id]
			if err := w.Incidents.Rediagnosed(ctx, c.id, now, c.diag.Reason, c.diag.Summary, c.diag.Detail, c.diag.Action); err != nil {
				w.fail(&rep, err)
			}
			if c.diag.Reason != inc.Reason {
				w.log().InfoContext(ctx, "incident re-diagnosed", "incident", c.id, "account", c.acct.AccountID,
					"was", inc.Reason, "now", c.diag.Reason)
			}
		case c.diag.Reason == ReasonLull:
			rep.Lulls++
			if err := w.Incidents.Watch(ctx, w.newIncident(c), now); err != nil {
				w.fail(&rep, err)
			}
		case c.diag.Reason == ReasonDiagnosisFailed && c.a.Verdict == Suspect:
			// Cannot tell a lull from a stop: wait for the next pass or the heartbeat.
			rep.Deferred++
		case rep.Mass && c.diag.Reason == ReasonDeliveriesMissing:
			// Counted in the organization-wide incident.
		default:
			inc := w.newIncident(c)
			ok, err := w.Incidents.Open(ctx, inc, now)
			if err != nil {
				w.fail(&rep, err)
				continue
			}
			if !ok {
				continue // another run opened it
			}
			open[inc.ID] = true
			inc.State, inc.OpenedAt = incident.StateOpen, now
			f := Finding{IncidentID: inc.ID, Kind: inc.Kind, Account: inc.Account, Region: inc.Region, Since: inc.Since,
				Verdict: c.a.Verdict.String(), Diagnosis: c.diag}
			w.log().WarnContext(ctx, "incident opened", "incident", inc.ID, "account", inc.Account, "region", inc.Region,
				"since", inc.Since, "reason", c.diag.Reason, "summary", c.diag.Summary)
			f.Repair, f.Alerted = w.alertIncident(ctx, &rep, inc, c.acct, c.diag, now, requested)
			rep.Opened = append(rep.Opened, f)
		}
	}

	// The organization-wide incident ends when the silence does.
	if massOpen && !rep.Mass {
		if w.resolve(ctx, &rep, byID[incident.MassID], nil, now, "") {
			delete(open, incident.MassID)
		}
	} else if massOpen {
		rep.Mass = true
	}

	for id := range open {
		rep.OpenIncidents++
		if kind, _, _, ok := incident.ParseID(id); ok && kind == incident.KindStale {
			rep.StaleAccountRegions++
		}
	}
	if rep.Mass {
		rep.StaleAccountRegions += heartbeatNew
	}
	rep.Duration = time.Since(started)
	w.emit(ctx, rep)
	return rep, nil
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
			lastLog := c.a.LastLog
			last := lastLog
			if c.a.LastDigest.After(last) {
				last = c.a.LastDigest
			}
			c.diag = dg.Diagnose(ctx, *c.acct, c.a.Region, lastLog, last, c.a.Verdict == Stale || c.kind == incident.KindNeverStarted)
		}(c)
	}
	wg.Wait()
}

func (w *Watchdog) newIncident(c *candidate) incident.Incident {
	region := c.a.Region
	return incident.Incident{ID: c.id, Kind: c.kind, Account: c.acct.AccountID, Region: region, Since: c.a.Since,
		Reason: c.diag.Reason, Summary: c.diag.Summary, Detail: c.diag.Detail, Action: c.diag.Action, Severity: c.diag.Severity}
}

// repairable says whether a converge fixes the cause.
func repairable(reason string) bool {
	switch reason {
	case ReasonLoggingStopped, ReasonTrailDeleted, ReasonTrailChanged:
		return true
	}
	return false
}

// alertIncident publishes an open incident's alert (once, under a lease),
// sending a repair request first when the cause is repairable.
func (w *Watchdog) alertIncident(ctx context.Context, rep *Report, inc incident.Incident, acct *accounts.Account, d Diagnosis, now time.Time, requested map[string]bool) (repaired, alerted bool) {
	claimed, err := w.Incidents.ClaimAlert(ctx, inc.ID, now, orDefault(w.AlertLease, 2*time.Minute))
	if err != nil {
		w.fail(rep, err)
		return false, false
	}
	if !claimed {
		return false, false
	}
	repair := ""
	if w.Repair && d.Repairable && w.Requests != nil && w.RequestQueueURL != "" {
		switch {
		case !inc.RepairRequestedAt.IsZero() || (requested != nil && requested[inc.Account]):
			repair = "re-converge requested"
			repaired = true
		default:
			if err := w.requestRepair(ctx, inc, d, now); err != nil {
				w.fail(rep, err)
				repair = "repair request failed: " + err.Error()
			} else {
				rep.RepairRequests++
				repaired = true
				repair = "re-converge requested through the enabler's request queue"
				if requested != nil {
					requested[inc.Account] = true
				}
				if err := w.Incidents.MarkRepairRequested(ctx, inc.ID, now); err != nil {
					w.fail(rep, err)
				}
			}
		}
	}
	kind := alert.KindDeliveryStopped
	if inc.Kind == incident.KindNeverStarted {
		kind = alert.KindNeverStarted
	}
	a := alert.Alert{Kind: kind, Severity: orString(d.Severity, "high"), IncidentID: inc.ID, Account: inc.Account,
		Region: inc.Region, Since: inc.Since, Reason: d.Summary, Detail: joinDetail(d), Action: d.Action, Repair: repair, At: now}
	if acct != nil {
		a.AccountName = acct.Name
		a.OU = lastOU(acct.OUPath)
	}
	a.Summarize()
	if err := w.Alerts.Publish(ctx, a); err != nil {
		w.fail(rep, err)
		if err := w.Incidents.ReleaseAlert(ctx, inc.ID); err != nil {
			w.fail(rep, err)
		}
		return repaired, false
	}
	rep.AlertsSent++
	if err := w.Incidents.MarkAlerted(ctx, inc.ID, now); err != nil {
		w.fail(rep, err)
	}
	return repaired, true
}

func joinDetail(d Diagnosis) string {
	s := "reason code: " + d.Reason
	if d.Detail != "" {
		s += "; " + d.Detail
	}
	return s
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
		w.fail(rep, err)
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
	claimed, err := w.Incidents.ClaimRecovery(ctx, inc.ID, now, orDefault(w.AlertLease, 2*time.Minute))
	if err != nil {
		w.fail(rep, err)
		return
	}
	if !claimed {
		return
	}
	reason := why
	if reason == "" {
		reason = fmt.Sprintf("deliveries resumed after %s of silence (incident was: %s)", durationText(now.Sub(inc.Since)), orString(inc.Summary, inc.Reason))
		if inc.ID == incident.MassID {
			reason = "the organization-wide silence ended: " + reason
		}
	}
	a := alert.Alert{Kind: alert.KindRecovered, Severity: "info", IncidentID: inc.ID, Account: inc.Account, Region: inc.Region,
		Since: inc.Since, Reason: reason, At: now}
	if acct != nil {
		a.AccountName, a.OU = acct.Name, lastOU(acct.OUPath)
	}
	a.Summarize()
	if err := w.Alerts.Publish(ctx, a); err != nil {
		w.fail(rep, err)
		if err := w.Incidents.ReleaseRecovery(ctx, inc.ID); err != nil {
			w.fail(rep, err)
		}
		return
	}
	rep.Recoveries++
	rep.AlertsSent++
	if err := w.Incidents.MarkRecoveryAlerted(ctx, inc.ID, now); err != nil {
		w.fail(rep, err)
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
		w.fail(rep, err)
		return
	}
	if !ok {
		return
	}
	inc.State = incident.StateOpen
	w.log().ErrorContext(ctx, "organization-wide silence", "pairs", n)
	_, alerted := w.alertIncident(ctx, rep, inc, nil, d, now, nil)
	rep.Opened = append(rep.Opened, Finding{IncidentID: inc.ID, Kind: inc.Kind, Since: now, Diagnosis: d, Alerted: alerted})
}

func (w *Watchdog) fail(rep *Report, err error) {
	rep.Errors = append(rep.Errors, err.Error())
	w.log().Error("watchdog step failed", "error", err)
}

func (w *Watchdog) emit(ctx context.Context, rep Report) {
	if w.Metrics == nil {
		return
	}
	m := w.Metrics
	m.Count("StaleAccountRegions", rep.StaleAccountRegions)
	m.Count("NeverStartedAccounts", rep.NeverStarted)
	m.Count("OpenIncidents", rep.OpenIncidents)
	m.Add("WatchdogRunSeconds", telemetry.Seconds, rep.Duration.Seconds())
	m.Count("WatchdogDiagnoses", rep.Diagnoses)
	m.Count("WatchdogAlerts", rep.AlertsSent)
	m.Count("RepairRequests", rep.RepairRequests)
	m.Count("WatchdogErrors", len(rep.Errors))
	m.Count("LedgerItemsScanned", rep.Ledger.Items)
	m.Property("ledgerRCU", rep.Ledger.ConsumedRCU)
	m.Property("journalRCU", rep.Ledger.Journal.ConsumedRCU)
	m.Count("LedgerTimesFolded", rep.Ledger.Fold.Accounts)
	m.Count("LedgerFoldFailures", rep.Ledger.Fold.Failed)
	if err := m.Flush(ctx); err != nil {
		w.log().Error("flush metrics", "error", err)
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

func orString(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func durationText(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return d.Round(time.Minute).String()
}

// ErrNoPolicy is returned by New when the policy cannot be used.
var ErrNoPolicy = errors.New("watchdog: no usable policy")

// trailCache resolves accounts' effective trails, sharing the work between
// accounts with the same OU path and no account override. Safe for the
// scan's concurrent callbacks.
type trailCache struct {
	pol       *policy.Policy
	byAccount map[string]bool // accounts with an override of their own
	mu        sync.Mutex
	byPath    map[string]*policy.Trail
}

func newTrailCache(pol *policy.Policy) *trailCache {
	c := &trailCache{pol: pol, byAccount: map[string]bool{}, byPath: map[string]*policy.Trail{}}
	if pol != nil {
		for _, o := range pol.Overrides {
			if o.Match.Account != "" {
				c.byAccount[o.Match.Account] = true
			}
		}
	}
	return c
}

// get returns the account's effective trail, or nil without a policy or
// when the policy cannot resolve it (then the base settings apply).
func (c *trailCache) get(acct *accounts.Account) *policy.Trail {
	if c.pol == nil {
		return nil
	}
	key := strings.Join(acct.OUPath, "/")
	if c.byAccount[acct.AccountID] {
		key = "account:" + acct.AccountID
	}
	c.mu.Lock()
	t, ok := c.byPath[key]
	c.mu.Unlock()
	if ok {
		return t
	}
	t, err := c.pol.Effective(acct.AccountID, acct.OUPath)
	if err != nil {
		base := c.pol.Trail
		t = &base
	}
	c.mu.Lock()
	c.byPath[key] = t
	c.mu.Unlock()
	return t
}

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
