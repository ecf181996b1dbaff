package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

// newKeyedServer serves an empty store behind the operator key k, with
// dashboards and shares so that every kind of route is present.
func newKeyedServer(t *testing.T, k string, edit func(*web.Deps)) *httptest.Server {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sec.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	deps := web.Deps{Chain: st, Contracts: st, Search: st, Dashboards: st, Shares: st, OperatorKey: k}
	if edit != nil {
		edit(&deps)
	}
	srv, err := web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

// send sends one request with the given headers and returns the status and
// body.
func send(t *testing.T, method, url, body string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestOperatorKeyAsBearer: scripts and the CLI reach every route the key
// guards with "Authorization: Bearer KEY"; a wrong or malformed one is
// refused like no key at all.
func TestOperatorKeyAsBearer(t *testing.T) {
	const key = "cli-operator-key"
	ts := newKeyedServer(t, key, nil)
	with := func(auth string) map[string]string {
		h := map[string]string{"Content-Type": "application/json"}
		if auth != "" {
			h["Authorization"] = auth
		}
		return h
	}
	for _, tt := range []struct {
		name, method, path, body, auth string
		code                           int
	}{
		{"status without key", "GET", "/api/v1/status", "", "", 401},
		{"status with bearer", "GET", "/api/v1/status", "", "Bearer " + key, 200},
		{"scheme is case-insensitive", "GET", "/api/v1/status", "", "bearer " + key, 200},
		{"wrong key", "GET", "/api/v1/status", "", "Bearer " + key + "x", 401},
		{"prefix of the key", "GET", "/api/v1/status", "", "Bearer " + key[:5], 401},
		{"basic scheme is not bearer", "GET", "/api/v1/status", "", "Basic " + key, 401},
		{"empty bearer", "GET", "/api/v1/status", "", "Bearer ", 401},
		{"search with bearer", "GET", "/api/v1/search?q=&from=now-1h", "", "Bearer " + key, 200},
		{"write with bearer", "POST", "/api/v1/searches", `{"name":"n","query":"level:error"}`, "Bearer " + key, 201},
		{"write without key", "POST", "/api/v1/searches", `{"name":"n","query":"level:error"}`, "", 401},
		{"page with bearer", "GET", "/explore", "", "Bearer " + key, 200},
		{"page without key goes to login", "GET", "/explore", "", "", 303},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := send(t, tt.method, ts.URL+tt.path, tt.body, with(tt.auth))
			if code != tt.code {
				t.Fatalf("%s %s with %q: status %d, want %d: %s", tt.method, tt.path, tt.auth, code, tt.code, body)
			}
		})
	}
}
