package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/blocktorch/blocktorch/internal/store"
)

var (
	_ store.Lease        = (*DB)(nil)
	_ store.NodeRegistry = (*DB)(nil)
)

// leaseLockClass is the first key of the leader lease's advisory lock
// ("btld"); the second is the hash of the schema, as for Exclusive.
const leaseLockClass int32 = 0x62746c64

// LeaseOptions is how the leader lease is held and waited for.
type LeaseOptions struct {
	// Ping is how often the holder confirms its lease (default 1s).
	Ping time.Duration
	// Timeout is how long a confirmation may take before the lease is
	// deemed lost (default 3s).
	Timeout time.Duration
	// Retry is how often a waiting node tries to take the lease
	// (default 1s).
	Retry time.Duration
	// Idle is how long the server keeps a lease connection that says
	// nothing (idle_session_timeout) before it ends the session and frees
	// its lock: a hung or cut-off holder loses the lease after it
	// (default 6s).
	Idle time.Duration
	// Log receives why taking the lease failed (nil logs nothing).
	Log *slog.Logger
}

func (t LeaseOptions) withDefaults() LeaseOptions {
	if t.Ping <= 0 {
		t.Ping = time.Second
	}
	if t.Timeout <= 0 {
		t.Timeout = 3 * time.Second
	}
	if t.Retry <= 0 {
		t.Retry = time.Second
	}
	if t.Idle <= 0 {
		t.Idle = 6 * time.Second
	}
	return t
}

// SetLeaseOptions changes how the lease is held and waited for; call it
// before Acquire.
func (db *DB) SetLeaseOptions(t LeaseOptions) { db.leaseOpts = t.withDefaults() }

// Acquire waits until this node holds the leader lease of the database
// (its schema), or ctx ends. The lease is a session advisory lock taken
// on a connection of its own, outside the pool: the server frees it the
// moment that session ends (the process died, its connection closed), or
// after the session stayed silent for LeaseOptions.Idle (a hung holder, a
// cut network). The holder confirms it with a query every Ping; one that
// fails or takes longer than Timeout closes the term's Lost channel.
func (db *DB) Acquire(ctx context.Context) (store.LeaseTerm, error) {
	t := db.leaseOpts
	var conn *pgx.Conn
	// While the database cannot be reached the attempts fail every Retry:
	// the first failure is logged, then one a minute, and the recovery.
	var failing, logged time.Time
	fail := func(msg string, err error) {
		now := time.Now()
		if failing.IsZero() {
			failing = now
		}
		if now.Sub(logged) >= time.Minute {
			logged = now
			db.leaseLog(msg, err, "failingFor", now.Sub(failing).Round(time.Second))
		}
	}
	for {
		if conn == nil {
			c, err := db.leaseConn(ctx)
			if err != nil && ctx.Err() == nil {
				fail("cannot connect for the leader lease; retrying", err)
			}
			conn = c
		}
		if conn != nil {
			qctx, cancel := context.WithTimeout(ctx, t.Timeout)
			var ok bool
			err := conn.QueryRow(qctx, `SELECT pg_try_advisory_lock($1, hashtext(current_schema()))`, leaseLockClass).Scan(&ok)
			cancel()
			switch {
			case err == nil:
				if !failing.IsZero() && db.leaseOpts.Log != nil {
					db.leaseOpts.Log.Info("the database answers the leader lease again", "failedFor", time.Since(failing).Round(time.Second))
				}
				failing, logged = time.Time{}, time.Time{}
				if ok {
					return db.hold(conn, t), nil
				}
			default:
				if ctx.Err() == nil {
					fail("cannot try the leader lease; retrying", err)
				}
				closeConn(conn)
				conn = nil
			}
		}
		timer := time.NewTimer(t.Retry)
		select {
		case <-ctx.Done():
			timer.Stop()
			if conn != nil {
				closeConn(conn)
			}
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

func (db *DB) leaseLog(msg string, err error, args ...any) {
	if db.leaseOpts.Log != nil {
		db.leaseOpts.Log.Warn(msg, append([]any{"err", translate(err)}, args...)...)
	}
}

// leaseConn opens the lease's own connection, which the server ends once
// it stays silent for longer than the Idle timing.
func (db *DB) leaseConn(ctx context.Context) (*pgx.Conn, error) {
	cfg := db.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["idle_session_timeout"] = strconv.FormatInt(db.leaseOpts.Idle.Milliseconds(), 10)
	cfg.RuntimeParams["application_name"] = "blocktorch lease"
	cctx, cancel := context.WithTimeout(ctx, db.leaseOpts.Timeout)
	defer cancel()
	c, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot connect for the leader lease: %w", err)
	}
	return c, nil
}

func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.Close(ctx)
}

// term is one holding of the lease: its connection, used only by the
// heartbeat goroutine until Release stopped it.
type term struct {
	conn    *pgx.Conn
	timing  LeaseOptions
	lost    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	release sync.Once
	err     error
}

func (db *DB) hold(conn *pgx.Conn, t LeaseOptions) *term {
	tm := &term{conn: conn, timing: t, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go tm.beat()
	return tm
}

func (t *term) Lost() <-chan struct{} { return t.lost }

func (t *term) markLost() { t.once.Do(func() { close(t.lost) }) }

// beat confirms the lease every Ping until stopped or lost. A query that
// has not answered within Timeout loses the lease at once; the goroutine
// still waits for it to end, so that the connection is never used by two.
func (t *term) beat() {
	defer close(t.done)
	tick := time.NewTicker(t.timing.Ping)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), t.timing.Timeout)
		answered := make(chan error, 1)
		go func() {
			_, err := t.conn.Exec(ctx, `SELECT 1`)
			answered <- err
		}()
		slow := time.NewTimer(t.timing.Timeout)
		var err error
		select {
		case err = <-answered:
		case <-slow.C:
			err = errors.New("the lease's connection did not answer in time")
			t.markLost()
			<-answered
		}
		slow.Stop()
		cancel()
		if err != nil {
			t.markLost()
			return
		}
	}
}

