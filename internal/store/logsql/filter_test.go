package logsql

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/filters.golden")

// scriptQueries returns the queries of the storetest search script.
func scriptQueries(t testing.TB) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "storetest", "testdata", "search.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var qs []string
	for _, l := range strings.Split(string(src), "\n") {
		if q, ok := strings.CutPrefix(l, "? "); ok {
			qs = append(qs, q)
		}
	}
	return qs
}

// compileAll returns the LogsQL of every query the Searcher runs for req.
func compileAll(req store.SearchRequest) ([]string, error) {
	s := &Searcher{CursorKey: []byte("k")}
	var out []string
	page, err := s.searchQuery(context.Background(), req, 10)
	if err != nil {
		return nil, err
	}
	out = append(out, page)
	f, err := s.filterOf(context.Background(), req)
	if err != nil {
		return nil, err
	}
	out = append(out, f+" | stats by ("+timeBuckets(7, 3)+", level) count() as n")
	return out, nil
}

// TestFiltersParse compiles every query of the search script and checks
// that the engine's own parser takes the LogsQL; the golden file shows
// the translation for review.
func TestFiltersParse(t *testing.T) {
	var golden strings.Builder
	from := time.Date(2024, 1, 1, 0, 0, 0, 1, time.UTC)
	for _, text := range scriptQueries(t) {
		q, err := query.Parse(text)
		if err != nil {
			continue
		}
		golden.WriteString("? " + text + "\n")
		qs, err := compileAll(store.SearchRequest{Query: q, From: from})
		if err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", text, err)
			}
			golden.WriteString("  error: " + err.Error() + "\n")
			continue
		}
		golden.WriteString("  " + qs[0] + "\n")
		for _, lq := range qs {
			if _, err := logstorage.ParseQuery(lq); err != nil {
				t.Errorf("%s: the engine refuses %s: %v", text, lq, err)
			}
		}
	}
	path := filepath.Join("testdata", "filters.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if golden.String() != string(want) {
		t.Errorf("compiled filters differ from %s (run with -update and review the diff)", path)
	}
}

// FuzzCompile: any query that parses compiles without a panic, to LogsQL
// the engine parses, or to an error wrapping store.ErrInvalid.
func FuzzCompile(f *testing.F) {
	for _, q := range scriptQueries(f) {
		f.Add(q)
	}
	f.Add(`attr.x:>"a\"b" attr.y:{* TO "\u00ff"] "\x00" message:*a*b\*c*`)
	f.Fuzz(func(t *testing.T, text string) {
		q, err := query.Parse(text)
		if err != nil {
			return
		}
		qs, err := compileAll(store.SearchRequest{Query: q})
		if err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("%q: %v, want ErrInvalid", text, err)
			}
			return
		}
		for _, lq := range qs {
			if _, err := logstorage.ParseQuery(lq); err != nil {
				t.Fatalf("%q: the engine refuses %s: %v", text, lq, err)
			}
		}
	})
}
