package postgres

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/changehub"
)

var _ store.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the advisory lock key every migration transaction
// holds ("btmigrat" in ASCII), so that nodes starting at once apply each
// migration once.
const migrationLock int64 = 0x62746d6967726174

// nodeLockClass is the first key of the advisory lock Exclusive takes
// ("btnd"); the second is the hash of the schema, so that stores in other
// schemas of one database do not exclude each other.
const nodeLockClass int32 = 0x62746e64

// DB is a PostgreSQL-backed store. It is safe for concurrent use.
type DB struct {
	pool *pgxpool.Pool
	// node is the connection that holds the Exclusive lock, outside the
	// pool; nil without it.
	node *pgx.Conn
	// cursorKey signs search cursors (settings.cursor_key).
	cursorKey []byte
	// leaseOpts is how Acquire holds the leader lease.
	leaseOpts LeaseOptions

	// changes fans the notices the listener hears out to subscribers;
	// the listener starts with the first Subscribe and ends with Close.
	changes    changehub.Hub
	listenOnce sync.Once
	stopListen context.CancelFunc
	listening  sync.WaitGroup
}

// logf reports what goes wrong in the background (the change listener).
func (db *DB) logf(format string, args ...any) {
	slog.Default().Warn(fmt.Sprintf(format, args...), "store", "postgres")
}

// Open connects to the PostgreSQL database that dsn names (a
// postgres:// URL or a key=value connection string) and applies any
// pending migrations. It fails if the database was migrated by a newer
// version with migrations this one does not know.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included.
		return nil, errors.New("cannot open postgres store: the connection string is not valid")
	}
	where := cfg.ConnConfig.Host + ":" + strconv.Itoa(int(cfg.ConnConfig.Port)) + "/" + cfg.ConnConfig.Database
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot open postgres store %s: %w", where, err)
	}
	db := &DB{pool: pool, leaseOpts: LeaseOptions{}.withDefaults()}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot connect to postgres store %s: %w", where, err)
	}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot open postgres store %s: %w", where, err)
	}
	if err := db.loadCursorKey(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot open postgres store %s: %w", where, err)
	}
	return db, nil
}

// loadCursorKey reads the key that signs search cursors, making it first
// when the database has none.
func (db *DB) loadCursorKey(ctx context.Context) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("cannot make a cursor key: %w", err)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO settings (name, value) VALUES ('cursor_key', $1) ON CONFLICT (name) DO NOTHING`, key); err != nil {
		return fmt.Errorf("cannot store the cursor key: %w", translate(err))
	}
	if err := db.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = 'cursor_key'`).Scan(&db.cursorKey); err != nil {
		return fmt.Errorf("cannot read the cursor key: %w", translate(err))
	}
	return nil
}

// CursorKey returns the key that signs this database's search cursors
// (random, made when the database was first opened), for the records
// engine beside it: every node that shares the database signs cursors
// alike.
func (db *DB) CursorKey() []byte { return append([]byte(nil), db.cursorKey...) }

// Exclusive makes this process the only one serving from the database
// until Close, or returns an error wrapping ErrConflict when another holds
// it: the demo, whose embedded chain is its own, takes it; serve nodes
// share a database under the leader lease (Acquire) instead. The lock is a
// session advisory lock on a connection of its own; the server releases it
// when the process dies. Call it once.
func (db *DB) Exclusive(ctx context.Context) error {
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("cannot lock the database for this node: %w", translate(err))
	}
	var ok bool
	if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext(current_schema()))`, nodeLockClass).Scan(&ok); err != nil {
		c.Release()
		return fmt.Errorf("cannot lock the database for this node: %w", translate(err))
	}
	if !ok {
		c.Release()
		return fmt.Errorf("%w: another blocktorch node is serving from this database; the demo runs as one node (blocktorch serve runs several on one database)", store.ErrConflict)
	}
	db.node = c.Hijack()
	return nil
}

// Close closes every connection of the pool, waiting for the ones in use
// to be released, and the Exclusive lock's.
func (db *DB) Close() error {
	db.listenOnce.Do(func() {}) // no listener starts after Close
	if db.stopListen != nil {
		db.stopListen()
	}
	db.listening.Wait()
	db.changes.Close()
	db.pool.Close()
	if db.node != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// Unlocked before closing: the server ends a closed session's
		// backend, and its locks, only some time later, which would refuse
		// a node restarted at once.
		_, err := db.node.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, nodeLockClass)
		if err := errors.Join(err, db.node.Close(ctx)); err != nil {
			return fmt.Errorf("cannot close postgres store: %w", err)
		}
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
		base := path.Base(name)
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

// migrate applies pending migrations, one transaction each, recording each
// in schema_migrations.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	for {
		done, err := db.migrateNext(ctx, ms)
		if err != nil || done {
			return err
		}
	}
}

// migrateNext applies the first migration the database lacks, and reports
// whether none was left. The advisory lock, held until the transaction
// ends, makes the version it reads final: another node that started at
// the same time waits, then finds the migration applied.
func (db *DB) migrateNext(ctx context.Context, ms []migration) (done bool, err error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("cannot begin migration: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return false, fmt.Errorf("cannot take the migration lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text    NOT NULL,
		applied_at bigint  NOT NULL
	)`); err != nil {
		return false, fmt.Errorf("cannot create schema_migrations: %w", err)
	}
	var newest int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return false, fmt.Errorf("cannot read schema version: %w", err)
	}
	if newest > len(ms) {
		return false, fmt.Errorf("database schema is at version %d, newer than this program knows (%d): upgrade blocktorch or use another database", newest, len(ms))
	}
	if newest == len(ms) {
		return true, tx.Commit(ctx)
	}
	m := ms[newest]
	body, err := fs.ReadFile(migrationFS, m.name)
	if err != nil {
		return false, err
	}
	// Exec without arguments sends the file as one simple query, so it may
	// hold several statements.
	if _, err := tx.Exec(ctx, string(body)); err != nil {
		return false, fmt.Errorf("cannot apply migration %s: %w", path.Base(m.name), err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, path.Base(m.name), time.Now().Unix()); err != nil {
		return false, fmt.Errorf("cannot record migration %s: %w", path.Base(m.name), err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("cannot commit migration %s: %w", path.Base(m.name), err)
	}
	return false, nil
}

// SchemaVersion returns the newest migration applied to the database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("cannot read schema version: %w", translate(err))
	}
	return v, nil
}

// translate maps driver errors to store errors, keeping the driver's text:
// no row is ErrNotFound, an integrity constraint violation (SQLSTATE class
// 23) is ErrConflict, and text PostgreSQL cannot hold (a NUL byte, invalid
// UTF-8) is ErrInvalid.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if unreachable(err) {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "23"):
			return fmt.Errorf("%w: %v", store.ErrConflict, err)
		case pe.Code == "22021" || pe.Code == "22P05": // character_not_in_repertoire, untranslatable_character
			return fmt.Errorf("%w: %v", store.ErrInvalid, err)
		}
	}
	return err
}

// unreachable reports whether err says the server cannot be reached or
// the connection to it broke (the server stopped, restarts, or the
// network is cut), as opposed to the server refusing a statement.
func unreachable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// The caller's own deadline or cancellation, not the server's.
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08 is connection exceptions; 57P01–57P03 are the server
		// shutting down or starting (admin_shutdown, crash_shutdown,
		// cannot_connect_now).
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
