package monitor_test

import (
	"context"
	"encoding/json"
	"math/big"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/notify"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// queued is the outbox without its delivery loop: what the engine enqueued
// stays pending in the store for the test to read.
type queued struct{ monitor.Notifier }

// silenceRig is an engine on SQLite with a "paused" event monitor that
// resolves after a minute without a match.
type silenceRig struct {
	st *sqlite.DB
	e  *monitor.Engine
	n  uint64
}

func newSilenceRig(t *testing.T, spec ...monitor.Spec) *silenceRig {
	t.Helper()
	ctx := context.Background()
	st := vaultStore(t)
	e := monitor.New(monitor.Deps{Store: st, Contracts: st.Contracts, Notifier: queued{notify.NewOutbox(st, notify.Options{Destinations: notify.Destinations{Allow: notify.Loopback}})}}, monitor.Options{})
	if err := e.Load(ctx); err != nil {
		t.Fatal(err)
	}
	f := monitor.File{
		Channels: []notify.Spec{{Name: "local", Type: notify.TypeWebhook, URL: "http://127.0.0.1:9/", Secret: "s"}},
		Monitors: []monitor.Spec{{ID: "paused", Kind: monitor.KindEvent, Contract: "LendingVault", Event: "Paused",
			ResolveAfter: monitor.Duration(time.Minute), Channels: []string{"local"}}},
	}
	if len(spec) > 0 {
		f.Monitors = spec
	}
	if _, err := e.Apply(ctx, monitor.OriginCode, f); err != nil {
		t.Fatal(err)
	}
	return &silenceRig{st: st, e: e}
}

// block evaluates the next block, now: with the vault's Paused event or
// empty.
func (r *silenceRig) block(t *testing.T, paused bool) {
	t.Helper()
	r.n++
	b := chain.Block{Number: r.n, Hash: common.BigToHash(new(big.Int).SetUint64(r.n)), Time: time.Now()}
	if paused {
		b = pausedBlock(r.n, time.Now())
	}
	r.e.Evaluate(context.Background(), []chain.Block{b})
}

func (r *silenceRig) silence(t *testing.T, d string) string {
	t.Helper()
	s, err := r.e.AddSilence(context.Background(), monitor.SilenceRequest{Matchers: []string{"monitor == paused"}, Duration: d})
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func (r *silenceRig) unsilence(t *testing.T, id string) {
	t.Helper()
	if err := r.e.DeleteSilence(context.Background(), id); err != nil {
		t.Fatal(err)
	}
}

// sent lists the statuses of the notifications enqueued, oldest first.
func (r *silenceRig) sent(t *testing.T) []notify.Message {
	t.Helper()
	ds, err := r.st.Deliveries(context.Background(), store.DeliveryPending, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]notify.Message, len(ds))
	for i, d := range ds {
		if err := json.Unmarshal(d.Payload, &out[len(ds)-1-i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func (r *silenceRig) expect(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	for _, m := range r.sent(t) {
		got = append(got, m.Status)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("notifications %v, want %v", got, want)
	}
}

// TestSilenceSemantics: as in Alertmanager, a silence delays an alert's
// notifications rather than swallowing them, and never lets one through
// while it holds.
func TestSilenceSemantics(t *testing.T) {
	t.Run("an alert that started under a silence notifies when the silence is removed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newSilenceRig(t)
			id := r.silence(t, "1h")
			r.block(t, true)
			time.Sleep(10 * time.Second)
			r.block(t, true) // new matches under the silence
			r.expect(t)
			r.unsilence(t, id)
			r.expect(t, "firing")
			time.Sleep(2 * time.Minute)
			r.block(t, false)
			r.expect(t, "firing", "resolved")
		})
	})
	t.Run("an alert that started under a silence notifies when the silence expires", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newSilenceRig(t)
			r.silence(t, "10m")
			r.block(t, true)
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Go(func() { r.e.Run(ctx) })
			defer wg.Wait()
			defer cancel()
			time.Sleep(9 * time.Minute)
			synctest.Wait()
			r.expect(t)
			time.Sleep(time.Minute)
			synctest.Wait()
			r.expect(t, "firing")
		})
	})
	t.Run("a silence that ended while the server was stopped releases at start", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newSilenceRig(t)
			r.silence(t, "10m")
			r.block(t, true)
			r.expect(t)
			time.Sleep(time.Hour)
			e := monitor.New(monitor.Deps{Store: r.st, Contracts: r.st.Contracts, Notifier: queued{notify.NewOutbox(r.st, notify.Options{Destinations: notify.Destinations{Allow: notify.Loopback}})}}, monitor.Options{})
			if err := e.Load(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Go(func() { e.Run(ctx) })
			defer wg.Wait()
			defer cancel()
			synctest.Wait()
			r.expect(t, "firing")
		})
	})
	t.Run("a resolve during a silence waits for its end", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newSilenceRig(t)
			r.block(t, true)
			r.expect(t, "firing")
			id := r.silence(t, "1h")
			time.Sleep(2 * time.Minute)
			r.block(t, false)
			r.expect(t, "firing")
			r.unsilence(t, id)
			r.expect(t, "firing", "resolved")
			if m := r.sent(t)[1]; m.Block != 2 || m.EndsAt.IsZero() {
				t.Errorf("the held resolve lost what resolved it: block %d, ends %s", m.Block, m.EndsAt)
			}
		})
	})
	t.Run("an alert silenced from start to end is never notified", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newSilenceRig(t)
			id := r.silence(t, "1h")
			r.block(t, true)
			time.Sleep(2 * time.Minute)
			r.block(t, false)
			r.unsilence(t, id)
			r.block(t, false)
			r.expect(t)
		})
	})
}

