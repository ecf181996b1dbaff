package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres/pgtest"
)

// Two nodes on one schema: one holds the lease, the other waits; the
// lease passes when the holder releases it, and when the holder's session
// is ended by the server the holder is told (Lost) and the other takes it.
func TestLease(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.DSN(t)
	open := func() *DB {
		db, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()

	held, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2500*time.Millisecond)
	if _, err := b.Acquire(wctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second node took a held lease: %v", err)
	}
	cancel()
	select {
	case <-held.Lost():
		t.Fatal("the holder lost its lease while nobody took it")
	default:
	}

	// Released: the other takes it within its retry period.
	got := make(chan store.LeaseTerm, 1)
	go func() {
		tm, err := b.Acquire(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- tm
	}()
	if err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := held.Release(ctx); err != nil {
		t.Fatalf("a second Release: %v", err)
	}
	var bt store.LeaseTerm
	select {
	case bt = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting node did not take the released lease within 5s")
	}
	if bt == nil {
		t.FailNow()
	}

	// The server ends the holder's session (what a dead network or a
	// server restart does): the holder hears it, the other takes over.
	go func() {
		tm, err := a.Acquire(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- tm
	}()
	start := time.Now()
	if _, err := a.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'blocktorch lease' AND datname = current_database() AND pid IN
		(SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::oid)`, leaseLockClass); err != nil {
		t.Fatal(err)
	}
	select {
	case <-bt.Lost():
		t.Logf("the holder heard it lost the lease after %v", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("the holder whose session ended was not told within 5s")
	}
	bt.Release(ctx)
	select {
	case at := <-got:
		t.Logf("the other node leads %v after the session ended", time.Since(start))
		if at != nil {
			at.Release(ctx)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nobody took the lease within 5s of the holder's session ending")
	}
}

func TestNodes(t *testing.T) {
	ctx := t.Context()
	db := openTemp(t)
	defer db.Close()
	t0 := time.Unix(1_700_000_000, 0).UTC()
	for _, n := range []store.Node{
		{ID: "a", Addr: "http://127.0.0.1:1", Role: store.RoleLeader, Started: t0, Heartbeat: t0.Add(10 * time.Second)},
		{ID: "b", Addr: "http://127.0.0.1:2", Role: store.RoleFollower, Started: t0, Heartbeat: t0.Add(2 * time.Second)},
		{ID: "a", Addr: "http://127.0.0.1:1", Role: store.RoleFollower, Started: t0.Add(time.Hour), Heartbeat: t0.Add(11 * time.Second)},
	} {
		if err := db.Beat(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	ns, err := db.Nodes(ctx, t0.Add(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := store.Node{ID: "a", Addr: "http://127.0.0.1:1", Role: store.RoleFollower, Started: t0, Heartbeat: t0.Add(11 * time.Second)}
	if len(ns) != 1 || ns[0] != want {
		t.Fatalf("Nodes = %+v, want only %+v (a beat keeps the start)", ns, want)
	}
	if err := db.Forget(ctx, "a", t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	ns, _ = db.Nodes(ctx, time.Time{})
	if len(ns) != 1 || ns[0].ID != "b" {
		t.Fatalf("after forgetting a: %+v", ns)
	}
	if err := db.Forget(ctx, "nobody", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ns, _ = db.Nodes(ctx, time.Time{}); len(ns) != 0 {
		t.Fatalf("nodes beaten before olderThan remain: %+v", ns)
	}
}
