package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "sub", "dir", "blocktorch.db"))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestSearch(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) storetest.SearchStore { return openTemp(t) })
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "chain.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	blocks := storetest.Chain(1, 1, storetest.BlockHash(1, 0), 5, 3, 2)
	if err := db.WriteBlocks(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	c := store.Contract{Address: storetest.Addr(1), Name: "Token", ABI: []byte(`[]`), Origin: "demo",
		Added: time.Unix(1_700_000_000, 0).UTC()}
	if err := db.PutContract(ctx, c); err != nil {
		t.Fatal(err)
	}
	counts, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if head, err := db.Head(ctx); err != nil || head != blocks[4].Ref() {
		t.Fatalf("Head after reopen = %v, %v; want %v", head, err, blocks[4].Ref())
	}
	if got, err := db.Counts(ctx); err != nil || got != counts {
		t.Fatalf("Counts after reopen = %+v, %v; want %+v", got, err, counts)
	}
	tx, err := db.Tx(ctx, blocks[2].Txs[0].Hash)
	if err != nil || len(tx.Logs) != 2 {
		t.Fatalf("Tx after reopen = %d logs, %v", len(tx.Logs), err)
	}
	if got, err := db.Contract(ctx, c.Address); err != nil || got.Name != "Token" {
		t.Fatalf("Contract after reopen = %+v, %v", got, err)
	}
	// The writer continues where it stopped.
	if err := db.WriteBlocks(ctx, storetest.Chain(1, 6, blocks[4].Hash, 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
}

func TestMigrations(t *testing.T) {
	ctx := t.Context()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "chain.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := db.SchemaVersion(ctx); err != nil || v != len(ms) {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, len(ms))
	}
	var applied int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(ms) {
		t.Fatalf("%d migrations recorded, want %d", applied, len(ms))
	}
	// Running them again is a no-op.
	if err := db.migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	db.Close()
	for range 2 {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		var n int
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
			t.Fatalf("after reopen %d migrations recorded, %v; want %d", n, err, len(ms))
		}
		db.Close()
	}

	// A database written by a newer version is refused with a clear error.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future.sql', 0)`,
		len(ms)+1); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err = Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer database = %v, want an error saying it is newer", err)
	}
}

func TestOpenRefusesNonFiles(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if db, err := Open(t.Context(), p); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded, want an error", p)
		}
	}
}

