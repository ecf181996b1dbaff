package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"

	"github.com/blocktorch/blocktorch/internal/auth"
	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/incident"
	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/oracle"
	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/response"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncLog collects a server's log output, for the scan for secrets.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// accountsEnv is a server with accounts over a real SQLite store.
type accountsEnv struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	st    *sqlite.DB
	clock *clock
	log   *syncLog
}

// newAccountsEnv starts a server with accounts (and operatorKey, when not
// empty). With every service set, every route of the table is there
// (their services are zero values: the matrix test does not run their
// handlers).
func newAccountsEnv(t *testing.T, operatorKey string, every bool) *accountsEnv {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &accountsEnv{t: t, st: st, clock: &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}, log: &syncLog{}}
	deps := Deps{Chain: st, Contracts: st, Search: st, Dashboards: st, Shares: st, Accounts: st, OperatorKey: operatorKey,
		Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Ingest: logingest.New(st, logingest.Options{})}
	if every {
		deps.Metrics = http.NotFoundHandler()
		deps.Incident = func() error { return nil }
		deps.Call = func(context.Context, ethereum.CallMsg, *big.Int) ([]byte, error) { return nil, nil }
		deps.Verify = &contracts.Registry{}
		deps.Debug = &debugger.Service{}
		deps.Source = func(string) (string, bool) { return "", false }
		deps.Monitors = &monitor.Engine{}
		deps.Incidents = &incident.Service{}
		deps.Respond = &response.Service{}
		deps.Oracles = &oracle.Service{}
		deps.Patch = &patch.Service{}
	}
	e.srv, err = newServer(deps, uiTree(pageAssets(t)...))
	if err != nil {
		t.Fatal(err)
	}
	// Fast hashes: the costs are not under test here.
	e.srv.acct.Params = auth.PasswordParams{Memory: 64, Time: 1, Threads: 1}
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(e.ts.Close)
	return e
}

// client is a browser without redirects and with its own cookies.
func (e *accountsEnv) client() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// do sends a request from this site's own pages (Sec-Fetch-Site:
// same-origin) with the given headers, and returns status and body.
func (e *accountsEnv) do(method, path, body string, hdr ...string) (int, string, http.Header) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if body != "" {
		if strings.HasPrefix(path, "/api/") {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// login logs name in with password and returns the session cookie's
// header value.
func (e *accountsEnv) login(name, password string, hdr ...string) string {
	e.t.Helper()
	form := url.Values{"user": {name}, "password": {password}, "next": {"/"}}.Encode()
	code, body, h := e.do("POST", "/login", form, hdr...)
	if code != http.StatusSeeOther {
		e.t.Fatalf("login of %s: status %d: %.500s", name, code, body)
	}
	c := sessionCookie(h)
	if c == "" {
		e.t.Fatalf("login of %s set no session cookie", name)
	}
	return auth.SessionCookie + "=" + c
}

// sessionCookie is the session cookie's value a response sets.
func sessionCookie(h http.Header) string {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == auth.SessionCookie {
			return c.Value
		}
	}
	return ""
}

// addUser creates a user with a password through the service.
func (e *accountsEnv) addUser(name, role, password string) {
	e.t.Helper()
	if _, err := e.srv.acct.CreateUser(e.t.Context(), auth.Local, name, role, password, "test"); err != nil {
		e.t.Fatal(err)
	}
}

// apiData decodes an envelope's data.
func apiData(t *testing.T, body string, v any) {
	t.Helper()
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil || env.Status != "success" {
		t.Fatalf("not a success envelope (%v): %.500s", err, body)
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		t.Fatalf("cannot decode data: %v: %.500s", err, body)
	}
}

var wildcardRE = regexp.MustCompile(`\{[^}]*\}`)

// concrete is a request path for a route pattern: its method (GET for a
// pattern without one) and a path with every wildcard filled in.
func concrete(pattern string) (string, string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "GET", pattern
	}
	path = wildcardRE.ReplaceAllString(strings.TrimSuffix(path, "{$}"), "1")
	if strings.HasSuffix(path, "/") && path != "/" {
		path += "x"
	}
	return method, path
}

