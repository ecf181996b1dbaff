package monitor_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/notify"
)

// TestReorgRetractsAlerts fires alerts on demo traffic, then forks the
// chain below them: every alert fired by an orphaned block is retracted,
// with a notification saying so.
func TestReorgRetractsAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded chain")
	}
	h := newHook(t)
	r := newRig(t, 10, 0.01, monitor.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := monitor.File{
		Channels: []notify.Spec{h.spec()},
		Monitors: []monitor.Spec{{ID: "vault-activity", Kind: monitor.KindCall, Contract: "LendingVault", Method: "deposit",
			GroupBy: []string{"tx"}, Channels: []string{"local"}}},
	}
	if _, err := r.eng.Apply(ctx, monitor.OriginCode, f); err != nil {
		t.Fatal(err)
	}
	r.run(t)
	stop := r.mine(t, 10*time.Millisecond)
	waitBlocks(t, r, 30)
	stop()
	// The fork point is the head now; blocks are then sealed one by one
	// until one above it holds a deposit, so there is always an alert
	// for the reorg to retract.
	ancestor := r.chain.Head().Number.Uint64()
	vault, _ := r.app.ABI("LendingVault")
	deposit := vault.Methods["deposit"].ID
	ec := ethclient.NewClient(r.chain.Client())
	deposits := 0
	for deposits == 0 {
		if r.chain.Head().Number.Uint64() >= ancestor+30 {
			t.Fatal("30 blocks of traffic held no deposit")
		}
		if err := r.traffic.Step(ctx); err != nil {
			t.Fatal(err)
		}
		r.chain.Commit()
		b, err := ec.BlockByNumber(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range b.Transactions() {
			if tx.To() != nil && *tx.To() == r.app.Vault && bytes.HasPrefix(tx.Data(), deposit) {
				if rc, err := ec.TransactionReceipt(ctx, tx.Hash()); err == nil && rc.Status == types.ReceiptStatusSuccessful {
					deposits++
				}
			}
		}
	}
	head := r.chain.Head().Number.Uint64()
	waitIndexed(t, r, head)
	// Collect what fired until the alerts of those deposits are in.
	fired := map[string]uint64{}
	orphaned := func() int {
		n := 0
		for _, b := range fired {
			if b > ancestor {
				n++
			}
		}
		return n
	}
	deadline := time.After(20 * time.Second)
	for orphaned() < deposits || len(h.got) > 0 {
		select {
		case m := <-h.got:
			if m.Status == notify.StatusFiring {
				fired[m.Tx] = m.Block
			}
		case <-deadline:
			t.Fatalf("%d alerts above block %d, want the %d deposits' (fired: %v)", orphaned(), ancestor, deposits, fired)
		}
	}
	depth := head - ancestor
	if err := r.chain.Fork(r.chain.CanonicalHash(ancestor)); err != nil {
		t.Fatal(err)
	}
	r.chain.Rollback()
	for range depth + 4 {
		r.chain.Commit()
	}
	waitIndexed(t, r, ancestor+depth+4)

	retracted := map[string]bool{}
	want := orphaned()
	deadline = time.After(20 * time.Second)
	for len(retracted) < want {
		select {
		case m := <-h.got:
			if m.Status == notify.StatusRetracted {
				if m.Block <= ancestor {
					t.Errorf("retracted an alert of block %d, below the fork at %d", m.Block, ancestor)
				}
				retracted[m.Tx] = true
			}
		case <-deadline:
			t.Fatalf("%d of %d orphaned alerts retracted", len(retracted), want)
		}
	}
	for tx, b := range fired {
		if b > ancestor && !retracted[tx] {
			t.Errorf("alert of %s (block %d) not retracted", tx, b)
		}
	}
	t.Logf("fork at %d, %d blocks deep: %d of %d alerts retracted", ancestor, depth, len(retracted), len(fired))
	for _, a := range r.eng.ActiveAlerts() {
		if a.Block > ancestor+depth+4 {
			t.Errorf("an alert of a block that does not exist: %+v", a)
		}
	}
}

func waitIndexed(t *testing.T, r *rig, n uint64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		h, err := r.st.Head(context.Background())
		if err == nil && h.Number >= n && r.eng.Lag() == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not indexed to %d", n)
		}
		<-time.After(10 * time.Millisecond) // polling the store another goroutine fills
	}
}
