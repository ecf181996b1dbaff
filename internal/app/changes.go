package app

import (
	"context"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// followChanges reloads the parts of the relational state this node keeps
// in memory when any node, this one included, changes them: a contract's
// ABI (the decoder, and monitors naming it), verified contracts (their
// pages and the debugger's sources) and monitors, channels and silences
// (the engine). A Resync, after notices may have been lost, reloads every
// part. It returns when the store closes the subscription or ctx ends.
func (a *App) followChanges(ctx context.Context, changes <-chan store.Change) error {
	for {
		var c store.Change
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case c, ok = <-changes:
			if !ok {
				return nil
			}
		}
		a.metrics.changes.WithLabelValues(changeLabel(c)).Inc()
		switch {
		case c.Resync:
			a.reloadContracts(ctx, "")
			a.reloadVerified(ctx)
			a.reloadMonitors(ctx)
		case c.Kind == store.ChangeContracts:
			a.reloadContracts(ctx, c.Key)
		case c.Kind == store.ChangeVerified:
			a.reloadVerified(ctx)
		case c.Kind == store.ChangeMonitors:
			a.reloadMonitors(ctx)
		}
	}
}

// changeLabel is a change's kind for the metrics: the known kinds only,
// so that the label set stays small.
func changeLabel(c store.Change) string {
	switch {
	case c.Resync:
		return "resync"
	case c.Kind == store.ChangeContracts, c.Kind == store.ChangeVerified, c.Kind == store.ChangeMonitors:
		return c.Kind
	}
	return "other"
}

// reloadContracts registers the stored ABI of the contract at key (an
// address), or of every contract when key is empty, with the decoder, and
// recompiles the monitors that may name them.
func (a *App) reloadContracts(ctx context.Context, key string) {
	if key == "" {
		if err := a.loadContracts(ctx); err != nil {
			a.log.Warn("cannot reload the known contracts", "err", err)
		}
	} else {
		if !common.IsHexAddress(key) {
			a.log.Warn("a contract change names no address", "key", key)
			return
		}
		c, err := a.store.Contract(ctx, common.HexToAddress(key))
		if err != nil {
			a.log.Warn("cannot reload a changed contract", "address", key, "err", err)
			return
		}
		if err := a.reg.Add(c.Address, c.Name, c.ABI); err != nil {
			a.log.Warn("stored ABI no longer loads; its contract stays undecoded", "address", key, "err", err)
			return
		}
	}
	a.knowledge.Add(1)
	if a.monitors != nil {
		if err := a.monitors.ContractsChanged(ctx); err != nil {
			a.log.Warn("cannot recompile the monitors after a contract change", "err", err)
		}
	}
}

// reloadVerified reads the verified contracts again.
func (a *App) reloadVerified(ctx context.Context) {
	loaded, _, err := a.verify.Load(ctx)
	if err != nil {
		a.log.Warn("cannot reload the verified contracts", "err", err)
		return
	}
	for _, r := range loaded {
		a.addVerifiedArtifact(r)
	}
}

// reloadMonitors reads the monitors, channels and silences again.
func (a *App) reloadMonitors(ctx context.Context) {
	if a.monitors == nil {
		return
	}
	if err := a.monitors.Load(ctx); err != nil {
		a.log.Warn("cannot reload the monitors", "err", err)
	}
}
