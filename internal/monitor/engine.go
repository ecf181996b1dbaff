package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/notify"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Notifier takes notifications; notify.Outbox implements it. If it also
// has Run(ctx) error, Engine.Run runs it.
type Notifier interface {
	Enqueue(ctx context.Context, m notify.Message, channels []string) (int, error)
	SetChannels(specs []notify.Spec) error
	DeadLetters(ctx context.Context, limit int) ([]store.Delivery, error)
	Retry(ctx context.Context, id int64) error
}

// Deps are what the engine reads and writes through.
type Deps struct {
	Store store.MonitorStore
	// Contracts lists the known contracts (names and ABIs resolve monitor
	// definitions).
	Contracts func(ctx context.Context) ([]store.Contract, error)
	Blocks    store.BlockRangeReader
	// Search runs query monitors; nil leaves them idle.
	Search store.Searcher
	// Node reads state and call traces; nil leaves state and balance
	// monitors idle and internal calls unseen.
	Node Node
	// Decode decodes internal calls' input; nil matches them by selector
	// only.
	Decode DecodeCallFunc
	// Feeds reads price feeds for the feed-* kinds; nil leaves them idle.
	Feeds    FeedReader
	Notifier Notifier
	// Responder starts the response to firings; nil refuses monitors
	// that name a scenario (respond:).
	Responder Responder
}

// Responder starts response scenarios when alerts fire; the composition
// root wires internal/response's scenario runner to it.
type Responder interface {
	// CheckScenario returns nil when a scenario of that name exists, else
	// an error saying so (and which exist); applying a monitor that names
	// an unknown scenario fails with it.
	CheckScenario(name string) error
	// Fired is called on the engine's goroutine once an alert starts
	// firing (not when silenced, not on a renotify), after its
	// notifications were enqueued, with the monitor's id and its respond
	// scenario ("" when it names none), and the transaction that made it
	// fire (0x… hex, "" when none did: a schedule, a feed's staleness). It
	// must return at once: the response runs on the responder's own
	// goroutines.
	Fired(monitorID, alertKey, scenario, tx string)
}

// Options tune the engine.
type Options struct {
	Now func() time.Time
	// BaseURL prefixes the links alerts carry (http://127.0.0.1:8080).
	BaseURL string
	Logger  *slog.Logger
	// MaxBlockAge: blocks older than this (by Now) are not evaluated, so
	// that a backfill does not alert on history (default 10m).
	MaxBlockAge time.Duration
	// OnEvaluated, if set, is called on the engine's goroutine after each
	// block is evaluated and its notifications enqueued.
	OnEvaluated func(block uint64, took time.Duration)
	// Elsewhere, if set, reports whether another process evaluates the
	// monitors now (this node follows a leader): ActiveAlerts then reads
	// the store. Nil: this engine is the only one.
	Elsewhere func() bool
}

// Engine evaluates monitors and runs their alerts. Build it with New, load
// the stored definitions with Load, run it with Run; OnBlocks, OnStored
// and OnReorg may be called from any goroutine and never block.
type Engine struct {
	d    Deps
	opts Options
	log  *slog.Logger

	qmu   sync.Mutex
	queue []item
	wake  chan struct{}

	// amu serializes changes of the definitions (Apply, Merge, the API's
	// edits): each reads the stored set, then replaces it.
	amu sync.Mutex

	mu       sync.Mutex // guards everything below
	rts      map[string]*runtime
	defs     map[string]store.MonitorDef
	errs     map[string]string // monitors that do not compile now, with why
	channels []notify.Spec
	silences []silence
	recent   []chain.Block // the newest blocks, for confirmations
	cursor   uint64        // newest block processed
	cursorOK bool
	// stale is set when a round's notifications or alert states could
	// not be written: what the engine holds in memory is then ahead of
	// the store, and Run reloads the store's state and evaluates again
	// from its checkpoint (keys make the repeats idempotent).
	stale bool
	// redoFrom is the first block whose writes failed, evaluated again
	// from when the store holds no cursor yet (0: none).
	redoFrom uint64

	names map[common.Address]string
	ids   []string // the keys of rts, sorted

	// pending is what EvaluateTx runs (pending.go).
	pending pendingSet
}