// routeExpectations is what every route of the table needs, written out
// so that a change to a route's permission shows in review, and a new
// route fails TestAuthorizationMatrix until it is listed here.
var routeExpectations = map[string]need{
	"/api/":                          needRead,
	"/api/v1/logs":                   needIngest,
	"DELETE /api/v1/dashboards/{id}": needWrite,
	"DELETE /api/v1/flags/{deployment}/{name}":              needRespond,
	"DELETE /api/v1/incidents/{id}/banner":                  needWrite,
	"DELETE /api/v1/keys/{id}":                              needAdmin,
	"DELETE /api/v1/monitors/{id}":                          needWrite,
	"DELETE /api/v1/searches/{id}":                          needWrite,
	"DELETE /api/v1/shares/{id}":                            needWrite,
	"DELETE /api/v1/silences/{id}":                          needWrite,
	"DELETE /api/v1/status/components/{id}":                 needWrite,
	"GET /address/{address}":                                needRead,
	"GET /api/v1/alerts":                                    needRead,
	"GET /api/v1/alerts/active":                             needRead,
	"GET /api/v1/audit/accounts":                            needAdmin,
	"GET /api/v1/blocks":                                    needRead,
	"GET /api/v1/channels":                                  needRead,
	"GET /api/v1/chart":                                     needRead,
	"GET /api/v1/contracts":                                 needRead,
	"GET /api/v1/contracts/{address}":                       needRead,
	"GET /api/v1/contracts/{address}/events":                needRead,
	"GET /api/v1/dashboards":                                needRead,
	"GET /api/v1/dashboards/{id}":                           needRead,
	"GET /api/v1/deadletters":                               needRead,
	"GET /api/v1/debug/{tx}":                                needRead,
	"GET /api/v1/debug/{tx}/nav":                            needRead,
	"GET /api/v1/debug/{tx}/steps":                          needRead,
	"GET /api/v1/flags":                                     needRead,
	"GET /api/v1/incidents":                                 needRead,
	"GET /api/v1/incidents/audit":                           needRead,
	"GET /api/v1/incidents/template":                        needRead,
	"GET /api/v1/incidents/{id}":                            needRead,
	"GET /api/v1/incidents/{id}/postmortem":                 needRead,
	"GET /api/v1/incidents/{id}/postmortem.md":              needRead,
	"GET /api/v1/incidents/{id}/scope":                      needRead,
	"GET /api/v1/incidents/{id}/timeline":                   needRead,
	"GET /api/v1/keys":                                      needAdmin,
	"GET /api/v1/me":                                        needRead,
	"GET /api/v1/monitors":                                  needRead,
	"GET /api/v1/monitors/{id}":                             needRead,
	"GET /api/v1/monitors/{id}/series":                      needRead,
	"GET /api/v1/oracles":                                   needRead,
	"GET /api/v1/oracles/{address}":                         needRead,
	"GET /api/v1/oracles/{address}/history":                 needRead,
	"GET /api/v1/patch-check/txs":                           needRead,
	"GET /api/v1/patch-check/{id}":                          needRead,
	"GET /api/v1/public/banner":                             needPublic,
	"GET /api/v1/public/flags":                              needPublic,
	"GET /api/v1/respond/contracts/{address}/actions":       needRead,
	"GET /api/v1/respond/runs":                              needRead,
	"GET /api/v1/respond/safe/proposals":                    needRead,
	"GET /api/v1/respond/scenarios":                         needRead,
	"GET /api/v1/respond/status":                            needRead,
	"GET /api/v1/search":                                    needRead,
	"GET /api/v1/search/histogram":                          needRead,
	"GET /api/v1/searches":                                  needRead,
	"GET /api/v1/searches/{id}":                             needRead,
	"GET /api/v1/shared/{token}":                            needPublic,
	"GET /api/v1/shared/{token}/histogram":                  needPublic,
	"GET /api/v1/shared/{token}/panels/{panel}":             needPublic,
	"GET /api/v1/shared/{token}/search":                     needPublic,
	"GET /api/v1/shares":                                    needRead,
	"GET /api/v1/shares/events":                             needRead,
	"GET /api/v1/silences":                                  needRead,
	"GET /api/v1/sources":                                   needRead,
	"GET /api/v1/status":                                    needRead,
	"GET /api/v1/status/components":                         needRead,
	"GET /api/v1/tail":                                      needRead,
	"GET /api/v1/txs":                                       needRead,
	"GET /api/v1/txs/{hash}":                                needRead,
	"GET /api/v1/users":                                     needAdmin,
	"GET /block/{number}":                                   needRead,
	"GET /contract/{address}":                               needRead,
	"GET /dashboards":                                       needRead,
	"GET /dashboards/{id}":                                  needRead,
	"GET /debug/{tx}":                                       needRead,
	"GET /explore":                                          needRead,
	"GET /favicon.ico":                                      needPublic,
	"GET /favicon.svg":                                      needPublic,
	"GET /healthz":                                          needPublic,
	"GET /incidents":                                        needRead,
	"GET /incidents/{id}":                                   needRead,
	"GET /login":                                            needPublic,
	"GET /metrics":                                          needPublic,
	"GET /monitors":                                         needRead,
	"GET /oracle/{address}":                                 needRead,
	"GET /oracles":                                          needRead,
	"GET /patch":                                            needRead,
	"GET /s/{token}":                                        needPublic,
	"GET /sdk/blocktorch.js":                                needIngest,
	"GET /sdk/flags.js":                                     needPublic,
	"GET /searches":                                         needRead,
	"GET /settings/users":                                   needAdmin,
	"GET /setup/{token}":                                    needPublic,
	"GET /shares":                                           needRead,
	"GET /simulate":                                         needRead,
	"GET /static/":                                          needPublic,
	"GET /status":                                           needPublic,
	"GET /status.atom":                                      needPublic,
	"GET /status.json":                                      needPublic,
	"GET /tx/{hash}":                                        needRead,
	"GET /{$}":                                              needRead,
	"PATCH /api/v1/incidents/{id}":                          needWrite,
	"PATCH /api/v1/users/{name}":                            needAdmin,
	"POST /api/v1/contracts":                                needWrite,
	"POST /api/v1/contracts/{address}/call":                 needRead,
	"POST /api/v1/contracts/{address}/verify":               needWrite,
	"POST /api/v1/dashboards":                               needWrite,
	"POST /api/v1/deadletters/{id}/retry":                   needWrite,
	"POST /api/v1/demo/incident":                            needWrite,
	"POST /api/v1/incidents":                                needWrite,
	"POST /api/v1/incidents/template/preview":               needRead,
	"POST /api/v1/incidents/{id}/links":                     needWrite,
	"POST /api/v1/incidents/{id}/notes":                     needWrite,
	"POST /api/v1/incidents/{id}/status":                    needWrite,
	"POST /api/v1/keys":                                     needAdmin,
	"POST /api/v1/monitors":                                 needWrite,
	"POST /api/v1/monitors/apply":                           needWrite,
	"POST /api/v1/monitors/dry-run":                         needRead,
	"POST /api/v1/oracles":                                  needWrite,
	"POST /api/v1/oracles/{address}":                        needWrite,
	"POST /api/v1/patch-check":                              needWrite,
	"POST /api/v1/respond/contracts/{address}/prepare":      needRespond,
	"POST /api/v1/respond/contracts/{address}/propose":      needRespond,
	"POST /api/v1/respond/contracts/{address}/send":         needRespond,
	"POST /api/v1/respond/safe/proposals/{hash}/execute":    needRespond,
	"POST /api/v1/respond/safe/proposals/{hash}/signatures": needRespond,
	"POST /api/v1/respond/scenarios/{name}/run":             needRespond,
	"POST /api/v1/searches":                                 needWrite,
	"POST /api/v1/shares":                                   needWrite,
	"POST /api/v1/silences":                                 needWrite,
	"POST /api/v1/simulate":                                 needRead,
	"POST /api/v1/users":                                    needAdmin,
	"POST /api/v1/users/{name}/setup-link":                  needAdmin,
	"POST /login":                                           needPublic,
	"POST /logout":                                          needPublic,
	"POST /loki/api/v1/push":                                needIngest,
	"POST /settings/keys":                                   needAdmin,
	"POST /settings/users":                                  needAdmin,
	"POST /setup":                                           needPublic,
	"POST /v1/logs":                                         needIngest,
	"PUT /api/v1/dashboards/{id}":                           needWrite,
	"PUT /api/v1/flags/{deployment}/{name}":                 needRespond,
	"PUT /api/v1/incidents/template":                        needWrite,
	"PUT /api/v1/incidents/{id}/banner":                     needWrite,
	"PUT /api/v1/incidents/{id}/postmortem":                 needWrite,
	"PUT /api/v1/monitors/{id}":                             needWrite,
	"PUT /api/v1/respond/automation":                        needRespond,
	"PUT /api/v1/searches/{id}":                             needWrite,
	"PUT /api/v1/status/components/{id}":                    needWrite,
}

