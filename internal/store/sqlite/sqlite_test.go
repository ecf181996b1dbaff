package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
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

// The crash test runs the test binary as a child that writes batches until it
// is killed with SIGKILL; the parent then checks that the database holds
// whole batches only.
const (
	crashEnv      = "BLOCKTORCH_SQLITE_CRASH_CHILD"
	crashBatch    = 50
	crashTxs      = 10
	crashLogsPerX = 3
)

func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("only runs as the child of TestCrashSafety")
	}
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	parent, next := storetest.BlockHash(1, 0), uint64(1)
	if head, err := db.Head(ctx); err == nil {
		parent, next = head.Hash, head.Number+1
	}
	for i := 0; ; i++ {
		bs := storetest.Chain(1, next, parent, crashBatch, crashTxs, crashLogsPerX)
		if err := db.WriteBlocks(ctx, bs); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		parent, next = bs[crashBatch-1].Hash, next+crashBatch
		fmt.Printf("batch %d\n", i) // the parent kills us after a few of these
	}
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait for a few committed batches, then kill the child while it is
		// inside the next one (it writes without pause).
		buf := make([]byte, 4096)
		var seen strings.Builder
		for strings.Count(seen.String(), "\n") < 2+round {
			n, err := out.Read(buf)
			if err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child stopped early: %v\n%s%s", err, seen.String(), stderr.String())
			}
			seen.Write(buf[:n])
		}
		time.Sleep(time.Duration(round*7) * time.Millisecond) // land at different points of a batch
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("child ended with %v, want SIGKILL\n%s", err, stderr.String())
		}

		db, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("reopen after kill: %v", err)
		}
		checkWholeBatches(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func checkWholeBatches(t *testing.T, db *DB) {
	t.Helper()
	ctx := t.Context()
	head, err := db.Head(ctx)
	if err != nil {
		t.Fatalf("Head after kill: %v", err)
	}
	if head.Number%crashBatch != 0 {
		t.Fatalf("head %d is not a batch boundary (batches of %d)", head.Number, crashBatch)
	}
	c, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var blocks, txs, logs int64
	for _, q := range []struct {
		sql string
		n   *int64
	}{{`SELECT COUNT(*) FROM blocks`, &blocks}, {`SELECT COUNT(*) FROM txs`, &txs}, {`SELECT COUNT(*) FROM logs`, &logs}} {
		if err := db.read.QueryRowContext(ctx, q.sql).Scan(q.n); err != nil {
			t.Fatal(err)
		}
	}
	if c != (store.Counts{Blocks: blocks, Txs: txs, Logs: logs}) || uint64(blocks) != head.Number {
		t.Fatalf("after kill: counts %+v, rows %d/%d/%d, head %d", c, blocks, txs, logs, head.Number)
	}
	if txs != blocks*crashTxs {
		t.Fatalf("after kill: %d txs for %d blocks", txs, blocks)
	}
	var fk int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM txs WHERE block_number > ?`, head.Number).Scan(&fk); err != nil || fk != 0 {
		t.Fatalf("after kill: %d txs above the head, %v", fk, err)
	}
	var ok string
	if err := db.read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
	// The next batch extends the head.
	if err := db.WriteBlocks(ctx, storetest.Chain(1, head.Number+1, head.Hash, 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := db.RollbackTo(ctx, head.Number); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkWriteBlocks measures the indexer's hot path: batches of 100
// blocks of 20 decoded transactions with 3 decoded logs each.
func BenchmarkWriteBlocks(b *testing.B) {
	const (
		perBatch  = 100
		txsPerBlk = 20
		logsPerTx = 3
	)
	db := openTemp(b)
	defer db.Close()
	ctx := context.Background()
	// Generate ahead so that only the store is measured; forks keep the
	// hashes distinct between runs.
	batches := make([][]chain.Block, b.N)
	parent, next := storetest.BlockHash(1, 0), uint64(1)
	for i := range batches {
		batches[i] = storetest.Chain(byte(i/1000), next, parent, perBatch, txsPerBlk, logsPerTx)
		// Keep hashes unique across more than 256 batches of one fork.
		for k := range batches[i] {
			bk := &batches[i][k]
			bk.Hash[2] = byte(i % 1000 >> 8)
			bk.Hash[3] = byte(i % 1000)
			if k > 0 {
				bk.ParentHash = batches[i][k-1].Hash
			} else {
				bk.ParentHash = parent
			}
			for j := range bk.Txs {
				bk.Txs[j].Hash[2], bk.Txs[j].Hash[3] = byte(i>>8), byte(i)
			}
		}
		parent, next = batches[i][perBatch-1].Hash, next+perBatch
	}
	var txs int
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for i := range b.N {
		if err := db.WriteBlocks(ctx, batches[i]); err != nil {
			b.Fatal(err)
		}
		for _, bk := range batches[i] {
			txs += len(bk.Txs)
		}
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*perBatch)/s, "blocks/s")
	b.ReportMetric(float64(txs)/s, "txs/s")
	// On a shared machine wall time follows the neighbours; CPU time
	// follows the code.
	b.ReportMetric(float64(txs)/(cpuTime(b)-cpu0).Seconds(), "txs/cpu-s")
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
