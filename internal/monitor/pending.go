package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/notify"
	"github.com/blocktorch/blocktorch/internal/store"
)

// StagePending is the "stage" label of an alert raised on a transaction
// still in the pool (the mempool guard's): it names what would happen
// if the transaction were mined, not what happened.
const StagePending = "pending"

// TxMatch is a monitor that one transaction, on its own, would fire.
type TxMatch struct {
	MonitorID string
	Monitor   string // the monitor's title
	Severity  string
	Summary   string
	Labels    map[string]string
	Channels  []string
	// Scenario is the scenario the monitor names (respond:), "" for none.
	Scenario string
}

// pendingSet is a snapshot of the monitors a single transaction can fire,
// so that the guard never waits for a block's evaluation (which holds the
// engine's lock across node calls).
type pendingSet struct {
	mu    sync.Mutex
	mons  []*compiled
	names map[common.Address]string
	addrs map[common.Address]bool // nil: some monitor watches every contract
}

// appliesToOneTx reports whether a transaction alone can fire the monitor:
// the match kinds with a threshold of one. Windows, rates, state and
// query monitors need blocks and time.
func appliesToOneTx(c *compiled) bool {
	switch c.spec.Kind {
	case KindEvent, KindCall, KindCallers, KindTxFail:
		return !c.spec.Disabled && c.spec.Threshold <= 1
	}
	return false
}

// snapshot returns the monitors EvaluateTx runs. It refreshes them when
// the engine is idle and otherwise keeps the last ones, so that a block
// being evaluated (node calls under the lock) never delays a pending
// transaction's check.
func (e *Engine) snapshot() *pendingSet {
	ps := &e.pending
	ps.mu.Lock()
	defer ps.mu.Unlock()
	locked := e.mu.TryLock()
	if !locked && ps.names == nil {
		e.mu.Lock()
		locked = true
	}
	if locked {
		ps.mons, ps.names, ps.addrs = ps.mons[:0], maps.Clone(e.names), map[common.Address]bool{}
		if ps.names == nil {
			ps.names = map[common.Address]string{}
		}
		for _, id := range e.ids {
			c := e.rts[id].c
			if !appliesToOneTx(c) {
				continue
			}
			ps.mons = append(ps.mons, c)
			if c.addrs == nil {
				ps.addrs = nil
			} else if ps.addrs != nil {
				maps.Copy(ps.addrs, c.addrs)
			}
		}
		if len(ps.mons) == 0 {
			ps.addrs = map[common.Address]bool{}
		}
		e.mu.Unlock()
	}
	return &pendingSet{mons: append([]*compiled(nil), ps.mons...), names: ps.names, addrs: ps.addrs}
}

// TxWatched reports whether any monitor a single transaction can fire
// watches one of addrs (every contract, for a monitor that names none).
func (e *Engine) TxWatched(addrs []common.Address) bool {
	ps := e.snapshot()
	if len(ps.mons) == 0 {
		return false
	}
	if ps.addrs == nil {
		return true
	}
	for _, a := range addrs {
		if ps.addrs[a] {
			return true
		}
	}
	return false
}

// EvaluateTx evaluates the monitors a single transaction can fire (event,
// call, callers and txfail monitors with a threshold of one) on tx, the
// decoded outcome of a simulated transaction (status, revert, logs) with
// its call frames (nil without a trace), as they would judge it in a
// block. It changes no alert and may be called from any goroutine; it
// does not wait for a block being evaluated.
func (e *Engine) EvaluateTx(tx *chain.Tx, frames []Frame) []TxMatch {
	ps := e.snapshot()
	if len(ps.mons) == 0 {
		return nil
	}
	names := func(a common.Address) string {
		if n := ps.names[a]; n != "" {
			return n
		}
		return a.Hex()
	}
	b := &chain.Block{Txs: []chain.Tx{*tx}}
	in := blockInput{block: b, decode: e.d.Decode, names: names}
	if frames != nil {
		in.frames = map[common.Hash][]Frame{tx.Hash: frames}
	}
	var out []TxMatch
	for _, c := range ps.mons {
		for _, h := range c.matchBlock(in) {
			l := c.labels(h.labels)
			maps.Copy(l, h.labels)
			l["monitor"], l["severity"] = c.spec.ID, c.severity()
			out = append(out, TxMatch{MonitorID: c.spec.ID, Monitor: c.spec.Title(), Severity: c.severity(),
				Summary: h.summary, Labels: l, Channels: c.spec.Channels, Scenario: c.spec.Respond})
			break // one alert per monitor and transaction
		}
	}
	return out
}

// RaisePending records and notifies an alert raised on a transaction still
// in the pool: its history event has status "pending", its labels say
// stage=pending and name the transaction (pendingTx), and its summary
// begins with "pending tx". It goes to the monitor's channels as a firing
// notification, so that it pages like any alert, and leaves the monitor's
// alert state alone: the mined block, if the transaction lands, fires it
// as usual.
func (e *Engine) RaisePending(ctx context.Context, m TxMatch, tx common.Hash, at time.Time) error {
	labels := maps.Clone(m.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels["stage"], labels["pendingTx"] = StagePending, tx.Hex()
	key := "pending:" + tx.Hex()
	summary := fmt.Sprintf("pending tx %s (not mined yet) would fire %s: %s", tx.Hex(), m.MonitorID, m.Summary)
	a := Alert{MonitorID: m.MonitorID, Key: key, Labels: labels, State: StatePending, Since: at, LastActive: at,
		Notified: len(m.Channels) > 0, Seq: 1, Tx: tx.Hex(), Summary: summary, Count: 1}
	detail, _ := json.Marshal(a)
	if e.d.Notifier != nil && len(m.Channels) > 0 {
		msg := notify.Message{
			Key: m.MonitorID + "|" + key, Status: notify.StatusFiring, MonitorID: m.MonitorID, Monitor: m.Monitor,
			Severity: m.Severity, AlertKey: m.MonitorID + "/" + key, Summary: summary, Labels: labels, Tx: tx.Hex(),
			Count: 1, StartsAt: at, Time: at,
		}
		if _, err := e.d.Notifier.Enqueue(ctx, msg, m.Channels); err != nil {
			return fmt.Errorf("cannot enqueue the pending alert of %s: %w", m.MonitorID, err)
		}
	}
	ev := store.AlertEvent{MonitorID: m.MonitorID, Key: key, Status: StatePending, Time: at, Detail: detail}
	if err := e.d.Store.SaveAlerts(ctx, nil, []store.AlertEvent{ev}); err != nil {
		return fmt.Errorf("cannot record the pending alert of %s: %w", m.MonitorID, err)
	}
	return nil
}