// matrixPrincipal is one kind of caller of the matrix, and the needs it
// is expected to meet (public and ingest routes are everyone's).
type matrixPrincipal struct {
	name  string
	hdr   []string
	meets []need
}

// TestAuthorizationMatrix sends every route of the table (with every
// service present) a request from every role, the operator key, API keys
// of several scopes, and callers that must be refused (anonymous, a
// revoked key, an ended session, a disabled user, a key whose owner lost
// the role), through the real guard and the real accounts store, and
// checks the status against routeExpectations. The routes' handlers are
// replaced by a probe: what is under test is who reaches them.
func TestAuthorizationMatrix(t *testing.T) {
	e := newAccountsEnv(t, "operator-key-matrix-0123456789", true)
	ctx := t.Context()
	const pw = "correct horse battery"
	for _, u := range [][2]string{{"vera", "viewer"}, {"ed", "editor"}, {"rita", "responder"}, {"ada", "admin"}, {"dora", "viewer"}, {"max", "admin"}} {
		e.addUser(u[0], u[1], pw)
	}
	cookie := func(name string) []string { return []string{"Cookie", e.login(name, pw)} }
	bearer := func(k string) []string { return []string{"Authorization", "Bearer " + k} }
	user := func(name string) auth.Principal {
		u, err := e.srv.acct.UserByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return auth.Principal{Kind: "user", Name: u.Name, UserID: u.ID, Role: u.Role, Perms: auth.RolePermissions(u.Role)}
	}
	key := func(owner auth.Principal, scopes ...string) string {
		k, err := e.srv.acct.CreateKey(ctx, owner, "matrix "+strings.Join(scopes, "+"), scopes, "test")
		if err != nil {
			t.Fatal(err)
		}
		return k.Secret
	}
	ada := user("ada")
	readKey, ingestKey, respondKey := key(ada, "read"), key(ada, "ingest"), key(ada, "respond")
	adminKey := key(ada, "admin")
	revoked := key(ada, "admin")
	keys, err := e.srv.acct.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.acct.RevokeKey(ctx, ada, keys[0].ID, "test"); err != nil {
		t.Fatal(err)
	}
	// max makes a write key, then is demoted to viewer: the key reads only.
	max := user("max")
	demotedKey := key(max, "write")
	viewer := auth.RoleViewer
	if _, err := e.srv.acct.UpdateUser(ctx, ada, max.UserID, auth.UserChange{Role: &viewer}, "test"); err != nil {
		t.Fatal(err)
	}
	// dora logs in, then is disabled.
	doraCookie := cookie("dora")
	off := true
	if _, err := e.srv.acct.UpdateUser(ctx, ada, user("dora").UserID, auth.UserChange{Disabled: &off}, "test"); err != nil {
		t.Fatal(err)
	}
	// A session that ended an hour ago.
	ended := "an-ended-session-id"
	vera := user("vera")
	if err := e.st.PutSession(ctx, storeSession(ended, vera.UserID, e.clock.Now().Add(-13*time.Hour), e.clock.Now().Add(-time.Hour)), 100); err != nil {
		t.Fatal(err)
	}
	all := []need{needRead, needWrite, needRespond, needAdmin}
	principals := []matrixPrincipal{
		{"anonymous", nil, nil},
		{"viewer", cookie("vera"), []need{needRead}},
		{"editor", cookie("ed"), []need{needRead, needWrite}},
		{"responder", cookie("rita"), []need{needRead, needWrite, needRespond}},
		{"admin", cookie("ada"), all},
		{"operator key", bearer("operator-key-matrix-0123456789"), all},
		{"read key", bearer(readKey), []need{needRead}},
		{"ingest key (lacks every other scope)", bearer(ingestKey), nil},
		{"respond key", bearer(respondKey), []need{needRead, needWrite, needRespond}},
		{"admin key", bearer(adminKey), all},
		{"revoked key", bearer(revoked), nil},
		{"write key of a user demoted to viewer", bearer(demotedKey), []need{needRead}},
		{"wrong bearer", bearer("bt_not-a-key"), nil},
		{"ended session", []string{"Cookie", auth.SessionCookie + "=" + ended}, nil},
		{"disabled user's session", doraCookie, nil},
		{"made-up session", []string{"Cookie", auth.SessionCookie + "=forged"}, nil},
	}

	// Every route of the table is expected, and every expectation is a
	// route of the table.
	table := e.srv.routeTable()
	seen := map[string]bool{}
	for _, rt := range table {
		seen[rt.pattern] = true
		want, ok := routeExpectations[rt.pattern]
		if !ok {
			t.Errorf("route %q (needs %v) is missing from routeExpectations: add it with the permission it should need", rt.pattern, rt.need)
			continue
		}
		if rt.need != want {
			t.Errorf("route %q needs %v, want %v", rt.pattern, rt.need, want)
		}
	}
	for p := range routeExpectations {
		if !seen[p] {
			t.Errorf("routeExpectations lists %q, which the route table does not have", p)
		}
	}

	// The probe: the guard let the request through.
	e.srv.mux = http.NewServeMux()
	for _, rt := range table {
		e.srv.mux.Handle(rt.pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Reached", rt.pattern)
			w.WriteHeader(http.StatusTeapot)
		}))
	}
	for _, rt := range table {
		method, path := concrete(rt.pattern)
		req := httptest.NewRequest(method, path, nil)
		if _, got := e.srv.mux.Handler(req); got != rt.pattern {
			t.Fatalf("the request %s %s for %q reaches %q: fix concrete", method, path, rt.pattern, got)
		}
		for _, p := range principals {
			want := http.StatusTeapot
			if n := rt.need; n != needPublic && n != needIngest {
				switch {
				case p.meets == nil && p.name != "ingest key (lacks every other scope)":
					want = http.StatusUnauthorized
					if !strings.HasPrefix(path, "/api/") {
						want = http.StatusSeeOther // to the login page
					}
				case !slices.Contains(p.meets, n):
					want = http.StatusForbidden
				}
			}
			code, body, h := e.do(method, path, "", p.hdr...)
			if code != want {
				t.Errorf("%s %s (needs %v) as %s: status %d, want %d: %.300s", method, path, rt.need, p.name, code, want, body)
			}
			if code == http.StatusTeapot && h.Get("X-Reached") != rt.pattern {
				t.Errorf("%s %s as %s reached %q", method, path, p.name, h.Get("X-Reached"))
			}
		}
	}
}

