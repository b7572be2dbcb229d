package integrity

import (
	"context"
	"time"
)

// TrailStatus is the part of GetTrailStatus that says whether a trail was
// stopped (CloudTrail API reference, GetTrailStatus).
type TrailStatus struct {
	IsLogging        bool
	StartLoggingTime time.Time
	StopLoggingTime  time.Time
}

// StatusReader reads a trail's status in its home Region; ok is false when
// it cannot be read (another account's trail, no access).
type StatusReader interface {
	TrailStatus(ctx context.Context, account, homeRegion, trail string) (st TrailStatus, ok bool)
}

// Explains reports whether the status accounts for a gap [from, to] of
// kind: a silent tail (GapMissingDigests after the last digest) when the
// trail is not logging and was stopped before its next digest was due; a
// GapChainRestart when the latest stop or start falls in the gap (only the
// latest of each is known). A link to a missing digest is never explained:
// the chain did not restart.
func (s TrailStatus) Explains(kind string, from, to time.Time) bool {
	within := func(t, a, b time.Time) bool { return !t.IsZero() && !t.Before(a) && !t.After(b) }
	switch kind {
	case GapMissingDigests:
		return !s.IsLogging && !s.StopLoggingTime.IsZero() && !s.StopLoggingTime.After(from.Add(ExpectedEvery))
	case GapChainRestart:
		return within(s.StopLoggingTime, from.Add(-ExpectedEvery), to) || within(s.StartLoggingTime, from, to.Add(ExpectedEvery))
	}
	return false
}
