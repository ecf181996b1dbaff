package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/blocktorch/blocktorch/internal/indexer"
	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Node heartbeats: how often a node says it is alive, and for how long a
// node that said nothing is still listed as alive.
const (
	beatEvery = time.Second
	aliveFor  = 10 * time.Second
	// forgetAfter drops nodes silent for this long from the nodes table.
	forgetAfter = 24 * time.Hour
	// reLeadPause is the wait before taking the lease again after a term
	// ended on an error of the store, so that a failing store is not
	// hammered.
	reLeadPause = time.Second
)

// newNodeID names this process among the nodes that share a store: its
// host, its pid and a random suffix.
func newNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Role says whether this node leads (store.RoleLeader) or follows.
func (a *App) Role() string {
	if a.leading.Load() {
		return store.RoleLeader
	}
	return store.RoleFollower
}

// following reports whether another node may evaluate the monitors now:
// this node shares its store (PostgreSQL) and does not lead.
func (a *App) following() bool {
	_, shared := a.store.(store.NodeRegistry)
	return shared && !a.leading.Load()
}

// NodeID is this node's name in the nodes list.
func (a *App) NodeID() string { return a.nodeID }

// lead runs the leader's work whenever this node holds the lease, until
// ctx ends or a leader part fails for good: it waits for the lease, runs
// the parts under a context that ends when the lease is lost, waits for
// them to stop, releases the lease and waits for it again.
func (a *App) lead(ctx context.Context) error {
	for ctx.Err() == nil {
		term, err := a.store.Acquire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("cannot wait for the leader lease: %w", err)
		}
		start := time.Now()
		a.leading.Store(true)
		a.beat(ctx)
		a.log.Info("this node leads: it follows the chain, evaluates monitors and delivers alerts", "node", a.nodeID)
		lost, err := a.leaderTerm(ctx, term)
		a.leading.Store(false)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if rerr := term.Release(rctx); rerr != nil && !lost {
			a.log.Warn("cannot release the leader lease; the database frees it when the connection ends", "err", rerr)
		}
		cancel()
		a.beat(ctx)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		a.log.Warn("this node lost the leader lease: its leader work stopped; it follows and waits to lead again",
			"node", a.nodeID, "led", time.Since(start).Round(time.Millisecond))
		if !sleepCtx(ctx, reLeadPause) {
			return nil
		}
	}
	return nil
}

// leaderTerm runs the leader's parts until ctx ends, the lease is lost
// (lost is then true) or a part fails for good (its error). It returns
// only once every part stopped.
func (a *App) leaderTerm(ctx context.Context, term store.LeaseTerm) (lost bool, err error) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The store holds what the previous leader (this node or another)
	// evaluated: monitors, alert states and the engine's cursor. Every
	// term starts from it, the first too: between this node's start and
	// its lease another node may have led.
	if err := a.monitors.Resume(lctx); err != nil {
		a.log.Warn("cannot load the monitors to lead; stepping down", "err", err)
		return true, nil
	}
	// Scenario runs that monitors start end with the term.
	rctx, rcancel := context.WithCancel(a.respondCtx)
	stop := context.AfterFunc(lctx, rcancel)
	a.termMu.Lock()
	a.termCtx = rctx
	a.termMu.Unlock()
	defer func() {
		stop()
		rcancel()
		a.responding.Wait()
	}()

	errc := make(chan error, 8)
	var wg sync.WaitGroup
	run := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(lctx); err != nil && lctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	heads := make(chan struct{}, 1)
	run("head subscription", func(ctx context.Context) error {
		indexer.FollowHeads(ctx, indexer.SubscribeVia(a.rpc), heads, a.log)
		return nil
	})
	// A new indexer each term: it starts from the stored head.
	ix := indexer.New(a.rpc, a.records, a.indexConfig(heads))
	run("indexer", ix.Run)
	if len(a.retain) > 0 {
		run("retention", func(ctx context.Context) error { return logingest.RunRetention(ctx, a.records, a.retain, a.log) })
	}
	run("monitors", a.monitors.Run)
	if a.guard != nil {
		run("mempool guard", a.guard.Run)
	}
	run("oracles", a.oracles.Run)

	select {
	case <-ctx.Done():
	case <-term.Lost():
		lost = true
	case err = <-errc:
	}
	cancel()
	wg.Wait()
	return lost, err
}

// beatLoop says every beatEvery that this node is alive, and with which
// role, until ctx ends; then it takes the node off the list.
func (a *App) beatLoop(ctx context.Context) error {
	reg, ok := a.store.(store.NodeRegistry)
	if !ok {
		return nil
	}
	t := time.NewTicker(beatEvery)
	defer t.Stop()
	for {
		a.beat(ctx)
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := reg.Forget(fctx, a.nodeID, time.Now().Add(-forgetAfter)); err != nil {
				a.log.Warn("cannot take this node off the nodes list", "err", err)
			}
			return nil
		case <-t.C:
		}
	}
}

// beat records this node's role now, when the store keeps a nodes list.
func (a *App) beat(ctx context.Context) {
	reg, ok := a.store.(store.NodeRegistry)
	if !ok || ctx.Err() != nil {
		return
	}
	bctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	err := reg.Beat(bctx, a.self())
	a.beatMu.Lock()
	defer a.beatMu.Unlock()
	if err != nil && a.beatErr == nil {
		a.log.Warn("cannot record this node's heartbeat", "err", err)
	} else if err == nil && a.beatErr != nil {
		a.log.Info("this node's heartbeat is recorded again")
	}
	a.beatErr = err
}

// self is this node as the nodes list shows it.
func (a *App) self() store.Node {
	return store.Node{ID: a.nodeID, Addr: a.URL(), Role: a.Role(), Started: a.started, Heartbeat: time.Now()}
}

// nodes lists the nodes alive now: the store's list, or this node alone
// on a store that keeps none.
func (a *App) nodes(ctx context.Context) []store.Node {
	reg, ok := a.store.(store.NodeRegistry)
	if !ok {
		return []store.Node{a.self()}
	}
	ns, err := reg.Nodes(ctx, time.Now().Add(-aliveFor))
	if err != nil {
		return []store.Node{a.self()}
	}
	return ns
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
