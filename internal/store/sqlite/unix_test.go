//go:build unix

// The crash-safety test and the write benchmark use unix process signals and
// resource usage.

package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

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
