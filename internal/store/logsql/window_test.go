package logsql

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
)

// TestWindowKeepsPages pages through searches with the time window
// (Searcher.Bounds) and without, on records hours apart, some sharing a
// time, and wants the same records and cursors on every page.
func TestWindowKeepsPages(t *testing.T) {
	e := openTestEngine(t)
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var recs []record.Record
	for i := range 3000 {
		words := []string{"alpha"}
		if i%7 == 0 {
			words = append(words, "beta")
		}
		if i%611 == 0 {
			words = append(words, "gamma")
		}
		// Three records share each time; times are 3.6 s apart, with a
		// gap of a day after the first thousand.
		at := start.Add(time.Duration(i/3) * 3600 * time.Millisecond)
		if i >= 1000 {
			at = at.Add(24 * time.Hour)
		}
		recs = append(recs, record.Record{Time: at, Source: "app", Service: "api", Kind: "log", Level: "info",
			Message: fmt.Sprintf("%s line %d", strings.Join(words, " "), i)})
	}
	e.add(t, recs)
	lo, hi := recs[0].Time.UnixNano(), recs[len(recs)-1].Time.UnixNano()
	key := []byte("k")
	plain := &Searcher{Runner: e, CursorKey: key}
	probes := 0
	windowed := &Searcher{Runner: e, CursorKey: key, Bounds: func(context.Context) (int64, int64, bool, error) {
		probes++
		return lo - int64(time.Hour), hi + int64(time.Minute), true, nil
	}}
	ctx := context.Background()
	narrowed, complete := 0, 0
	// Phrases: their pages' probes count the words (relaxed), a
	// superset, down to none of them matching in order ("line alpha").
	for _, text := range []string{"alpha", "beta", "gamma", "*", "line", `"alpha line"`, `"beta line"`, `"line alpha"`,
		`-"alpha line"`, `message:"alpha beta"`, `"alpha li*"`} {
		q, err := query.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		for _, order := range []store.Order{store.NewestFirst, store.OldestFirst} {
			for _, limit := range []int{1, 10, 100} {
				for _, rng := range [][2]time.Time{{}, {start.Add(30 * time.Minute), start.Add(26 * time.Hour)}} {
					req := store.SearchRequest{Query: q, Limit: limit, Order: order, From: rng[0], To: rng[1]}
					for page := 0; page < 4; page++ {
						want, wantNext := collect(t, plain, req)
						got, gotNext := collect(t, windowed, req)
						if !slices.Equal(got, want) || gotNext != wantNext {
							t.Fatalf("%q order %d limit %d range %v page %d: windowed %v next %q, sorted %v next %q",
								text, order, limit, rng, page, got, gotNext, want, wantNext)
						}
						if whole := sortedWhole(t, plain, req, limit); !slices.Equal(got, whole) {
							t.Fatalf("%q order %d limit %d range %v page %d: keys then records %v, the page sorted whole %v",
								text, order, limit, rng, page, got, whole)
						}
						p, err := windowed.page(ctx, req, limit)
						if err != nil {
							t.Fatal(err)
						}
						if w, _, done, err := windowed.window(ctx, p); err != nil {
							t.Fatal(err)
						} else if w != "" {
							narrowed++
						} else if done {
							complete++
						}
						if wantNext == "" {
							break
						}
						req.Cursor = wantNext
					}
				}
			}
		}
	}
	// Every page of every record, in both orders, against the order of
	// (time, ID): three records share each time, the first of them
	// stored without an id field (its ID is its time), the others with.
	for _, order := range []store.Order{store.NewestFirst, store.OldestFirst} {
		want := make([]int64, len(recs))
		for i, r := range recs {
			want[i] = r.ID
		}
		slices.SortFunc(want, func(a, b int64) int { return cmp.Compare(a, b) }) // IDs follow time here
		if order == store.NewestFirst {
			slices.Reverse(want)
		}
		req := store.SearchRequest{Limit: 100, Order: order}
		var got []int64
		for {
			ids, next := collect(t, windowed, req)
			got = append(got, ids...)
			if next == "" {
				break
			}
			req.Cursor = next
		}
		if !slices.Equal(got, want) {
			t.Fatalf("order %d: paging read %d records, want %d in (time, ID) order", order, len(got), len(want))
		}
	}
	if narrowed == 0 || complete == 0 || probes == 0 {
		t.Fatalf("%d pages narrowed, %d read whole by the first probe (%d bounds calls): the test does not exercise the window",
			narrowed, complete, probes)
	}
}

