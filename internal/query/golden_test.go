package query

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// readQueries reads a query list: one query per line; blank lines and
// lines starting with "#" are skipped; a line starting with a double quote
// is a Go string literal (for queries with newlines, tabs or odd bytes).
func readQueries(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, `"`):
			s, err := strconv.Unquote(line)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			out = append(out, s)
		default:
			out = append(out, line)
		}
	}
	return out
}

type validCase struct {
	Query     string          `json:"query"`
	Canonical string          `json:"canonical"`
	AST       json.RawMessage `json:"ast"`
}

// TestGoldenValid parses every query of testdata/valid.txt and compares
// its canonical form and AST with testdata/valid.golden; then checks that
// the canonical form parses to the same AST and prints itself.
func TestGoldenValid(t *testing.T) {
	queries := readQueries(t, "testdata/valid.txt")
	if len(queries) < 80 {
		t.Errorf("only %d queries in testdata/valid.txt; the table should cover at least 80", len(queries))
	}
	var got []validCase
	for _, q := range queries {
		parsed, err := Parse(q)
		if err != nil {
			t.Errorf("Parse(%q): %v\n%s", q, err, err.(*Error).Caret(q))
			continue
		}
		checkRoundTrip(t, q, parsed)
		got = append(got, validCase{Query: q, Canonical: parsed.String(), AST: json.RawMessage(dump(parsed, true))})
	}
	out, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	compareGolden(t, "testdata/valid.golden", out)
}

// checkRoundTrip checks parse → String → parse gives the same AST
// (positions aside) and that String is a fixed point.
func checkRoundTrip(t testing.TB, q string, parsed *Query) {
	t.Helper()
	canon := parsed.String()
	again, err := Parse(canon)
	if err != nil {
		t.Fatalf("canonical form of %q does not parse: %q: %v", q, canon, err)
	}
	if a, b := dump(parsed, false), dump(again, false); a != b {
		t.Fatalf("canonical form of %q parses to another AST\ncanonical: %s\nfirst:  %s\nsecond: %s", q, canon, a, b)
	}
	if s := again.String(); s != canon {
		t.Fatalf("String is not a fixed point for %q: %q then %q", q, canon, s)
	}
}

// TestGoldenInvalid checks the error and caret of every query of
// testdata/invalid.txt against testdata/invalid.golden.
func TestGoldenInvalid(t *testing.T) {
	var b strings.Builder
	for _, q := range readQueries(t, "testdata/invalid.txt") {
		_, err := Parse(q)
		if err == nil {
			t.Errorf("Parse(%q) succeeded; want an error", q)
			continue
		}
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("Parse(%q) error %T is not *Error", q, err)
			continue
		}
		if strings.Contains(e.Error(), "\n") {
			t.Errorf("Parse(%q) error is not one line: %q", q, e.Error())
		}
		b.WriteString("query: " + strconv.Quote(q) + "\n")
		b.WriteString("error: " + e.Error() + "\n")
		b.WriteString(e.Caret(q) + "\n\n")
	}
	compareGolden(t, "testdata/invalid.golden", []byte(b.String()))
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the parser's output (run go test -update and review the diff)\n%s", path, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\nwant: " + w + "\ngot:  " + g
		}
	}
	return ""
}