type item struct {
	blocks   []chain.Block
	from, to uint64 // stored range, when blocks is nil and to > 0
	reorg    bool
	ancestor uint64
}

// New returns an engine; call Load before Run.
func New(d Deps, opts Options) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBlockAge == 0 {
		opts.MaxBlockAge = 10 * time.Minute
	}
	return &Engine{d: d, opts: opts, log: opts.Logger, wake: make(chan struct{}, 1),
		rts: map[string]*runtime{}, defs: map[string]store.MonitorDef{}, errs: map[string]string{}}
}

// cursorID is the pseudo alert state that keeps the engine's cursor, saved
// in the same transaction as the alerts it produced.
const cursorID = "_engine"

// Load reads monitors, channels, alert states and silences from the store
// and compiles the monitors against the known contracts. A monitor that
// no longer compiles (its contract was removed) stays stored, idle, with
// its error shown by the API.
func (e *Engine) Load(ctx context.Context) error { return e.load(ctx, false) }

// load is Load; fresh drops what the engine holds in memory (runtimes,
// alerts, windows, recent blocks, cursor) for what the store holds, in
// the same locked swap, so that no reader (the mempool guard's snapshot,
// the API) ever sees an engine without monitors.
func (e *Engine) load(ctx context.Context, fresh bool) error {
	defs, err := e.d.Store.MonitorDefs(ctx)
	if err != nil {
		return err
	}
	chans, err := e.d.Store.ChannelDefs(ctx)
	if err != nil {
		return err
	}
	cat, err := e.catalog(ctx)
	if err != nil {
		return err
	}
	var specs []notify.Spec
	for _, c := range chans {
		var s notify.Spec
		if err := json.Unmarshal(c.Spec, &s); err != nil {
			return fmt.Errorf("stored channel %s does not decode: %w", c.Name, err)
		}
		specs = append(specs, s)
	}
	if e.d.Notifier != nil {
		if err := e.d.Notifier.SetChannels(specs); err != nil {
			return fmt.Errorf("cannot set up notification channels: %w", err)
		}
	}
	states, err := e.d.Store.AlertStates(ctx)
	if err != nil {
		return err
	}
	sils, err := e.loadSilences(ctx)
	if err != nil {
		return err
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	e.channels, e.silences = specs, sils
	e.names = map[common.Address]string{}
	for a, k := range cat.byAddr {
		e.names[a] = k.name
	}
	old := e.rts
	if fresh {
		old = nil
		e.recent = nil
		e.cursor, e.cursorOK = 0, false
		e.stale = false
	}
	e.rts, e.defs, e.errs = map[string]*runtime{}, map[string]store.MonitorDef{}, map[string]string{}
	for _, d := range defs {
		e.defs[d.ID] = d
		var s Spec
		if err := json.Unmarshal(d.Spec, &s); err != nil {
			e.errs[d.ID] = "definition does not decode: " + err.Error()
			continue
		}
		c, err := compile(s, cat)
		if err != nil {
			e.errs[d.ID] = err.Error()
			continue
		}
		rt := newRuntime(c)
		if prev, ok := old[d.ID]; ok && sameSpec(prev.c.spec, s) {
			// Unchanged: keep its windows and alerts.
			prev.c = c
			rt = prev
		}
		e.rts[d.ID] = rt
	}
	e.ids = e.ids[:0]
	for id := range e.rts {
		e.ids = append(e.ids, id)
	}
	slices.Sort(e.ids)
	for _, st := range states {
		if st.MonitorID == cursorID {
			var cur struct{ Block uint64 }
			if json.Unmarshal(st.State, &cur) == nil && !e.cursorOK {
				e.cursor, e.cursorOK = cur.Block, true
			}
			continue
		}
		rt, ok := e.rts[st.MonitorID]
		if !ok {
			continue
		}
		if _, have := rt.alerts[st.Key]; have {
			continue
		}
		var a Alert
		if err := json.Unmarshal(st.State, &a); err == nil {
			rt.alerts[st.Key] = &a
		}
	}
	if e.cursorOK {
		for _, rt := range e.rts {
			if rt.last == 0 {
				rt.last = e.cursor - min(e.cursor, rt.c.spec.Confirmations)
			}
		}
	}
	return nil
}

// Resume forgets what the engine holds in memory — its cursor, alerts,
// windows, recent blocks and queue — and loads the monitors, alert states
// and cursor the store holds, as at start. A node that takes evaluation
// over from another calls it before Run, so that what the other evaluated
// and changed is honoured and Run resumes after the stored cursor.
func (e *Engine) Resume(ctx context.Context) error {
	e.qmu.Lock()
	e.queue = nil
	e.qmu.Unlock()
	return e.load(ctx, true)
}

// isStale reports whether a failed write left the engine ahead of the
// store.
func (e *Engine) isStale() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stale
}

