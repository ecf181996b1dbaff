package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/auth"
	"github.com/blocktorch/blocktorch/internal/store/postgres"
	"github.com/blocktorch/blocktorch/internal/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestAccountsAcrossNodes: two servers on one PostgreSQL store are one
// system for accounts: a login on A works on B, a key made on B works on
// A, and disabling a user or revoking a key on one is refused at once by
// the other.
func TestAccountsAcrossNodes(t *testing.T) {
	dsn := pgtest.DSN(t)
	node := func() (*Server, *httptest.Server) {
		db, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := newServer(Deps{Chain: db, Contracts: db, Accounts: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, uiTree())
		if err != nil {
			t.Fatal(err)
		}
		s.acct.Params = auth.PasswordParams{Memory: 64, Time: 1, Threads: 1}
		ts := httptest.NewServer(s)
		t.Cleanup(ts.Close)
		return s, ts
	}
	a, tsA := node()
	b, tsB := node()
	ctx := t.Context()
	const pw = "a password of ana's"
	if _, err := a.acct.CreateUser(ctx, auth.Local, "ana", auth.RoleAdmin, pw, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := a.acct.CreateUser(ctx, auth.Local, "ed", auth.RoleEditor, pw, ""); err != nil {
		t.Fatal(err)
	}
	send := func(ts *httptest.Server, method, path, body string, hdr ...string) (int, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
			if !strings.HasPrefix(path, "/api/") {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	login := func(ts *httptest.Server, name string) string {
		code, h := send(ts, "POST", "/login", url.Values{"user": {name}, "password": {pw}}.Encode())
		if code != http.StatusSeeOther || sessionCookie(h) == "" {
			t.Fatalf("login of %s: %d", name, code)
		}
		return auth.SessionCookie + "=" + sessionCookie(h)
	}
	// Node B has seen no user yet when A made them: it must not be open.
	if code, _ := send(tsB, "GET", "/api/v1/me", ""); code != http.StatusUnauthorized {
		t.Fatalf("node B answers an anonymous read with %d, want 401", code)
	}
	ana, ed := login(tsA, "ana"), login(tsA, "ed")
	if code, _ := send(tsB, "GET", "/api/v1/me", "", "Cookie", ed); code != http.StatusOK {
		t.Fatalf("A's login on B: %d", code)
	}
	k, err := b.acct.CreateKey(ctx, auth.Local, "ci", []string{"read"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := send(tsA, "GET", "/api/v1/me", "", "Authorization", "Bearer "+k.Secret); code != http.StatusOK {
		t.Fatalf("B's key on A: %d", code)
	}
	if code, _ := send(tsA, "DELETE", "/api/v1/keys/1", "", "Cookie", ana); code != http.StatusOK {
		t.Fatalf("revoking on A: %d", code)
	}
	if code, _ := send(tsB, "GET", "/api/v1/me", "", "Authorization", "Bearer "+k.Secret); code != http.StatusUnauthorized {
		t.Errorf("a key revoked on A answers %d on B, want 401", code)
	}
	if code, _ := send(tsB, "PATCH", "/api/v1/users/ed", `{"disabled":true}`, "Cookie", ana); code != http.StatusOK {
		t.Fatalf("disabling on B with A's login: %d", code)
	}
	if code, _ := send(tsA, "GET", "/api/v1/me", "", "Cookie", ed); code != http.StatusUnauthorized {
		t.Errorf("a user disabled on B keeps a session on A: %d", code)
	}
	evs, err := a.acct.AuditLog(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action+" "+e.Actor)
	}
	if all := strings.Join(actions, ","); !strings.Contains(all, "key.revoke ana") || !strings.Contains(all, "user.disable ana") {
		t.Errorf("A's audit log lacks what was done on A and B: %s", all)
	}
}
