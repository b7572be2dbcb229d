package ledger_test

import (
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/ledger"
)

// ledger.Newest is the one rule for a Region's last delivery; RegionState
// uses it.
func TestNewest(t *testing.T) {
	a, b := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 14, 13, 0, 0, 0, time.UTC)
	for _, c := range []struct{ log, digest, want time.Time }{
		{a, b, b}, {b, a, b}, {a, a, a}, {time.Time{}, a, a}, {a, time.Time{}, a}, {time.Time{}, time.Time{}, time.Time{}},
	} {
		if got := ledger.Newest(c.log, c.digest); !got.Equal(c.want) {
			t.Errorf("Newest(%v, %v) = %v, want %v", c.log, c.digest, got, c.want)
		}
		if got := (ledger.RegionState{LastLog: c.log, LastDigest: c.digest}).LastDelivery(); !got.Equal(c.want) {
			t.Errorf("LastDelivery(%v, %v) = %v, want %v", c.log, c.digest, got, c.want)
		}
	}
}
