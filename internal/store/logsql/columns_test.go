package logsql

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
)

// TestExpandColumns checks the rewrite of attribute wildcards into named
// columns: words and prefixes only, user text untouched.
func TestExpandColumns(t *testing.T) {
	names := []string{"attr.a", "attr.b.c", "attrlc.a"}
	for _, c := range []struct{ in, want string }{
		{`"attr."*:"w"`, `("attr.a":"w" OR "attr.b.c":"w")`},
		{`("attr."*:"w"* OR "attrlc."*:"w"*)`, `(("attr.a":"w"* OR "attr.b.c":"w"*) OR ("attrlc.a":"w"*))`},
		{`"attr."*:~"re"`, `"attr."*:~"re"`},
		{`"attr.x."*:*`, `"attr.x."*:*`},
		{`"_msg":"\"attr.\"*:\"w\""`, `"_msg":"\"attr.\"*:\"w\""`},
		{`"_msg":"attr." AND "attr."*:"a\"b"`, `"_msg":"attr." AND ("attr.a":"a\"b" OR "attr.b.c":"a\"b")`},
		{`"unclosed`, `"unclosed`},
	} {
		if got := expandColumns(c.in, names); got != c.want {
			t.Errorf("expandColumns(%s) = %s, want %s", c.in, got, c.want)
		}
		if _, err := logstorage.ParseFilter(expandColumns(c.in, names)); err != nil && !strings.Contains(c.in, "unclosed") {
			t.Errorf("the engine refuses %s: %v", expandColumns(c.in, names), err)
		}
	}
	// No lower-case copies in the store: their filter matches nothing.
	if got, want := expandColumns(`"attrlc."*:"w"`, names[:2]), matchNone; got != want {
		t.Errorf("without copies: %s, want %s", got, want)
	}
	// Too many names: the wildcard stays.
	var many []string
	for i := range maxExpandColumns + 1 {
		many = append(many, fmt.Sprintf("attr.k%d", i))
	}
	if got := expandColumns(`"attr."*:"w"`, many); got != `"attr."*:"w"` {
		t.Errorf("with %d names: %s", len(many), got)
	}
}

// TestColumnsFindTheSame searches free text with the columns named and
// with the wildcard, on records whose attributes differ from part to
// part, and wants the same records; and levels below the lowest or above
// the highest match nothing.
func TestColumnsFindTheSame(t *testing.T) {
	e := openTestEngine(t)
	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var names []string
	for part := range 3 {
		var recs []record.Record
		for i := range 20 {
			attrs := map[string]any{fmt.Sprintf("k%d", part): fmt.Sprintf("Needle%d value", i%3), "n": int64(i)}
			if part == 2 {
				attrs = map[string]any{"deep": map[string]any{"x": "needle haystack"}}
			}
			recs = append(recs, record.Record{Time: at.Add(time.Duration(part*100+i) * time.Second), Source: "app",
				Service: "api", Kind: "log", Level: "info", Message: "line", Attrs: attrs})
		}
		e.add(t, recs)
		for _, r := range recs {
			fields, _, err := Encode(nil, &r)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fields {
				if strings.HasPrefix(f.Name, AttrPrefix) || strings.HasPrefix(f.Name, LowerPrefix) {
					names = append(names, f.Name)
				}
			}
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	wild := &Searcher{Runner: e, CursorKey: []byte("k")}
	named := &Searcher{Runner: e, CursorKey: []byte("k"), Columns: func() ([]string, bool) { return names, true }}
	for _, text := range []string{"needle0", "NEEDLE1", "needle*", "value", `"needle2 value"`, "haystack", "-needle0",
		"nothing", "level:<trace", "level:>fatal"} {
		q, err := query.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		req := store.SearchRequest{Query: q, Limit: 100}
		want, _ := collect(t, wild, req)
		got, _ := collect(t, named, req)
		if !slices.Equal(got, want) {
			t.Errorf("%s: named columns found %v, the wildcard %v", text, got, want)
		}
		if strings.HasPrefix(text, "level:") && len(got) != 0 {
			t.Errorf("%s found %d records, want none", text, len(got))
		}
		if text == "needle0" && len(got) == 0 {
			t.Errorf("%s found nothing: the test searches nothing", text)
		}
	}
}
