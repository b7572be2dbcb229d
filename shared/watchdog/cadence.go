package watchdog

import (
	"time"

	"github.com/trailwarden/trailwarden/shared/ledger"
)

// Cadence turns what the ledger holds for one account × Region into a
// verdict. Two clocks run side by side:
//
//   - the heartbeat: with log file validation on, CloudTrail delivers a
//     digest every hour per account × Region even when there is nothing to
//     log (CloudTrail User Guide, "CloudTrail digest file structure"). Silence since the newest log file or digest
//     longer than HeartbeatEvery + HeartbeatGrace + Allowance (70 minutes by
//     default) means deliveries stopped: Stale, whatever the Region's
//     activity. With passes every 5 minutes, a quiet Region is detected at
//     most 75 minutes after its last delivery; a quiet Region whose digests
//     keep arriving never reaches it.
//   - activity: a Region that delivers log files at a high rate is expected
//     to deliver the next one soon. Its typical interval between log files
//     comes from the ledger's per-day counts (C#<day>#<region>): files
//     counted yesterday and today over the time from the start of yesterday
//     (or enablement, if later) to the newest log file. The interval is never
//     taken below MinInterval (CloudTrail delivers about every 5 minutes;
//     several files in one delivery do not make deliveries more frequent).
//     Silence since the newest log file longer than max(Floor, Factor ×
//     interval) + Allowance (15 minutes for a busy Region) makes the pair
//     Suspect: a busy Region stopped, or simply went quiet. The watchdog
//     then asks CloudTrail (diagnosis): a stopped, deleted, changed or
//     failing trail opens an incident at once (≤ 20 minutes after the last
//     delivery with 5-minute passes); a healthy trail with nothing newer to
//     deliver is a lull, remembered so it is not asked again, and the
//     heartbeat takes over.
//
// Allowance is the ledger's lag: a delivery at t is journaled by the
// verifier invocation that processes it (queue latency plus one batch), so
// every threshold includes it.
type Cadence struct {
	Floor          time.Duration // minimum activity threshold (before Allowance); default 10m
	Factor         float64       // activity threshold = Factor × typical interval; default 2
	MinInterval    time.Duration // CloudTrail's delivery cadence; default 5m
	MinActiveFiles int64         // fewer files in the window: not active; default 12
	Allowance      time.Duration // the ledger's lag behind deliveries; default DefaultAllowance
	HeartbeatEvery time.Duration // digest period; default 1h
	HeartbeatGrace time.Duration // digest delivery jitter; default 5m
	// NoHeartbeat: log file validation is off, so no digests: quiet Regions
	// are stale only after QuietLimit.
	NoHeartbeat bool
	QuietLimit  time.Duration // default 24h
}

// DefaultCadence returns the defaults named on Cadence's fields.
func DefaultCadence() Cadence {
	return Cadence{Floor: 10 * time.Minute, Factor: 2, MinInterval: 5 * time.Minute, MinActiveFiles: 12,
		Allowance: DefaultAllowance, HeartbeatEvery: time.Hour, HeartbeatGrace: 5 * time.Minute, QuietLimit: 24 * time.Hour}
}

func (c Cadence) withDefaults() Cadence {
	d := DefaultCadence()
	if c.Floor <= 0 {
		c.Floor = d.Floor
	}
	if c.Factor <= 0 {
		c.Factor = d.Factor
	}
	if c.MinInterval <= 0 {
		c.MinInterval = d.MinInterval
	}
	if c.MinActiveFiles <= 0 {
		c.MinActiveFiles = d.MinActiveFiles
	}
	if c.Allowance < 0 {
		c.Allowance = 0
	}
	if c.HeartbeatEvery <= 0 {
		c.HeartbeatEvery = d.HeartbeatEvery
	}
	if c.HeartbeatGrace < 0 {
		c.HeartbeatGrace = 0
	}
	if c.QuietLimit <= 0 {
		c.QuietLimit = d.QuietLimit
	}
	return c
}