// Release stops confirming the lease, unlocks it when it is still held,
// and closes its connection.
func (t *term) Release(ctx context.Context) error {
	t.release.Do(func() {
		close(t.stop)
		<-t.done
		select {
		case <-t.lost:
		default:
			uctx, cancel := context.WithTimeout(ctx, t.timing.Timeout)
			_, err := t.conn.Exec(uctx, `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, leaseLockClass)
			cancel()
			if err != nil {
				t.err = fmt.Errorf("cannot release the leader lease: %w", translate(err))
			}
		}
		t.markLost()
		closeConn(t.conn)
	})
	return t.err
}

// Beat records n as alive at n.Heartbeat.
func (db *DB) Beat(ctx context.Context, n store.Node) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO nodes (id, addr, role, started, heartbeat) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET addr = EXCLUDED.addr, role = EXCLUDED.role, heartbeat = EXCLUDED.heartbeat`,
		n.ID, n.Addr, n.Role, unixNano(n.Started), unixNano(n.Heartbeat))
	if err != nil {
		return fmt.Errorf("cannot record node %s: %w", n.ID, translate(err))
	}
	return nil
}

// Nodes lists the nodes beaten at or after since.
func (db *DB) Nodes(ctx context.Context, since time.Time) ([]store.Node, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, addr, role, started, heartbeat FROM nodes WHERE heartbeat >= $1 ORDER BY id`, unixNano(since))
	if err != nil {
		return nil, fmt.Errorf("cannot list nodes: %w", translate(err))
	}
	defer rows.Close()
	out := []store.Node{}
	for rows.Next() {
		var n store.Node
		var started, beat int64
		if err := rows.Scan(&n.ID, &n.Addr, &n.Role, &started, &beat); err != nil {
			return nil, fmt.Errorf("cannot list nodes: %w", translate(err))
		}
		n.Started, n.Heartbeat = fromUnixNano(started), fromUnixNano(beat)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list nodes: %w", translate(err))
	}
	return out, nil
}

// Forget removes node id and the nodes beaten before olderThan.
func (db *DB) Forget(ctx context.Context, id string, olderThan time.Time) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM nodes WHERE id = $1 OR heartbeat < $2`, id, unixNano(olderThan)); err != nil {
		return fmt.Errorf("cannot forget node %s: %w", id, translate(err))
	}
	return nil
}