// storeSession is a session of user id whose cookie holds id.
func storeSession(id string, user int64, created, expires time.Time) store.OperatorSession {
	return store.OperatorSession{Hash: sha256.Sum256([]byte(id)), Created: created, Expires: expires, UserID: user}
}

// TestLoginNewSessionID: a login never keeps a session id the browser
// brought (session fixation): a planted id, or the id of an earlier
// session, is worthless after the login, and the new one works.
func TestLoginNewSessionID(t *testing.T) {
	e := newAccountsEnv(t, "", false)
	const pw = "correct horse battery"
	e.addUser("ada", "admin", pw)
	e.addUser("eve", "viewer", pw)
	for _, c := range []struct {
		name    string
		planted func() string
	}{
		{"made-up id", func() string { return "attacker-chosen-session-id" }},
		{"an earlier session of another user", func() string { return strings.TrimPrefix(e.login("eve", pw), auth.SessionCookie+"=") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			planted := c.planted()
			got := e.login("ada", pw, "Cookie", auth.SessionCookie+"="+planted)
			if got == auth.SessionCookie+"="+planted {
				t.Fatal("the login kept the session id the browser brought")
			}
			if code, _, _ := e.do("GET", "/api/v1/me", "", "Cookie", auth.SessionCookie+"="+planted); code != http.StatusUnauthorized {
				t.Errorf("the id brought to the login answers %d after it, want 401", code)
			}
			code, body, _ := e.do("GET", "/api/v1/me", "", "Cookie", got)
			var me struct{ Name, Role string }
			if code != http.StatusOK {
				t.Fatalf("the new session: %d %s", code, body)
			}
			apiData(t, body, &me)
			if me.Name != "ada" || me.Role != "admin" {
				t.Errorf("the new session is %+v", me)
			}
		})
	}
	// The cookie: HttpOnly, SameSite=Strict, not readable by scripts.
	form := url.Values{"user": {"ada"}, "password": {pw}}.Encode()
	_, _, h := e.do("POST", "/login", form)
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == auth.SessionCookie && (!c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/") {
			t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/", c)
		}
	}
}

