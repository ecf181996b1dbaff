package vlogs_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/vlogs"
)

// TestSearchKeepsRowValues reads a page of selective matches that lie in
// many of the engine's data blocks (a query with no sort, whose rows come
// straight from the stored blocks) and checks every value read back is the
// one written: the engine reuses a block's buffers once its callback has
// returned, so values kept without a copy would read as another record's.
func TestSearchKeepsRowValues(t *testing.T) {
	ctx := t.Context()
	e, err := vlogs.Open(ctx, filepath.Join(t.TempDir(), "records"), vlogs.Options{CursorKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	const n, every = 20_000, 500
	var recs []record.Record
	for i := range n {
		kind := record.KindLog
		if i%every == 0 {
			kind = "rpc_error"
		}
		recs = append(recs, record.Record{Time: t0.Add(time.Duration(i) * time.Second), Source: record.SourceApp, Kind: kind,
			Level: "info", Service: fmt.Sprintf("svc-%d", i%7), Message: fmt.Sprintf("line %06d of the corpus", i),
			Attrs: map[string]any{"upstream": fmt.Sprintf("http://node-%06d.example", i)}})
		if len(recs) == 2000 {
			if err := e.AppendRecords(ctx, recs); err != nil {
				t.Fatal(err)
			}
			recs = nil
		}
	}
	pq, err := query.Parse("kind:rpc_error")
	if err != nil {
		t.Fatal(err)
	}
	var got []record.Record
	if _, err := e.Search(ctx, store.SearchRequest{Query: pq, Order: store.NewestFirst, Limit: 100}, func(r record.Record) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != n/every {
		t.Fatalf("found %d records, want %d", len(got), n/every)
	}
	for _, r := range got {
		i := int(r.Time.Sub(t0) / time.Second)
		want := fmt.Sprintf("line %06d of the corpus", i)
		if r.Message != want || r.Kind != "rpc_error" || r.Service != fmt.Sprintf("svc-%d", i%7) ||
			fmt.Sprint(r.Attrs["upstream"]) != fmt.Sprintf("http://node-%06d.example", i) {
			t.Errorf("record at %s reads back as %q kind %q service %q upstream %v, want %q", r.Time, r.Message, r.Kind, r.Service, r.Attrs["upstream"], want)
		}
	}
}
