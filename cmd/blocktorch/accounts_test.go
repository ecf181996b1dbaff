package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

// TestUsersAndKeysCommands drives blocktorch users and keys against a
// real server with accounts on a SQLite store: the operator key manages
// users and keys, a key acts within its scopes, a revoked key is refused,
// and every refusal says what to do without printing a key.
func TestUsersAndKeysCommands(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const opKey = "cli-operator-key-0123456789"
	srv, err := web.New(web.Deps{Chain: st, Contracts: st, Search: st, Accounts: st, OperatorKey: opKey,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	t.Setenv("BLOCKTORCH_SERVER", ts.URL)
	t.Setenv("BLOCKTORCH_KEY", opKey)

	ok := func(args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d, %s", args, code, errOut)
		}
		if strings.Contains(out+errOut, opKey) {
			t.Fatalf("%q printed the operator key", args)
		}
		return out, errOut
	}
	fails := func(wantCode int, want string, args ...string) {
		t.Helper()
		code, out, errOut := runCLI(t, args...)
		if code != wantCode || !strings.Contains(errOut, want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", args, code, errOut, wantCode, want)
		}
		if strings.Contains(out+errOut, opKey) {
			t.Errorf("%q printed the operator key", args)
		}
	}

	out, _ := ok("users", "add", "ana", "--role", "responder")
	if !regexp.MustCompile(`setup link .*: ` + regexp.QuoteMeta(ts.URL) + `/setup/[A-Za-z0-9_-]{43}\n`).MatchString(out) {
		t.Errorf("users add prints no setup link: %q", out)
	}
	fails(1, "unknown role", "users", "add", "bo", "--role", "root")
	fails(1, "is taken", "users", "add", "ana")
	out, _ = ok("users", "list")
	if !regexp.MustCompile(`ana\s+responder\s+waiting for its setup link`).MatchString(out) {
		t.Errorf("users list: %q", out)
	}
	ok("users", "role", "ana", "editor")
	out, _ = ok("users", "passwd", "ana")
	if !strings.Contains(out, "/setup/") {
		t.Errorf("users passwd: %q", out)
	}
	var passwdOut strings.Builder
	if err := runUsersPasswd(t.Context(), []string{"ana", "--stdin"}, strings.NewReader("ana's new password\n"), &passwdOut); err != nil {
		t.Fatalf("users passwd --stdin: %v", err)
	}
	if err := runUsersPasswd(t.Context(), []string{"ana", "--stdin"}, strings.NewReader("short\n"), io.Discard); err == nil || !strings.Contains(err.Error(), "10 to 256 characters") {
		t.Errorf("users passwd --stdin with a short password: %v", err)
	}
	ok("users", "disable", "ana")
	out, _ = ok("users", "list")
	if !regexp.MustCompile(`ana\s+editor\s+disabled`).MatchString(out) {
		t.Errorf("users list after disable: %q", out)
	}
	ok("users", "enable", "ana")
	fails(1, "not found", "users", "disable", "nobody")

	// Keys: the secret alone on stdout.
	fails(2, "missing --scopes", "keys", "create", "ci")
	fails(1, "unknown scope", "keys", "create", "ci", "--scopes", "root")
	readKey, errOut := ok("keys", "create", "ci", "--scopes", "read")
	readKey = strings.TrimSpace(readKey)
	if !regexp.MustCompile(`^bt_[A-Za-z0-9_-]{43}$`).MatchString(readKey) || !strings.Contains(errOut, "shown once") {
		t.Fatalf("keys create: stdout %q, stderr %q", readKey, errOut)
	}
	out, _ = ok("keys", "list")
	if !regexp.MustCompile(`1\s+ci\s+bt_\S+…\s+read\s+by operator\s+never used\s+live`).MatchString(out) || strings.Contains(out, readKey) {
		t.Errorf("keys list: %q", out)
	}

	// The read key reads, cannot manage users, and is refused once
	// revoked; the messages say what to do and hold no key.
	t.Setenv("BLOCKTORCH_KEY", readKey)
	fails(1, "needs the admin permission", "users", "list")
	fails(1, "set BLOCKTORCH_KEY or --key to a key that may do this", "keys", "create", "x", "--scopes", "read")
	t.Setenv("BLOCKTORCH_KEY", opKey)
	out, _ = ok("keys", "list")
	if !strings.Contains(out, "used ") {
		t.Errorf("keys list after a use shows no last use: %q", out)
	}
	fails(2, "is not a positive number", "keys", "revoke", "abc")
	out, _ = ok("keys", "revoke", "1")
	if !strings.Contains(out, `revoked key 1 "ci"`) {
		t.Errorf("keys revoke: %q", out)
	}
	t.Setenv("BLOCKTORCH_KEY", readKey)
	code, o, e := runCLI(t, "keys", "list")
	if code != 1 || !strings.Contains(e, "unknown or revoked") || strings.Contains(o+e, readKey) {
		t.Errorf("a revoked key: exit %d, %q", code, e)
	}
	t.Setenv("BLOCKTORCH_KEY", "")
	fails(1, "needs its operator key: set BLOCKTORCH_KEY or --key (an API key from blocktorch keys create", "users", "list")
}
