package sqlite

import (
	"bufio"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

// FuzzSQLBuild parses arbitrary queries and runs every one that parses as
// a search, a histogram and a table against a store holding the search
// corpus. The built SQL must always be valid: the only error allowed is
// store.ErrInvalid, for a query the store refuses.
func FuzzSQLBuild(f *testing.F) {
	// The queries of the search script, and hostile ones.
	file, err := os.Open("../storetest/testdata/search.txt")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if q, ok := strings.CutPrefix(sc.Text(), "? "); ok {
			f.Add(q)
		}
	}
	file.Close()
	for _, q := range []string{
		`message:"'; DROP TABLE records; --"`, `"\" OR 1=1 --"`, `attr.a:"x' OR '1'='1"`, `NEAR(a b)`, `"a" * ^b`,
		`attr.x-y.z_1:>-1e308`, `attr.a:[* TO *]`, `service:*%_\\*`, `event:[*?]*`, `{message}:x`, `"\x00"`,
		`a OR NOT (b AND -c) | stats p1(attr.a), count_distinct(tx) by tx, level | sort -count_distinct(tx) | limit 1`,
		`* | timechart count() by attr.user.id`, `* | top 1 attr.x`, `time:*`, `tx:0xab*`, `block:[1 TO 2}`,
	} {
		f.Add(q)
	}
	db := openTemp(f)
	f.Cleanup(func() { db.Close() })
	ctx := f.Context()
	if err := db.WriteBlocks(ctx, storetest.CorpusBlocks()); err != nil {
		f.Fatal(err)
	}
	if err := db.AppendRecords(ctx, storetest.CorpusRecords()); err != nil {
		f.Fatal(err)
	}
	var all []record.Record
	if _, err := db.Search(ctx, store.SearchRequest{Limit: query.MaxLimit}, func(r record.Record) error {
		all = append(all, r)
		return nil
	}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		pq, err := query.Parse(q)
		if err != nil {
			return
		}
		req := store.SearchRequest{Query: pq, Limit: 5}
		check := func(what string, err error) {
			if err != nil && !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("%s of %q (canonical %q): %v", what, q, pq.String(), err)
			}
		}
		var got []int64
		_, err = db.Search(ctx, store.SearchRequest{Query: pq, Limit: query.MaxLimit}, func(r record.Record) error {
			got = append(got, r.ID)
			return nil
		})
		check("Search", err)
		// Where the plain-Go oracle can read the query, the store agrees.
		if want, ok := storetest.OracleSearch(all, pq, false); ok && err == nil {
			ids := make([]int64, len(want))
			for i, r := range want {
				ids[i] = r.ID
			}
			if !slices.Equal(got, ids) {
				t.Fatalf("Search(%q) = %v, the oracle finds %v", q, got, ids)
			}
		}
		_, err = db.Search(ctx, req, func(record.Record) error { return nil })
		check("Search", err)
		_, err = db.Histogram(ctx, req, 5)
		check("Histogram", err)
		_, err = db.Table(ctx, req)
		check("Table", err)
	})
}

// FuzzHistogramRange asks for histograms over arbitrary ranges, up to the
// widest the store can hold (1677 to 2262): the answer is a clear
// store.ErrInvalid or at most the buckets asked for, never a panic.
func FuzzHistogramRange(f *testing.F) {
	f.Add(int64(0), int64(10_485_849_600), 60)            // 1970 to 2300: wider than int64 nanoseconds
	f.Add(int64(-9_000_000_000), int64(9_000_000_000), 1) // 1684 to 2255
	f.Add(int64(1_700_000_000), int64(1_700_003_600), 1000)
	f.Add(int64(1_700_000_000), int64(1_700_000_000), 7)
	db := openTemp(f)
	f.Cleanup(func() { db.Close() })
	ctx := f.Context()
	if err := db.AppendRecords(ctx, storetest.CorpusRecords()); err != nil {
		f.Fatal(err)
	}
	all, err := query.Parse("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, from, to int64, buckets int) {
		req := store.SearchRequest{Query: all, From: time.Unix(from, 0), To: time.Unix(to, 0)}
		bs, err := db.Histogram(ctx, req, buckets)
		if err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("Histogram(%d, %d, %d): %v", from, to, buckets, err)
			}
			return
		}
		if len(bs) > buckets {
			t.Fatalf("Histogram(%d, %d, %d): %d buckets", from, to, buckets, len(bs))
		}
	})
}
