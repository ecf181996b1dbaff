package storetest

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
)

var updateSearch = flag.Bool("update-search", false, "rewrite the expectations of storetest/testdata/search.txt")

//go:embed testdata/search.txt
var searchScript string

// SearchStore is what the search suite needs of a backend.
type SearchStore interface {
	store.Store
	store.RecordWriter
	store.Searcher
	store.RecordRetainer
}

// RunSearch runs the search suite. open must return a new, empty store for
// each call; the suite closes it.
//
// Beyond the interface documentation, it holds backends to the shape of
// chain records (see testdata/search.txt): one record per transaction
// (kind tx), log (kind event) and decoded revert (kind revert), with the
// attributes the query fields name (from, to, contract, event, method,
// status, revertReason, revertKind, gasUsed, value), args.NAME for decoded
// arguments, and logIndex on events. A failed transaction's record carries
// the revertReason and revertKind of its revert record.
func RunSearch(t *testing.T, open func(t *testing.T) SearchStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s SearchStore)
	}{
		{"Script", testSearchScript},
		{"AppendAssignsIDs", testAppendAssignsIDs},
		{"AppendRefuses", testAppendRefuses},
		{"Paging", testPaging},
		{"PagingUnderInserts", testPagingUnderInserts},
		{"BadCursors", testBadCursors},
		{"RollbackDropsChainRecords", testRollbackDropsChainRecords},
		{"Retain", testRetain},
		{"Limits", testSearchLimits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

// corpusSize is the number of records of the corpus: its off-chain records
// and the chain records of its blocks.
const corpusSize = 26

// loadCorpus writes the corpus and returns the name of every record by ID:
// r1… for the off-chain records in CorpusRecords order, txN for the record
// of transaction N, txN.evK for its K-th log and txN.revert for its revert.
func loadCorpus(t *testing.T, s SearchStore) map[int64]string {
	t.Helper()
	ctx := t.Context()
	blocks := CorpusBlocks()
	mustWrite(t, s, blocks)
	recs := CorpusRecords()
	if err := s.AppendRecords(ctx, recs); err != nil {
		t.Fatalf("AppendRecords: %v", err)
	}
	names := map[int64]string{}
	for i, r := range recs {
		names[r.ID] = "r" + strconv.Itoa(i+1)
	}
	txName := map[common.Hash]string{}
	logName := map[string]string{}
	for n := 1; n <= 7; n++ {
		txName[CorpusTx(n)] = "tx" + strconv.Itoa(n)
	}
	for _, b := range blocks {
		for _, tx := range b.Txs {
			for k, l := range tx.Logs {
				logName[tx.Hash.Hex()+"/"+strconv.Itoa(int(l.Index))] = txName[tx.Hash] + ".ev" + strconv.Itoa(k)
			}
		}
	}
	q := mustParse(t, "source:chain")
	_, err := s.Search(ctx, store.SearchRequest{Query: q, Limit: query.MaxLimit}, func(r record.Record) error {
		if len(r.TxHashes) == 0 {
			return fmt.Errorf("chain record %d (%s) has no tx link", r.ID, r.Message)
		}
		tx := txName[r.TxHashes[0]]
		switch r.Kind {
		case record.KindTx:
			names[r.ID] = tx
		case record.KindRevert:
			names[r.ID] = tx + ".revert"
		case record.KindEvent:
			names[r.ID] = logName[r.TxHashes[0].Hex()+"/"+fmt.Sprint(r.Attrs["logIndex"])]
		}
		if names[r.ID] == "" {
			return fmt.Errorf("cannot name chain record %+v", r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 7 transactions, 4 logs, 2 reverts, 12 off-chain records.
	if len(names) != corpusSize {
		t.Fatalf("corpus has %d records, want %d: %v", len(names), corpusSize, names)
	}
	return names
}

func mustParse(t *testing.T, q string) *query.Query {
	t.Helper()
	pq, err := query.Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q): %v", q, err)
	}
	return pq
}

// scriptCase is one query of the search script.
type scriptCase struct {
	line  int // of the "?" line
	opts  string
	query string
	want  []string
	// span is the range of lines of the expectation, to rewrite it.
	wantFrom, wantTo int
}

// parseScript reads the script: "# comments", "@ options" for the next
// query, "? query", then the expected output indented by two spaces.
func parseScript(t *testing.T, src string) ([]scriptCase, []string) {
	lines := strings.Split(src, "\n")
	var (
		cases []scriptCase
		opts  string
	)
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "@ "):
			opts = l[2:]
		case strings.HasPrefix(l, "? "):
			c := scriptCase{line: i + 1, opts: opts, query: l[2:], wantFrom: i + 1}
			opts = ""
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "  ") {
				i++
				c.want = append(c.want, lines[i][2:])
			}
			c.wantTo = i + 1
			cases = append(cases, c)
		case l == "" || strings.HasPrefix(l, "#"):
		default:
			t.Fatalf("search.txt:%d: cannot parse %q", i+1, l)
		}
	}
	return cases, lines
}