// recover goes back to what the store holds after a failed write: it
// reloads (Resume) and queues the stored blocks after the checkpoint.
func (e *Engine) recover(ctx context.Context) error {
	if err := e.Resume(ctx); err != nil {
		return err
	}
	e.mu.Lock()
	from, cursored := e.redoFrom, e.cursorOK
	e.redoFrom = 0
	e.mu.Unlock()
	if !cursored && from > 0 {
		// No cursor was ever saved: evaluate again from the failed block.
		return e.catchUpFrom(ctx, from)
	}
	return e.catchUp(ctx)
}

func sameSpec(a, b Spec) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func (e *Engine) catalog(ctx context.Context) (*catalog, error) {
	if e.d.Contracts == nil {
		return newCatalog(nil), nil
	}
	cs, err := e.d.Contracts(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot list known contracts: %w", err)
	}
	return newCatalog(cs), nil
}

// ContractsChanged recompiles the monitors, for when a contract was
// registered (a monitor naming it may compile now).
func (e *Engine) ContractsChanged(ctx context.Context) error { return e.Load(ctx) }

// OnBlocks hands newly indexed blocks (ascending) to the engine.
func (e *Engine) OnBlocks(blocks []chain.Block) {
	if len(blocks) == 0 {
		return
	}
	e.push(item{blocks: blocks})
}

// OnStored tells the engine that blocks from..to were stored; it reads
// them from the store (for an indexer hook that has no blocks at hand).
func (e *Engine) OnStored(from, to uint64) {
	if to < from {
		return
	}
	e.push(item{from: from, to: to})
}

// OnReorg tells the engine that blocks above ancestor were orphaned.
func (e *Engine) OnReorg(ancestor uint64) { e.push(item{reorg: true, ancestor: ancestor}) }

