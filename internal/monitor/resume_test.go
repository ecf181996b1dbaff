package monitor_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/notify"
	"github.com/blocktorch/blocktorch/internal/store"
)

// TestResumeTakesOver: two engines on one store, as two nodes that take
// the leader's work in turns. Each Resume makes the engine continue from
// what the store holds — the monitors the other applied, the alerts it
// fired and its cursor — whatever the engine held in memory: no block is
// evaluated twice (no alert fires twice), none is skipped, and every
// alert is delivered once, with the store's cursor at the last block.
func TestResumeTakesOver(t *testing.T) {
	h := newHook(t)
	ctx := context.Background()
	st := vaultStore(t)
	now := time.Now()
	var blocks []chain.Block
	for n := uint64(1); n <= 8; n++ {
		blocks = append(blocks, pausedBlock(n, now.Add(time.Duration(n)*time.Second)))
	}
	engine := func() *monitor.Engine {
		ob := notify.NewOutbox(st, notify.Options{MinBackoff: 10 * time.Millisecond, Destinations: notify.Destinations{Allow: notify.Loopback}})
		e := monitor.New(monitor.Deps{Store: st, Contracts: st.Contracts, Blocks: st, Notifier: ob}, monitor.Options{})
		if err := e.Load(ctx); err != nil {
			t.Fatal(err)
		}
		return e
	}
	// Both start before any monitor exists: b's memory lags behind what
	// a applies.
	a, b := engine(), engine()
	f := monitor.File{Channels: []notify.Spec{h.spec()}, Monitors: []monitor.Spec{{ID: "paused", Kind: monitor.KindEvent, Contract: "LendingVault",
		Event: "Paused", GroupBy: []string{"tx"}, ResolveAfter: monitor.Duration(time.Hour), Channels: []string{"local"}}}}
	if _, err := a.Apply(ctx, monitor.OriginCode, f); err != nil {
		t.Fatal(err)
	}
	cursor := func() uint64 {
		sts, err := st.AlertStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sts {
			if s.MonitorID == "_engine" {
				var c struct{ Block uint64 }
				json.Unmarshal(s.State, &c)
				return c.Block
			}
		}
		return 0
	}
	delivered := func() int {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.keys)
	}
	settled := func() bool {
		ds, err := st.Deliveries(ctx, store.DeliveryPending, 10)
		return err == nil && len(ds) == 0
	}
	stored := uint64(0)
	// lead stores the blocks up to upTo and runs e as the leader until
	// the store's cursor reaches upTo and the alerts of the blocks up to
	// it were delivered and recorded so, with its outbox (which sends
	// what any leader enqueued).
	lead := func(e *monitor.Engine, upTo uint64) {
		t.Helper()
		if err := st.WriteBlocks(ctx, blocks[stored:upTo]); err != nil {
			t.Fatal(err)
		}
		stored = upTo
		if err := e.Resume(ctx); err != nil {
			t.Fatal(err)
		}
		run, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { e.Run(run); close(done) }()
		defer func() { cancel(); <-done }()
		e.OnStored(cursor()+1, upTo)
		deadline := time.Now().Add(20 * time.Second)
		for cursor() < upTo || delivered() < int(upTo) || !settled() {
			if time.Now().After(deadline) {
				t.Fatalf("the cursor is at %d and %d alerts were delivered, want %d", cursor(), delivered(), upTo)
			}
			time.Sleep(10 * time.Millisecond) // polling the store, with a deadline
		}
	}
	// a leads for blocks 1–3, b (which never loaded the monitor) for 4–5,
	// a again (its memory holds blocks 1–3 only) for 6–8.
	lead(a, 3)
	lead(b, 5)
	lead(a, 8)

	// The last leader's outbox stopped with its term; nothing more can
	// come, so the counts are final.
	got := map[string]bool{}
	for len(h.got) > 0 {
		got[(<-h.got).Tx] = true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, n := range h.keys {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
	for _, b := range blocks {
		if !got[b.Txs[0].Hash.Hex()] {
			t.Errorf("the alert of block %d was not delivered", b.Number)
		}
	}
	evs, err := st.AlertEvents(ctx, store.AlertQuery{MonitorID: "paused", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	fired := map[uint64]int{}
	for _, e := range evs {
		if e.Status == monitor.StateFiring {
			fired[e.Block]++
		}
	}
	for _, b := range blocks {
		if fired[b.Number] != 1 {
			t.Errorf("block %d fired %d times in the history", b.Number, fired[b.Number])
		}
	}
	if c := cursor(); c != 8 {
		t.Errorf("the stored cursor is %d, want 8", c)
	}
}

// failingEnqueue is the outbox with its n-th Enqueue failing, as when the
// database drops a connection for one statement.
type failingEnqueue struct {
	*notify.Outbox
	n      atomic.Int32
	always bool // every Enqueue fails
	calls  atomic.Int32
}

func (f *failingEnqueue) Enqueue(ctx context.Context, m notify.Message, channels []string) (int, error) {
	f.calls.Add(1)
	if n := f.n.Add(-1); n == 0 || f.always {
		return 0, errors.New("the database cannot be reached (injected)")
	}
	return f.Outbox.Enqueue(ctx, m, channels)
}

// TestFailedWriteEvaluatesAgain: a notification that cannot be enqueued
// is not lost behind a checkpoint saved past it. The engine saves nothing
// more, reloads what the store holds and evaluates again from the stored
// checkpoint: every alert is delivered once and fired once in the
// history.
func TestFailedWriteEvaluatesAgain(t *testing.T) {
	h := newHook(t)
	ctx := context.Background()
	st := vaultStore(t)
	now := time.Now()
	var blocks []chain.Block
	for n := uint64(1); n <= 4; n++ {
		blocks = append(blocks, pausedBlock(n, now.Add(time.Duration(n)*time.Second)))
	}
	if err := st.WriteBlocks(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	ob := &failingEnqueue{Outbox: notify.NewOutbox(st, notify.Options{MinBackoff: 10 * time.Millisecond, Destinations: notify.Destinations{Allow: notify.Loopback}})}
	e := monitor.New(monitor.Deps{Store: st, Contracts: st.Contracts, Blocks: st, Notifier: ob}, monitor.Options{})
	if err := e.Load(ctx); err != nil {
		t.Fatal(err)
	}
	f := monitor.File{Channels: []notify.Spec{h.spec()}, Monitors: []monitor.Spec{{ID: "paused", Kind: monitor.KindEvent, Contract: "LendingVault",
		Event: "Paused", GroupBy: []string{"tx"}, ResolveAfter: monitor.Duration(time.Hour), Channels: []string{"local"}}}}
	if _, err := e.Apply(ctx, monitor.OriginCode, f); err != nil {
		t.Fatal(err)
	}
	ob.n.Store(2) // block 2's notification
	run, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.Run(run); close(done) }()
	e.OnStored(1, 4)
	got := map[string]bool{}
	deadline := time.After(20 * time.Second)
	for len(got) < len(blocks) {
		select {
		case m := <-h.got:
			got[m.Tx] = true
		case <-deadline:
			t.Fatalf("%d of %d alerts delivered", len(got), len(blocks))
		}
	}
	cancel()
	<-done
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, n := range h.keys {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
	evs, err := st.AlertEvents(ctx, store.AlertQuery{MonitorID: "paused", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	fired := map[uint64]int{}
	for _, e := range evs {
		if e.Status == monitor.StateFiring {
			fired[e.Block]++
		}
	}
	for _, b := range blocks {
		if fired[b.Number] != 1 || !got[b.Txs[0].Hash.Hex()] {
			t.Errorf("block %d: fired %d times in the history, delivered %v", b.Number, fired[b.Number], got[b.Txs[0].Hash.Hex()])
		}
	}
}

// TestStaleEngineStops: an engine whose writes keep failing retries
// (waiting between reloads) until its context ends, and then Run returns.
func TestStaleEngineStops(t *testing.T) {
	h := newHook(t)
	ctx := context.Background()
	st := vaultStore(t)
	blocks := []chain.Block{pausedBlock(1, time.Now())}
	if err := st.WriteBlocks(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	ob := &failingEnqueue{Outbox: notify.NewOutbox(st, notify.Options{Destinations: notify.Destinations{Allow: notify.Loopback}}), always: true}
	e := monitor.New(monitor.Deps{Store: st, Contracts: st.Contracts, Blocks: st, Notifier: ob}, monitor.Options{})
	if err := e.Load(ctx); err != nil {
		t.Fatal(err)
	}
	f := monitor.File{Channels: []notify.Spec{h.spec()}, Monitors: []monitor.Spec{{ID: "paused", Kind: monitor.KindEvent, Contract: "LendingVault",
		Event: "Paused", Channels: []string{"local"}}}}
	if _, err := e.Apply(ctx, monitor.OriginCode, f); err != nil {
		t.Fatal(err)
	}
	run, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.Run(run); close(done) }()
	e.OnStored(1, 1)
	deadline := time.Now().Add(20 * time.Second)
	for ob.calls.Load() < 2 { // the first attempt and one after a reload
		if time.Now().After(deadline) {
			t.Fatalf("%d enqueue attempts, want a retry after a reload", ob.calls.Load())
		}
		time.Sleep(10 * time.Millisecond) // polling, with a deadline
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if n := ob.calls.Load(); n > 5 {
		t.Errorf("%d enqueue attempts in about a second: the failing store is hammered", n)
	}
}
