package monitor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Firing is one transition a dry run saw.
type Firing struct {
	Status  string    `json:"status"`
	Key     string    `json:"key,omitempty"`
	Time    time.Time `json:"time"`
	Block   uint64    `json:"block,omitempty"`
	Tx      string    `json:"tx,omitempty"`
	Value   string    `json:"value,omitempty"`
	Summary string    `json:"summary"`
	// EndsAt is when a resolved alert stopped; Block, Value and Summary
	// of a resolve are those of the observation that resolved it.
	EndsAt time.Time `json:"endsAt,omitzero"`
}

// DryRunMonitor is one monitor's dry run.
type DryRunMonitor struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind"`
	Firings []Firing `json:"firings"`
	// Value is the last value a state or balance watch read, at Block: a
	// watch that never fired still shows what it sees.
	Value string `json:"value,omitempty"`
	Block uint64 `json:"block,omitempty"`
	// Skipped says why the monitor could not be replayed; Partial, why it
	// was replayed over the first part of the range only (Firings cover
	// that part).
	Skipped string `json:"skipped,omitempty"`
	Partial string `json:"partial,omitempty"`
}

// DryRunResult is what the monitors would have done over a past range.
type DryRunResult struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Blocks int       `json:"blocks"`
	// Traced is how many blocks were traced for monitors of internal
	// calls.
	Traced   int             `json:"traced,omitempty"`
	Monitors []DryRunMonitor `json:"monitors"`
}

// maxDryRunBlocks bounds a dry run's chain replay.
const maxDryRunBlocks = 200_000

// maxDryRunTraces and maxDryRunTraceTime bound how many blocks (with
// transactions) a dry run traces for monitors of internal calls, and for
// how long: a node traces a transaction in ~10 ms, so busy blocks hit the
// time first.
const (
	maxDryRunTraces    = 5_000
	maxDryRunTraceTime = 2 * time.Minute
)

// dryRunProgressEvery is how often a dry run that traces blocks logs how
// far it got.
const dryRunProgressEvery = 5 * time.Second

