package query

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustParse(t testing.TB, q string) *Query {
	t.Helper()
	parsed, err := Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q): %v", q, err)
	}
	return parsed
}

func TestLimits(t *testing.T) {
	f := func(name, q, wantMsg string) {
		t.Helper()
		_, err := Parse(q)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: Parse error = %v, want *Error", name, err)
		}
		if !strings.Contains(e.Msg, wantMsg) {
			t.Errorf("%s: error %q does not say %q", name, e.Msg, wantMsg)
		}
		if e.Pos < 0 || e.Pos > len(q) {
			t.Errorf("%s: error position %d outside the query", name, e.Pos)
		}
	}
	f("1 MB query", strings.Repeat("a ", 1<<19), "limit is 65536")
	f("depth 101 parens", strings.Repeat("(", 101)+"a"+strings.Repeat(")", 101), "deeper than 100")
	f("depth 101 NOT", strings.Repeat("NOT ", 101)+"a", "deeper than 100")
	f("depth 101 minus", strings.Repeat("-", 101)+"a", "deeper than 100")
	f("unbalanced deep parens", strings.Repeat("(", 60000), "deeper than 100")
	f("1001 terms", strings.Repeat("a ", 1001), "more than 1000 terms")

	// At the limits themselves, queries parse.
	mustParse(t, strings.Repeat("(", 100)+"a"+strings.Repeat(")", 100))
	mustParse(t, strings.Repeat("NOT ", 100)+"a")
	mustParse(t, strings.TrimSpace(strings.Repeat("a ", 1000)))
	long := "\"" + strings.Repeat("x", MaxQueryLen-2) + "\""
	mustParse(t, long)
}

func TestValues(t *testing.T) {
	match := func(q string) Value {
		t.Helper()
		m, ok := mustParse(t, q).Filter.(*Match)
		if !ok {
			t.Fatalf("Parse(%q) is not a *Match", q)
		}
		return m.Value
	}
	for _, c := range []struct {
		q    string
		num  float64
		dec  string
		kind ValueKind
	}{
		{"gasUsed:21000", 21000, "21000", KindNumber},
		{"value:1e18", 1e18, "1000000000000000000", KindNumber},
		{"value:123456789012345678901234567890", 1.2345678901234568e29, "123456789012345678901234567890", KindNumber},
		{"value:-.50", -0.5, "-0.5", KindNumber},
		{"value:0.000", 0, "0", KindNumber},
		{"value:-0", 0, "0", KindNumber},
		{"value:007", 7, "7", KindNumber},
		{"value:1.5e-3", 0.0015, "0.0015", KindNumber},
		{"value:12.5e1", 125, "125", KindNumber},
		{"value:+3", 3, "3", KindNumber},
		{"attr.n:2.25", 2.25, "2.25", KindNumber},
	} {
		v := match(c.q)
		if v.Kind != c.kind || v.Num != c.num || v.Dec != c.dec {
			t.Errorf("%s: kind %v num %v dec %q, want %v %v %q", c.q, v.Kind, v.Num, v.Dec, c.kind, c.num, c.dec)
		}
	}

	v := match("time:>2026-01-02T03:04:05.5+02:00")
	if want := time.Date(2026, 1, 2, 1, 4, 5, 5e8, time.UTC); v.Kind != KindTime || !v.Time.Equal(want) || v.Time.Location() != time.UTC {
		t.Errorf("time value %v (%v), want %v in UTC", v.Time, v.Kind, want)
	}
	if v := match("time:2026-01-02"); !v.Time.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("bare date is %v, want midnight UTC", v.Time)
	}

	v = match("address:0xdAC17F958D2ee523a2206206994597C13D831ec7")
	if v.Kind != KindHex || len(v.Bytes) != 20 || v.Bytes[0] != 0xda || v.Bytes[19] != 0xc7 {
		t.Errorf("address value %v %x", v.Kind, v.Bytes)
	}
	if v := match("tx:0x" + strings.Repeat("ab", 32)); v.Kind != KindHex || len(v.Bytes) != 32 {
		t.Errorf("tx value %v %x", v.Kind, v.Bytes)
	}

	for q, want := range map[string]ValueKind{
		"attr.x:true": KindBool, "attr.x:\"true\"": KindString, "attr.x:42": KindNumber, "attr.x:\"42\"": KindString,
		"attr.x:0x" + strings.Repeat("0", 40): KindHex, "attr.x:0x1234": KindString, "attr.x:hello": KindString,
	} {
		if v := match(q); v.Kind != want {
			t.Errorf("%s: kind %v, want %v", q, v.Kind, want)
		}
	}
	if v := match("attr.x:true"); !v.Bool {
		t.Errorf("attr.x:true has Bool false")
	}
	if v := match("level:WARN"); v.Raw != "warn" {
		t.Errorf("level value not lowercased: %q", v.Raw)
	}
	if v := match(`service:"a*b"`); v.Raw != "a*b" || !v.Quoted {
		t.Errorf("quoted star: %+v", v)
	}
	if m := mustParse(t, `service:a\*b`).Filter.(*Match); m.Op != OpEq || m.Value.Raw != "a*b" {
		t.Errorf("escaped star: %+v", m)
	}
}

