package indexer_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/ethrpc"
	"github.com/blocktorch/blocktorch/internal/indexer"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

const (
	childRPCEnv = "BLOCKTORCH_TEST_CRASH_CHILD_RPC"
	childDBEnv  = "BLOCKTORCH_TEST_CRASH_CHILD_DB"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(childRPCEnv); url != "" {
		os.Exit(crashChild(url, os.Getenv(childDBEnv)))
	}
	os.Exit(m.Run())
}

// crashChild indexes until caught up; the parent kills it with SIGKILL at
// random moments.
func crashChild(url, db string) int {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	rc, err := ethrpc.Dial(ctx, url, ethrpc.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ix := indexer.New(rc, st, indexer.Config{BatchSize: 3, Decode: decode.NewRegistry().DecodeTx})
	for {
		done, err := ix.Step(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// Tell the parent how far the store got, so it can kill at a
		// chosen point instead of after a guessed delay.
		if h, err := st.Head(ctx); err == nil {
			fmt.Printf("head %d\n", h.Number)
		}
		if done {
			st.Close()
			return 0
		}
	}
}

// Indexing killed with SIGKILL at random points and restarted must end with
// exactly what an uninterrupted index holds: no gap, no duplicate.
func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded chain test")
	}
	d := newDemoChain(t)
	d.grow(t, 400)
	url := d.chain.HTTPEndpoint()
	target := d.chain.Head().Number.Uint64()
	db := tempDB(t, "crash.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))

	interrupted := 0
	var head uint64
	for i := 0; i < 8; i++ {
		// Kill once the child reports a random head between where the
		// last run stopped and well before the target: every run is
		// interrupted mid-index, at a different point of a batch.
		killAt := head + 1 + uint64(rng.IntN(int(target-head)/8+1))
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childRPCEnv+"="+url, childDBEnv+"="+db)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			var h uint64
			if _, err := fmt.Sscanf(lines.Text(), "head %d", &h); err == nil && h >= killAt {
				break
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		io.Copy(io.Discard, out)
		err = cmd.Wait()
		var ee *exec.ExitError
		killed := errors.As(err, &ee) && !ee.Exited()
		head = storedHead(t, db)
		t.Logf("run %d: killed=%v at head >= %d, stored head %d of %d", i, killed, killAt, head, target)
		if killed && head < target {
			interrupted++
		}
		if !killed && err != nil {
			t.Fatalf("child failed: %v", err)
		}
	}
	if interrupted < 8 {
		t.Fatalf("only %d of 8 runs were killed mid-index; the test did not exercise crashes", interrupted)
	}
	// The last run finishes.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childRPCEnv+"="+url, childDBEnv+"="+db)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("final run: %v", err)
	}

	crashed, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer crashed.Close()
	fresh := newEnv(t, url, tempDB(t, "fresh.db"), nil, 50)
	fresh.catchUp(t)
	got, want := dump(t, crashed), dump(t, fresh.st)
	if got != want {
		t.Fatalf("store after crashes differs from an uninterrupted index at %s", firstDiff(got, want))
	}
	c, err := crashed.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if uint64(c.Blocks) != target+1 {
		t.Fatalf("blocks = %d, want %d", c.Blocks, target+1)
	}
}

func storedHead(t *testing.T, db string) uint64 {
	t.Helper()
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer st.Close()
	h, err := st.Head(context.Background())
	if errors.Is(err, store.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if uint64(c.Blocks) != h.Number+1 {
		t.Fatalf("after kill: %d blocks stored but head is %d: a gap or a duplicate", c.Blocks, h.Number)
	}
	return h.Number
}
