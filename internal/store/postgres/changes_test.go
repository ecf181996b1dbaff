package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres/pgtest"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

// openTwo opens two stores on one new schema, as two nodes do.
func openTwo(t *testing.T) (*DB, *DB) {
	t.Helper()
	dsn := pgtest.DSN(t)
	a, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(t.Context(), dsn)
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	return a, b
}

func TestChanges(t *testing.T) {
	storetest.RunChanges(t, func(t *testing.T) (a, b storetest.ChangesBackend) {
		return openTwo(t)
	})
}

// TestChangesOtherSchema: a store in another schema of the database hears
// nothing of this one's changes.
func TestChangesOtherSchema(t *testing.T) {
	a, other := openTemp(t), openTemp(t)
	defer a.Close()
	defer other.Close()
	ch := other.Subscribe(t.Context())
	if err := a.Publish(t.Context(), "ingested", "a"); err != nil {
		t.Fatal(err)
	}
	if err := other.Publish(t.Context(), "marker", "end"); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-ch:
		if c != (store.Change{Kind: "marker", Key: "end"}) {
			t.Fatalf("heard %+v from another schema", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the marker did not arrive")
	}
}

// TestChangesReconnect: when the listening connection is killed, the
// subscriber is told to resync (notices sent meanwhile are lost) and hears
// later changes on the new connection.
func TestChangesReconnect(t *testing.T) {
	a, b := openTwo(t)
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	ch := b.Subscribe(ctx)
	if err := a.Publish(ctx, "first", ""); err != nil {
		t.Fatal(err)
	}
	expect(t, ch, store.Change{Kind: "first"})

	// Kill every listener of this database: b's, and a's if it had one.
	conn, err := pgx.Connect(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN `+changesChannel+`'`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("found no listening connection to kill")
	}
	expect(t, ch, store.Change{Resync: true})
	if err := a.Publish(ctx, "second", "after"); err != nil {
		t.Fatal(err)
	}
	expect(t, ch, store.Change{Kind: "second", Key: "after"})
}

// TestChangesRolledBack: a change published in a transaction that rolls
// back is never delivered.
func TestChangesRolledBack(t *testing.T) {
	a, b := openTwo(t)
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	ch := b.Subscribe(ctx)
	tx, err := a.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := notifyTx(ctx, tx, "lost", "x"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(ctx, "marker", "end"); err != nil {
		t.Fatal(err)
	}
	expect(t, ch, store.Change{Kind: "marker", Key: "end"})
}

// expect fails unless the next notice on ch is want.
func expect(t *testing.T, ch <-chan store.Change, want store.Change) {
	t.Helper()
	select {
	case c := <-ch:
		if c != want {
			t.Fatalf("got %+v, want %+v", c, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no %+v within 10s", want)
	}
}