func TestPragmas(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	ctx := t.Context()
	check := func(conn *sql.DB, pragma, want string) {
		t.Helper()
		var got string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(got, want) {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	for _, conn := range []*sql.DB{db.write, db.read} {
		check(conn, "journal_mode", "wal")
		check(conn, "synchronous", "1") // NORMAL
		check(conn, "foreign_keys", "1")
		check(conn, "busy_timeout", strconv.Itoa(int(busyTimeout.Milliseconds())))
	}
	// Read connections cannot write, even by mistake.
	if _, err := db.read.ExecContext(ctx, `DELETE FROM blocks`); err == nil {
		t.Error("a read connection could write")
	}
}

// TestUsesIndexes checks that the hot queries are answered from an index,
// not a table scan, so that they stay fast as the chain grows.
func TestUsesIndexes(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	ctx := t.Context()
	a := common.Address{1}
	h := common.Hash{1}
	tests := []struct {
		query string
		args  []any
	}{
		{`SELECT * FROM txs WHERE from_addr = ? ORDER BY id DESC LIMIT 50`, []any{a[:]}},
		{`SELECT * FROM txs WHERE to_addr = ? ORDER BY id DESC LIMIT 50`, []any{a[:]}},
		{`SELECT * FROM txs WHERE contract_address = ? ORDER BY id DESC LIMIT 50`, []any{a[:]}},
		{`SELECT * FROM txs WHERE status = 0 ORDER BY id DESC LIMIT 50`, nil},
		{`SELECT * FROM txs WHERE hash = ?`, []any{h[:]}},
		{`SELECT * FROM txs WHERE time >= ? AND time < ?`, []any{1, 2}},
		{`SELECT * FROM logs WHERE address = ? ORDER BY id DESC LIMIT 50`, []any{a[:]}},
		{`SELECT * FROM logs WHERE topic0 = ? ORDER BY id DESC LIMIT 50`, []any{h[:]}},
		{`SELECT * FROM logs WHERE event_name = ? ORDER BY id DESC LIMIT 50`, []any{"Transfer"}},
		{`SELECT * FROM logs WHERE tx_hash = ? ORDER BY id`, []any{h[:]}},
		{`SELECT * FROM logs WHERE time >= ? AND time < ?`, []any{1, 2}},
		{`DELETE FROM logs WHERE id >= ?`, []any{5}},
		{`DELETE FROM txs WHERE id >= ?`, []any{5}},
	}
	for _, tt := range tests {
		rows, err := db.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tt.query, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if strings.Contains(p, "SCAN txs") && !strings.Contains(p, "USING") || strings.Contains(p, "SCAN logs") && !strings.Contains(p, "USING") ||
			strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s\n  plan: %s", tt.query, p)
		}
	}
}

// FuzzRoundTrip writes attacker-controlled bytes and strings (calldata, log
// data, decoded arguments, revert messages) and reads them back unchanged,
// except where JSON itself must replace invalid UTF-8.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{}, []byte{}, "", "", uint8(0))
	f.Add([]byte{0xa9, 0x05, 0x9c, 0xbb}, []byte{0, 0, 0}, "hello", "reverted: \"x\"", uint8(3))
	f.Add([]byte{0xff, 0x00}, []byte("\x00\x01"), "\xff\xfe invalid utf-8", "\x00nul", uint8(4))
	f.Add(bytes.Repeat([]byte{1}, 5000), []byte("{}"), `{"json":"in a string"}`, "'; DROP TABLE txs; --", uint8(1))

	db := openTemp(f)
	f.Cleanup(func() { db.Close() })
	f.Fuzz(func(t *testing.T, input, data []byte, arg, message string, topics uint8) {
		ctx := context.Background()
		parent, next := storetest.BlockHash(1, 0), uint64(1)
		if head, err := db.Head(ctx); err == nil {
			parent, next = head.Hash, head.Number+1
		}
		b := storetest.Chain(byte(next), next, parent, 1, 2, 1)[0]
		x := &b.Txs[0]
		x.Input = bytes.Clone(input)
		x.Call = &chain.Call{Method: arg, Signature: arg + "(string)", Args: []chain.Arg{{Name: arg, Type: "string", Value: arg}}}
		x.Status = 0
		x.Logs = []chain.Log{{Address: storetest.Addr(1), Data: bytes.Clone(data), BlockNumber: b.Number, BlockHash: b.Hash,
			TxHash: x.Hash, TxIndex: x.Index, Topics: []common.Hash{},
			Event: &chain.Event{Name: arg, Args: []chain.Arg{{Name: "v", Type: "bytes", Value: arg}}}}}
		for i := range int(topics % 5) {
			x.Logs[0].Topics = append(x.Logs[0].Topics, common.Hash{byte(i), topics})
		}
		x.Revert = &chain.Revert{Kind: chain.RevertCustom, Name: arg, Message: message}
		x.RevertData = bytes.Clone(input)
		b.Txs[1].Logs = nil
		if err := db.WriteBlocks(ctx, []chain.Block{b}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Tx(ctx, x.Hash)
		if err != nil {
			t.Fatal(err)
		}
		// What a JSON round trip of the expectation gives is what the store
		// must give.
		want := jsonRoundTrip(t, *x)
		if len(x.RevertData) == 0 {
			want.RevertData = nil
		}
		if g, w := jsonRoundTrip(t, got), jsonRoundTrip(t, want); !reflect.DeepEqual(g, w) {
			t.Fatalf("Tx round trip:\n got %+v\nwant %+v", g, w)
		}
		logs, err := db.Logs(ctx, store.LogQuery{Limit: 1})
		if err != nil || len(logs) != 1 || !bytes.Equal(logs[0].Data, data) || len(logs[0].Topics) != int(topics%5) {
			t.Fatalf("Logs = %+v, %v", logs, err)
		}
	})
}

func jsonRoundTrip(t *testing.T, tx chain.Tx) chain.Tx {
	t.Helper()
	j, err := json.Marshal(tx)
	if err != nil {
		t.Fatal(err)
	}
	var out chain.Tx
	if err := json.Unmarshal(j, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// A database written before transaction records carried their revert
// (revertReason, revertKind) gets them from its revert records when it is
// migrated, so that stats over kind:tx work on what was indexed before.
func TestMigrationGivesTxRecordsTheirRevert(t *testing.T) {
	ctx := t.Context()
	db := openTemp(t)
	defer db.Close()
	if err := db.WriteBlocks(ctx, storetest.CorpusBlocks()); err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(m migration) bool { return strings.HasSuffix(m.name, "_tx_revert.sql") })
	if i < 0 {
		t.Fatal("no _tx_revert.sql migration")
	}
	// The shape of the records before: no revert on transaction records.
	if _, err := db.write.ExecContext(ctx, `UPDATE records SET attrs = json_remove(attrs, '$.revertReason', '$.revertKind') WHERE kind = 'tx'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = ?`, ms[i].version); err != nil {
		t.Fatal(err)
	}
	stats := func() string {
		t.Helper()
		q, err := query.Parse("kind:tx | stats count() by revertKind, revertReason")
		if err != nil {
			t.Fatal(err)
		}
		tab, err := db.Table(ctx, store.SearchRequest{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(tab.Rows)
	}
	const want = "[[<nil> <nil> 5] [custom InsufficientCollateral 1] [error Ownable: caller is not the owner 1]]"
	if got := stats(); got == want {
		t.Fatalf("before the migration, stats = %s, want no revert on transaction records", got)
	}
	if err := db.migrateOne(ctx, ms[i]); err != nil {
		t.Fatal(err)
	}
	if got := stats(); got != want {
		t.Fatalf("after the migration, stats = %s, want %s", got, want)
	}
}

func TestChanges(t *testing.T) {
	storetest.RunChanges(t, func(t *testing.T) (a, b storetest.ChangesBackend) {
		db := openTemp(t)
		return db, db
	})
}

func TestSessions(t *testing.T) {
	storetest.RunSessions(t, func(t *testing.T) (a, b store.SessionStore) {
		db := openTemp(t)
		t.Cleanup(func() { db.Close() })
		return db, db
	})
}

func TestAccounts(t *testing.T) {
	storetest.RunAccounts(t, func(t *testing.T) (a, b storetest.AccountBackend) {
		db := openTemp(t)
		t.Cleanup(func() { db.Close() })
		return db, db
	})
}
