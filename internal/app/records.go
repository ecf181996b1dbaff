package app

import (
	"context"
	"fmt"

	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/vlhttp"
)

// recordsStore is the store of chain data joined with the records engine:
// the indexer writes and rolls back blocks through it (their chain
// records go to the engine), log ingest appends to it, retention deletes
// from it, and every search (Explore, histograms, tables, dashboards,
// monitors' queries, incidents' scope, tail) reads from it. The SQLite
// store is one, its own records engine.
type recordsStore interface {
	store.Store
	store.RecordWriter
	store.Searcher
	store.RecordRetainer
}

// openRecords opens the records engine that cfg.Records names beside the
// SQLite store, which keeps the relational state either way.
func (a *App) openRecords(ctx context.Context) error {
	u, err := a.cfg.RecordsURL()
	if err != nil {
		return err
	}
	switch {
	case u != "":
		c, err := vlhttp.Open(ctx, u, vlhttp.Options{CursorKey: a.store.CursorKey()})
		if err != nil {
			return fmt.Errorf("--records: %w", err)
		}
		a.store.SetChainRecords(false)
		a.records = vlhttp.NewChainStore(a.store, c)
		a.log.Info("records engine: external VictoriaLogs", "url", u)
	case a.cfg.Records == config.RecordsSQLite:
		a.records = a.store
	default:
		return fmt.Errorf("--records %s is not available in this build: use sqlite or http://HOST:PORT", a.cfg.Records)
	}
	return nil
}
