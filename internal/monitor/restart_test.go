package monitor_test

import (
	"context"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/notify"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// pausedBlock is a block whose one transaction emitted the vault's Paused.
func pausedBlock(n uint64, t time.Time) chain.Block {
	h := common.BigToHash(new(big.Int).SetUint64(n))
	tx := chain.Tx{Hash: common.BigToHash(new(big.Int).SetUint64(1000 + n)), BlockNumber: n, BlockHash: h, Status: 1, To: &vaultAddr, Time: t,
		Logs: []chain.Log{{Address: vaultAddr, BlockNumber: n, BlockHash: h, Event: &chain.Event{Name: "Paused", Signature: "Paused(address)",
			Args: []chain.Arg{{Name: "account", Type: "address", Value: "0x72dbf8689F3CD0CF2808E64470a8447a8A1D5fcB"}}}}}}
	tx.Logs[0].TxHash = tx.Hash
	return chain.Block{Number: n, Hash: h, ParentHash: common.BigToHash(new(big.Int).SetUint64(n - 1)), Time: t, Txs: []chain.Tx{tx}}
}

// vaultStore is a new SQLite store in a temporary directory that knows the
// demo's LendingVault at vaultAddr (so its events decode and monitors on it
// load); it is closed when the test ends.
func vaultStore(t *testing.T) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	arts, err := demo.Artifacts()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutContract(ctx, store.Contract{Address: vaultAddr, Name: "LendingVault", ABI: arts["LendingVault"].ABI}); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestRestartLosesNoAlert: the engine fires alerts whose notifications
// are still in the outbox when the process stops; after a restart on the
// same file they are delivered, and replaying the same blocks adds none.
func TestRestartLosesNoAlert(t *testing.T) {
	h := newHook(t)
	path := filepath.Join(t.TempDir(), "bt.db")
	now := time.Now()
	arts, err := demo.Artifacts()
	if err != nil {
		t.Fatal(err)
	}
	open := func(o notify.Options) (*sqlite.DB, *monitor.Engine) {
		st, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		st.PutContract(context.Background(), store.Contract{Address: vaultAddr, Name: "LendingVault", ABI: arts["LendingVault"].ABI})
		e := monitor.New(monitor.Deps{Store: st, Contracts: st.Contracts, Notifier: notify.NewOutbox(st, o)}, monitor.Options{})
		if err := e.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		return st, e
	}
	ctx := context.Background()
	st, e := open(notify.Options{Destinations: notify.Destinations{Allow: notify.Loopback}})
	f := monitor.File{Channels: []notify.Spec{h.spec()}, Monitors: []monitor.Spec{{ID: "paused", Kind: monitor.KindEvent, Contract: "LendingVault",
		Event: "Paused", GroupBy: []string{"tx"}, Channels: []string{"local"}}}}
	if _, err := e.Apply(ctx, monitor.OriginCode, f); err != nil {
		t.Fatal(err)
	}
	var blocks []chain.Block
	for n := uint64(1); n <= 5; n++ {
		blocks = append(blocks, pausedBlock(n, now.Add(time.Duration(n)*time.Second)))
	}
	// The outbox never ran: five notifications wait in the store.
	e.Evaluate(ctx, blocks[:3])
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, e = open(notify.Options{MinBackoff: 10 * time.Millisecond, Destinations: notify.Destinations{Allow: notify.Loopback}})
	defer st.Close()
	e.Evaluate(ctx, blocks[1:]) // blocks 2 and 3 again, then 4 and 5
	run, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.Run(run); close(done) }()
	got := map[string]bool{}
	deadline := time.After(20 * time.Second)
	for len(got) < 5 {
		select {
		case m := <-h.got:
			got[m.Tx] = true
		case <-deadline:
			t.Fatalf("%d of 5 alerts delivered after the restart", len(got))
		}
	}
	cancel()
	<-done
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.msgs) != 5 {
		t.Errorf("%d notifications for 5 alerts", len(h.msgs))
	}
	for k, n := range h.keys {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
}
