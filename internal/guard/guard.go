package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/response"
)

// Monitors evaluates monitors on one simulated transaction and raises the
// alerts it fires while the transaction is pending; *monitor.Engine
// implements it.
type Monitors interface {
	TxWatched(addrs []common.Address) bool
	EvaluateTx(tx *chain.Tx, frames []monitor.Frame) []monitor.TxMatch
	RaisePending(ctx context.Context, m monitor.TxMatch, tx common.Hash, at time.Time) error
}

// Responder runs the scenarios that name a monitor, ordered before a
// pending transaction; *response.Service implements it.
type Responder interface {
	OnMonitorPending(ctx context.Context, monitorID, scenario string, pendingTx common.Hash, ahead response.SendOptions) []*response.Run
	// PrimeScenarios resolves the scenarios' actions ahead of need.
	PrimeScenarios(ctx context.Context) error
	// Arm makes the scenarios' first sends ready on a new head, so that a
	// run on a pending transaction only signs and sends.
	Arm(ctx context.Context, head *types.Header) error
}

// Config configures a Guard.
type Config struct {
	// RPC is a connection to the node that supports subscriptions
	// (WebSocket or IPC) and debug_traceCall.
	RPC *rpc.Client
	// Decode decodes a transaction's call, events and revert in place
	// (decode.Registry.DecodeTx).
	Decode   func(tx *chain.Tx)
	Monitors Monitors
	// Respond, when set, runs the scenarios of the monitors a pending
	// transaction fires.
	Respond Responder
	// Ignore, when set, names senders whose transactions are not checked
	// (the response signer: its pause must not be judged by the guard).
	Ignore func(from common.Address) bool
	// Workers is how many pending transactions are simulated at once
	// (default 4).
	Workers int
	Now     func() time.Time
	Log     *slog.Logger
	Hooks   Hooks
}

// Hooks observe the guard; each is called on a worker goroutine and must
// not block.
type Hooks struct {
	// OnSubscribed is called each time the subscription to pending
	// transactions is made.
	OnSubscribed func()
	// OnChecked is called after a pending transaction was simulated and
	// judged.
	OnChecked func(v Verdict)
	// OnResponded is called when the scenarios a match started are done
	// (their sends mined or failed).
	OnResponded func(v Verdict, runs []*response.Run)
}

// Verdict is what the guard made of one pending transaction.
type Verdict struct {
	Tx   common.Hash
	From common.Address
	// Seen is when the guard received it from the node.
	Seen time.Time
	// Skipped says why it was not simulated ("" when it was).
	Skipped string
	// Outcome is the simulated, decoded transaction (nil when skipped).
	Outcome *chain.Tx
	Matches []monitor.TxMatch
	// Simulated and Evaluated are how long the simulation and the monitors'
	// evaluation took.
	Simulated, Evaluated time.Duration
	// Alerted is when the pending alerts were recorded (zero without one).
	Alerted time.Time
	Err     error
}

// Guard watches the pool. Build it with New and run it with Run.
type Guard struct {
	cfg Config
	log *slog.Logger

	mu   sync.Mutex
	seen map[common.Hash]bool
	wg   sync.WaitGroup // responses in flight
}

// New returns a guard.
func New(cfg Config) *Guard {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Guard{cfg: cfg, log: cfg.Log, seen: map[common.Hash]bool{}}
}

// runTimeout bounds a scenario run the guard starts, its sends' receipts
// included.
const runTimeout = 2 * time.Minute

// maxSeen bounds the set of transactions already checked; past it the set
// starts anew (a transaction seen twice is then checked twice, harmless).
const maxSeen = 50_000

