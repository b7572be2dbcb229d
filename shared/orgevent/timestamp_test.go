package orgevent

import (
	"errors"
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	tests := []struct {
		in   string
		want time.Time
	}{
		{"May 15, 2023 8:26:54 AM", utc(2023, 5, 15, 8, 26, 54)},
		{"Sep 16, 2020 9:20:50 PM", utc(2020, 9, 16, 21, 20, 50)},
		{"Jun 21, 2018 10:07:15 PM", utc(2018, 6, 21, 22, 7, 15)},
		{"Jan 1, 2024 12:00:00 AM", utc(2024, 1, 1, 0, 0, 0)},
		{"Jan 1, 2024 12:30:00 PM", utc(2024, 1, 1, 12, 30, 0)},
		{"Jul 17, 2025, 2:53:40 PM", utc(2025, 7, 17, 14, 53, 40)},
		{"May 15, 2023 8:26:54\u202fAM", utc(2023, 5, 15, 8, 26, 54)},
		{"May 15, 2023  8:26:54 am", utc(2023, 5, 15, 8, 26, 54)},
		{"  May 5, 2023 08:26:54 PM ", utc(2023, 5, 5, 20, 26, 54)},
		{"2023-05-15T08:26:57Z", utc(2023, 5, 15, 8, 26, 57)},
		{"2023-05-15T10:26:57+02:00", utc(2023, 5, 15, 8, 26, 57)},
		{"2023-05-15T08:26:57.123Z", time.Date(2023, 5, 15, 8, 26, 57, 123e6, time.UTC)},
		{"2021-05-20 15:53:47Z", utc(2021, 5, 20, 15, 53, 47)},
		{"2021-05-20 15:53:47", utc(2021, 5, 20, 15, 53, 47)},
	}
	for _, tt := range tests {
		got, err := ParseTimestamp(tt.in)
		if err != nil {
			t.Errorf("ParseTimestamp(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "May 15, 2023", "May 32, 2023 8:26:54 AM", "May 15, 2023 13:26:54 PM", "1684139214"} {
		if _, err := ParseTimestamp(bad); !errors.Is(err, ErrTimestamp) {
			t.Errorf("ParseTimestamp(%q) err = %v, want ErrTimestamp", bad, err)
		}
	}
}