func (e *Engine) push(it item) {
	e.qmu.Lock()
	e.queue = append(e.queue, it)
	e.qmu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Lag is how many queued items wait for evaluation.
func (e *Engine) Lag() int {
	e.qmu.Lock()
	defer e.qmu.Unlock()
	return len(e.queue)
}

// Run evaluates until ctx ends: queued blocks as they come, query monitors
// when due. It also runs the Notifier if that has a Run method.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if r, ok := e.d.Notifier.(interface{ Run(context.Context) error }); ok {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("notification outbox stopped", "err", err)
			}
		}()
	}
	defer wg.Wait()
	if err := e.catchUp(ctx); err != nil && ctx.Err() == nil {
		e.log.Warn("monitors: cannot evaluate the blocks stored while stopped", "err", err)
	}
	// Silences that ended or were removed while the engine was stopped
	// release what they held.
	e.releaseHeld(ctx)
	reloading := false
	for ctx.Err() == nil {
		if e.isStale() {
			if !reloading {
				reloading = true
				e.log.Warn("monitors: a write to the store failed; evaluating again from the stored checkpoint once it answers")
			}
			// A store that fails is not hammered: each reload waits.
			if !wait(ctx, staleRetry) {
				return nil
			}
			if err := e.recover(ctx); err != nil {
				continue
			}
			e.log.Info("monitors: reloaded from the store; evaluating from its checkpoint")
			reloading = false
		}
		e.drain(ctx)
		if e.isStale() {
			continue
		}
		wait := e.runQueries(ctx)
		wait = min(wait, e.silenceTick(ctx))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-e.wake:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// catchUp evaluates the blocks stored after the cursor (a restart).
func (e *Engine) catchUp(ctx context.Context) error {
	e.mu.Lock()
	cursor, ok := e.cursor, e.cursorOK
	e.mu.Unlock()
	if !ok {
		return nil
	}
	return e.catchUpFrom(ctx, cursor+1)
}

// catchUpFrom queues the stored blocks from block from on.
func (e *Engine) catchUpFrom(ctx context.Context, from uint64) error {
	if e.d.Blocks == nil {
		return nil
	}
	// The newest stored block: BlockAt(now) finds it.
	head, err := e.d.Blocks.BlockAt(ctx, e.opts.Now().Add(time.Hour))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if head.Number >= from {
		e.push(item{from: from, to: head.Number})
	}
	return nil
}

func (e *Engine) drain(ctx context.Context) {
	for ctx.Err() == nil && !e.isStale() {
		e.qmu.Lock()
		if len(e.queue) == 0 {
			e.qmu.Unlock()
			return
		}
		it := e.queue[0]
		e.queue = e.queue[1:]
		e.qmu.Unlock()
		switch {
		case it.reorg:
			e.reorg(ctx, it.ancestor)
		case it.blocks != nil:
			e.process(ctx, it.blocks)
		default:
			for from := it.from; from <= it.to && ctx.Err() == nil; from += 500 {
				to := min(it.to, from+499)
				blocks, err := e.d.Blocks.BlockRange(ctx, from, to)
				if err != nil {
					e.log.Warn("monitors: cannot read stored blocks", "from", from, "to", to, "err", err)
					break
				}
				e.process(ctx, blocks)
				if e.isStale() {
					break
				}
			}
		}
	}
}

// batch collects one round's writes.
type batch struct {
	states []store.AlertState
	events []store.AlertEvent
	msgs   []pending
	series []store.SeriesPoint
	fired  []firing
}

// firing is an alert that started firing, for the responder.
type firing struct{ monitor, key, scenario, tx string }

type pending struct {
	m        notify.Message
	channels []string
}

// process evaluates chain monitors on blocks (ascending).
func (e *Engine) process(ctx context.Context, blocks []chain.Block) {
	e.mu.Lock()
	defer e.mu.Unlock()
	maxConf := uint64(0)
	for _, rt := range e.rts {
		maxConf = max(maxConf, rt.c.spec.Confirmations)
	}
	now := e.opts.Now()
	// Call traces by block: a monitor of internal calls with
	// confirmations evaluates a block after the head moved past it.
	traces := map[uint64]map[common.Hash][]Frame{}
	for i := range blocks {
		start := time.Now()
		b := blocks[i]
		if e.cursorOK && b.Number <= e.cursor && len(e.recent) > 0 {
			// Already evaluated (a stored range overlapping pushed blocks).
			continue
		}
		e.recent = append(e.recent, b)
		if n := len(e.recent); uint64(n) > maxConf+1 {
			e.recent = slices.Delete(e.recent, 0, n-int(maxConf+1))
		}
		var bt batch
		for n := range traces {
			if n+maxConf < b.Number {
				delete(traces, n)
			}
		}
		for _, id := range e.order() {
			rt := e.rts[id]
			if !rt.c.spec.Chain() || rt.c.spec.Disabled {
				continue
			}
			conf := rt.c.spec.Confirmations
			for j := range e.recent {
				rb := &e.recent[j]
				if rb.Number <= rt.last && rt.last != 0 || rb.Number+conf > b.Number {
					continue
				}
				rt.last = rb.Number
				if now.Sub(rb.Time) > e.opts.MaxBlockAge {
					continue
				}
				in := blockInput{block: rb, decode: e.d.Decode, names: e.nameOf, feeds: e.d.Feeds}
				if rt.c.spec.Internal && e.d.Node != nil && len(rb.Txs) > 0 {
					frames, ok := traces[rb.Number]
					if !ok {
						var err error
						if frames, err = e.d.Node.TraceCalls(ctx, rb.Number); err != nil {
							e.log.Warn("monitors: cannot trace block; internal calls unseen", "block", rb.Number, "err", err)
						}
						traces[rb.Number] = frames // nil after an error: tried once
					}
					in.frames = frames
				}
				obs, point, err := rt.evalBlock(ctx, in, e.d.Node)
				if err != nil {
					if !errors.Is(err, ErrNoNode) {
						e.log.Warn("monitor evaluation failed", "monitor", id, "block", rb.Number, "err", err)
					}
					continue
				}
				if point != nil {
					bt.series = append(bt.series, *point)
				}
				e.apply(rt, obs, &bt)
			}
		}
		e.cursor, e.cursorOK = b.Number, true
		e.commit(ctx, &bt)
		if e.stale {
			// The blocks after this one wait for the reload.
			if e.redoFrom == 0 || b.Number < e.redoFrom {
				e.redoFrom = b.Number
			}
			return
		}
		if e.opts.OnEvaluated != nil {
			e.opts.OnEvaluated(b.Number, time.Since(start))
		}
	}
}

// nameOf names a contract for labels: its registered name or address.
func (e *Engine) nameOf(a common.Address) string {
	if n := e.names[a]; n != "" {
		return n
	}
	return a.Hex()
}

// order lists the monitors by id; Load sorts it once.
func (e *Engine) order() []string { return e.ids }

// apply runs the state machine on observations, collecting writes.
func (e *Engine) apply(rt *runtime, obs []obs, bt *batch) {
	for _, o := range obs {
		prev := rt.alerts[o.key]
		next, trs := rt.c.advance(prev, o, e.silenced)
		switch {
		case next == nil && prev != nil:
			delete(rt.alerts, o.key)
			bt.states = append(bt.states, store.AlertState{MonitorID: rt.c.spec.ID, Key: o.key})
		case next != nil && (prev == nil || !sameAlert(prev, next)):
			rt.alerts[o.key] = next
			st, _ := json.Marshal(next)
			bt.states = append(bt.states, store.AlertState{MonitorID: rt.c.spec.ID, Key: o.key, State: st})
		}
		for _, tr := range trs {
			e.record(rt.c, tr, bt)
		}
	}
}

func sameAlert(a, b *Alert) bool {
	return a.State == b.State && a.Since.Equal(b.Since) && a.Block == b.Block && a.BlockHash == b.BlockHash &&
		a.LastActive.Equal(b.LastActive) && a.LastNotified.Equal(b.LastNotified) && a.Notified == b.Notified &&
		a.Seq == b.Seq && a.Renotified == b.Renotified && a.Value == b.Value && a.Count == b.Count &&
		a.Tx == b.Tx && a.Summary == b.Summary && a.ResolvedAt.Equal(b.ResolvedAt) && a.ResolvedBlock == b.ResolvedBlock &&
		a.Held == b.Held && maps.Equal(a.Labels, b.Labels)
}

// record turns a transition into a history event and, if due, a
// notification.
func (e *Engine) record(c *compiled, tr transition, bt *batch) {
	status := tr.status
	switch {
	case tr.renotify:
		status = "renotify"
	case tr.silenced:
		status = "silenced"
	case tr.status == StateFiring && !tr.notify:
		status = "cooldown"
	}
	detail, _ := json.Marshal(tr.alert)
	block := tr.alert.Block
	if tr.status == StateResolved {
		block = tr.alert.ResolvedBlock
	}
	bt.events = append(bt.events, store.AlertEvent{MonitorID: c.spec.ID, Key: tr.alert.Key, Status: status, Time: tr.t, Block: block, Detail: detail})
	if tr.status == StateFiring && !tr.renotify && !tr.silenced {
		// Notified or not (a monitor without channels, a firing within
		// the monitor's cooldown), a firing is responded to: the
		// scenario's own cooldown bounds how often it runs.
		bt.fired = append(bt.fired, firing{monitor: c.spec.ID, key: tr.alert.Key, scenario: c.spec.Respond, tx: tr.alert.Tx})
	}
	if !tr.notify || len(c.spec.Channels) == 0 {
		return
	}
	bt.msgs = append(bt.msgs, pending{m: e.message(c, tr), channels: c.spec.Channels})
}

func (e *Engine) message(c *compiled, tr transition) notify.Message {
	a := tr.alert
	m := notify.Message{
		Key: tr.idempotencyKey(), Status: tr.status, Renotify: tr.renotify,
		MonitorID: c.spec.ID, Monitor: c.spec.Title(), Severity: c.severity(),
		AlertKey: c.spec.ID + "/" + a.Key, Summary: a.Summary, Details: c.spec.Description,
		Labels: a.Labels, Value: a.Value, Count: a.Count, Block: a.Block, Tx: a.Tx,
		StartsAt: a.Since, Time: tr.t,
	}
	if tr.status == StateResolved {
		m.Block, m.EndsAt = a.ResolvedBlock, a.ResolvedAt
	}
	if tr.status == notify.StatusRetracted {
		m.Summary = fmt.Sprintf("retracted: block %d that fired this alert was orphaned by a reorg (%s)", a.Block, a.Summary)
	}
	if e.opts.BaseURL != "" {
		if q := c.searchQuery(a); q != "" {
			from, to := a.Since.Add(-c.spec.Window.D()-time.Minute), tr.t.Add(time.Minute)
			v := url.Values{"q": {q}, "from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}}
			m.Links = append(m.Links, notify.Link{Text: "Search", URL: e.opts.BaseURL + "/explore?" + v.Encode()})
		}
		if a.Tx != "" {
			m.Links = append(m.Links, notify.Link{Text: "Debug transaction", URL: e.opts.BaseURL + "/debug/" + a.Tx})
		}
		if tr.status == StateFiring {
			// One click from the notification to an incident opened from
			// this alert (the incidents page, filled in).
			v := url.Values{"monitor": {c.spec.ID}, "key": {a.Key}}
			m.Links = append(m.Links, notify.Link{Text: "Open incident", URL: e.opts.BaseURL + "/incidents?" + v.Encode()})
		}
	}
	return m
}

// searchQuery is the search for the records behind an alert.
func (c *compiled) searchQuery(a Alert) string {
	s := c.spec
	addr := ""
	if a.Labels["address"] != "" {
		addr = " address:" + a.Labels["address"]
	} else if len(c.addrs) == 1 {
		for x := range c.addrs {
			addr = " address:" + x.Hex()
		}
	}
	switch s.Kind {
	case KindQuery:
		return filterText(s.Query)
	case KindEvent, KindNoData:
		if evs := s.events(); len(evs) > 0 && !containsParen(evs) {
			q := "event:" + evs[0]
			if len(evs) > 1 {
				q = "event:(" + joinOr(evs) + ")"
			}
			return q + addr
		}
	case KindTxFail, KindSLO:
		return "status:failed" + addr
	case KindCall, KindCallers:
		if c.method.name != "" {
			return "method:" + c.method.name + addr
		}
	}
	if a.Tx != "" {
		return "tx:" + a.Tx
	}
	return ""
}

func containsParen(ss []string) bool {
	for _, s := range ss {
		for _, r := range s {
			if r == '(' {
				return true
			}
		}
	}
	return false
}

func joinOr(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += " OR "
		}
		out += s
	}
	return out
}