// TestCrossSiteWriteWithCookieRefused: a foreign page posting with the
// admin's valid cookie (the browser sends it; Origin and Sec-Fetch-Site
// say where from) is refused on the settings forms and the API, and
// nothing is made.
func TestCrossSiteWriteWithCookieRefused(t *testing.T) {
	e := newAccountsEnv(t, "", false)
	const pw = "correct horse battery"
	e.addUser("ada", "admin", pw)
	cookie := e.login("ada", pw)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/settings/keys", url.Values{"op": {"create"}, "name": {"evil"}, "scope": {"admin"}}.Encode()},
		{"POST", "/settings/users", url.Values{"op": {"create"}, "name": {"evil"}, "role": {"admin"}}.Encode()},
		{"POST", "/api/v1/keys", `{"name":"evil","scopes":["admin"]}`},
		{"POST", "/api/v1/users", `{"name":"evil","role":"admin","password":"0123456789ab"}`},
		{"PATCH", "/api/v1/users/ada", `{"password":"0123456789ab"}`},
		{"POST", "/logout", ""},
	} {
		for _, from := range [][]string{
			{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
			{"Sec-Fetch-Site", "same-site"},
		} {
			code, body, _ := e.do(c.method, c.path, c.body, append([]string{"Cookie", cookie}, from...)...)
			if code != http.StatusForbidden {
				t.Errorf("%s %s from %v with a valid cookie: %d, want 403: %.200s", c.method, c.path, from, code, body)
			}
		}
	}
	keys, _ := e.srv.acct.Keys(t.Context())
	users, _ := e.srv.acct.Users(t.Context())
	if len(keys) != 0 || len(users) != 1 {
		t.Errorf("cross-site writes made %d keys and %d users", len(keys), len(users)-1)
	}
	if code, _, _ := e.do("GET", "/api/v1/me", "", "Cookie", cookie); code != http.StatusOK {
		t.Errorf("the cross-site logout ended the session: %d", code)
	}
}

// TestLoginThrottled: after 5 wrong passwords a client waits, even with
// the right one; the wait is per address and per user name; a right
// password after the wait works; the attempts are in the audit log.
func TestLoginThrottled(t *testing.T) {
	e := newAccountsEnv(t, "", false)
	const pw = "correct horse battery"
	e.addUser("ada", "admin", pw)
	try := func(name, password string) int {
		code, _, _ := e.do("POST", "/login", url.Values{"user": {name}, "password": {password}}.Encode())
		return code
	}
	for i := range 5 {
		if code := try("ada", "wrong password "+string(rune('a'+i))); code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i, code)
		}
	}
	if code := try("ada", "wrong again"); code != http.StatusUnauthorized {
		t.Fatalf("the 6th wrong password: %d, want 401 (5 are free, then waits start)", code)
	}
	if code := try("ada", pw); code != http.StatusTooManyRequests {
		t.Fatalf("the right password during the wait: %d, want 429", code)
	}
	if code := try("nobody", "x"); code != http.StatusTooManyRequests {
		t.Fatalf("another name from the throttled address: %d, want 429", code)
	}
	e.clock.Add(2 * time.Second)
	if code := try("ada", pw); code != http.StatusSeeOther {
		t.Fatalf("the right password after the wait: %d, want 303", code)
	}
	evs, err := e.srv.acct.AuditLog(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, ev := range evs {
		count[ev.Action]++
	}
	if count["login.failed"] != 6 || count["login"] != 1 || count["login.throttled"] != 2 {
		t.Errorf("audit counts %v, want 6 failed, 2 throttled, 1 login", count)
	}
}

