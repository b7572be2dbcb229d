package watchdog

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/ledger"
)

// pass is one run's state, built step by step (Run).
type pass struct {
	w    *Watchdog
	now  time.Time
	segs int
	rep  Report

	enabled  map[string]*accounts.Account
	live     []incident.Incident
	byID     map[string]incident.Incident
	st       *scanState
	open     map[string]bool // incidents open after this pass
	rediag   []*candidate
	fresh    []*candidate
	todo     []*candidate
	newStale int // new heartbeat-stale pairs
	mass     int // the mass threshold
	massOpen bool
	touched  map[string]bool     // cause incidents that may owe a version
	detached map[string][]string // Regions detached from cause incidents this pass
}

// Run performs one pass at now: read the accounts, the incidents and the
// ledger; find never-started accounts; review open incidents; pick new
// candidates; diagnose; record and alert; count.
func (w *Watchdog) Run(ctx context.Context, now time.Time) (Report, error) {
	started := time.Now()
	p := &pass{w: w, now: now.UTC(), segs: orDefault(w.ScanSegments, DefaultScanSegments),
		mass: orDefault(w.MassThreshold, DefaultMassThreshold), touched: map[string]bool{}, detached: map[string][]string{}}
	p.rep.At = p.now
	if err := p.readAccounts(ctx, w.Accounts); err != nil {
		return p.rep, fmt.Errorf("watchdog: %w", err)
	}
	if err := p.readIncidents(ctx, w.Incidents); err != nil {
		return p.rep, fmt.Errorf("watchdog: %w", err)
	}
	if err := p.scanLedger(ctx, w.Ledger); err != nil {
		return p.rep, fmt.Errorf("watchdog: %w", err)
	}
	p.findNeverStarted()
	p.reviewIncidents(ctx)
	p.pickFresh()
	p.checkMassSilence(ctx)
	p.diagnose(ctx)
	p.record(ctx, w.Incidents)
	p.reviewCauses(ctx)
	p.closeMass(ctx)
	p.checkDigests(ctx)
	p.count()
	p.rep.Duration = time.Since(started)
	w.emit(ctx, p.rep)
	return p.rep, nil
}

// readAccounts lists the accounts, keeps the watched ones and checks the
// enable deadline.
func (p *pass) readAccounts(ctx context.Context, src AccountLister) error {
	all, err := src.List(ctx, p.segs)
	if err != nil {
		return err
	}
	p.rep.Accounts = len(all)
	p.enabled = make(map[string]*accounts.Account, len(all))
	for i := range all {
		// Enabled accounts, and accounts once enabled whose last converge
		// (e.g. a repair) failed: their trail may still deliver, or not.
		if st := all[i].Status; st == accounts.StatusEnabled || (st == accounts.StatusFailed && !all[i].EnabledAt.IsZero()) {
			p.enabled[all[i].AccountID] = &all[i]
		}
	}
	p.rep.EnabledAccounts = len(p.enabled)
	p.w.checkOverdue(ctx, &p.rep, all, p.now)
	return nil
}

// readIncidents loads the live incidents.
func (p *pass) readIncidents(ctx context.Context, src ActiveIncidents) error {
	live, err := src.Active(ctx, p.segs)
	if err != nil {
		return err
	}
	p.live = live
	p.byID = make(map[string]incident.Incident, len(live))
	p.open = map[string]bool{}
	for _, inc := range live {
		p.byID[inc.ID] = inc
		if inc.Open() {
			p.open[inc.ID] = true
		}
	}
	p.massOpen = p.byID[incident.MassID].Open()
	return nil
}

