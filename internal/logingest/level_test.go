package logingest

import "testing"

func TestNormalizeLevel(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"", "info", true},
		{"INFO", "info", true},
		{"Information", "info", true},
		{"notice", "info", true},
		{"WARNING", "warn", true},
		{"warn", "warn", true},
		{"err", "error", true},
		{"ERROR", "error", true},
		{"FATAL", "fatal", true},
		{"crit", "fatal", true},
		{"emerg", "fatal", true},
		{"panic", "fatal", true},
		{"trace", "trace", true},
		{"DBG", "debug", true},
		{"WARN3", "warn", true}, // OTLP severity text with its number
		{"30", "info", true},    // pino
		{"50", "error", true},
		{"60", "fatal", true},
		{"10", "trace", true},
		{"3", "error", true}, // syslog severity
		{"7", "debug", true},
		{"0", "fatal", true},
		{"9", "info", false},
		{"loud", "info", false},
		{"1e999", "info", false},
	}
	for _, tt := range tests {
		got, ok := normalizeLevel(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("normalizeLevel(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestOTLPAndSyslogLevels(t *testing.T) {
	want := []string{"", "trace", "trace", "trace", "trace", "debug", "debug", "debug", "debug", "info", "info", "info", "info",
		"warn", "warn", "warn", "warn", "error", "error", "error", "error", "fatal", "fatal", "fatal", "fatal", ""}
	for n := int32(0); n <= 25; n++ {
		got, ok := otlpLevel(n)
		if got != want[n] || ok != (want[n] != "") {
			t.Errorf("otlpLevel(%d) = %q, %v; want %q", n, got, ok, want[n])
		}
	}
	sys := []string{"fatal", "fatal", "fatal", "error", "warn", "info", "info", "debug"}
	for sev, w := range sys {
		if got := syslogLevel(sev); got != w {
			t.Errorf("syslogLevel(%d) = %q, want %q", sev, got, w)
		}
	}
}