// HeartbeatThreshold is the silence after which any pair is stale.
func (c Cadence) HeartbeatThreshold() time.Duration {
	c = c.withDefaults()
	if c.NoHeartbeat {
		return c.QuietLimit
	}
	return c.HeartbeatEvery + c.HeartbeatGrace + c.Allowance
}

// Verdict of one account × Region.
type Verdict int

const (
	// OK: delivering as expected.
	OK Verdict = iota
	// Suspect: a busy Region went silent; ask CloudTrail before alerting.
	Suspect
	// Stale: the heartbeat stopped; deliveries have stopped.
	Stale
)

func (v Verdict) String() string {
	switch v {
	case Suspect:
		return "suspect"
	case Stale:
		return "stale"
	default:
		return "ok"
	}
}

// Assessment is the verdict on one account × Region with its reasons.
type Assessment struct {
	Region     string
	LastLog    time.Time
	LastDigest time.Time
	// Since is when the silence began: the newest delivery (the newest log
	// file for Suspect), or enablement when the Region never delivered.
	Since     time.Time
	Silence   time.Duration
	Interval  time.Duration // typical interval between log files; 0 when not active
	Threshold time.Duration // the threshold that applied
	Verdict   Verdict
}

// Assess judges one Region of an account enabled at enabled, at now.
func (c Cadence) Assess(region string, rs ledger.RegionState, enabled, now time.Time) Assessment {
	c = c.withDefaults()
	a := Assessment{Region: region, LastLog: rs.LastLog, LastDigest: rs.LastDigest}
	heartbeat := c.HeartbeatThreshold()
	last := rs.LastDelivery()
	if last.IsZero() {
		// Never delivered here: allow one more digest period for the first
		// digest after enablement.
		a.Since = enabled
		a.Silence = now.Sub(enabled)
		a.Threshold = heartbeat + c.HeartbeatEvery
		if !enabled.IsZero() && a.Silence > a.Threshold {
			a.Verdict = Stale
		}
		return a
	}
	a.Since, a.Silence, a.Threshold = last, now.Sub(last), heartbeat
	if a.Silence > heartbeat {
		a.Verdict = Stale
		return a
	}
	a.Interval = c.Interval(rs, enabled, now)
	if a.Interval == 0 {
		return a
	}
	active := c.ActiveThreshold(a.Interval)
	logSilence := now.Sub(rs.LastLog)
	// An active Region whose log files stopped is suspect however fresh its
	// digests are: digests keep arriving when only log delivery broke (an
	// SNS or KMS problem, emptied event selectors), so they must not mask
	// the silence. A healthy trail that is merely quiet is found to be a
	// lull by the diagnosis and watched, not alerted.
	if active < heartbeat && logSilence > active {
		a.Verdict, a.Since, a.Silence, a.Threshold = Suspect, rs.LastLog, logSilence, active
	}
	return a
}

// ActiveThreshold is the silence allowed after the newest log file of a
// Region with the given typical interval.
func (c Cadence) ActiveThreshold(interval time.Duration) time.Duration {
	c = c.withDefaults()
	t := time.Duration(c.Factor * float64(interval))
	if t < c.Floor {
		t = c.Floor
	}
	return t + c.Allowance
}

// Interval is the typical time between log files of a Region, from the
// per-day counts of yesterday and today (UTC); 0 when the Region is not
// active (too few files, too short a window, no recent log file).
func (c Cadence) Interval(rs ledger.RegionState, enabled, now time.Time) time.Duration {
	c = c.withDefaults()
	if rs.LastLog.IsZero() || len(rs.Counts) == 0 {
		return 0
	}
	today := now.UTC().Truncate(24 * time.Hour)
	yesterday := today.Add(-24 * time.Hour)
	start := yesterday
	if enabled.After(start) {
		start = enabled
	}
	n := rs.Counts[yesterday.Format("20060102")] + rs.Counts[today.Format("20060102")]
	span := rs.LastLog.Sub(start)
	if n < c.MinActiveFiles || span < time.Hour {
		return 0
	}
	iv := span / time.Duration(n)
	if iv < c.MinInterval {
		iv = c.MinInterval
	}
	return iv
}