// scanLedger assesses every watched account × Region, each account by its
// own policy (overrides may turn multi-Region or log file validation off
// for an OU or an account).
func (p *pass) scanLedger(ctx context.Context, src LedgerScanner) error {
	w := p.w
	p.st = &scanState{tracked: map[string]Assessment{}, delivered: map[string]bool{}}
	trails := newTrailCache(w.Policy)
	var err error
	p.rep.Ledger, err = src.Scan(ctx, p.now, p.segs, func(it ledger.Item) error {
		acct, ok := p.enabled[it.AccountID]
		if !ok {
			return nil
		}
		cad, multi := w.Cadence, true
		if t := trails.get(acct); t != nil {
			multi = t.MultiRegion
			if !t.LogFileValidation {
				cad.NoHeartbeat = true
			}
		}
		w.assessItem(cad, p.st, p.byID, acct, it, multi, p.now)
		return nil
	})
	if err != nil {
		return err
	}
	if f := p.rep.Ledger.Fold; f.Accounts+f.Failed > 0 {
		// Journal times the verifier instance that held them never wrote
		// into the items (it died or went idle): folded by this pass.
		w.log().WarnContext(ctx, "journal times folded into ledger items", "accounts", f.Accounts, "failed", f.Failed)
	}
	if c := p.rep.Ledger.Journal.Corrupt; c > 0 {
		w.log().ErrorContext(ctx, "corrupt journal items skipped", "items", c)
	}
	p.rep.Pairs = p.st.pairs
	return nil
}

// findNeverStarted adds accounts enabled long enough that delivered
// nothing anywhere.
func (p *pass) findNeverStarted() {
	neverAfter := orDefault(p.w.NeverStartedAfter, DefaultNeverStartedAfter)
	ids := make([]string, 0, len(p.enabled))
	for id := range p.enabled {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		acct := p.enabled[id]
		since := enabledAt(acct)
		if p.st.delivered[id] || since.IsZero() || p.now.Sub(since) <= neverAfter {
			continue
		}
		p.rep.NeverStarted++
		p.st.cands = append(p.st.cands, &candidate{acct: acct, kind: incident.KindNeverStarted, id: incident.NeverID(id),
			a: Assessment{Region: p.w.home(acct), Since: since, Silence: p.now.Sub(since), Threshold: neverAfter, Verdict: Stale}})
	}
}

// reviewIncidents recovers open incidents whose deliveries resumed, retries
// owed messages and schedules re-diagnoses.
func (p *pass) reviewIncidents(ctx context.Context) {
	w, now := p.w, p.now
	for _, inc := range p.live {
		switch {
		case inc.ID == incident.MassID, inc.Kind == incident.KindCause:
			continue // decided by closeMass, reviewCauses
		case inc.State == incident.StateResolved:
			if inc.RecoveryPending() {
				p.detachPair(ctx, inc)
			}
			continue
		case inc.State != incident.StateOpen:
			continue
		}
		acct := p.enabled[inc.Account]
		if acct == nil || p.recovered(inc) {
			p.resolvePair(ctx, inc)
			continue
		}
		p.rep.StillOpen++
		if inc.AlertPending() {
			p.attachPair(ctx, inc, acct, Diagnosis{Reason: inc.Reason, Summary: inc.Summary, Detail: inc.Detail,
				Action: inc.Action, Severity: inc.Severity, Repairable: repairable(inc.Reason)}, nil)
		}
		if now.Sub(inc.DiagnosedAt) >= orDefault(w.RediagnoseEvery, DefaultRediagnoseEvery) {
			a := p.st.tracked[inc.ID]
			if a.Region == "" {
				a = Assessment{Region: cmp.Or(inc.Region, w.home(acct)), Since: inc.Since, Verdict: Stale}
			}
			p.rediag = append(p.rediag, &candidate{acct: acct, kind: inc.Kind, id: inc.ID, a: a, rediag: true})
		}
	}
}

