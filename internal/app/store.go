package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// relational is what the app needs of its relational store (--db): every
// role both backends, SQLite and PostgreSQL, play and pass the storetest
// suites for.
type relational interface {
	store.Store
	store.BlockRangeReader
	store.VerifiedStore
	store.DashboardStore
	store.ShareStore
	store.MonitorStore
	store.Outbox
	store.IncidentStore
	store.FlagStore
	store.StatusComponentStore
	store.OracleStore
	store.ResponseRunStore
	store.SafeProposalStore
	store.PatchCheckStore
	store.Changes
	// Lease elects the node that follows the chain, evaluates monitors
	// and delivers alerts: always this one on SQLite.
	store.Lease
	store.SessionStore
	store.AccountStore
	// CursorKey is the key that signs search cursors, kept in the
	// database so that every node sharing it signs them alike.
	CursorKey() []byte
}

var (
	_ relational = (*sqlite.DB)(nil)
	_ relational = (*postgres.DB)(nil)
)

// openStore opens the relational store cfg.DB names. The demo's chain
// starts anew each run, so the demo starts on an empty store: its SQLite
// file is deleted, and a PostgreSQL database must hold no chain.
func openStore(ctx context.Context, cfg config.Config) (relational, error) {
	if dsn, ok := cfg.PostgresDSN(); ok {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("--db: %w", err)
		}
		if cfg.Mode == config.ModeDemo {
			// The demo's embedded chain is this process's own: a second
			// demo on the database would index another chain into it.
			if err := db.Exclusive(ctx); err != nil {
				db.Close()
				return nil, fmt.Errorf("--db: %w", err)
			}
			if _, err := db.Head(ctx); !errors.Is(err, store.ErrNotFound) {
				db.Close()
				if err == nil {
					return nil, errors.New("--db: the demo starts a new chain, but this PostgreSQL database holds one: point the demo at an empty database")
				}
				return nil, fmt.Errorf("--db: %w", err)
			}
		}
		return db, nil
	}
	dbPath, err := cfg.SQLitePath()
	if err != nil {
		return nil, err
	}
	if cfg.Mode == config.ModeDemo {
		if err := removeDB(dbPath); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		return nil, fmt.Errorf("cannot create data directory: %w", err)
	}
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return nil, fmt.Errorf("cannot open store %s: %w", dbPath, err)
	}
	return db, nil
}

// MigrateSchema applies the pending migrations of the relational store
// that db names (sqlite:PATH or a path, or a postgres:// URL), as serve
// does at start, and returns the schema version it is at. Several nodes
// may run it at once on one PostgreSQL database.
func MigrateSchema(ctx context.Context, db string) (int, error) {
	cfg := config.Config{DB: db}
	var s interface {
		SchemaVersion(context.Context) (int, error)
		Close() error
	}
	if dsn, ok := cfg.PostgresDSN(); ok {
		pg, err := postgres.Open(ctx, dsn)
		if err != nil {
			return 0, fmt.Errorf("--db: %w", err)
		}
		s = pg
	} else {
		path, err := cfg.SQLitePath()
		if err != nil {
			return 0, err
		}
		lite, err := sqlite.Open(ctx, path)
		if err != nil {
			return 0, fmt.Errorf("cannot open store %s: %w", path, err)
		}
		s = lite
	}
	v, err := s.SchemaVersion(ctx)
	return v, errors.Join(err, s.Close())
}
