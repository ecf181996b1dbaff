// Package pgtest gives tests a real PostgreSQL to run against: one
// throwaway database per test binary run (bt_test_<random>, created on
// first use from the DSN in BLOCKTORCH_TEST_POSTGRES, default
// postgres://postgres@127.0.0.1:5432/postgres, and dropped by Main), and a
// fresh schema in it for every store a test opens.
//
// When the server cannot be reached, tests fail under CI (CI=true) and are
// skipped with a message saying how to start it otherwise.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the server tests use when BLOCKTORCH_TEST_POSTGRES is unset.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/postgres"

var (
	once    sync.Once
	baseURL *url.URL // the server's URL, on its maintenance database
	dbName  string   // this run's database, once created
	setup   error    // why there is none
	schemas atomic.Int64
)

func base() string {
	if s := os.Getenv("BLOCKTORCH_TEST_POSTGRES"); s != "" {
		return s
	}
	return DefaultDSN
}

// create makes this run's database.
func create() error {
	u, err := url.Parse(base())
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return fmt.Errorf("BLOCKTORCH_TEST_POSTGRES must be a postgres:// URL")
	}
	baseURL = u
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return fmt.Errorf("cannot connect to PostgreSQL at %s: %w", u.Redacted(), err)
	}
	defer conn.Close(ctx)
	var b [8]byte
	rand.Read(b[:])
	name := "bt_test_" + hex.EncodeToString(b[:])
	// The name is ours (hex), so it can be written into the statement.
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		return fmt.Errorf("cannot create the test database: %w", err)
	}
	dbName = name
	return nil
}

// DSN returns the connection string of a new, empty schema in this run's
// database: a store opened on it starts empty. It fails the test under CI,
// and skips it otherwise, when PostgreSQL cannot be reached.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(func() { setup = create() })
	if setup != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI: %v", setup)
		}
		t.Skipf("no PostgreSQL (%v): start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) "+
			"or point BLOCKTORCH_TEST_POSTGRES at one", setup)
	}
	schema := "s" + strconv.FormatInt(schemas.Add(1), 10)
	u := *baseURL
	u.Path = "/" + dbName
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("cannot connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("cannot create a test schema: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Main runs the tests of a package, then drops this run's database. Call it
// from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if dbName != "" {
		if err := drop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

func drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, baseURL.String())
	if err != nil {
		return fmt.Errorf("cannot connect to drop the test database %s: %w", dbName, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP DATABASE `+dbName+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("cannot drop the test database %s: %w", dbName, err)
	}
	return nil
}