// resolvePair closes a per-Region item whose deliveries resumed (or whose
// account is no longer watched) and detaches its Region from its cause
// incident.
func (p *pass) resolvePair(ctx context.Context, inc incident.Incident) {
	res, ok, err := p.w.Incidents.Resolve(ctx, inc.ID, p.now)
	if err != nil {
		p.w.failContext(ctx, &p.rep, err)
		return
	}
	if !ok {
		return
	}
	delete(p.open, inc.ID)
	p.rep.Recovered = append(p.rep.Recovered, inc.ID)
	p.w.log().InfoContext(ctx, "deliveries resumed", "incident", inc.ID, "account", inc.Account, "region", inc.Region)
	switch {
	case res.RecoveryPending():
		p.detachPair(ctx, res)
	case !res.AlertClaimAt.IsZero():
		// Attached, but the mark was lost: detach directly (a no-op when
		// the Region is not there), so the cause incident can close.
		if err := p.w.Incidents.DetachRegion(ctx, groupOf(res), res.Region, p.now); err != nil {
			p.w.failContext(ctx, &p.rep, err)
		} else {
			p.detached[groupOf(res)] = append(p.detached[groupOf(res)], res.Region)
		}
	}
}

// recovered reports whether an open incident's deliveries resumed.
func (p *pass) recovered(inc incident.Incident) bool {
	if inc.Kind == incident.KindNeverStarted {
		return p.st.delivered[inc.Account]
	}
	a, ok := p.st.tracked[inc.ID]
	if !ok {
		return false
	}
	if a.Interval > 0 {
		// An active Region recovers when log files arrive again; a digest
		// alone says nothing about log delivery.
		return a.LastLog.After(inc.Since)
	}
	return ledger.Newest(a.LastLog, a.LastDigest).After(inc.Since)
}

// pickFresh keeps the new candidates: not already open, not a known lull.
func (p *pass) pickFresh() {
	for _, c := range p.st.cands {
		if c.a.Verdict == Stale {
			p.rep.Stale++
		} else {
			p.rep.Suspect++
		}
		prev, ok := p.byID[c.id]
		if ok && prev.Open() {
			continue
		}
		if ok && prev.State == incident.StateWatch && c.a.Verdict == Suspect && prev.Since.Equal(c.a.Since) {
			p.rep.Watched++
			continue
		}
		if c.a.Verdict == Stale {
			p.newStale++
		}
		p.fresh = append(p.fresh, c)
	}
}

// checkMassSilence: a pipeline outage silences everything at once: one
// incident, not thousands, and no diagnosis storm.
func (p *pass) checkMassSilence(ctx context.Context) {
	if p.newStale <= p.mass {
		return
	}
	p.openMass(ctx, p.newStale)
	var keep []*candidate
	for _, c := range p.fresh {
		if c.a.Verdict != Stale {
			keep = append(keep, c)
		}
	}
	p.rep.Deferred += len(p.fresh) - len(keep)
	p.fresh = keep
}

func (p *pass) openMass(ctx context.Context, n int) {
	p.w.openMass(ctx, &p.rep, n, p.now)
	p.open[incident.MassID] = true
	p.rep.Mass = true
}

// diagnose asks CloudTrail about the candidates: heartbeat-stale first,
// then never-started, then suspects, then re-diagnoses; oldest silence
// first; at most MaxDiagnoses. Many "healthy, deliveries missing" answers
// are the delivery pipeline's failure: one organization-wide incident.
func (p *pass) diagnose(ctx context.Context) {
	w := p.w
	sort.SliceStable(p.fresh, func(i, j int) bool {
		pi, pj := priority(p.fresh[i]), priority(p.fresh[j])
		if pi != pj {
			return pi < pj
		}
		return p.fresh[i].a.Since.Before(p.fresh[j].a.Since)
	})
	todo := append(p.fresh, p.rediag...)
	limit := orDefault(w.MaxDiagnoses, DefaultMaxDiagnoses)
	if len(todo) > limit {
		for _, c := range todo[limit:] {
			c.skipped = true
		}
		p.rep.Deferred += len(todo) - limit
		todo = todo[:limit]
	}
	dg := &Diagnoser{Policy: w.Policy, Sessions: w.Sessions, NewTrail: w.NewTrail}
	w.diagnoseAll(ctx, dg, todo)
	p.todo = todo
	p.rep.Diagnoses = len(todo)
	p.rep.CloudTrailCalls = dg.Calls()
	missing := 0
	for _, c := range todo {
		if !c.rediag && c.diag.Reason == ReasonDeliveriesMissing {
			missing++
		}
	}
	if missing > p.mass && !p.rep.Mass {
		p.openMass(ctx, missing)
	}
}

