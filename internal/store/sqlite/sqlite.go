package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/changehub"
)

var _ store.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrationFS embed.FS

// busyTimeout is how long a connection waits for a lock held by another
// connection before giving up. The write connection is the only writer in
// this process, so waits only happen when another process holds the file or
// while a checkpoint runs.
const busyTimeout = 10 * time.Second

// DB is a SQLite-backed store. It is safe for concurrent use.
type DB struct {
	path string
	// write has exactly one connection: SQLite allows one writer at a time,
	// and queuing in database/sql is cheaper than SQLITE_BUSY retries.
	write *sql.DB
	// read is a pool of query-only connections. In WAL mode they read a
	// snapshot and never wait for the writer.
	read *sql.DB
	// cursorKey signs search cursors (settings.cursor_key).
	cursorKey []byte
	// noChainRecords is set when another records engine holds the
	// records of chain data (see SetChainRecords).
	noChainRecords atomic.Bool
	// changes fans change notices out to this process's subscribers.
	changes changehub.Hub
}

// SetChainRecords says whether WriteBlocks derives the searchable records
// of the blocks it stores into this database (the default) or leaves them
// to another records engine, which the caller then writes. Call it before
// the first WriteBlocks.
func (db *DB) SetChainRecords(on bool) { db.noChainRecords.Store(!on) }

// CursorKey returns the key that signs this database's search cursors
// (random, made when the database was created), for a records engine
// beside it: every node that shares the database signs cursors alike.
func (db *DB) CursorKey() []byte { return append([]byte(nil), db.cursorKey...) }

// Open opens the SQLite database at path, creating the file and its parent
// directory if needed, and applies any pending migrations. It fails if the
// database was written by a newer version with migrations this one does not
// know.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("cannot open sqlite store %q: a file path is required", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open sqlite store %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("cannot create directory for sqlite store: %w", err)
	}

	db := &DB{path: abs}
	common := []string{
		fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
		"foreign_keys(1)",
		"synchronous(NORMAL)",
	}
	// The write connection switches the file to WAL (a persistent setting)
	// and begins every transaction IMMEDIATE, so that a transaction which
	// reads before it writes (the head check of WriteBlocks) cannot fail
	// with SQLITE_BUSY when upgrading its lock.
	db.write, err = sql.Open("sqlite", dsn(abs, append(common, "journal_mode(WAL)", "cache_size(-65536)", "temp_store(MEMORY)"), "immediate"))
	if err != nil {
		return nil, fmt.Errorf("cannot open sqlite store %s: %w", abs, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	db.write.SetConnMaxIdleTime(0)

	if err := db.migrate(ctx); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("cannot open sqlite store %s: %w", abs, err)
	}

	db.read, err = sql.Open("sqlite", dsn(abs, append(common, "query_only(1)"), ""))
	if err != nil {
		db.write.Close()
		return nil, fmt.Errorf("cannot open sqlite store %s: %w", abs, err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	db.read.SetMaxOpenConns(readers)
	db.read.SetMaxIdleConns(readers)
	if err := db.read.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot open sqlite store %s: %w", abs, err)
	}
	if err := db.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'cursor_key'`).Scan(&db.cursorKey); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot open sqlite store %s: cannot read the cursor key: %w", abs, translate(err))
	}
	return db, nil
}

// dsn builds a modernc.org/sqlite data source name for the file at abs.
// The path goes in a file: URI so that any character in it is escaped.
func dsn(abs string, pragmas []string, txlock string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if txlock != "" {
		q.Set("_txlock", txlock)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	// url.URL renders "file:///abs"; SQLite accepts an empty authority.
	return u.String()
}

// Close closes the database. It runs PRAGMA optimize first so the query
// planner's statistics follow the data as it grows.
func (db *DB) Close() error {
	db.changes.Close()
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := db.write.ExecContext(ctx, `PRAGMA optimize`); err != nil {
			errs = append(errs, fmt.Errorf("cannot optimize sqlite store: %w", err))
		}
		cancel()
		errs = append(errs, db.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cannot close sqlite store %s: %w", db.path, err)
	}
	return nil
}

// migration is one embedded schema change.
type migration struct {
	version int
	name    string
}

// migrations lists the embedded migrations in version order. Their names
// are "NNNN_what.sql"; versions must be unique and start at 1.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := filepath.Base(name)
		prefix, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("BUG: migration %s is not named NNNN_name.sql", base)
		}
		ms = append(ms, migration{version: v, name: name})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("BUG: migration %s out of sequence, want version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate applies pending migrations, each in its own transaction, and
// records each in schema_migrations.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("cannot create schema_migrations: %w", err)
	}
	var newest int
	if err := db.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("cannot read schema version: %w", err)
	}
	if newest > len(ms) {
		return fmt.Errorf("database schema is at version %d, newer than this program knows (%d): upgrade blocktorch or use another database", newest, len(ms))
	}
	for _, m := range ms[newest:] {
		if err := db.migrateOne(ctx, m); err != nil {
			return fmt.Errorf("cannot apply migration %s: %w", filepath.Base(m.name), err)
		}
	}
	return nil
}

func (db *DB) migrateOne(ctx context.Context, m migration) error {
	body, err := fs.ReadFile(migrationFS, m.name)
	if err != nil {
		return err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	// Another process may have applied it since we looked: the IMMEDIATE
	// transaction holds the write lock, so this check is final.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, filepath.Base(m.name), time.Now().Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

// SchemaVersion returns the newest migration applied to the database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("cannot read schema version: %w", translate(err))
	}
	return v, nil
}

// translate maps driver errors to store errors, keeping the driver's text.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return err
}