// filterText is a query without its pipes.
func filterText(q string) string {
	for i := 0; i < len(q); i++ {
		if q[i] == '"' {
			for i++; i < len(q) && q[i] != '"'; i++ {
				if q[i] == '\\' {
					i++
				}
			}
			continue
		}
		if q[i] == '|' {
			return trimSpace(q[:i])
		}
	}
	return q
}

func trimSpace(s string) string {
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// commit enqueues notifications, then saves alert states, history and the
// cursor in one transaction. A crash in between replays the block and
// re-derives the same idempotency keys: nothing is enqueued twice. When
// either write fails the engine is stale: nothing more is saved (a cursor
// saved past a notification not enqueued would lose it) until Run
// reloaded the store's state. The caller holds e.mu.
func (e *Engine) commit(ctx context.Context, bt *batch) {
	if err := e.enqueue(ctx, bt); err != nil {
		e.stale = true
		return
	}
	if len(bt.series) > 0 {
		if err := e.d.Store.AppendSeries(ctx, bt.series); err != nil {
			e.log.Warn("monitors: cannot store series", "err", err)
		}
	}
	cur, _ := json.Marshal(struct{ Block uint64 }{e.cursor})
	states := append(bt.states, store.AlertState{MonitorID: cursorID, Key: "cursor", State: cur})
	if err := e.d.Store.SaveAlerts(ctx, states, bt.events); err != nil {
		e.stale = true
		if ctx.Err() == nil {
			e.log.Error("monitors: cannot save alerts", "err", err)
		}
	}
}

// enqueue hands a batch's notifications to the notifier, then its
// firings to the responder. It stops at the first notification that
// cannot be enqueued, before the responder: the batch is evaluated again.
func (e *Engine) enqueue(ctx context.Context, bt *batch) error {
	for _, p := range bt.msgs {
		if e.d.Notifier == nil {
			break
		}
		if _, err := e.d.Notifier.Enqueue(ctx, p.m, p.channels); err != nil {
			if ctx.Err() == nil {
				e.log.Error("monitors: cannot enqueue a notification", "key", p.m.Key, "err", err)
			}
			return err
		}
	}
	if e.d.Responder != nil {
		for _, f := range bt.fired {
			e.d.Responder.Fired(f.monitor, f.key, f.scenario, f.tx)
		}
	}
	return nil
}

// reorg retracts alerts fired by orphaned blocks and forgets what the
// monitors saw above the ancestor.
func (e *Engine) reorg(ctx context.Context, ancestor uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for len(e.recent) > 0 && e.recent[len(e.recent)-1].Number > ancestor {
		e.recent = e.recent[:len(e.recent)-1]
	}
	if e.cursor > ancestor {
		e.cursor = ancestor
	}
	var bt batch
	now := e.opts.Now()
	for _, id := range e.order() {
		rt := e.rts[id]
		if !rt.c.spec.Chain() {
			continue
		}
		rt.rollback(ancestor)
		for _, a := range sortedAlerts(rt.alerts) {
			if a.Block <= ancestor || a.State == StateResolved && a.Block == 0 {
				continue
			}
			delete(rt.alerts, a.Key)
			bt.states = append(bt.states, store.AlertState{MonitorID: id, Key: a.Key})
			if a.State == StateFiring || a.State == StateResolved {
				tr := transition{alert: *a, status: notify.StatusRetracted, notify: a.Notified, t: now}
				e.record(rt.c, tr, &bt)
			}
		}
	}
	if err := e.d.Store.DeleteSeriesAbove(ctx, ancestor); err != nil {
		e.log.Warn("monitors: cannot delete orphaned series", "err", err)
	}
	e.commit(ctx, &bt)
}

// runQueries evaluates the query monitors that are due and returns how
// long until the next one is.
func (e *Engine) runQueries(ctx context.Context) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	wait := time.Minute
	if e.d.Search == nil {
		return wait
	}
	now := e.opts.Now()
	var bt batch
	for _, id := range e.order() {
		rt := e.rts[id]
		if rt.c.spec.Kind != KindQuery || rt.c.spec.Disabled {
			continue
		}
		if rt.nextRun.After(now) {
			wait = min(wait, rt.nextRun.Sub(now))
			continue
		}
		every := rt.c.spec.Every.D()
		if every == 0 {
			every = 30 * time.Second
		}
		rt.nextRun = now.Add(every)
		wait = min(wait, every)
		obs, err := rt.evalQuery(ctx, e.d.Search, now)
		if err != nil {
			e.log.Warn("query monitor failed", "monitor", id, "err", err)
			continue
		}
		e.apply(rt, obs, &bt)
	}
	if len(bt.states)+len(bt.events) > 0 {
		e.commitQuery(ctx, &bt)
	}
	return wait
}