// Run subscribes to the node's pending transactions (full bodies) and
// checks each until ctx ends, subscribing again after a lost connection.
// It waits for the responses it started before returning.
func (g *Guard) Run(ctx context.Context) error {
	defer g.wg.Wait()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := g.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		g.log.Warn("guard: pending transactions subscription ended; subscribing again", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
	return nil
}

func (g *Guard) follow(ctx context.Context) error {
	ch := make(chan Pending, 1024)
	sub, err := g.cfg.RPC.EthSubscribe(ctx, ch, "newPendingTransactions", true)
	if err != nil {
		return fmt.Errorf("cannot subscribe to pending transactions (the guard needs a WebSocket or IPC node URL): %w", err)
	}
	defer sub.Unsubscribe()
	if g.cfg.Respond != nil {
		// Resolving an action reads the chain (role holders): done now,
		// the pause waits for none of it.
		if err := g.cfg.Respond.PrimeScenarios(ctx); err != nil {
			g.log.Warn("guard: some scenario actions cannot be resolved; a run will say why", "err", err)
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	var heads chan *types.Header
	if g.cfg.Respond != nil {
		// The scenarios' sends are made ready on every head: the pause
		// then only signs and sends.
		heads = make(chan *types.Header, 16)
		hsub, err := g.cfg.RPC.EthSubscribe(ctx, heads, "newHeads")
		if err != nil {
			return fmt.Errorf("cannot subscribe to new heads: %w", err)
		}
		defer hsub.Unsubscribe()
		armCtx, stopArming := context.WithCancel(ctx)
		defer stopArming()
		latest := make(chan *types.Header, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.arm(armCtx, latest)
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Only the newest head is worth arming on: an older one waiting
			// is replaced.
			for {
				select {
				case <-armCtx.Done():
					return
				case h := <-heads:
					select {
					case <-latest:
					default:
					}
					latest <- h
				case err := <-hsub.Err():
					if err != nil {
						g.log.Warn("guard: new heads subscription ended; sends are no longer made ready ahead", "err", err)
					}
					return
				}
			}
		}()
		if h, err := g.head(ctx); err == nil {
			latest <- h
		}
	}
	if g.cfg.Hooks.OnSubscribed != nil {
		g.cfg.Hooks.OnSubscribed()
	}
	work := make(chan Pending)
	defer close(work)
	for range g.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				g.handle(ctx, p, g.cfg.Now())
			}
		}()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-sub.Err():
			return err
		case p := <-ch:
			select {
			case work <- p:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// arm makes the scenarios' sends ready on each head latest delivers,
// until ctx ends.
func (g *Guard) arm(ctx context.Context, latest <-chan *types.Header) {
	for {
		select {
		case <-ctx.Done():
			return
		case h := <-latest:
			if err := g.cfg.Respond.Arm(ctx, h); err != nil && ctx.Err() == nil {
				g.log.Debug("guard: some scenario sends cannot be made ready; their runs will read and simulate first", "block", h.Number, "err", err)
			}
		}
	}
}

// head reads the latest header.
func (g *Guard) head(ctx context.Context) (*types.Header, error) {
	var h *types.Header
	if err := g.cfg.RPC.CallContext(ctx, &h, "eth_getBlockByNumber", "latest", false); err != nil {
		return nil, fmt.Errorf("cannot read the latest header: %w", err)
	}
	if h == nil {
		return nil, errors.New("cannot read the latest header: the node has none")
	}
	return h, nil
}

// handle checks one pending transaction and acts on its matches.
func (g *Guard) handle(ctx context.Context, p Pending, seen time.Time) {
	h := p.Tx.Hash()
	g.mu.Lock()
	if g.seen[h] {
		g.mu.Unlock()
		return
	}
	if len(g.seen) >= maxSeen {
		clear(g.seen)
	}
	g.seen[h] = true
	g.mu.Unlock()
	v := g.Check(ctx, p)
	v.Seen = seen
	if v.Err != nil && ctx.Err() == nil {
		g.log.Warn("guard: cannot check a pending transaction", "tx", h, "err", v.Err)
	}
	if len(v.Matches) > 0 {
		g.act(ctx, p, &v)
	}
	if g.cfg.Hooks.OnChecked != nil {
		g.cfg.Hooks.OnChecked(v)
	}
}

// Check simulates one pending transaction on the latest state and
// evaluates the monitors on the outcome. Transactions without calldata
// to an unwatched address, and ignored senders, are skipped unsimulated.
func (g *Guard) Check(ctx context.Context, p Pending) Verdict {
	v := Verdict{Tx: p.Tx.Hash(), From: p.From, Seen: g.cfg.Now()}
	switch {
	case g.cfg.Ignore != nil && g.cfg.Ignore(p.From):
		v.Skipped = "ignored sender"
		return v
	case len(p.Tx.Data()) == 0 && (p.Tx.To() == nil || !g.cfg.Monitors.TxWatched([]common.Address{*p.Tx.To()})):
		// A plain transfer to an address no monitor watches runs no
		// watched code; anything with calldata is simulated, because
		// exploits reach watched contracts through contracts of their own.
		v.Skipped = "plain transfer"
		return v
	}
	start := time.Now()
	raw, err := g.traceCall(ctx, p)
	var tx *chain.Tx
	var frames []monitor.Frame
	if err == nil {
		tx, frames, err = outcome(raw, p)
	}
	if err != nil {
		v.Err = err
		v.Simulated = time.Since(start)
		return v
	}
	v.Outcome = tx
	if g.cfg.Decode != nil {
		g.cfg.Decode(tx)
	}
	v.Simulated = time.Since(start)
	start = time.Now()
	if g.cfg.Monitors.TxWatched(touched(tx, frames)) {
		v.Matches = g.cfg.Monitors.EvaluateTx(tx, frames)
	}
	v.Evaluated = time.Since(start)
	return v
}

// act starts the scenarios of the matched monitors, ordered before the
// pending transaction, and raises their pending alerts meanwhile.
func (g *Guard) act(ctx context.Context, p Pending, v *Verdict) {
	tip, feeCap := Ahead(p.Tx)
	if g.cfg.Respond != nil {
		for _, m := range v.Matches {
			g.wg.Add(1)
			go func() {
				defer g.wg.Done()
				// A run waits for its sends to be mined; one that never is
				// must not hold the scenario (its runs are serialized)
				// forever.
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), runTimeout)
				defer cancel()
				runs := g.cfg.Respond.OnMonitorPending(rctx, m.MonitorID, m.Scenario, v.Tx, response.SendOptions{Tip: tip, FeeCap: feeCap})
				for _, r := range runs {
					g.log.Info("guard: scenario run on a pending transaction", "tx", v.Tx, "monitor", m.MonitorID, "scenario", r.Scenario, "status", r.Status, "error", r.Error)
				}
				if g.cfg.Hooks.OnResponded != nil {
					g.cfg.Hooks.OnResponded(*v, runs)
				}
			}()
		}
	}
	var errs []error
	for _, m := range v.Matches {
		g.log.Warn("guard: pending transaction fires a monitor", "tx", v.Tx, "from", p.From, "monitor", m.MonitorID, "summary", m.Summary)
		errs = append(errs, g.cfg.Monitors.RaisePending(ctx, m, v.Tx, g.cfg.Now()))
	}
	v.Alerted = g.cfg.Now()
	if err := errors.Join(errs...); err != nil {
		v.Err = errors.Join(v.Err, err)
	}
}

// Ahead is the least priority fee and fee cap per gas that order a
// transaction before tx in a block: a tenth more than tx's, and at least
// 1 gwei more. Blocks order by the priority fee a transaction actually
// pays (its tip, capped by its fee cap less the base fee), so both are
// raised.
func Ahead(tx *types.Transaction) (tip, feeCap *big.Int) {
	bump := func(v *big.Int) *big.Int {
		d := new(big.Int).Div(v, big.NewInt(10))
		if d.Cmp(big.NewInt(params.GWei)) < 0 {
			d = big.NewInt(params.GWei)
		}
		return new(big.Int).Add(v, d)
	}
	return bump(tx.GasTipCap()), bump(tx.GasFeeCap())
}
