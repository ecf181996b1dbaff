package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres/pgtest"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openTemp opens a store on a new, empty schema of the test database; the
// caller (or the suite) closes it.
func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	db, err := Open(ctx, dsn)
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
	key := db.CursorKey()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(ctx, dsn)
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
	if tx, err := db.Tx(ctx, blocks[2].Txs[0].Hash); err != nil || len(tx.Logs) != 2 {
		t.Fatalf("Tx after reopen = %d logs, %v", len(tx.Logs), err)
	}
	if got, err := db.Contract(ctx, c.Address); err != nil || got.Name != "Token" {
		t.Fatalf("Contract after reopen = %+v, %v", got, err)
	}
	if len(key) != 32 || !bytes.Equal(db.CursorKey(), key) {
		t.Fatalf("cursor key after reopen = %x, want the first one %x", db.CursorKey(), key)
	}
	// The writer continues where it stopped.
	if err := db.WriteBlocks(ctx, storetest.Chain(1, 6, blocks[4].Hash, 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
}

// Nodes that start at once on one new database apply each migration once
// and all open it.
func TestMigrationsConcurrentOpen(t *testing.T) {
	ctx := t.Context()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.DSN(t)
	const nodes = 4
	dbs := make([]*DB, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { dbs[i], errs[i] = Open(ctx, dsn) })
	}
	wg.Wait()
	keys := map[string]bool{}
	for i := range nodes {
		if errs[i] != nil {
			t.Fatalf("node %d: Open: %v", i, errs[i])
		}
		defer dbs[i].Close()
		keys[string(dbs[i].CursorKey())] = true
	}
	if len(keys) != 1 {
		t.Fatalf("%d nodes got %d different cursor keys, want one", nodes, len(keys))
	}
	var applied int
	if err := dbs[0].pool.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(ms) {
		t.Fatalf("%d migrations recorded, want %d", applied, len(ms))
	}
	if v, err := dbs[0].SchemaVersion(ctx); err != nil || v != len(ms) {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, len(ms))
	}
	// Running them again is a no-op.
	if err := dbs[1].migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}

	// A database migrated by a newer version is refused with a clear error.
	if _, err := dbs[0].pool.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future.sql', 0)`,
		len(ms)+1); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer") {
		if err == nil {
			db.Close()
		}
		t.Fatalf("Open of a newer database = %v, want an error saying it is newer", err)
	}
}

// A connection string that cannot be used is refused without repeating it:
// it may carry a password.
func TestOpenRefusesBadDSN(t *testing.T) {
	for _, dsn := range []string{"postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=2", "postgres://u:s3cret@[::1/x", "not a dsn = ="} {
		db, err := Open(t.Context(), dsn)
		if err == nil {
			db.Close()
			t.Fatalf("Open(%q) succeeded, want an error", dsn)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("Open(%q) error shows the password: %v", dsn, err)
		}
	}
}

// FuzzRoundTrip writes attacker-controlled bytes and strings (calldata, log
// data, decoded arguments, revert messages; NUL bytes and invalid UTF-8
// included, which PostgreSQL text refuses) and reads them back unchanged,
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
		// The decoded event name filters, whatever bytes it holds.
		if logs, err := db.Logs(ctx, store.LogQuery{Limit: 1, Event: arg}); arg != "" && (err != nil || len(logs) != 1 || logs[0].TxHash != x.Hash) {
			t.Fatalf("Logs(event %q) = %+v, %v", arg, logs, err)
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

func TestVerifiedSuite(t *testing.T) {
	storetest.RunVerified(t, func(t *testing.T) store.VerifiedStore {
		db := openTemp(t)
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestIncidentSuite(t *testing.T) {
	storetest.RunIncidents(t, func(t *testing.T) storetest.IncidentBackend { return openTemp(t) })
}

func TestOracleSuite(t *testing.T) {
	storetest.RunOracles(t, func(t *testing.T) storetest.OracleBackend { return openTemp(t) })
}

func TestResponseRunSuite(t *testing.T) {
	storetest.RunResponseRuns(t, func(t *testing.T) storetest.ResponseRunBackend { return openTemp(t) })
}

func TestSafeProposalSuite(t *testing.T) {
	storetest.RunSafeProposals(t, func(t *testing.T) storetest.SafeProposalBackend { return openTemp(t) })
}

func TestDashboardSuite(t *testing.T) {
	storetest.RunDashboards(t, func(t *testing.T) storetest.DashboardBackend { return openTemp(t) })
}

func TestMonitorSuite(t *testing.T) {
	storetest.RunMonitors(t, func(t *testing.T) storetest.MonitorBackend { return openTemp(t) })
}

func TestPatchCheckSuite(t *testing.T) {
	dsn := pgtest.DSN(t)
	storetest.RunPatchChecks(t, func(t *testing.T, reopen bool) storetest.PatchCheckBackend {
		db, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// One store per schema may hold Exclusive at a time; Close releases it,
// and stores in other schemas are not excluded.
func TestExclusive(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	a, b, other := openDSN(t, dsn), openDSN(t, dsn), openTemp(t)
	defer b.Close()
	defer other.Close()
	if err := a.Exclusive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Exclusive(ctx); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second Exclusive = %v, want ErrConflict", err)
	}
	if err := other.Exclusive(ctx); err != nil {
		t.Fatalf("Exclusive in another schema = %v", err)
	}
	// The holder still reads and writes through its pool.
	if err := a.WriteBlocks(ctx, storetest.Chain(1, 0, common.Hash{}, 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Exclusive(ctx); err != nil {
		t.Fatalf("Exclusive after the holder closed = %v", err)
	}
}

func openDSN(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}
