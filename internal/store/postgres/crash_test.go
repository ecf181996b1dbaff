//go:build unix

// The crash-safety test uses unix process signals.

package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres/pgtest"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

// The crash test runs the test binary as a child that writes batches until
// it is killed with SIGKILL mid-transaction; the parent then checks that the
// database holds whole batches only, and that the next writer continues
// (the server has released the dead connection's lock).
const (
	crashEnv      = "BLOCKTORCH_POSTGRES_CRASH_CHILD"
	crashBatch    = 50
	crashTxs      = 10
	crashLogsPerX = 3
)

func TestCrashChild(t *testing.T) {
	dsn := os.Getenv(crashEnv)
	if dsn == "" {
		t.Skip("only runs as the child of TestCrashSafety")
	}
	ctx := context.Background()
	db, err := Open(ctx, dsn)
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
	dsn := pgtest.DSN(t)
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dsn)
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

		db, err := Open(t.Context(), dsn)
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
	var blocks, txs, logs, above int64
	for _, q := range []struct {
		sql string
		n   *int64
	}{
		{`SELECT COUNT(*) FROM blocks`, &blocks}, {`SELECT COUNT(*) FROM txs`, &txs}, {`SELECT COUNT(*) FROM logs`, &logs},
		{`SELECT COUNT(*) FROM txs WHERE block_number > (SELECT MAX(number) FROM blocks)`, &above},
	} {
		if err := db.pool.QueryRow(ctx, q.sql).Scan(q.n); err != nil {
			t.Fatal(err)
		}
	}
	if c != (store.Counts{Blocks: blocks, Txs: txs, Logs: logs}) || uint64(blocks) != head.Number {
		t.Fatalf("after kill: counts %+v, rows %d/%d/%d, head %d", c, blocks, txs, logs, head.Number)
	}
	if txs != blocks*crashTxs || above != 0 {
		t.Fatalf("after kill: %d txs for %d blocks, %d above the head", txs, blocks, above)
	}
	// The next batch extends the head: the killed writer's lock is gone.
	if err := db.WriteBlocks(ctx, storetest.Chain(1, head.Number+1, head.Hash, 1, 1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := db.RollbackTo(ctx, head.Number); err != nil {
		t.Fatal(err)
	}
}
