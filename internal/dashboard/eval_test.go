package dashboard

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// corpus stores, from base on, one transaction a minute for 10 minutes;
// those in minutes 3 and 7 failed. Minute 5 has no transaction.
func corpus(t *testing.T, base time.Time) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var recs []record.Record
	for m := range 10 {
		if m == 5 {
			continue
		}
		st, lvl := "success", "info"
		if m == 3 || m == 7 {
			st, lvl = "failed", "error"
		}
		recs = append(recs, record.Record{Time: base.Add(time.Duration(m)*time.Minute + time.Second), Source: record.SourceChain,
			Kind: record.KindTx, Level: lvl, Message: "tx " + st,
			Attrs: map[string]any{"status": st, "gasUsed": json.Number("21000")}})
	}
	recs = append(recs, record.Record{Time: base.Add(90 * time.Second), Source: record.SourceApp, Kind: record.KindLog,
		Level: "error", Service: `we"b`, Message: "boom"})
	if err := db.AppendRecords(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestEvaluate(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	db := corpus(t, base)
	from, to := base, base.Add(10*time.Minute)

	r, err := Evaluate(t.Context(), db, "kind:tx | timechart 1m count() by status", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != ResultTime || len(r.Times) != 10 || r.IntervalMs != 60000 {
		t.Fatalf("kind %s, %d times, interval %d; want time, 10, 60000", r.Kind, len(r.Times), r.IntervalMs)
	}
	byName := map[string]Series{}
	for _, s := range r.Series {
		byName[s.Name] = s
	}
	failed, ok := byName["failed"]
	if !ok || failed.Query != `kind:tx status:"failed"` {
		t.Fatalf("failed series = %+v", failed)
	}
	for i, v := range failed.Values {
		want := 0.0
		if i == 3 || i == 7 {
			want = 1
		}
		if v == nil || *v != want {
			t.Fatalf("failed[%d] = %v, want %v (empty buckets count zero)", i, v, want)
		}
	}
	if ok := byName["success"].Values[5]; ok == nil || *ok != 0 {
		t.Fatalf("success in the empty minute = %v, want 0", ok)
	}
	// Each series' query selects exactly the records it counts.
	q, err := query.Parse(failed.Query)
	if err != nil {
		t.Fatalf("series query %q does not parse: %v", failed.Query, err)
	}
	n := 0
	if _, err := db.Search(t.Context(), store.SearchRequest{Query: q, From: from, To: to}, func(record.Record) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%q finds %d records, want 2", failed.Query, n)
	}

	// A timechart without an interval gets one from the range.
	r, err = Evaluate(t.Context(), db, "kind:tx | timechart sum(gasUsed)", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if r.IntervalMs != 10000 || r.Query != "kind:tx | timechart 10s sum(gasUsed)" {
		t.Fatalf("interval %d, query %q", r.IntervalMs, r.Query)
	}

	r, err = Evaluate(t.Context(), db, "level:error | top 5 service", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != ResultCategories || len(r.Categories) != 1 || r.Categories[0] != `we"b` ||
		r.CategoryQueries[0] != `level:error service:"we\"b"` || r.RowQueries[0] != r.CategoryQueries[0] {
		t.Fatalf("top: %+v", r)
	}
	if _, err := query.Parse(r.CategoryQueries[0]); err != nil {
		t.Fatalf("category query does not parse: %v", err)
	}

	r, err = Evaluate(t.Context(), db, "kind:tx OR service:x | stats count() by status", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Categories) != 2 || r.CategoryQueries[0] != `(kind:tx OR service:x) status:"failed"` || *r.Series[0].Values[0] != 2 {
		t.Fatalf("stats: %+v", r)
	}

	for _, bad := range []struct{ q string }{{"kind:tx | timechart 1s count()"}, {"level:"}} {
		if _, err := Evaluate(t.Context(), db, bad.q, from, to.Add(time.Hour)); err == nil {
			t.Errorf("Evaluate(%q) succeeded, want an error", bad.q)
		}
	}
}

func TestHomeIsValid(t *testing.T) {
	d := Home()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	db := corpus(t, base)
	for _, p := range d.Spec.Panels {
		if p.Type == TypeAlerts {
			continue
		}
		if _, err := Evaluate(t.Context(), db, p.Query, base, base.Add(time.Hour)); err != nil {
			t.Errorf("panel %s: %v", p.ID, err)
		}
	}
}

func TestServiceSaveAndHome(t *testing.T) {
	ctx := t.Context()
	db := corpus(t, time.Now())
	s := New(db, nil)
	ds, err := s.Dashboards(ctx)
	if err != nil || len(ds) != 1 || !ds[0].Builtin {
		t.Fatalf("Dashboards = %+v, %v; want the built-in home", ds, err)
	}
	d, err := s.Save(ctx, Dashboard{Name: "Mine", Spec: Spec{Panels: []Panel{{Title: "x", Type: TypeStat, Query: "* | stats count()"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == "" || d.Spec.From != "now-1h" || d.Spec.Panels[0].Width != 6 || d.Spec.Panels[0].ID != "p1" {
		t.Fatalf("saved = %+v", d)
	}
	for _, bad := range []Dashboard{
		{Name: ""},
		{Name: "x", Spec: Spec{Panels: []Panel{{Type: "pie", Query: "* | stats count()"}}}},
		{Name: "x", Spec: Spec{Panels: []Panel{{Type: TypeBar, Query: "level:error"}}}},
		{Name: "x", Spec: Spec{Panels: []Panel{{Type: TypeBar, Query: "* | top level", Width: 13}}}},
		{Name: "x", Spec: Spec{Refresh: "1ms"}},
	} {
		if _, err := s.Save(ctx, bad); err == nil {
			t.Errorf("Save(%+v) succeeded, want an error", bad)
		}
	}
	home := Home()
	home.Name = "Our home"
	if _, err := s.Save(ctx, home); err != nil {
		t.Fatal(err)
	}
	got, err := s.Dashboard(ctx, HomeID)
	if err != nil || got.Name != "Our home" || got.Builtin {
		t.Fatalf("home after save = %+v, %v", got, err)
	}
	if err := s.Delete(ctx, HomeID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Dashboard(ctx, HomeID); !got.Builtin {
		t.Fatal("deleting the saved home does not restore the built-in one")
	}
	if _, err := s.SaveSearch(ctx, store.SavedSearch{Name: "bad", Query: "level:"}); err == nil {
		t.Fatal("a saved search with a broken query was stored")
	}
}
