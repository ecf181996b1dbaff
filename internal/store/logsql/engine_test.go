package logsql

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"

	"context"
	"flag"
	"fmt"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

// testEngine is the VictoriaLogs storage in process, as a Runner: the
// engine the compiled queries are checked against here (the backends run
// the whole storetest suite on theirs).
type testEngine struct{ s *logstorage.Storage }

var flagsOnce sync.Once

func openTestEngine(t *testing.T) *testEngine {
	t.Helper()
	flagsOnce.Do(func() {
		flag.Set("memory.allowedBytes", "67108864")
		if !flag.Parsed() {
			flag.CommandLine.Parse(nil)
		}
	})
	const span = 100 * 365 * 24 * time.Hour
	s := logstorage.MustOpenStorage(t.TempDir(), &logstorage.StorageConfig{
		Retention: span, FutureRetention: span, MaxBackfillAge: span, FlushInterval: time.Second})
	t.Cleanup(s.MustClose)
	return &testEngine{s: s}
}

func (e *testEngine) add(t *testing.T, recs []record.Record) {
	t.Helper()
	lr := logstorage.GetLogRows(nil, nil, nil, nil, "")
	defer logstorage.PutLogRows(lr)
	var ids IDs
	for i := range recs {
		var err error
		if recs[i].ID, err = ids.For(recs[i].Time); err != nil {
			t.Fatal(err)
		}
		fields, streams, err := Encode(nil, &recs[i])
		if err != nil {
			t.Fatal(err)
		}
		lr.MustAdd(logstorage.TenantID{}, recs[i].Time.UnixNano(), fields, streams)
	}
	e.s.MustAddRows(lr)
	e.s.DebugFlush()
}

func (e *testEngine) RunQuery(ctx context.Context, text string, fn func(row []Field) error) error {
	q, err := logstorage.ParseQuery(text)
	if err != nil {
		return fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu   sync.Mutex
		ferr error
	)
	qctx := logstorage.NewQueryContext(ctx, &logstorage.QueryStats{}, []logstorage.TenantID{{}}, q, false, nil)
	err = e.s.RunQuery(qctx, func(_ uint, db *logstorage.DataBlock) {
		mu.Lock()
		defer mu.Unlock()
		if ferr != nil {
			return
		}
		cols := db.GetColumns(false)
		for i := range db.RowsCount() {
			var row []Field
			for _, c := range cols {
				if v := c.Values[i]; v != "" {
					// The engine reuses a block's buffers once its
					// callback returns; values are fn's to keep, as
					// the backends' runners give them.
					row = append(row, Field{Name: strings.Clone(c.Name), Value: strings.Clone(v)})
				}
			}
			if err := fn(row); err != nil {
				ferr = err
				cancel()
				return
			}
		}
	})
	if ferr != nil {
		return ferr
	}
	return err
}

// TestEngineAgreesWithOracle runs the search script's queries that the
// storetest oracle answers over the corpus's off-chain records, on the
// engine, and compares.
func TestEngineAgreesWithOracle(t *testing.T) {
	e := openTestEngine(t)
	recs := storetest.CorpusRecords()
	e.add(t, recs)
	names := map[int64]string{}
	for i, r := range recs {
		names[r.ID] = fmt.Sprintf("r%d", i+1)
	}
	s := &Searcher{Runner: e, CursorKey: []byte("key")}
	checked := 0
	for _, text := range scriptQueries(t) {
		q, err := query.Parse(text)
		if err != nil || len(q.Pipes) > 0 {
			continue
		}
		for _, asc := range []bool{false, true} {
			want, ok := storetest.OracleSearch(recs, q, asc)
			if !ok {
				continue
			}
			req := store.SearchRequest{Query: q, Limit: 5}
			if asc {
				req.Order = store.OldestFirst
			}
			var got []string
			for pages := 0; ; pages++ {
				next, err := s.Search(t.Context(), req, func(r record.Record) error {
					got = append(got, names[r.ID])
					return nil
				})
				if err != nil {
					t.Fatalf("%s: %v", text, err)
				}
				if next == "" || pages > 20 {
					break
				}
				req.Cursor = next
			}
			var w []string
			for _, r := range want {
				w = append(w, names[r.ID])
			}
			if !slices.Equal(got, w) {
				t.Errorf("%s (asc %v):\n engine: %s\n oracle: %s", text, asc, strings.Join(got, " "), strings.Join(w, " "))
			}
			checked++
		}
	}
	if checked < 40 {
		t.Fatalf("checked %d queries, want at least 40", checked)
	}
}