// TestAccountsEndToEnd walks what an admin and their team do, through the
// pages and the API, and then scans every page, answer and the server's
// log for the secrets that went by: passwords, keys and setup tokens
// appear only in the one answer that hands each out.
func TestAccountsEndToEnd(t *testing.T) {
	e := newAccountsEnv(t, "", false)
	ctx := t.Context()
	var seen strings.Builder // every answer but those that hand out a secret
	keep := func(body string) string { seen.WriteString(body); return body }

	// The first start: an admin without a password, and its setup link.
	tok, err := e.srv.acct.FirstAdmin(ctx, "admin")
	if err != nil || tok == "" {
		t.Fatalf("FirstAdmin: %q, %v", tok, err)
	}
	if again, err := e.srv.acct.FirstAdmin(ctx, "admin"); err != nil || again != "" {
		t.Fatalf("a second FirstAdmin: %q, %v; want none", again, err)
	}
	// The server is closed from now on.
	if code, _, _ := e.do("GET", "/api/v1/status", ""); code != http.StatusUnauthorized {
		t.Fatalf("an anonymous read after the first admin: %d, want 401", code)
	}
	if code, _, _ := e.do("POST", "/login", url.Values{"user": {"admin"}, "password": {""}}.Encode()); code != http.StatusUnauthorized {
		t.Fatalf("a login of the admin without a password: %d, want 401", code)
	}
	code, body, _ := e.do("GET", "/setup/"+tok, "")
	if code != http.StatusOK || !strings.Contains(body, `name="password2"`) {
		t.Fatalf("the setup page: %d %.300s", code, body)
	}
	const adminPW = "first admin's password"
	setup := func(pw1, pw2 string) (int, string, http.Header) {
		return e.do("POST", "/setup", url.Values{"token": {tok}, "password": {pw1}, "password2": {pw2}}.Encode())
	}
	if code, body, _ := setup("short", "short"); code != http.StatusBadRequest || !strings.Contains(body, "10 to 256 characters") {
		t.Fatalf("a short password: %d %.300s", code, body)
	}
	if code, _, _ := setup(adminPW, adminPW+"x"); code != http.StatusBadRequest {
		t.Fatalf("two different passwords: %d", code)
	}
	code, _, h := setup(adminPW, adminPW)
	if code != http.StatusSeeOther || sessionCookie(h) == "" {
		t.Fatalf("the setup: %d, cookie %q", code, sessionCookie(h))
	}
	if code, body, _ := setup("another password", "another password"); code != http.StatusNotFound || !strings.Contains(body, "used already") {
		t.Fatalf("the setup link used twice: %d %.300s", code, body)
	}
	admin := e.login("admin", adminPW)
	// A password typed into the name field is not written down.
	if code, body, _ := e.do("POST", "/login", url.Values{"user": {adminPW}, "password": {"x"}}.Encode()); code != http.StatusUnauthorized || strings.Contains(keep(body), template.HTMLEscapeString(adminPW)) {
		t.Fatalf("a login with the password as the name: %d", code)
	}

	// The settings page: a user with a name that is HTML, a key named
	// with a script.
	form := func(path string, v url.Values) (int, string) {
		code, body, h := e.do("POST", path, v.Encode(), "Cookie", admin)
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("POST %s answers without Cache-Control: no-store", path)
		}
		return code, body
	}
	if code, body := form("/settings/users", url.Values{"op": {"create"}, "name": {"<b>bob</b>"}, "role": {"editor"}}); code != http.StatusBadRequest || !strings.Contains(body, "letters, digits") {
		t.Fatalf("a user name that is HTML: %d %.300s", code, body)
	}
	code, body = form("/settings/users", url.Values{"op": {"create"}, "name": {"bob"}, "role": {"editor"}})
	link := regexp.MustCompile(`/setup/([A-Za-z0-9_-]+)`).FindStringSubmatch(body)
	if code != http.StatusCreated || link == nil {
		t.Fatalf("adding bob: %d %.500s", code, body)
	}
	bobTok := link[1]
	const bobPW = "bob's own password"
	if code, _, _ := e.do("POST", "/setup", url.Values{"token": {bobTok}, "password": {bobPW}, "password2": {bobPW}}.Encode()); code != http.StatusSeeOther {
		t.Fatalf("bob's setup: %d", code)
	}
	bob := e.login("bob", bobPW)
	code, body = form("/settings/keys", url.Values{"op": {"create"}, "name": {`<script>alert(1)</script>`}, "scope": {"read", "ingest"}})
	secret := regexp.MustCompile(`bt_[A-Za-z0-9_-]{43}`).FindString(body)
	if code != http.StatusCreated || secret == "" {
		t.Fatalf("creating a key: %d %.500s", code, body)
	}
	if strings.Contains(body, "<script>alert(1)</script>") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the key's name is not escaped on the page")
	}

	// The key reads, posts logs, and cannot write; bob (an editor)
	// cannot manage users.
	if code, _, _ := e.do("GET", "/api/v1/status", "", "Authorization", "Bearer "+secret); code != http.StatusOK {
		t.Errorf("a read with the read key: %d", code)
	}
	if code, body, _ := e.do("POST", "/api/v1/searches", `{"name":"n","query":"level:error"}`, "Authorization", "Bearer "+secret); code != http.StatusForbidden || !strings.Contains(keep(body), "create a key with that scope") {
		t.Errorf("a write with the read key: %d %.300s", code, body)
	}
	if code, body, _ := e.do("GET", "/settings/users", "", "Cookie", bob); code != http.StatusForbidden || !strings.Contains(keep(body), "ask an admin") {
		t.Errorf("the settings page for an editor: %d %.300s", code, body)
	}
	// Ingest: once an ingest key exists, a keyless line is refused and
	// the key (in any form shippers send it) is taken.
	if code, body, _ := e.do("POST", "/api/v1/logs", `{"msg":"keyless"}`); code != http.StatusUnauthorized {
		t.Errorf("keyless ingest with a live ingest key: %d %.300s", code, keep(body))
	}
	for _, hdr := range [][]string{{"Authorization", "Bearer " + secret}, {"X-Blocktorch-Key", secret}} {
		if code, body, _ := e.do("POST", "/api/v1/logs", `{"msg":"keyed"}`, hdr...); code != http.StatusOK {
			t.Errorf("ingest with the key in %s: %d %.300s", hdr[0], code, keep(body))
		}
	}

	// A key made through the API, used, listed with its last use, then
	// revoked: refused from then on.
	code, body, _ = e.do("POST", "/api/v1/keys", `{"name":"ci","scopes":["write"]}`, "Cookie", admin)
	var made struct {
		Key string `json:"key"`
		ID  int64  `json:"id"`
	}
	if code != http.StatusCreated {
		t.Fatalf("POST /api/v1/keys: %d %.300s", code, body)
	}
	apiData(t, body, &made)
	if code, _, _ := e.do("POST", "/api/v1/searches", `{"name":"n","query":"level:error"}`, "Authorization", "Bearer "+made.Key); code != http.StatusCreated {
		t.Errorf("a write with the write key: %d", code)
	}
	code, body, _ = e.do("GET", "/api/v1/keys", "", "Cookie", admin)
	var listed []struct {
		ID       int64      `json:"id"`
		LastUsed *time.Time `json:"lastUsed"`
		Owner    string     `json:"owner"`
	}
	apiData(t, keep(body), &listed)
	if len(listed) != 2 || listed[0].ID != made.ID || listed[0].LastUsed == nil || listed[0].Owner != "admin" {
		t.Errorf("the key list: %.500s", body)
	}
	if code, body, _ := e.do("DELETE", "/api/v1/keys/"+strconv.FormatInt(made.ID, 10), "", "Cookie", admin); code != http.StatusOK {
		t.Fatalf("revoking: %d %.300s", code, keep(body))
	}
	if code, body, _ := e.do("GET", "/api/v1/status", "", "Authorization", "Bearer "+made.Key); code != http.StatusUnauthorized || !strings.Contains(keep(body), "revoked") {
		t.Errorf("a revoked key: %d %.300s", code, body)
	}

	// Role change and disabling, through the API; bob's session ends when
	// he is disabled.
	if code, body, _ := e.do("PATCH", "/api/v1/users/bob", `{"role":"responder"}`, "Cookie", admin); code != http.StatusOK {
		t.Fatalf("role change: %d %.300s", code, keep(body))
	}
	if code, body, _ := e.do("PATCH", "/api/v1/users/admin", `{"role":"viewer"}`, "Cookie", admin); code != http.StatusBadRequest {
		t.Errorf("an admin demoting themself: %d %.300s", code, keep(body))
	}
	if code, body, _ := e.do("PATCH", "/api/v1/users/bob", `{"disabled":true}`, "Cookie", admin); code != http.StatusOK {
		t.Fatalf("disabling: %d %.300s", code, keep(body))
	}
	if code, _, _ := e.do("GET", "/api/v1/me", "", "Cookie", bob); code != http.StatusUnauthorized {
		t.Errorf("a disabled user's session: %d, want 401", code)
	}
	if code, _, _ := e.do("POST", "/login", url.Values{"user": {"bob"}, "password": {bobPW}}.Encode()); code != http.StatusUnauthorized {
		t.Errorf("a disabled user's login: %d, want 401", code)
	}

	// The audit log names every step, never a secret.
	code, body, _ = e.do("GET", "/api/v1/audit/accounts", "", "Cookie", admin)
	var audit []struct{ Actor, Action, Target string }
	apiData(t, keep(body), &audit)
	actions := map[string]bool{}
	for _, a := range audit {
		actions[a.Action] = true
	}
	for _, want := range []string{"user.create", "user.setup_link", "user.password", "login", "login.failed", "key.create", "key.revoke", "user.role", "user.disable"} {
		if !actions[want] {
			t.Errorf("the audit log has no %s: %.1000s", want, body)
		}
	}
	for _, path := range []string{"/settings/users", "/login", "/", "/api/v1/users", "/api/v1/keys", "/api/v1/me"} {
		_, body, _ := e.do("GET", path, "", "Cookie", admin)
		keep(body)
	}
	for what, s := range map[string]string{"admin's password": adminPW, "bob's password": bobPW, "the read key": secret,
		"the write key": made.Key, "the admin's setup token": tok, "bob's setup token": bobTok} {
		if strings.Contains(seen.String(), s) || strings.Contains(seen.String(), template.HTMLEscapeString(s)) {
			t.Errorf("%s appears in a page or an API answer", what)
		}
		if strings.Contains(e.log.String(), s) {
			t.Errorf("%s appears in the server's log", what)
		}
		if rows := dumpAccounts(t, e); strings.Contains(rows, s) {
			t.Errorf("%s is stored in the clear", what)
		}
	}
}