func testSearchScript(t *testing.T, s SearchStore) {
	names := loadCorpus(t, s)
	ctx := t.Context()
	cases, lines := parseScript(t, searchScript)
	if len(cases) < 40 {
		t.Fatalf("the script has %d queries, want at least 40", len(cases))
	}
	var all []record.Record
	if _, err := s.Search(ctx, store.SearchRequest{Limit: query.MaxLimit}, func(r record.Record) error {
		all = append(all, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i := len(cases) - 1; i >= 0; i-- { // backwards, so that rewrites keep line numbers
		c := cases[i]
		got := runCase(t, ctx, s, names, c)
		// The independent oracle answers the plain searches it can
		// express; the store must agree with it.
		if q, err := query.Parse(c.query); err == nil && (c.opts == "" || c.opts == "asc") && len(got) == 1 && !strings.HasSuffix(got[0], "…") && got[0] != "invalid" {
			if want, ok := oracleSearch(all, names, q, c.opts == "asc"); ok {
				checked++
				line := strings.Join(want, " ")
				if line == "" {
					line = "(none)"
				}
				if got[0] != line {
					t.Errorf("search.txt:%d: %s\n store:  %s\n oracle: %s", c.line, c.query, got[0], line)
				}
			}
		}
		if *updateSearch {
			repl := make([]string, len(got))
			for j, g := range got {
				repl[j] = "  " + g
			}
			lines = slices.Concat(lines[:c.wantFrom], repl, lines[c.wantTo:])
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("search.txt:%d: %s\n got:\n  %s\nwant:\n  %s", c.line, c.query,
				strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
		}
	}
	if checked < 40 {
		t.Errorf("the oracle checked %d of the script's queries, want at least 40", checked)
	}
	t.Logf("the oracle agreed on %d of %d queries", checked, len(cases))
	if *updateSearch {
		_, file, _, _ := runtime.Caller(0)
		if err := os.WriteFile(filepath.Join(filepath.Dir(file), "testdata", "search.txt"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The injection attempts left the schema alone.
	var n int
	if _, err := s.Search(ctx, store.SearchRequest{Limit: query.MaxLimit}, func(record.Record) error { n++; return nil }); err != nil || n != corpusSize {
		t.Fatalf("after the script: %d records, %v; want %d", n, err, corpusSize)
	}
}

// runCase runs one query and renders its result: the names of the matching
// records, a table, or the error.
func runCase(t *testing.T, ctx context.Context, s SearchStore, names map[int64]string, c scriptCase) []string {
	t.Helper()
	q, err := query.Parse(c.query)
	if err != nil {
		return []string{"parse error: " + err.Error()}
	}
	req := store.SearchRequest{Query: q, Limit: query.MaxLimit}
	buckets := 0
	for _, o := range strings.Fields(c.opts) {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "from", "to":
			d, err := time.ParseDuration(v)
			if err != nil {
				t.Fatalf("search.txt:%d: option %s: %v", c.line, o, err)
			}
			if k == "from" {
				req.From = CorpusStart.Add(d)
			} else {
				req.To = CorpusStart.Add(d)
			}
		case "asc":
			req.Order = store.OldestFirst
		case "limit":
			req.Limit, _ = strconv.Atoi(v)
		case "histogram":
			buckets, _ = strconv.Atoi(v)
		default:
			t.Fatalf("search.txt:%d: unknown option %s", c.line, o)
		}
	}
	render := func(err error) []string {
		if errors.Is(err, store.ErrInvalid) {
			return []string{"invalid"}
		}
		t.Fatalf("search.txt:%d: %s: %v", c.line, c.query, err)
		return nil
	}
	if buckets > 0 {
		bs, err := s.Histogram(ctx, req, buckets)
		if err != nil {
			return render(err)
		}
		var out []string
		for _, b := range bs {
			levels := make([]string, 0, len(b.ByLevel))
			for l, n := range b.ByLevel {
				levels = append(levels, l+"="+strconv.FormatInt(n, 10))
			}
			slices.Sort(levels)
			out = append(out, strings.TrimSpace(fmt.Sprintf("%s %d %s", offset(b.Start), b.Count, strings.Join(levels, " "))))
		}
		return out
	}
	if len(q.Pipes) > 0 {
		tab, err := s.Table(ctx, req)
		if err != nil {
			return render(err)
		}
		out := []string{strings.Join(tab.Columns, " | ")}
		for _, row := range tab.Rows {
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = cell(v)
			}
			out = append(out, strings.Join(cells, " | "))
		}
		return out
	}
	var got []string
	next, err := s.Search(ctx, req, func(r record.Record) error {
		got = append(got, names[r.ID])
		return nil
	})
	if err != nil {
		return render(err)
	}
	// Every search is also counted by Histogram over the same range: the
	// buckets sum to the number of matches.
	if len(got) > 0 && next == "" {
		bs, err := s.Histogram(ctx, req, 7)
		if err != nil {
			t.Fatalf("search.txt:%d: Histogram: %v", c.line, err)
		}
		var sum int64
		for _, b := range bs {
			sum += b.Count
		}
		if sum != int64(len(got)) {
			t.Errorf("search.txt:%d: histogram buckets sum to %d, search found %d", c.line, sum, len(got))
		}
	}
	line := strings.Join(got, " ")
	if line == "" {
		line = "(none)"
	}
	if next != "" {
		line += " …"
	}
	return []string{line}
}

// offset renders a time as its offset from CorpusStart.
func offset(t time.Time) string { return "+" + t.Sub(CorpusStart).String() }

func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case time.Time:
		return offset(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

func testAppendAssignsIDs(t *testing.T, s SearchStore) {
	ctx := t.Context()
	at := CorpusStart
	recs := []record.Record{
		{Time: at.Add(2 * time.Second), Source: "app", Kind: "log", Level: "info", Message: "b"},
		{Time: at, Source: "app", Kind: "log", Level: "info", Message: "a"},
		{Time: at, Source: "app", Kind: "log", Level: "info", Message: "a2"},
	}
	if err := s.AppendRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// Records of the same time, in a later call.
	more := []record.Record{{Time: at, Source: "app", Kind: "log", Level: "info", Message: "a3"}}
	if err := s.AppendRecords(ctx, more); err != nil {
		t.Fatal(err)
	}
	ids := map[int64]bool{}
	for _, r := range append(recs, more...) {
		if r.ID == 0 || ids[r.ID] {
			t.Fatalf("record %q got ID %d (zero or repeated)", r.Message, r.ID)
		}
		ids[r.ID] = true
	}
	var got []string
	if _, err := s.Search(ctx, store.SearchRequest{Order: store.OldestFirst}, func(r record.Record) error {
		got = append(got, r.Message)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "a2", "a3", "b"}; !slices.Equal(got, want) {
		t.Fatalf("oldest first = %v, want %v (time, then insertion)", got, want)
	}
	// Stored records read back equal, attributes typed as documented.
	r := record.Record{Time: at.Add(time.Nanosecond), Source: "app", Kind: "log", Level: "warn", Service: "svc",
		Message: "round trip ✓ \x00 nul",
		Attrs: map[string]any{"i": int64(-7), "f": 1.5, "s": "x", "b": true, "n": map[string]any{"deep": []any{"a", int64(1)}},
			"big": "123456789012345678901234567890"},
		TxHashes: []common.Hash{CorpusTx(1), CorpusTx(2)}, Addresses: []common.Address{Alice}}
	if err := s.AppendRecords(ctx, []record.Record{r}); err != nil {
		t.Fatal(err)
	}
	var back []record.Record
	if _, err := s.Search(ctx, store.SearchRequest{Query: mustParse(t, "level:warn")}, func(r record.Record) error {
		back = append(back, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r.ID = back[0].ID
	equal(t, "record round trip", back, []record.Record{r})
}

func testAppendRefuses(t *testing.T, s SearchStore) {
	ctx := t.Context()
	for _, r := range []record.Record{
		{Source: "app", Kind: "log", Level: "info", Message: "zero time"},
		{Time: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), Source: "app", Kind: "log", Level: "info", Message: "far future"},
	} {
		ok := record.Record{Time: CorpusStart, Source: "app", Kind: "log", Level: "info", Message: "fine"}
		err := s.AppendRecords(ctx, []record.Record{ok, r})
		wantErr(t, "AppendRecords("+r.Message+")", err, store.ErrInvalid)
	}
	n := 0
	if _, err := s.Search(ctx, store.SearchRequest{}, func(record.Record) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("after refused appends: %d records, %v; want none (all or nothing)", n, err)
	}
}

// searchAll pages through req with page size n and returns the names.
func searchAll(t *testing.T, s SearchStore, req store.SearchRequest, between func()) []int64 {
	t.Helper()
	var ids []int64
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		got := 0
		next, err := s.Search(t.Context(), req, func(r record.Record) error {
			ids = append(ids, r.ID)
			got++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got > req.Limit {
			t.Fatalf("page of %d records, limit %d", got, req.Limit)
		}
		if next == "" {
			return ids
		}
		req.Cursor = next
		if between != nil {
			between()
		}
	}
}

func testPaging(t *testing.T, s SearchStore) {
	loadCorpus(t, s)
	for _, order := range []store.Order{store.NewestFirst, store.OldestFirst} {
		for _, q := range []string{"*", "source:app", "wallet OR level:error", "tx:*"} {
			req := store.SearchRequest{Query: mustParse(t, q), Order: order, Limit: query.MaxLimit}
			all := searchAll(t, s, req, nil)
			for _, n := range []int{1, 2, 5} {
				req.Limit = n
				if got := searchAll(t, s, req, nil); !slices.Equal(got, all) {
					t.Fatalf("%q order %d pages of %d: %v, want %v", q, order, n, got, all)
				}
			}
		}
	}
}

// testPagingUnderInserts pages while another goroutine appends records, both
// newer and older than the page: no record read repeats, and every record
// present at the start is read once, in order.
func testPagingUnderInserts(t *testing.T, s SearchStore) {
	names := loadCorpus(t, s)
	ctx := t.Context()
	for _, order := range []store.Order{store.NewestFirst, store.OldestFirst} {
		req := store.SearchRequest{Query: mustParse(t, "source:app OR source:chain OR source:security"), Order: order, Limit: 3}
		var (
			wg   sync.WaitGroup
			errc = make(chan error, 100)
			k    int
		)
		between := func() {
			k++
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				// One record before everything, one after, one in the middle.
				recs := []record.Record{
					{Time: CorpusStart.Add(-time.Duration(k) * time.Second), Source: "app", Kind: "log", Level: "info", Message: "early"},
					{Time: CorpusStart.Add(time.Hour + time.Duration(k)*time.Second), Source: "app", Kind: "log", Level: "info", Message: "late"},
					{Time: CorpusStart.Add(13 * time.Second), Source: "security", Kind: "log", Level: "info", Message: "middle"},
				}
				errc <- s.AppendRecords(ctx, recs)
			}(k)
			wg.Wait()
		}
		ids := searchAll(t, s, req, between)
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		seen := map[int64]bool{}
		for i, id := range ids {
			if seen[id] {
				t.Fatalf("record %d read twice", id)
			}
			seen[id] = true
			if i > 0 && (order == store.NewestFirst) != (id < ids[i-1]) {
				t.Fatalf("order %d broken at %d: %v", order, i, ids)
			}
		}
		for id, name := range names {
			if !seen[id] && !strings.HasPrefix(name, "r9") && !strings.HasPrefix(name, "r10") && !strings.HasPrefix(name, "r11") {
				t.Fatalf("record %s (%d), present from the start, was not read", name, id)
			}
		}
	}
}

func testBadCursors(t *testing.T, s SearchStore) {
	loadCorpus(t, s)
	ctx := t.Context()
	req := store.SearchRequest{Query: mustParse(t, "source:app"), Limit: 2}
	next, err := s.Search(ctx, req, func(record.Record) error { return nil })
	if err != nil || next == "" {
		t.Fatalf("first page: cursor %q, %v", next, err)
	}
	flip := []byte(next)
	flip[3] ^= 1
	if flip[3] == next[3] {
		t.Fatal("BUG: flip did nothing")
	}
	other := req
	other.Query = mustParse(t, "source:security")
	bad := []struct {
		name   string
		req    store.SearchRequest
		cursor string
	}{
		{"garbage", req, "not a cursor"},
		{"empty-ish", req, "AAAA"},
		{"altered", req, string(flip)},
		{"other query", other, next},
		{"other order", store.SearchRequest{Query: req.Query, Limit: 2, Order: store.OldestFirst}, next},
		{"other range", store.SearchRequest{Query: req.Query, Limit: 2, From: CorpusStart}, next},
		{"huge", req, strings.Repeat("A", 10000)},
	}
	for _, b := range bad {
		b.req.Cursor = b.cursor
		_, err := s.Search(ctx, b.req, func(record.Record) error {
			t.Fatalf("%s: a record was returned", b.name)
			return nil
		})
		wantErr(t, "cursor "+b.name, err, store.ErrInvalid)
	}
	// The same query written differently shares cursors.
	same := req
	same.Query, same.Cursor = mustParse(t, "  source:app  "), next
	if _, err := s.Search(ctx, same, func(record.Record) error { return nil }); err != nil {
		t.Fatalf("cursor with an equal query: %v", err)
	}
	// An error from the callback stops the search and comes back.
	stop := errors.New("stop")
	if _, err := s.Search(ctx, req, func(record.Record) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("callback error: got %v", err)
	}
}

func testRollbackDropsChainRecords(t *testing.T, s SearchStore) {
	names := loadCorpus(t, s)
	ctx := t.Context()
	if err := s.RollbackTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var got []string
	if _, err := s.Search(ctx, store.SearchRequest{Query: mustParse(t, "source:chain"), Order: store.OldestFirst},
		func(r record.Record) error { got = append(got, names[r.ID]); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"tx1", "tx1.ev0", "tx2", "tx2.ev0"}; !slices.Equal(got, want) {
		t.Fatalf("chain records after rollback to 1: %v, want %v", got, want)
	}
	for _, q := range []string{"tx:" + CorpusTx(3).Hex(), "InsufficientCollateral"} {
		got = nil
		if _, err := s.Search(ctx, store.SearchRequest{Query: mustParse(t, q)},
			func(r record.Record) error { got = append(got, names[r.ID]); return nil }); err != nil {
			t.Fatal(err)
		}
		// Only the application's log is left.
		if want := []string{"r2"}; !slices.Equal(got, want) {
			t.Fatalf("%s after rollback: %v, want %v", q, got, want)
		}
	}
	// The blocks come back with their records.
	mustWrite(t, s, CorpusBlocks()[1:])
	n := 0
	if _, err := s.Search(ctx, store.SearchRequest{Query: mustParse(t, "source:chain")}, func(record.Record) error { n++; return nil }); err != nil || n != 13 {
		t.Fatalf("chain records after rewrite: %d, %v; want 13", n, err)
	}
}

func testRetain(t *testing.T, s SearchStore) {
	names := loadCorpus(t, s)
	ctx := t.Context()
	n, err := s.Retain(ctx, record.SourceApp, CorpusStart.Add(14*time.Second))
	if err != nil || n != 3 {
		t.Fatalf("Retain(app, +14s) = %d, %v; want 3 (r1, r2, r12)", n, err)
	}
	n, err = s.Retain(ctx, "nothing", CorpusStart.Add(time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("Retain(nothing) = %d, %v; want 0", n, err)
	}
	var got []string
	if _, err := s.Search(ctx, store.SearchRequest{Query: mustParse(t, "source:app OR borrow")},
		func(r record.Record) error { got = append(got, names[r.ID]); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"r13", "r5", "r4", "r3", "tx3.revert", "tx3"}; !slices.Equal(got, want) {
		t.Fatalf("after retention: %v, want %v", got, want)
	}
}

func testSearchLimits(t *testing.T, s SearchStore) {
	loadCorpus(t, s)
	ctx := t.Context()
	_, err := s.Search(ctx, store.SearchRequest{Limit: -1}, func(record.Record) error { return nil })
	wantErr(t, "negative limit", err, store.ErrInvalid)
	for _, b := range []int{0, -1, 1001} {
		_, err := s.Histogram(ctx, store.SearchRequest{}, b)
		wantErr(t, fmt.Sprintf("Histogram(%d buckets)", b), err, store.ErrInvalid)
	}
	n := 0
	if _, err := s.Search(ctx, store.SearchRequest{}, func(record.Record) error { n++; return nil }); err != nil || n != corpusSize {
		t.Fatalf("default limit: %d records, %v", n, err)
	}
	// An empty range has no buckets.
	bs, err := s.Histogram(ctx, store.SearchRequest{From: CorpusStart.Add(time.Hour), To: CorpusStart}, 10)
	if err != nil || len(bs) != 0 {
		t.Fatalf("Histogram of an empty range = %v, %v", bs, err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Search(canceled, store.SearchRequest{}, func(record.Record) error { return nil }); err == nil {
		t.Fatal("Search with a canceled context succeeded")
	}
}