// record writes what the diagnoses found: re-diagnoses, lulls, and new
// incidents (alerted, with a repair request when a converge fixes them).
func (p *pass) record(ctx context.Context, store IncidentRecorder) {
	w, now := p.w, p.now
	requested := map[string]bool{}
	for _, c := range p.todo {
		switch {
		case c.rediag:
			inc := p.byID[c.id]
			if err := store.Rediagnosed(ctx, c.id, now, c.diag.Reason, c.diag.Summary, c.diag.Detail, c.diag.Action); err != nil {
				w.failContext(ctx, &p.rep, err)
			}
			if c.diag.Reason != inc.Reason {
				w.log().InfoContext(ctx, "incident re-diagnosed", "incident", c.id, "account", c.acct.AccountID,
					"was", inc.Reason, "now", c.diag.Reason)
			}
		case c.diag.Reason == ReasonLull:
			p.rep.Lulls++
			if err := store.Watch(ctx, w.newIncident(c), now); err != nil {
				w.failContext(ctx, &p.rep, err)
			}
		case c.diag.Reason == ReasonDiagnosisFailed && c.a.Verdict == Suspect:
			// Cannot tell a lull from a stop: wait for the next pass or the heartbeat.
			p.rep.Deferred++
		case p.rep.Mass && c.diag.Reason == ReasonDeliveriesMissing:
			// Counted in the organization-wide incident.
		default:
			p.openIncident(ctx, store, c, requested)
		}
	}
}

// openIncident opens one new incident and alerts it.
func (p *pass) openIncident(ctx context.Context, store IncidentRecorder, c *candidate, requested map[string]bool) {
	w, now := p.w, p.now
	inc := w.newIncident(c)
	ok, err := store.Open(ctx, inc, now)
	if err != nil {
		w.failContext(ctx, &p.rep, err)
		return
	}
	if !ok {
		return // another run opened it
	}
	p.open[inc.ID] = true
	inc.State, inc.OpenedAt = incident.StateOpen, now
	f := OpenedIncident{IncidentID: inc.ID, Kind: inc.Kind, Account: inc.Account, Region: inc.Region, Since: inc.Since,
		Verdict: c.a.Verdict.String(), Diagnosis: c.diag}
	w.log().WarnContext(ctx, "incident opened", "incident", inc.ID, "account", inc.Account, "region", inc.Region,
		"since", inc.Since, "reason", c.diag.Reason, "summary", c.diag.Summary)
	f.Repair, f.Alerted = p.attachPair(ctx, inc, c.acct, c.diag, requested)
	p.rep.Opened = append(p.rep.Opened, f)
}

// closeMass ends the organization-wide incident when the silence does.
func (p *pass) closeMass(ctx context.Context) {
	switch {
	case p.massOpen && !p.rep.Mass:
		if p.w.resolve(ctx, &p.rep, p.byID[incident.MassID], nil, p.now, "") {
			delete(p.open, incident.MassID)
		}
	case p.massOpen:
		p.rep.Mass = true
	}
}

// count sets the metrics' values.
func (p *pass) count() {
	for id := range p.open {
		switch kind, _, _, _ := incident.ParseID(id); kind {
		case incident.KindStale:
			p.rep.StaleAccountRegions++
		case incident.KindCause, incident.KindMass:
			p.rep.OpenIncidents++
		}
	}
	if p.rep.Mass {
		p.rep.StaleAccountRegions += p.newStale
	}
}