func TestWildcardOps(t *testing.T) {
	for q, want := range map[string]struct {
		op   Op
		raw  string
		glob []string
	}{
		"event:Trans*":    {OpPrefix, "Trans", nil},
		"event:*fer":      {OpSuffix, "fer", nil},
		"event:*ans*":     {OpContains, "ans", nil},
		"event:**ans***":  {OpContains, "ans", nil},
		"event:T*f*r":     {OpGlob, "T*f*r", []string{"T", "f", "r"}},
		"event:*a*b":      {OpGlob, "*a*b", []string{"", "a", "b"}},
		"tx:0xABCdef*":    {OpPrefix, "0xabcdef", nil},
		"level:ER*":       {OpPrefix, "er", nil},
		`message:a\ b*`:   {OpPrefix, "a b", nil},
		"attr.path:/v1/*": {OpPrefix, "/v1/", nil},
	} {
		m, ok := mustParse(t, q).Filter.(*Match)
		if !ok || m.Op != want.op || m.Value.Raw != want.raw || !slices.Equal(m.Value.Glob, want.glob) {
			t.Errorf("%s: got %+v, want %+v", q, m, want)
		}
	}
	if _, ok := mustParse(t, "event:***").Filter.(*Exists); !ok {
		t.Errorf("event:*** is not Exists")
	}
}

func TestStructure(t *testing.T) {
	q := mustParse(t, "a b OR c -d")
	or, ok := q.Filter.(*Or)
	if !ok || len(or.Terms) != 2 {
		t.Fatalf("a b OR c -d: %s", dump(q, true))
	}
	if and, ok := or.Terms[1].(*And); !ok || len(and.Terms) != 2 {
		t.Fatalf("right side of OR is not c AND NOT d: %s", or.Terms[1])
	} else if n, ok := and.Terms[1].(*Not); !ok || n.Start != 9 || n.X.Pos() != 10 {
		t.Errorf("NOT d at %d, d at %d; want 9 and 10", n.Start, n.X.Pos())
	}
	// Parentheses of the same operator flatten.
	if and := mustParse(t, "(a b) (c (d e))").Filter.(*And); len(and.Terms) != 5 {
		t.Errorf("nested ANDs not flattened: %s", and)
	}
	for q, want := range map[string]int{"a": 0, "  level:error": 2, "x OR \"p q\"": 5} {
		e := mustParse(t, q).Filter
		var last Expr
		Walk(e, func(x Expr) bool { last = x; return true })
		if last.Pos() != want {
			t.Errorf("%q: last term at %d, want %d", q, last.Pos(), want)
		}
	}
	if mustParse(t, "").Filter != nil || mustParse(t, "  *  ").Filter != nil {
		t.Errorf("empty query and * do not match all")
	}
}

