package logingest

import (
	"strconv"
	"strings"
)

// levelWords maps the spellings loggers use onto record.Levels. Keys are
// lower case.
var levelWords = map[string]string{
	"trace": "trace", "trc": "trace", "finest": "trace", "finer": "trace", "verbose": "trace",
	"debug": "debug", "dbg": "debug", "fine": "debug", "d": "debug",
	"info": "info", "inf": "info", "information": "info", "informational": "info", "notice": "info", "i": "info", "log": "info",
	"warn": "warn", "warning": "warn", "wrn": "warn", "w": "warn",
	"error": "error", "err": "error", "eror": "error", "e": "error", "severe": "error",
	"fatal": "fatal", "crit": "fatal", "critical": "fatal", "alert": "fatal", "emerg": "fatal", "emergency": "fatal", "panic": "fatal", "f": "fatal",
}

// normalizeLevel maps a level spelling onto record.Levels. Numbers are read
// as pino/bunyan levels (10 trace … 60 fatal) when 10 or above, and as
// syslog severities (0 emergency … 7 debug) below. ok is false for a
// spelling it does not know; the caller then keeps the original in the
// attributes and files the record as info.
func normalizeLevel(s string) (level string, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "info", true
	}
	if l, ok := levelWords[strings.ToLower(s)]; ok {
		return l, true
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return numericLevel(n)
	}
	// OTLP severity texts such as "INFO2" or "WARN4" carry a number suffix.
	if t := strings.TrimRight(s, "0123456789"); t != s && t != "" {
		if l, ok := levelWords[strings.ToLower(t)]; ok {
			return l, true
		}
	}
	return "info", false
}

func numericLevel(n float64) (string, bool) {
	switch {
	case n >= 0 && n < 8 && n == float64(int(n)):
		return syslogLevel(int(n)), true
	case n >= 10 && n < 20:
		return "trace", true
	case n >= 20 && n < 30:
		return "debug", true
	case n >= 30 && n < 40:
		return "info", true
	case n >= 40 && n < 50:
		return "warn", true
	case n >= 50 && n < 60:
		return "error", true
	case n >= 60 && n < 100:
		return "fatal", true
	}
	return "info", false
}

// syslogLevel maps a syslog severity (RFC 5424 section 6.2.1) onto
// record.Levels: emergency, alert and critical are fatal; notice is info.
func syslogLevel(sev int) string {
	switch sev {
	case 0, 1, 2:
		return "fatal"
	case 3:
		return "error"
	case 4:
		return "warn"
	case 5, 6:
		return "info"
	}
	return "debug"
}

// otlpLevel maps an OTLP severity number (1-24, four per level) onto
// record.Levels; ok is false for 0 (unspecified) and out-of-range numbers.
func otlpLevel(n int32) (string, bool) {
	if n < 1 || n > 24 {
		return "", false
	}
	return [...]string{"trace", "debug", "info", "warn", "error", "fatal"}[(n-1)/4], true
}
