package vlogs_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/logsql"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
	"github.com/blocktorch/blocktorch/internal/store/vlogs"
)

// TestLinkIndex: tx: and address: lookups find every record linking the
// value across hours and days, also after the index is rebuilt from the
// stored records, and they do read the index (a row taken out of it hides
// that minute's record, which is how the test knows the index is used).
func TestLinkIndex(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	txA := common.HexToHash("0xa1")
	txC := common.HexToHash("0xc3")
	addrB := storetest.Addr(0xb)
	t0 := time.Date(2026, 5, 1, 10, 30, 0, 0, time.UTC)
	recs := []record.Record{
		{Time: t0, TxHashes: []common.Hash{txA}, Message: "first"},
		// Links that are words of the message are stored there only,
		// and indexed all the same.
		{Time: t0.Add(5 * time.Hour), TxHashes: []common.Hash{txA}, Addresses: []common.Address{addrB},
			Message: "second " + txA.Hex() + " from " + strings.ToLower(addrB.Hex())},
		{Time: t0.Add(30 * time.Hour), Addresses: []common.Address{addrB}, Message: "third"},
		{Time: t0.Add(time.Hour), Message: "no links"},
	}
	for i := range recs {
		recs[i].Source, recs[i].Kind, recs[i].Level, recs[i].Service = record.SourceApp, record.KindLog, "info", "api"
	}
	openEngine := func() *vlogs.Engine {
		e, err := vlogs.Open(ctx, dir, vlogs.Options{CursorKey: []byte("k")})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	lookup := func(e *vlogs.Engine, q string) []string {
		t.Helper()
		pq, err := query.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		_, err = e.Search(ctx, store.SearchRequest{Query: pq, Order: store.OldestFirst, Limit: 100}, func(r record.Record) error {
			got = append(got, strings.Fields(r.Message)[0])
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return got
	}
	check := func(e *vlogs.Engine, when string) {
		t.Helper()
		for q, want := range map[string]string{
			"tx:" + txA.Hex():                             "[first second]",
			"address:" + addrB.Hex():                      "[second third]",
			"tx:" + txA.Hex() + " address:" + addrB.Hex(): "[second]",
			"tx:" + txC.Hex():                             "[]",
		} {
			if got := lookup(e, q); fmtList(got) != want {
				t.Errorf("%s: %s found %v, want %s", when, q, got, want)
			}
		}
	}
	e := openEngine()
	if err := e.AppendRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	check(e, "after append")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// A records directory without the index (written before it existed)
	// gets one built from its records.
	if err := os.Remove(filepath.Join(dir, "links.db")); err != nil {
		t.Fatal(err)
	}
	e = openEngine()
	check(e, "after the rebuild")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "links.db")); err != nil {
		t.Fatalf("no index after the rebuild: %v", err)
	}

	// Take the second record's minute out of the index: a tx: lookup
	// that reads the index no longer finds that record.
	db, err := sql.Open("sqlite", filepath.Join(dir, "links.db"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.Exec(`DELETE FROM links WHERE bucket = ?`, t0.Add(5*time.Hour).UnixNano()/int64(logsql.LinkBucket))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatal("the index held no row for the second record's minute")
	}
	db.Close()
	e = openEngine()
	defer e.Close()
	if got := lookup(e, "tx:"+txA.Hex()); fmtList(got) != "[first]" {
		t.Fatalf("with the minute taken out of the index, tx: found %v: the lookup does not read the index", got)
	}
}

func fmtList(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out + "]"
}

// TestLinkIndexRetain: Retain takes the retained source's minutes older
// than the horizon out of the link index, keeps other sources' rows of
// the same minutes and newer minutes, and lookups still find every
// record left; an index of the first format (no sources) is rebuilt.
func TestLinkIndexRetain(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	txA := common.HexToHash("0xa1")
	t0 := time.Date(2026, 5, 1, 10, 30, 0, 0, time.UTC)
	recs := []record.Record{
		{Time: t0, Source: record.SourceApp, Message: "old app"},
		{Time: t0.Add(time.Second), Source: record.SourceSecurity, Message: "old security"},
		{Time: t0.Add(48 * time.Hour), Source: record.SourceApp, Message: "new app"},
	}
	for i := range recs {
		recs[i].TxHashes, recs[i].Kind, recs[i].Level, recs[i].Service = []common.Hash{txA}, record.KindLog, "info", "api"
	}
	e, err := vlogs.Open(ctx, dir, vlogs.Options{CursorKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.AppendRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	rowsOf := func(source string) int {
		t.Helper()
		db, err := sql.Open("sqlite", filepath.Join(dir, "links.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		err = db.QueryRow(`SELECT count(*) FROM links JOIN sources ON sources.id = links.source WHERE sources.name = ?`, source).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if a, s := rowsOf(record.SourceApp), rowsOf(record.SourceSecurity); a != 2 || s != 1 {
		t.Fatalf("index holds %d app and %d security rows, want 2 and 1", a, s)
	}
	n, err := e.Retain(ctx, record.SourceApp, t0.Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Retain = %d, %v; want 1 record deleted", n, err)
	}
	if a, s := rowsOf(record.SourceApp), rowsOf(record.SourceSecurity); a != 1 || s != 1 {
		t.Fatalf("after Retain the index holds %d app and %d security rows, want 1 and 1", a, s)
	}
	pq, err := query.Parse("tx:" + txA.Hex())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if _, err := e.Search(ctx, store.SearchRequest{Query: pq, Order: store.OldestFirst, Limit: 10}, func(r record.Record) error {
		got = append(got, r.Message)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmtList(got) != "[old security new app]" {
		t.Fatalf("after Retain tx: found %v", got)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// The first format: (key, bucket) only. Open rebuilds it with sources.
	db, err := sql.Open("sqlite", filepath.Join(dir, "links.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE links`, `DROP TABLE sources`,
		`CREATE TABLE links (key INTEGER NOT NULL, bucket INTEGER NOT NULL, PRIMARY KEY (key, bucket)) WITHOUT ROWID`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	e, err = vlogs.Open(ctx, dir, vlogs.Options{CursorKey: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if a, s := rowsOf(record.SourceApp), rowsOf(record.SourceSecurity); a != 1 || s != 1 {
		t.Fatalf("after the rebuild the index holds %d app and %d security rows, want 1 and 1", a, s)
	}
}
