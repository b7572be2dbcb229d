package watchdog_test

import (
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

// view is what the ledger shows at now of deliveries at the given times when
// the verifier's coalescing delays each write by lag.
func view(logs, digests []time.Time, now, lag time.Duration, origin time.Time) ledger.RegionState {
	rs := ledger.RegionState{Counts: map[string]int64{}}
	at := origin.Add(now)
	for _, t := range logs {
		if !t.Add(lag).After(at) {
			rs.LastLog = t
			rs.Counts[t.Format("20060102")]++
		}
	}
	for _, t := range digests {
		if !t.Add(lag).After(at) {
			rs.LastDigest = t
		}
	}
	return rs
}

func TestCadenceDetectionGoals(t *testing.T) {
	c := watchdog.DefaultCadence()
	origin := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	enabled := origin.Add(-30 * 24 * time.Hour)
	stop := 36 * time.Hour // deliveries stop 36 h after origin (12:00 on day 2)
	for _, tc := range []struct {
		name       string
		logEvery   time.Duration // 0: no log files
		jitter     time.Duration
		lag        time.Duration
		goal       time.Duration
		wantVerdit watchdog.Verdict
	}{
		{"busy Region, exact cadence, no lag", 5 * time.Minute, 0, 0, 20 * time.Minute, watchdog.Suspect},
		{"busy Region, jitter 1m, lag 5m", 5 * time.Minute, time.Minute, 5 * time.Minute, 20 * time.Minute, watchdog.Suspect},
		{"quiet Region, digests late 4m, lag 5m", 0, 4 * time.Minute, 5 * time.Minute, 75 * time.Minute, watchdog.Stale},
		{"quiet Region, digests on time, no lag", 0, 0, 0, 75 * time.Minute, watchdog.Stale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs, digests []time.Time
			for d := time.Duration(0); d < stop; d += time.Hour {
				// Digests late by a varying amount up to jitter.
				digests = append(digests, origin.Add(d+time.Duration(int64(d/time.Hour)%3)*tc.jitter/2))
			}
			if tc.logEvery > 0 {
				for d := time.Duration(0); d < stop; d += tc.logEvery {
					j := time.Duration(int64(d/tc.logEvery)%3-1) * tc.jitter
					logs = append(logs, origin.Add(d+j))
				}
			}
			last := digests[len(digests)-1]
			if len(logs) > 0 && logs[len(logs)-1].After(last) {
				last = logs[len(logs)-1]
			}
			// Passes every 5 minutes, at every phase of the minute grid.
			for phase := time.Duration(0); phase < 5*time.Minute; phase += time.Minute {
				detected := time.Duration(-1)
				for p := 24*time.Hour + phase; p < stop+3*time.Hour; p += 5 * time.Minute {
					v := c.Assess("eu-west-1", view(logs, digests, p, tc.lag, origin), enabled, origin.Add(p))
					if v.Verdict == watchdog.OK {
						continue
					}
					if origin.Add(p).Before(last.Add(tc.lag)) || p < stop {
						t.Fatalf("phase %s: %s at %s while deliveries flow (silence %s, threshold %s)", phase, v.Verdict, p, v.Silence, v.Threshold)
					}
					if v.Verdict != tc.wantVerdit {
						t.Fatalf("verdict %s, want %s", v.Verdict, tc.wantVerdit)
					}
					detected = origin.Add(p).Sub(last)
					break
				}
				if detected < 0 || detected > tc.goal {
					t.Fatalf("phase %s: detected %s after the last delivery, goal %s", phase, detected, tc.goal)
				}
			}
		})
	}
}

func TestInterval(t *testing.T) {
	c := watchdog.DefaultCadence()
	now := time.Date(2026, 1, 6, 12, 0, 0, 0, time.UTC)
	old := now.Add(-30 * 24 * time.Hour)
	for _, tc := range []struct {
		name    string
		rs      ledger.RegionState
		enabled time.Time
		want    time.Duration
	}{
		{"every 5 min", ledger.RegionState{LastLog: now, Counts: map[string]int64{"20260105": 288, "20260106": 144}}, old, 5 * time.Minute},
		{"bursts count as one delivery", ledger.RegionState{LastLog: now, Counts: map[string]int64{"20260105": 2000, "20260106": 1000}}, old, 5 * time.Minute},
		{"every 30 min", ledger.RegionState{LastLog: now, Counts: map[string]int64{"20260105": 48, "20260106": 24}}, old, 30 * time.Minute},
		{"too few files", ledger.RegionState{LastLog: now, Counts: map[string]int64{"20260106": 5}}, old, 0},
		{"no log file", ledger.RegionState{Counts: map[string]int64{"20260106": 50}}, old, 0},
		{"enabled two hours ago", ledger.RegionState{LastLog: now, Counts: map[string]int64{"20260106": 24}}, now.Add(-2 * time.Hour), 5 * time.Minute},
		{"enabled 30 minutes ago: window too short", ledger.RegionState{LastLog: now, Counts: map[string]int64{"20260106": 20}}, now.Add(-30 * time.Minute), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Interval(tc.rs, tc.enabled, now); got != tc.want {
				t.Fatalf("Interval = %s, want %s", got, tc.want)
			}
		})
	}
	if got := c.ActiveThreshold(5 * time.Minute); got != 15*time.Minute {
		t.Errorf("busy threshold = %s, want 15m", got)
	}
	if got := c.HeartbeatThreshold(); got != 70*time.Minute {
		t.Errorf("heartbeat threshold = %s, want 70m", got)
	}
}

func TestRegionThatNeverDeliveredGetsOneMoreDigestPeriod(t *testing.T) {
	c := watchdog.DefaultCadence()
	enabled := time.Date(2026, 1, 6, 12, 0, 0, 0, time.UTC)
	if v := c.Assess("ap-south-2", ledger.RegionState{}, enabled, enabled.Add(2*time.Hour)); v.Verdict != watchdog.OK {
		t.Fatalf("2h after enablement: %s", v.Verdict)
	}
	if v := c.Assess("ap-south-2", ledger.RegionState{}, enabled, enabled.Add(131*time.Minute)); v.Verdict != watchdog.Stale {
		t.Fatalf("131m after enablement: %s", v.Verdict)
	}
}

// TestDigestsDoNotMaskStoppedLogFiles: an active Region whose log files
// stopped while digests keep arriving (log delivery broken, e.g. SNS or KMS)
// stays suspect past the heartbeat threshold instead of turning OK.
func TestDigestsDoNotMaskStoppedLogFiles(t *testing.T) {
	c := watchdog.DefaultCadence()
	enabled := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	lastLog := enabled.Add(6 * time.Hour)
	rs := ledger.RegionState{LastLog: lastLog, Counts: map[string]int64{"20261125": 72}} // every 5 min for 6 h
	for _, after := range []time.Duration{30 * time.Minute, 90 * time.Minute, 3 * time.Hour} {
		now := lastLog.Add(after)
		rs.LastDigest = now.Add(-10 * time.Minute) // the hourly heartbeat is fresh
		a := c.Assess("eu-west-1", rs, enabled, now)
		if a.Verdict != watchdog.Suspect || !a.Since.Equal(lastLog) {
			t.Errorf("%v after the last log file: verdict %v since %v, want suspect since the last log file", after, a.Verdict, a.Since)
		}
	}
}