// TestSilenceRemovedDeliversOnTheDemo: on the embedded chain, an alert that
// fired under a silence reaches the webhook as soon as the silence is
// removed, without waiting for a new match.
func TestSilenceRemovedDeliversOnTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded chain")
	}
	h := newHook(t)
	r := newRig(t, 20, 0.01, monitor.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := monitor.File{
		Channels: []notify.Spec{h.spec()},
		Monitors: []monitor.Spec{{ID: "router-deposits", Kind: monitor.KindCall, Contract: "LendingVault", Method: "depositFor",
			Internal: true, ResolveAfter: monitor.Duration(time.Hour), Channels: []string{"local"}}},
	}
	if _, err := r.eng.Apply(ctx, monitor.OriginCode, f); err != nil {
		t.Fatal(err)
	}
	sil, err := r.eng.AddSilence(ctx, monitor.SilenceRequest{Matchers: []string{"monitor == router-deposits"}, Duration: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	r.run(t)
	stop := r.mine(t, 10*time.Millisecond)
	deadline := time.Now().Add(90 * time.Second)
	for len(r.eng.ActiveAlerts()) == 0 {
		if time.Now().After(deadline) {
			stop()
			t.Fatal("no internal depositFor in 90 s of demo traffic")
		}
		<-time.After(20 * time.Millisecond) // polling the engine another goroutine runs
	}
	stop()
	if a := r.eng.ActiveAlerts()[0]; a.Notified || a.Held != monitor.StateFiring {
		t.Fatalf("a silenced alert: %+v", a)
	}
	// The engine enqueues before it shows the alert: nothing was.
	for _, state := range []string{store.DeliveryPending, store.DeliveryDelivered, store.DeliveryDead} {
		if ds, err := r.st.Deliveries(ctx, state, 10); err != nil || len(ds) > 0 {
			t.Fatalf("%s under a silence: %+v, %v", state, ds, err)
		}
	}
	removed := time.Now()
	if err := r.eng.DeleteSilence(ctx, sil.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-h.got:
		if m.Status != notify.StatusFiring || m.MonitorID != "router-deposits" {
			t.Fatalf("delivered %+v", m)
		}
		t.Logf("delivered %s after the silence was removed", time.Since(removed).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("the alert was not delivered after its silence was removed")
	}
	if a := r.eng.ActiveAlerts()[0]; !a.Notified || a.Held != "" {
		t.Errorf("after the silence: %+v", a)
	}
}

// TestMatchResolveSaysWhy: a match monitor with a threshold resolves with
// the count left in its window, not the summary of its last match.
func TestMatchResolveSaysWhy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSilenceRig(t, monitor.Spec{ID: "paused", Kind: monitor.KindEvent, Contract: "LendingVault", Event: "Paused",
			Threshold: 2, Window: monitor.Duration(time.Minute), ResolveAfter: monitor.Duration(30 * time.Second), Channels: []string{"local"}})
		for _, step := range []struct {
			wait   time.Duration
			paused bool
		}{{0, true}, {time.Second, true}, {39 * time.Second, true}, {35 * time.Second, false}} {
			time.Sleep(step.wait)
			r.block(t, step.paused)
		}
		r.expect(t, "firing", "resolved")
		m := r.sent(t)[1]
		if m.Summary != "1 within 1m0s, below the threshold of 2" || m.Value != "1" || m.Block != 4 {
			t.Errorf("resolve: summary %q, value %q, block %d", m.Summary, m.Value, m.Block)
		}
	})
}