// dumpAccounts is every value of the accounts tables, as text.
func dumpAccounts(t *testing.T, e *accountsEnv) string {
	t.Helper()
	var b strings.Builder
	users, _ := e.st.Users(t.Context())
	keys, _ := e.st.APIKeys(t.Context())
	audit, _ := e.st.Audit(t.Context(), 1000)
	for _, v := range []any{users, keys, audit} {
		j, _ := json.Marshal(v)
		b.Write(j)
	}
	return b.String()
}

// TestIngestTakesConfiguredAndAPIKeys: with configured ingest keys, the
// doors take those and API keys with the ingest scope, in every form;
// a key without the scope, a revoked one, or none is refused.
func TestIngestTakesConfiguredAndAPIKeys(t *testing.T) {
	e := newAccountsEnv(t, "", false)
	e.srv.deps.Ingest = logingest.New(e.st, logingest.Options{IngestKeys: []string{"pk_configured"}})
	ctx := t.Context()
	ship, err := e.srv.acct.CreateKey(ctx, auth.Local, "shipper", []string{"ingest"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	read, err := e.srv.acct.CreateKey(ctx, auth.Local, "reader", []string{"read"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	gone, err := e.srv.acct.CreateKey(ctx, auth.Local, "old shipper", []string{"ingest"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.acct.RevokeKey(ctx, auth.Local, gone.Key.ID, "test"); err != nil {
		t.Fatal(err)
	}
	basic := func(pw string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte("tenant:"+pw)) }
	for _, c := range []struct {
		name string
		hdr  []string
		want int
	}{
		{"configured key", []string{"Authorization", "Bearer pk_configured"}, http.StatusOK},
		{"API key as bearer", []string{"Authorization", "Bearer " + ship.Secret}, http.StatusOK},
		{"API key in X-Blocktorch-Key", []string{"X-Blocktorch-Key", ship.Secret}, http.StatusOK},
		{"API key as basic-auth password", []string{"Authorization", basic(ship.Secret)}, http.StatusOK},
		{"API key without the ingest scope", []string{"Authorization", "Bearer " + read.Secret}, http.StatusUnauthorized},
		{"revoked API key", []string{"Authorization", "Bearer " + gone.Secret}, http.StatusUnauthorized},
		{"no key", nil, http.StatusUnauthorized},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body, _ := e.do("POST", "/api/v1/logs", `{"msg":"x"}`, c.hdr...)
			if code != c.want {
				t.Errorf("status %d, want %d: %.300s", code, c.want, body)
			}
		})
	}
}

// TestRouteWithoutPermissionRefused: a route table with a route that
// declares no permission does not start.
func TestRouteWithoutPermissionRefused(t *testing.T) {
	h := http.NotFoundHandler()
	if err := checkRoutes([]route{{pattern: "GET /a", need: needRead, handler: h}, {pattern: "GET /b", handler: h}}); err == nil || !strings.Contains(err.Error(), `"GET /b" declares no permission`) {
		t.Fatalf("checkRoutes = %v", err)
	}
	if err := checkRoutes([]route{{pattern: "GET /a", need: needPublic, handler: h}}); err != nil {
		t.Fatal(err)
	}
}
