package logingest

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   any
		want time.Time
	}{
		{"2026-01-02T03:04:05Z", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2026-01-02T03:04:05.123456789+02:00", time.Date(2026, 1, 2, 1, 4, 5, 123456789, time.UTC)},
		{"2026-01-02 03:04:05", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"1767225600", time.Unix(1767225600, 0)},
		{float64(1767225600), time.Unix(1767225600, 0)},
		{"1767225600123456", time.UnixMicro(1767225600123456)},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseTime(%v) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []any{"soon", "-5", true, "1e300", nil} {
		if _, err := parseTime(bad); err == nil {
			t.Errorf("parseTime(%v) accepted", bad)
		}
	}
}
