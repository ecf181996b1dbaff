package vlogs_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/vlogs"
)

// TestFreeTextFindsEveryAttribute: free text names the attribute columns
// the engine knows (columns.go); it finds a word in an attribute appended
// now, in one stored before a reopen, and in one whose name is new after
// the reopen.
func TestFreeTextFindsEveryAttribute(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "records")
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	rec := func(i int, attrs map[string]any) record.Record {
		return record.Record{Time: t0.Add(time.Duration(i) * time.Second), Source: "app", Service: "api", Kind: "log",
			Level: "info", Message: "request", Attrs: attrs}
	}
	count := func(e *vlogs.Engine, text string) int {
		t.Helper()
		q, err := query.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if _, err := e.Search(ctx, store.SearchRequest{Query: q, Limit: 100}, func(record.Record) error {
			n++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	e, err := vlogs.Open(ctx, dir, vlogs.Options{CursorKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.AppendRecords(ctx, []record.Record{rec(0, map[string]any{"color": "Crimson"})}); err != nil {
		t.Fatal(err)
	}
	if n := count(e, "crimson"); n != 1 {
		t.Fatalf("before the reopen: %d records, want 1", n)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if e, err = vlogs.Open(ctx, dir, vlogs.Options{CursorKey: []byte("k")}); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.AppendRecords(ctx, []record.Record{rec(1, map[string]any{"user": map[string]any{"city": "Lisbon"}})}); err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]int{"crimson": 1, "CRIMSON": 1, "lisbon": 1, "lisb*": 1, "madrid": 0} {
		if n := count(e, text); n != want {
			t.Errorf("after the reopen, %s: %d records, want %d", text, n, want)
		}
	}
}
