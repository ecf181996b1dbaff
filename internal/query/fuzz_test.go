package query

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary text to Parse: it must never panic, errors
// must be *Error with a position inside the query and a one-line message,
// and every query that parses must survive parse → String → parse with the
// same AST and String as a fixed point.
func FuzzParse(f *testing.F) {
	for _, path := range []string{"testdata/valid.txt", "testdata/invalid.txt"} {
		for _, q := range readQueries(f, path) {
			f.Add(q)
		}
	}
	for _, q := range []string{
		`event:Transfer*`, `*foo*`, `field:"quoted value"`, `tx:0x`, `address:0x`,
		`attr.user.id:42`, `field:*`, `-term`, `a:[b TO c}`, `\`, `"\`, `((((`, `))))`,
		`* | timechart 10s count() by kind | fields time, kind`, `| sort -time, gasUsed | head 3`,
		// Ranges and intervals at and beyond the limits (a 1970-2300 range
		// once overflowed the histogram).
		`* | timechart 366d count()`, `* | timechart 367d count()`, `* | timechart 9223372036854775807s count()`,
		`* | timechart 52w count()`, `time:[1970-01-01T00:00:00Z TO 2300-01-01T00:00:00Z]`, `time:>-9999999999999`,
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		parsed, err := Parse(q)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T is not *Error", q, err)
			}
			if e.Pos < 0 || e.Pos > len(q) || strings.Contains(e.Error(), "\n") {
				t.Fatalf("Parse(%q): bad error %+v", q, e)
			}
			_ = e.Caret(q)
			return
		}
		checkRoundTrip(t, q, parsed)
		_ = parsed.Fields()
		_ = parsed.TextTerms()
	})
}

// BenchmarkParse parses a ten-term query with a pipe.
func BenchmarkParse(b *testing.B) {
	const q = `level:error service:api "rpc timeout" gasUsed:>100000 event:Transfer* ` +
		`tx:0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060 ` +
		`-status:success block:[100 TO 200] attr.user.id:42 time:>2026-01-01T00:00:00Z ` +
		`| stats count(), p95(gasUsed) by service`
	b.ReportAllocs()
	b.SetBytes(int64(len(q)))
	for b.Loop() {
		if _, err := Parse(q); err != nil {
			b.Fatal(err)
		}
	}
}