// TestEngineAgreesWithSQLite loads the search corpus (chain and off-chain
// records) into the SQLite store, copies every record, IDs included, into
// the engine, and runs every query of the search script on both: records,
// histograms and tables must be equal, or both refuse the query.
func TestEngineAgreesWithSQLite(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ref.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.WriteBlocks(ctx, storetest.CorpusBlocks()); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendRecords(ctx, storetest.CorpusRecords()); err != nil {
		t.Fatal(err)
	}
	var all []record.Record
	if _, err := db.Search(ctx, store.SearchRequest{Limit: query.MaxLimit}, func(r record.Record) error {
		all = append(all, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The SQLite store reads a JSON integer beyond int64 back as its
	// decimal string; the chain wrote it as a number.
	for _, r := range all {
		if r.Source == record.SourceChain {
			bigNumbers(r.Attrs)
		}
	}
	e := openTestEngine(t)
	e.addAsIs(t, all)
	s := &Searcher{Runner: e, CursorKey: []byte("key")}
	start := storetest.CorpusStart
	for _, c := range scriptCases(t) {
		q, err := query.Parse(c.query)
		if err != nil {
			continue
		}
		req := store.SearchRequest{Query: q, Limit: query.MaxLimit}
		buckets := 0
		for _, o := range strings.Fields(c.opts) {
			k, v, _ := strings.Cut(o, "=")
			switch k {
			case "from", "to":
				d, _ := time.ParseDuration(v)
				if k == "from" {
					req.From = start.Add(d)
				} else {
					req.To = start.Add(d)
				}
			case "asc":
				req.Order = store.OldestFirst
			case "limit":
				req.Limit, _ = strconv.Atoi(v)
			case "histogram":
				buckets, _ = strconv.Atoi(v)
			}
		}
		var ref, got any
		var refErr, gotErr error
		switch {
		case buckets > 0:
			ref, refErr = db.Histogram(ctx, req, buckets)
			got, gotErr = s.Histogram(ctx, req, buckets)
		case len(q.Pipes) > 0:
			ref, refErr = db.Table(ctx, req)
			got, gotErr = s.Table(ctx, req)
		default:
			ref, refErr = searchIDs(ctx, db, req)
			got, gotErr = searchIDs(ctx, s, req)
			if refErr == nil {
				hr, _ := db.Histogram(ctx, req, 7)
				hg, err := s.Histogram(ctx, req, 7)
				if err != nil || !reflect.DeepEqual(hr, hg) {
					t.Errorf("%s: histogram(7)\n engine: %v %v\n sqlite: %v", c.query, hg, err, hr)
				}
			}
		}
		if (refErr != nil) != (gotErr != nil) || gotErr != nil && !errors.Is(gotErr, store.ErrInvalid) {
			t.Errorf("%s (%s): engine error %v, sqlite error %v", c.query, c.opts, gotErr, refErr)
			continue
		}
		if refErr == nil && !reflect.DeepEqual(ref, got) {
			t.Errorf("%s (%s):\n engine: %v\n sqlite: %v", c.query, c.opts, got, ref)
		}
	}
}

type scriptCase struct{ opts, query string }

func scriptCases(t testing.TB) []scriptCase {
	src, err := os.ReadFile(filepath.Join("..", "storetest", "testdata", "search.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var (
		out  []scriptCase
		opts string
	)
	for _, l := range strings.Split(string(src), "\n") {
		switch {
		case strings.HasPrefix(l, "@ "):
			opts = l[2:]
		case strings.HasPrefix(l, "? "):
			out = append(out, scriptCase{opts, l[2:]})
			opts = ""
		}
	}
	return out
}

func searchIDs(ctx context.Context, s store.Searcher, req store.SearchRequest) ([]int64, error) {
	var ids []int64
	_, err := s.Search(ctx, req, func(r record.Record) error {
		ids = append(ids, r.ID)
		return nil
	})
	return ids, err
}

// addAsIs stores records with the IDs they have.
func (e *testEngine) addAsIs(t *testing.T, recs []record.Record) {
	t.Helper()
	lr := logstorage.GetLogRows(nil, nil, nil, nil, "")
	defer logstorage.PutLogRows(lr)
	for i := range recs {
		fields, streams, err := Encode(nil, &recs[i])
		if err != nil {
			t.Fatal(err)
		}
		lr.MustAdd(logstorage.TenantID{}, recs[i].Time.UnixNano(), fields, streams)
	}
	e.s.MustAddRows(lr)
	e.s.DebugFlush()
}

func bigNumbers(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case map[string]any:
			bigNumbers(v)
		case string:
			if len(v) >= 19 && isInteger(v) {
				m[k] = json.Number(v)
			}
		}
	}
}
