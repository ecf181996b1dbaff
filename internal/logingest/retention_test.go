package logingest

import (
	"reflect"
	"testing"
	"time"
)

func TestParseRetention(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in   string
		want map[string]time.Duration
		ok   bool
	}{
		{"", map[string]time.Duration{}, true},
		{"app=30d", map[string]time.Duration{"app": 30 * day}, true},
		{" app=30d, security=90d ,system=2w", map[string]time.Duration{"app": 30 * day, "security": 90 * day, "system": 14 * day}, true},
		{"system=720h", map[string]time.Duration{"system": 720 * time.Hour}, true},
		{"app=1.5d", map[string]time.Duration{"app": 36 * time.Hour}, true},
		{"chain=30d", nil, false},
		{"app", nil, false},
		{"app=", nil, false},
		{"app=0d", nil, false},
		{"app=-1h", nil, false},
		{"app=30x", nil, false},
		{"app=1d,app=2d", nil, false},
		{"app=999999d", nil, false},
	}
	for _, tt := range tests {
		got, err := ParseRetention(tt.in)
		if (err == nil) != tt.ok || tt.ok && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseRetention(%q) = %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
