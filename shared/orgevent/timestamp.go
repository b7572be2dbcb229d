package orgevent

import (
	"errors"
	"strings"
	"time"
)

// awsLayouts are the renderings seen in Organizations' CloudTrail records
// ("May 15, 2023 8:26:54 AM"; "Jul 17, 2025, 2:53:40 PM" in newer events)
// and ISO-8601. Times without a zone are UTC.
var awsLayouts = []string{
	"Jan 2, 2006 3:04:05 PM",
	"Jan 2, 2006, 3:04:05 PM",
	"January 2, 2006 3:04:05 PM",
	"January 2, 2006, 3:04:05 PM",
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z",
	"2006-01-02 15:04:05",
}

// ErrTimestamp is returned (wrapped) for a string no known layout reads.
var ErrTimestamp = errors.New("unrecognised timestamp")

// ParseTimestamp reads a timestamp as AWS writes it in Organizations events:
// "May 15, 2023 8:26:54 AM" (single-digit hours, AM/PM, optional comma after
// the year, narrow or no-break spaces as newer Java runtimes emit them) or
// ISO-8601. The result is in UTC.
func ParseTimestamp(s string) (time.Time, error) {
	norm := strings.Map(func(r rune) rune {
		switch r {
		case '\u202f', '\u00a0', '\t':
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	norm = strings.Join(strings.Fields(norm), " ")
	if norm == "" || len(norm) > 64 {
		return time.Time{}, ErrTimestamp
	}
	// Go's PM layout needs upper case.
	if n := len(norm); n > 2 {
		switch strings.ToUpper(norm[n-2:]) {
		case "AM", "PM":
			norm = norm[:n-2] + strings.ToUpper(norm[n-2:])
		}
	}
	for _, layout := range awsLayouts {
		if t, err := time.Parse(layout, norm); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, ErrTimestamp
}
