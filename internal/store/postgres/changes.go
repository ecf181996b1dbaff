package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/changehub"
)

var _ store.Changes = (*DB)(nil)

// changesChannel is the NOTIFY channel of change notices. Its payload
// names the schema, so that stores in other schemas of one database skip
// each other's notices.
const changesChannel = "blocktorch_changes"

// notifySQL publishes a change inside the transaction that runs it:
// PostgreSQL delivers it when, and only if, the transaction commits.
const notifySQL = `SELECT pg_notify('` + changesChannel + `',
	json_build_object('s', current_schema(), 'k', $1::text, 'key', $2::text)::text)`

// notice is a change notice's payload.
type notice struct {
	Schema string `json:"s"`
	Kind   string `json:"k"`
	Key    string `json:"key"`
}

// Publish announces a change to every node listening on this database
// schema, this one included.
func (db *DB) Publish(ctx context.Context, kind, key string) error {
	if err := changehub.CheckKind(kind); err != nil {
		return fmt.Errorf("cannot publish a change: %w", err)
	}
	if _, err := db.pool.Exec(ctx, notifySQL, kind, key); err != nil {
		return fmt.Errorf("cannot publish a %s change: %w", kind, translate(err))
	}
	return nil
}

// notifyTx publishes a change in tx, delivered when tx commits.
func notifyTx(ctx context.Context, tx pgx.Tx, kind, key string) error {
	_, err := tx.Exec(ctx, notifySQL, kind, key)
	return err
}

// execNotify runs one write statement and publishes a change with it, in
// one transaction.
func (db *DB) execNotify(ctx context.Context, kind, key, sql string, args ...any) (rows int64, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return err
		}
		rows = tag.RowsAffected()
		if rows == 0 {
			return nil
		}
		return notifyTx(ctx, tx, kind, key)
	})
	return rows, err
}

// Subscribe returns the changes every node publishes from now on. The
// first subscription starts the listener: a connection of its own that
// LISTENs, reconnects when it is lost (every subscriber then gets a
// Resync, since notices sent meanwhile are lost) and ends with Close.
func (db *DB) Subscribe(ctx context.Context) <-chan store.Change {
	ch := db.changes.Subscribe(ctx)
	db.listenOnce.Do(func() {
		lctx, cancel := context.WithCancel(context.Background())
		db.stopListen = cancel
		db.listening.Add(1)
		ready := make(chan struct{})
		go func() {
			defer db.listening.Done()
			db.listen(lctx, ready)
		}()
		// Wait for the first LISTEN (or its failure, then retried), so that
		// a change published right after Subscribe returns is heard.
		select {
		case <-ready:
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	})
	return ch
}

// listen keeps a LISTEN connection until ctx ends, closing ready once the
// first attempt is over.
func (db *DB) listen(ctx context.Context, ready chan struct{}) {
	first := true
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		conn, schema, err := db.listenConn(ctx)
		if first {
			close(ready)
			first = false
		} else if err == nil {
			// Notices sent while no connection listened are lost.
			db.changes.Send(store.Change{Resync: true})
		}
		if err != nil {
			db.logf("cannot listen for changes from other nodes, retrying in %s: %v", backoff, err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		err = db.receive(ctx, conn, schema)
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn.Close(cctx)
		cancel()
		if ctx.Err() == nil {
			db.logf("lost the connection that listens for changes from other nodes, reconnecting: %v", err)
		}
	}
}

// listenConn opens a connection outside the pool and LISTENs on it.
func (db *DB) listenConn(ctx context.Context) (*pgx.Conn, string, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, "", translate(err)
	}
	var schema string
	if err := conn.QueryRow(cctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		conn.Close(cctx)
		return nil, "", translate(err)
	}
	if _, err := conn.Exec(cctx, `LISTEN `+changesChannel); err != nil {
		conn.Close(cctx)
		return nil, "", translate(err)
	}
	return conn, schema, nil
}

// receive hands the notices conn hears to the subscribers until the
// connection fails or ctx ends. A connection that stays silent is pinged
// now and then, so that a dead one is found.
func (db *DB) receive(ctx context.Context, conn *pgx.Conn, schema string) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if wctx.Err() == nil {
				return err
			}
			pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
			continue
		}
		var p notice
		if json.Unmarshal([]byte(n.Payload), &p) != nil || p.Schema != schema {
			continue
		}
		db.changes.Send(store.Change{Kind: p.Kind, Key: p.Key})
	}
}
