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

// TestDB checks --db: a SQLite file or a PostgreSQL URL, the records
// engines each allows, and what is refused, without repeating a URL (it
// may hold a password).
func TestDB(t *testing.T) {
	for _, tt := range []struct {
		db, records, err string
		postgres         bool
	}{
		{"", "", "", false},
		{"sqlite:./x.db", "sqlite", "", false},
		{"./x.db", "", "", false},
		{"postgres://u:pw@127.0.0.1:5432/bt", "", "", true},
		{"postgresql://u@db/bt", "http://127.0.0.1:9428", "", true},
		{"postgres://u@db/bt", "sqlite", "needs a SQLite --db", true},
		{"mysql://u:s3cret@db/bt", "", "want sqlite:PATH or postgres://", false},
		{"sqlite:", "", "needs a path", false},
	} {
		c := Default(ModeServe)
		c.RPC = "http://127.0.0.1:8545"
		c.DB, c.Records = tt.db, tt.records
		err := c.Validate()
		if _, pg := c.PostgresDSN(); pg != tt.postgres {
			t.Errorf("--db %q: PostgreSQL %v, want %v", tt.db, pg, tt.postgres)
		}
		if tt.err == "" {
			if err != nil {
				t.Errorf("--db %q --records %q: %v", tt.db, tt.records, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("--db %q --records %q: error %v, want one saying %q", tt.db, tt.records, err, tt.err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("--db %q: the error shows the password: %v", tt.db, err)
		}
	}
}