// commitQuery is commit for rounds that move no cursor (query monitors,
// silences); the caller holds e.mu.
func (e *Engine) commitQuery(ctx context.Context, bt *batch) {
	if err := e.enqueue(ctx, bt); err != nil {
		e.stale = true
		return
	}
	if err := e.d.Store.SaveAlerts(ctx, bt.states, bt.events); err != nil {
		e.stale = true
		if ctx.Err() == nil {
			e.log.Error("monitors: cannot save alerts", "err", err)
		}
	}
}

// staleRetry is the wait between reloads of a store that fails.
const staleRetry = time.Second

// wait waits for d or ctx's end; it reports false on the latter.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// EvaluateQueries runs every query monitor now, whether due or not.
func (e *Engine) EvaluateQueries(ctx context.Context) {
	e.mu.Lock()
	for _, rt := range e.rts {
		rt.nextRun = time.Time{}
	}
	e.mu.Unlock()
	e.runQueries(ctx)
}

// ActiveAlerts returns the pending and firing alerts, by monitor and key.
//
// An engine that does not evaluate now (Options.Elsewhere says another
// process does) reads them from the store, where the evaluating one saves
// them, so that every node answers alike; it falls back to what it holds
// when the store does not answer.
func (e *Engine) ActiveAlerts() []Alert {
	if e.opts.Elsewhere != nil && e.opts.Elsewhere() {
		if out, err := e.storedActive(); err == nil {
			return out
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Alert
	for _, id := range e.order() {
		for _, a := range sortedAlerts(e.rts[id].alerts) {
			if a.State != StateResolved {
				out = append(out, *cloneAlert(a))
			}
		}
	}
	return out
}

// storedActive is ActiveAlerts from the store's alert states, in the same
// order (monitor id, then key), for the monitors this engine knows.
func (e *Engine) storedActive() ([]Alert, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	states, err := e.d.Store.AlertStates(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	known := maps.Clone(e.rts)
	e.mu.Unlock()
	var out []Alert
	for _, st := range states {
		if _, ok := known[st.MonitorID]; !ok || st.MonitorID == cursorID {
			continue
		}
		var a Alert
		if json.Unmarshal(st.State, &a) != nil || a.State == StateResolved {
			continue
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y Alert) int {
		if c := strings.Compare(x.MonitorID, y.MonitorID); c != 0 {
			return c
		}
		return strings.Compare(x.Key, y.Key)
	})
	return out, nil
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// Evaluate processes blocks (ascending) on the calling goroutine, as Run
// does for queued blocks: for tests and benchmarks that need the work
// done before they go on.
func (e *Engine) Evaluate(ctx context.Context, blocks []chain.Block) { e.process(ctx, blocks) }