func TestWalkStops(t *testing.T) {
	e := mustParse(t, "a (b OR c) NOT d").Filter
	var seen []string
	Walk(e, func(x Expr) bool {
		seen = append(seen, x.String())
		_, isOr := x.(*Or)
		return !isOr
	})
	want := []string{"a AND (b OR c) AND NOT d", "a", "b OR c", "NOT d", "d"}
	if !slices.Equal(seen, want) {
		t.Errorf("Walk visited %q, want %q", seen, want)
	}
	Walk(nil, func(Expr) bool { t.Error("visited nil"); return true })
}

func TestFieldsAndTextTerms(t *testing.T) {
	for _, c := range []struct {
		q           string
		fields, txt []string
	}{
		{"level:error \"rpc timeout\" retry* NOT ignored message:boom", []string{"level", "message"}, []string{"rpc timeout", "retry", "boom"}},
		{"tx:0xabc* OR address:* gasUsed:[1 TO 2] | stats avg(value) by service | sort -avg(value)", []string{"tx", "address", "gasUsed", "value", "service"}, nil},
		{"a a a | timechart 1m count() by kind", []string{"time", "kind"}, []string{"a"}},
		{"* | fields time, attr.user.id | sort -block", []string{"time", "attr.user.id", "block"}, nil},
		{"* | top 3 event | fields count", []string{"event"}, nil},
		{"-(x y) z", nil, []string{"z"}},
	} {
		q := mustParse(t, c.q)
		if got := q.Fields(); !slices.Equal(got, c.fields) {
			t.Errorf("%s: Fields() = %q, want %q", c.q, got, c.fields)
		}
		if got := q.TextTerms(); !slices.Equal(got, c.txt) {
			t.Errorf("%s: TextTerms() = %q, want %q", c.q, got, c.txt)
		}
	}
}

func TestPipes(t *testing.T) {
	q := mustParse(t, "* | stats count(), p95(gasUsed) as p by level, service | sort -p, level | limit 5")
	want := []Pipe{
		&Stats{Start: 4, Aggs: []Agg{{Start: 10, Func: "count"}, {Start: 19, Func: "p95", Field: "gasUsed", As: "p"}}, By: []string{"level", "service"}},
		&Sort{Start: 57, Keys: []SortKey{{Field: "p", Desc: true}, {Field: "level"}}},
		&Limit{Start: 74, N: 5},
	}
	if !reflect.DeepEqual(q.Pipes, want) {
		t.Errorf("pipes:\n%s", dump(q, true))
	}
	if qq, ok := q.Pipes[0].(*Stats).Aggs[1].Quantile(); !ok || qq != 0.95 {
		t.Errorf("p95 quantile %v %v", qq, ok)
	}
	if _, ok := (Agg{Func: "avg"}).Quantile(); ok {
		t.Errorf("avg has a quantile")
	}
	tc := mustParse(t, "| timechart 5m").Pipes[0].(*Timechart)
	if tc.Interval != 5*time.Minute || len(tc.Aggs) != 1 || tc.Aggs[0].Name() != "count()" {
		t.Errorf("timechart 5m: %+v", tc)
	}
}

func TestParseInterval(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"1s": time.Second, "10s": 10 * time.Second, "1m": time.Minute, "5m": 5 * time.Minute,
		"1h": time.Hour, "1d": 24 * time.Hour, "366d": 366 * 24 * time.Hour, "90s": 90 * time.Second,
	} {
		if got, err := ParseInterval(s); err != nil || got != want {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v", s, got, err, want)
		}
		if got, _ := ParseInterval(FormatInterval(want)); got != want {
			t.Errorf("FormatInterval(%v) = %q does not parse back", want, FormatInterval(want))
		}
	}
	for _, s := range []string{"", "s", "0s", "-1m", "+1m", "1.5m", "1w", "1ms", "367d", "m1", "1 m", "99999999999h", "9223372036854775807s"} {
		if d, err := ParseInterval(s); err == nil {
			t.Errorf("ParseInterval(%q) = %v, want an error", s, d)
		}
	}
}

