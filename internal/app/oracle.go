package app

import (
	"context"
	"errors"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/oracle"
	"github.com/blocktorch/blocktorch/internal/store"
)

// demoFeedHeartbeat is the demo feed's heartbeat: its traffic updates it
// every 20 s and its vault refuses answers older than 60 s, so 45 s (the
// built-in oracle-stale's limit) says it stopped before the vault does.
const demoFeedHeartbeat = 45 * time.Second

// startOracles builds the price-feed service. It follows the feeds the
// known contracts' ABIs describe now, and from then on those that known
// contracts are seen reading in call traces; the monitor engine judges
// feed health through it.
func (a *App) startOracles(ctx context.Context) error {
	a.oracles = &oracle.Service{
		Node:    a.eth,
		Store:   a.store,
		Records: a.records,
		Trace:   oracle.TraceVia(monitor.NewRPCNode(a.rawRPC)),
		Watched: func(addr common.Address) bool { _, ok := a.reg.Name(addr); return ok },
		Name:    a.reg.Name,
		Log:     a.log,
	}
	cs, err := a.store.Contracts(ctx)
	if err != nil {
		return err
	}
	if _, err := a.oracles.DetectABIs(ctx, cs); err != nil {
		return err
	}
	if a.demo != nil {
		for _, c := range a.demo.Contracts() {
			if c.Name != "PriceFeed" {
				continue
			}
			f, err := a.store.OracleFeed(ctx, c.Address)
			if errors.Is(err, store.ErrNotFound) || err == nil && f.Heartbeat != 0 {
				continue
			}
			if err != nil {
				return err
			}
			hb := demoFeedHeartbeat
			if _, err := a.oracles.SetThresholds(ctx, c.Address, oracle.Thresholds{Heartbeat: &hb}); err != nil {
				return err
			}
		}
	}
	return nil
}

// detectFeed follows a contract just added when its ABI is a feed's.
func (a *App) detectFeed(ctx context.Context, addr common.Address) {
	if a.oracles == nil {
		return
	}
	c, err := a.store.Contract(ctx, addr)
	if err != nil {
		return
	}
	if _, err := a.oracles.DetectABIs(ctx, []store.Contract{c}); err != nil {
		a.log.Warn("cannot check whether a new contract is a price feed", "address", addr, "err", err)
	}
}
