package monitor_test

import (
	"context"
	"testing"
	"time"

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
	if err := r.eng.Load(ctx); err != nil {
		t.Fatal(err)
	}
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
	head := r.chain.Head().Number.Uint64()
	waitIndexed(t, r, head)
	// Let the outbox deliver what fired so far.
	fired := map[string]uint64{}
	deadline := time.After(20 * time.Second)
	for len(fired) == 0 || len(h.got) > 0 {
		select {
		case m := <-h.got:
			if m.Status == notify.StatusFiring {
				fired[m.Tx] = m.Block
			}
		case <-deadline:
			t.Fatal("no deposit fired an alert")
		}
	}
	<-time.After(200 * time.Millisecond) // the last deliveries of the round
	for len(h.got) > 0 {
		if m := <-h.got; m.Status == notify.StatusFiring {
			fired[m.Tx] = m.Block
		}
	}
	ancestor := head - 8
	orphaned := 0
	for _, b := range fired {
		if b > ancestor {
			orphaned++
		}
	}
	if orphaned == 0 {
		t.Skip("no alert fired in the last blocks; nothing to retract")
	}
	if err := r.chain.Fork(r.chain.CanonicalHash(ancestor)); err != nil {
		t.Fatal(err)
	}
	r.chain.Rollback()
	for range 12 {
		r.chain.Commit()
	}
	waitIndexed(t, r, ancestor+12)

	retracted := map[string]bool{}
	deadline = time.After(20 * time.Second)
	for len(retracted) < orphaned {
		select {
		case m := <-h.got:
			if m.Status == notify.StatusRetracted {
				if m.Block <= ancestor {
					t.Errorf("retracted an alert of block %d, below the fork at %d", m.Block, ancestor)
				}
				retracted[m.Tx] = true
			}
		case <-deadline:
			t.Fatalf("%d of %d orphaned alerts retracted", len(retracted), orphaned)
		}
	}
	for tx, b := range fired {
		if b > ancestor && !retracted[tx] {
			t.Errorf("alert of %s (block %d) not retracted", tx, b)
		}
	}
	for _, a := range r.eng.ActiveAlerts() {
		if a.Block > ancestor+12 {
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