// TestParseDuration: the one duration syntax takes what intervals take
// and longer spans (now-3650d), and refuses the same malformed ones.
func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	for s, want := range map[string]time.Duration{
		"1s": time.Second, "15m": 15 * time.Minute, "24h": day, "366d": 366 * day, "3650d": 3650 * day, "73000d": MaxDuration,
	} {
		if got, err := ParseDuration(s); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "d", "0d", "-1d", "+1d", "1.5d", "1y", "1ms", "73001d", "9223372036854775807s", "1 d"} {
		if d, err := ParseDuration(s); err == nil || !strings.Contains(err.Error(), "3650d") {
			t.Errorf("ParseDuration(%q) = %v, %v; want an error showing the syntax", s, d, err)
		}
	}
}

func TestCaret(t *testing.T) {
	for _, c := range []struct {
		q    string
		pos  int
		want string
	}{
		{"abc", 1, "abc\n ^"},
		{"abc", 3, "abc\n   ^"},
		{"a\nb\tcd\ne", 4, "b\tcd\n \t^"},
		{"x\r\ny", 3, "y\n^"},
		{"é:x", 3, "é:x\n  ^"},
		{strings.Repeat("a", 200), 150, "…" + strings.Repeat("a", 110) + "\n " + strings.Repeat(" ", 60) + "^"},
		{"abc", 99, "abc\n   ^"},
	} {
		if got := (&Error{Pos: c.pos}).Caret(c.q); got != c.want {
			t.Errorf("Caret(%q at %d) =\n%s\nwant\n%s", c.q, c.pos, got, c.want)
		}
	}
	e := newError("ab\ncdé f", 7, "m")
	if e.Line != 2 || e.Col != 4 || e.Error() != "2:4: m" {
		t.Errorf("line/col of offset 7: %d:%d %q", e.Line, e.Col, e.Error())
	}
}

func TestSuggestions(t *testing.T) {
	for q, want := range map[string]string{
		"gasused:1":    "", // known names match in any case
		"gas_used:1":   `did you mean "gasUsed"`,
		"revertreson:": `did you mean "revertReason"`,
		"adress:0x1":   `did you mean "address"`,
		"customer:1":   `did you mean "attr.customer"`,
		"level:wrn":    `did you mean "warn"`,
	} {
		_, err := Parse(q)
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v", q, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", q, err, want)
		}
	}
}

// TestDocExamples checks that every query in the package doc's examples
// parses, so the syntax help never shows a broken query.
func TestDocExamples(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(src), "\n") {
		if q, ok := strings.CutPrefix(line, "//\t> "); ok {
			n++
			parsed := mustParse(t, q)
			checkRoundTrip(t, q, parsed)
		}
	}
	if n < 10 {
		t.Errorf("found only %d examples in doc.go", n)
	}
}

func TestFieldTable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range KnownFields {
		if seen[strings.ToLower(f.Name)] || !validIdent(f.Name) || strings.Contains(f.Name, ".") {
			t.Errorf("bad field name %q", f.Name)
		}
		seen[strings.ToLower(f.Name)] = true
		if (f.Type == TypeEnum) != (len(f.Enum) > 0) {
			t.Errorf("field %s: enum values and type disagree", f.Name)
		}
	}
	if _, ok := LookupField("attr.a..b"); ok {
		t.Errorf("attr.a..b accepted")
	}
	if f, ok := LookupField("ATTR.User"); !ok || f.Name != "attr.User" {
		t.Errorf("attr prefix case: %+v", f)
	}
}
