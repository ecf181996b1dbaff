package postgres

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres/pgtest"
)

// Errors that say the server cannot be reached, or that the connection
// to it broke, are store.ErrUnavailable (which the API answers with 503);
// errors of the statement or of the caller's context are not.
func TestTranslateUnavailable(t *testing.T) {
	ctx := t.Context()
	// A port nothing listens on: a real connection refusal.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, refused := pgx.Connect(cctx, "postgres://postgres@"+addr+"/postgres?sslmode=disable")
	if refused == nil {
		t.Fatalf("connecting to %s, where nothing listens, succeeded", addr)
	}
	// A real statement error from the server.
	db, err := Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, syntax := db.pool.Exec(ctx, `SELEC 1`)
	if syntax == nil {
		t.Fatal("a malformed statement succeeded")
	}
	// A connection the server ended: its session is terminated by
	// another, and the next statement on it fails.
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	_, ended := conn.Exec(ctx, `SELECT 1`)
	conn.Release()
	if ended == nil {
		t.Fatal("a statement on a terminated session succeeded")
	}

	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", refused, true},
		{"session terminated by the server", ended, true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"server starting", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"syntax error", syntax, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"query cancelled", &pgconn.PgError{Code: "57014"}, false},
		{"caller's deadline", context.DeadlineExceeded, false},
		{"caller's cancel", context.Canceled, false},
		{"no rows", pgx.ErrNoRows, false},
	} {
		got := errors.Is(translate(c.err), store.ErrUnavailable)
		if got != c.want {
			t.Errorf("%s (%v): unavailable %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
