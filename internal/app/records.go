package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/store/vlhttp"
	"github.com/blocktorch/blocktorch/internal/store/vlogs"
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

// recordsDir is where the embedded engine keeps its files.
func recordsDir(cfg config.Config) string { return filepath.Join(cfg.DataDir, "records") }

// openRecords opens the records engine that cfg.Records names beside the
// relational store, which keeps the relational state either way.
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
		a.noChainRecords()
		a.records = vlhttp.NewChainStore(a.store, c)
		a.log.Info("records engine: external VictoriaLogs", "url", u)
	case a.cfg.Records == config.RecordsEmbedded:
		dir := recordsDir(a.cfg)
		if err := a.checkNoSQLiteRecords(ctx, dir); err != nil {
			return err
		}
		e, err := vlogs.Open(ctx, dir, vlogs.Options{CursorKey: a.store.CursorKey(), Logger: a.log})
		if err != nil {
			return fmt.Errorf("cannot open the records engine in %s: %w", dir, err)
		}
		a.closeRecords = e.Close
		a.noChainRecords()
		cs, err := vlogs.NewChainStore(ctx, a.store, e)
		if err != nil {
			return err
		}
		a.records = cs
		a.log.Info("records engine: embedded", "dir", dir)
	case a.cfg.Records == config.RecordsSQLite:
		db, ok := a.store.(*sqlite.DB)
		if !ok {
			return errors.New("--records sqlite needs a SQLite --db")
		}
		a.records = db
	default:
		return fmt.Errorf("BUG: --records %q passed validation", a.cfg.Records)
	}
	return nil
}

// checkNoSQLiteRecords refuses to start the embedded engine anew beside a
// SQLite store that holds records (a data directory of a version that
// kept them there): its searches would silently miss them.
func (a *App) checkNoSQLiteRecords(ctx context.Context, dir string) error {
	db, ok := a.store.(*sqlite.DB)
	if !ok {
		return nil // PostgreSQL never held records
	}
	if _, err := os.Stat(dir); err == nil || !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	found := false
	if _, err := db.Search(ctx, store.SearchRequest{Limit: 1}, func(record.Record) error {
		found = true
		return nil
	}); err != nil {
		return fmt.Errorf("cannot check the store for records: %w", err)
	}
	if !found {
		return nil
	}
	path, _ := a.cfg.SQLitePath()
	return fmt.Errorf("the records of this data directory are in its SQLite store %s: keep them there with --records sqlite, "+
		"or move them to the embedded engine first with: blocktorch migrate records --from sqlite:%s --to embedded:%s", path, path, dir)
}

// noChainRecords tells a SQLite store that another records engine keeps
// the records of chain data (PostgreSQL never derives them).
func (a *App) noChainRecords() {
	if db, ok := a.store.(*sqlite.DB); ok {
		db.SetChainRecords(false)
	}
}

// removeRecords deletes the embedded engine's files (the demo starts
// anew each run).
func removeRecords(cfg config.Config) error {
	if err := os.RemoveAll(recordsDir(cfg)); err != nil {
		return fmt.Errorf("cannot reset the demo's records: %w", err)
	}
	return nil
}