// sortedWhole is the page of req read as one query that sorts every
// match with all its fields, which Search did before it read keys first:
// the IDs of its records, the one past the page left out.
func sortedWhole(t *testing.T, s *Searcher, req store.SearchRequest, n int) []int64 {
	t.Helper()
	p, err := s.page(context.Background(), req, n)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	err = s.Runner.RunQuery(context.Background(), p.filter+p.pipe, func(row []Field) error {
		r, err := Decode(row)
		ids = append(ids, r.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids[:min(len(ids), n)]
}

// TestFetchFallsBack: a page whose keys name more records than the page
// holds (two records of one time and id, which two writers of one
// nanosecond can store) is read whole, the same as without keys.
func TestFetchFallsBack(t *testing.T) {
	e := openTestEngine(t)
	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var recs []record.Record
	for i := range 5 {
		recs = append(recs, record.Record{Time: at.Add(time.Duration(i) * time.Second), Source: "app", Service: "api",
			Kind: "log", Level: "info", Message: fmt.Sprintf("twin line %d", i)})
	}
	e.add(t, recs)
	// The same record again, as another writer would store it: same
	// time, same ID (none: the first of its time), another message.
	twin := recs[2]
	twin.Message = "twin other"
	e.add(t, []record.Record{twin})
	s := &Searcher{Runner: e, CursorKey: []byte("k")}
	ctx := context.Background()
	q, err := query.Parse("twin")
	if err != nil {
		t.Fatal(err)
	}
	req := store.SearchRequest{Query: q, Limit: 10}
	p, err := s.page(ctx, req, 10)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.keys(ctx, p.filter+p.pipe+keysPipe)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.fetch(ctx, keys); err != nil || ok {
		t.Fatalf("fetch of %d keys, two of them one place: ok %v, err %v; want a fallback", len(keys), ok, err)
	}
	var msgs []string
	if _, err := s.Search(ctx, req, func(r record.Record) error {
		msgs = append(msgs, r.Message)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 6 {
		t.Fatalf("search found %v, want all six records", msgs)
	}
}

func collect(t *testing.T, s *Searcher, req store.SearchRequest) ([]int64, string) {
	t.Helper()
	var ids []int64
	next, err := s.Search(context.Background(), req, func(r record.Record) error {
		ids = append(ids, r.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, next
}

// TestWindowUnknownBounds: a searcher whose bounds are unknown or
// useless sorts every match.
func TestWindowUnknownBounds(t *testing.T) {
	e := openTestEngine(t)
	ctx := context.Background()
	for _, b := range []func(context.Context) (int64, int64, bool, error){
		func(context.Context) (int64, int64, bool, error) { return 0, 0, false, nil },
		func(context.Context) (int64, int64, bool, error) { return math.MaxInt64, math.MinInt64, true, nil },
		func(context.Context) (int64, int64, bool, error) { return 5, 5 + int64(time.Millisecond), true, nil },
	} {
		s := &Searcher{Runner: e, Bounds: b}
		w, _, _, err := s.window(ctx, pageQuery{filter: "*", want: 11, lo: math.MinInt64, hi: math.MaxInt64})
		if err != nil || w != "" {
			t.Fatalf("window = %q, %v; want none", w, err)
		}
	}
}

// TestRelaxed checks which phrases the probes of a page relax into
// their words: those that are not under a NOT.
func TestRelaxed(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`"a b"`, `a AND b`},
		{`x "a b" y`, `x AND a AND b AND y`},
		{`x OR "a b c"`, `x OR (a AND b AND c)`},
		{`-"a b"`, ``},
		{`-(x OR -"a b")`, `NOT (x OR NOT (a AND b))`},
		{`message:"a b"`, `message:"a" AND message:"b"`},
		{`"a"`, ``},
		{`level:error`, ``},
	} {
		q, err := query.Parse(c.in)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := relaxed(q.Filter, false)
		got := ""
		if ok {
			got = e.String()
		}
		if got != c.want {
			t.Errorf("relaxed(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}
