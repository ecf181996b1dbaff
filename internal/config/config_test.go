package config

import (
	"strings"
	"testing"
)

// TestRecords checks --records: the two in-process engines, an external
// VictoriaLogs URL, and what is refused with a message saying what to
// give.
func TestRecords(t *testing.T) {
	for _, tt := range []struct {
		records, url, err string
	}{
		{"", "", ""},
		{"sqlite", "", ""},
		{"embedded", "", ""},
		{"http://127.0.0.1:9428", "http://127.0.0.1:9428", ""},
		{"http://vl.internal:9428/", "http://vl.internal:9428", ""},
		{"https://vl.example.com", "https://vl.example.com", ""},
		{"postgres://x", "", "want embedded, sqlite or http://HOST:PORT"},
		{"http://", "", "want embedded"},
		{"http://user:pw@h:9428", "", "want embedded"},
		{"http://h:9428?x=1", "", "want embedded"},
		{"Embedded", "", "want embedded"},
		{"127.0.0.1:9428", "", "want embedded"},
	} {
		c := Default(ModeDemo)
		c.Records = tt.records
		err := c.Validate()
		if tt.err == "" {
			if err != nil {
				t.Errorf("--records %q: %v", tt.records, err)
				continue
			}
			if u, _ := c.RecordsURL(); u != tt.url {
				t.Errorf("--records %q: URL %q, want %q", tt.records, u, tt.url)
			}
			if tt.records == "" && c.Records != DefaultRecords {
				t.Errorf("no --records: %q, want %q", c.Records, DefaultRecords)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("--records %q: error %v, want one saying %q", tt.records, err, tt.err)
		}
	}
}
