package monitor_test

import (
	"context"
	"math/big"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/store"
)

// TestBuiltinQuietOnNormalTraffic plays an hour of the demo's normal
// traffic (one-second blocks, four transactions a second with its 5% of
// failures, as `blocktorch demo` runs it) from the deployment on, and
// checks that no built-in monitor fires: not the deployment's first owners
// and roles, not the vault's ordinary withdrawals, not the usual failures.
// Under the race detector it plays a quarter of an hour (the whole hour
// takes about 2 minutes without it, too long with it);
// BLOCKTORCH_QUIET_BLOCKS sets the number of blocks.
func TestBuiltinQuietOnNormalTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("plays an hour of demo traffic on the embedded chain")
	}
	blocks := uint64(3600)
	if raceEnabled {
		blocks = 900
	}
	if v := os.Getenv("BLOCKTORCH_QUIET_BLOCKS"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		blocks = n
	}
	var evaluated atomic.Uint64
	r := newRig(t, 4, 0.05, monitor.Options{OnEvaluated: func(b uint64, _ time.Duration) { evaluated.Store(b) }})
	ctx := context.Background()
	if _, err := r.eng.LoadBuiltin(ctx, true, nil); err != nil {
		t.Fatal(err)
	}
	r.run(t)
	eth := ethclient.NewClient(r.chain.Client())
	minBal, maxBal := (*big.Int)(nil), (*big.Int)(nil)
	start := time.Now()
	for i := uint64(0); i < blocks; i++ {
		// The demo sends four one-transaction steps a second and seals a
		// block a second.
		for range 4 {
			if err := r.traffic.Step(ctx); err != nil {
				t.Fatal(err)
			}
		}
		r.chain.Commit()
		if i%50 == 0 {
			bal, err := eth.BalanceAt(ctx, r.app.Vault, nil)
			if err != nil {
				t.Fatal(err)
			}
			if minBal == nil || bal.Cmp(minBal) < 0 {
				minBal = bal
			}
			if maxBal == nil || bal.Cmp(maxBal) > 0 {
				maxBal = bal
			}
		}
	}
	head := r.chain.Head().Number.Uint64()
	deadline := time.Now().Add(5 * time.Minute)
	for evaluated.Load() < head {
		if time.Now().After(deadline) {
			t.Fatalf("the engine evaluated up to block %d of %d", evaluated.Load(), head)
		}
		<-time.After(20 * time.Millisecond) // polling the engine another goroutine runs
	}
	t.Logf("%d blocks in %s; vault balance between %s and %s wei", blocks, time.Since(start).Round(time.Second), minBal, maxBal)
	evs, err := r.st.AlertEvents(ctx, store.AlertQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		t.Errorf("block %d: %s %s %s", ev.Block, ev.MonitorID, ev.Status, ev.Detail)
	}
}