// DryRun replays the monitors of f over the stored blocks and records of
// [from, to) and reports when each would have fired and resolved. Nothing
// is notified or stored. State and balance monitors need past state from
// the node (an archive node) and are replayed only when Node is set.
// Monitors of internal calls (call and callers with internal) see the call
// traces of each block with transactions, as the live engine does, up to
// maxDryRunTraces blocks and maxDryRunTraceTime; a monitor the dry run cannot judge (no node, a
// node without the debug API) says so in Skipped, one judged over part of
// the range (the bound reached) in Partial.
func (e *Engine) DryRun(ctx context.Context, f File, from, to time.Time) (DryRunResult, error) {
	cat, err := e.catalog(ctx)
	if err != nil {
		return DryRunResult{}, err
	}
	var items []*ItemError
	var rts []*runtime
	for i, s := range f.Monitors {
		c, err := compile(s, cat)
		if err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				items = append(items, &ItemError{Section: "monitors", Index: i, Field: fe})
			} else {
				items = append(items, &ItemError{Section: "monitors", Index: i, Err: err})
			}
			continue
		}
		rts = append(rts, newRuntime(c))
	}
	if len(items) > 0 {
		return DryRunResult{}, &ValidationError{Items: items}
	}
	res := DryRunResult{From: from, To: to}
	out := make([]DryRunMonitor, len(rts))
	for i, rt := range rts {
		out[i] = DryRunMonitor{ID: rt.c.spec.ID, Kind: rt.c.spec.Kind, Firings: []Firing{}}
	}
	never := func(map[string]string, time.Time) bool { return false }
	collect := func(i int, obs []obs) {
		rt := rts[i]
		for _, o := range obs {
			next, trs := rt.c.advance(rt.alerts[o.key], o, never)
			if next == nil {
				delete(rt.alerts, o.key)
			} else {
				rt.alerts[o.key] = next
			}
			for _, tr := range trs {
				f := Firing{Status: tr.status, Key: tr.alert.Key, Time: tr.t, Block: tr.alert.Block,
					Tx: tr.alert.Tx, Value: tr.alert.Value, Summary: tr.alert.Summary}
				if tr.status == StateResolved {
					f.Block, f.EndsAt = tr.alert.ResolvedBlock, tr.alert.ResolvedAt
				}
				out[i].Firings = append(out[i].Firings, f)
			}
		}
	}

	// Chain monitors: walk the stored blocks of the range.
	if e.d.Blocks != nil {
		start, err := e.d.Blocks.BlockAt(ctx, from)
		first := uint64(0)
		if err == nil {
			first = start.Number + 1
		} else if !errors.Is(err, store.ErrNotFound) {
			return DryRunResult{}, err
		}
		end, err := e.d.Blocks.BlockAt(ctx, to)
		if err == nil && end.Number >= first {
			last := min(end.Number, first+maxDryRunBlocks-1)
			tracing := false
			for i, rt := range rts {
				if !rt.c.spec.Internal {
					continue
				}
				if e.d.Node == nil {
					out[i].Skipped = "cannot judge internal calls: no node to trace blocks with"
					continue
				}
				tracing = true
			}
			// stopTracing names why the internal-call monitors that are
			// still judged cannot be any more.
			halted := make([]bool, len(rts))
			stopTracing := func(why string) {
				tracing = false
				for i, rt := range rts {
					if !rt.c.spec.Internal || out[i].Skipped != "" {
						continue
					}
					halted[i] = true
					if res.Traced == 0 {
						out[i].Skipped = why
					} else {
						out[i].Partial = why
					}
				}
			}
			traceStart := e.opts.Now()
			lastLog := traceStart
			for n := first; n <= last; n += 1000 {
				blocks, err := e.d.Blocks.BlockRange(ctx, n, min(last, n+999))
				if err != nil {
					return DryRunResult{}, err
				}
				for j := range blocks {
					b := &blocks[j]
					if b.Time.Before(from) || !b.Time.Before(to) {
						continue
					}
					res.Blocks++
					in := blockInput{block: b, decode: e.d.Decode, names: cat.name, feeds: e.d.Feeds}
					if tracing && len(b.Txs) > 0 {
						if res.Traced == maxDryRunTraces {
							stopTracing(fmt.Sprintf("internal calls judged up to block %d only: a dry run traces at most %d blocks; shorten the range", b.Number-1, maxDryRunTraces))
						} else if took := e.opts.Now().Sub(traceStart); took >= maxDryRunTraceTime {
							stopTracing(fmt.Sprintf("internal calls judged up to block %d only: a dry run traces blocks for at most %s; shorten the range", b.Number-1, maxDryRunTraceTime))
						} else {
							frames, err := e.d.Node.TraceCalls(ctx, b.Number)
							if err != nil {
								if ctx.Err() != nil {
									return DryRunResult{}, ctx.Err()
								}
								stopTracing(fmt.Sprintf("cannot judge internal calls: the node does not trace block %d (%v)", b.Number, err))
							} else {
								in.frames = frames
								res.Traced++
								if now := e.opts.Now(); now.Sub(lastLog) >= dryRunProgressEvery {
									lastLog = now
									e.log.Info("dry run: tracing blocks for internal calls", "block", b.Number, "last", last, "traced", res.Traced)
								}
							}
						}
					}
					for i, rt := range rts {
						if !rt.c.spec.Chain() || out[i].Skipped != "" || halted[i] {
							continue
						}
						obs, point, err := rt.evalBlock(ctx, in, e.d.Node)
						if errors.Is(err, ErrNoNode) {
							out[i].Skipped = "reads state at each block: needs an archive node"
							continue
						}
						if err != nil {
							out[i].Skipped = err.Error()
							continue
						}
						if point != nil {
							out[i].Value, out[i].Block = point.Value, point.Block
						}
						collect(i, obs)
					}
				}
			}
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return DryRunResult{}, err
		}
	}

	// Query monitors: run at their interval, at most 500 times each.
	for i, rt := range rts {
		if rt.c.spec.Kind != KindQuery {
			continue
		}
		if e.d.Search == nil {
			out[i].Skipped = "no search store"
			continue
		}
		step := rt.c.spec.Every.D()
		if step == 0 {
			step = 30 * time.Second
		}
		step = max(step, to.Sub(from)/500)
		for t := from.Add(step); !t.After(to); t = t.Add(step) {
			obs, err := rt.evalQuery(ctx, e.d.Search, t)
			if err != nil {
				out[i].Skipped = fmt.Sprintf("query failed: %v", err)
				break
			}
			collect(i, obs)
		}
	}
	res.Monitors = out
	return res, nil
}

// name names a contract by address for labels.
func (c *catalog) name(a common.Address) string {
	if k := c.byAddr[a]; k != nil && k.name != "" {
		return k.name
	}
	return a.Hex()
}
