package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

// newKeyedServer serves an empty store behind the operator key k, with
// dashboards and shares so that every kind of route is present.
func newKeyedServer(t testing.TB, k string, edit func(*web.Deps)) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(newKeyedHandler(t, k, edit))
	t.Cleanup(ts.Close)
	return ts
}

// newKeyedHandler is the handler newKeyedServer serves.
func newKeyedHandler(t testing.TB, k string, edit func(*web.Deps)) http.Handler {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sec.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	deps := web.Deps{Chain: st, Contracts: st, Search: st, Dashboards: st, Shares: st, OperatorKey: k,
		Ingest: logingest.New(st, logingest.Options{})}
	if edit != nil {
		edit(&deps)
	}
	srv, err := web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	return srv
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
	// The timeout ends a stream (the tail) that should have been refused.
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body) // a timed-out stream returns what came
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

// TestCrossSiteWritesRefused: with or without an operator key, a write
// that a foreign page could send (a foreign Origin, Sec-Fetch-Site
// cross-site or same-site, or an API body a browser sends without a
// preflight) is refused, while the UI's own JSON writes, scripts and the
// ingest doors go through.
func TestCrossSiteWritesRefused(t *testing.T) {
	for _, key := range []string{"", "k3y"} {
		ts := newKeyedServer(t, key, nil)
		self := ts.URL // http://127.0.0.1:PORT
		search := `{"name":"n","query":"level:error"}`
		for _, tt := range []struct {
			name, method, path, body string
			hdr                      map[string]string
			code                     int // 0: anything but 403
		}{
			{"text/plain from a foreign origin", "POST", "/api/v1/searches", search,
				map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example"}, 403},
			{"json from a foreign origin", "POST", "/api/v1/searches", search,
				map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, 403},
			{"origin null", "POST", "/api/v1/searches", search,
				map[string]string{"Content-Type": "application/json", "Origin": "null"}, 403},
			{"sec-fetch-site cross-site", "POST", "/api/v1/searches", search,
				map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403},
			{"sec-fetch-site same-site", "POST", "/api/v1/searches", search,
				map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, 403},
			{"delete from a foreign origin", "DELETE", "/api/v1/searches/x", "",
				map[string]string{"Origin": "http://evil.example"}, 403},
			{"text/plain without any origin", "POST", "/api/v1/searches", search,
				map[string]string{"Content-Type": "text/plain"}, 403},
			{"form body", "POST", "/api/v1/searches", search,
				map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 403},
			{"body without a type", "POST", "/api/v1/searches", search, map[string]string{}, 403},
			{"login form from a foreign origin", "POST", "/login", "key=k3y",
				map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"}, 403},
			{"logout from a foreign site", "POST", "/logout", "",
				map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
			{"the UI's own json write", "POST", "/api/v1/searches", search,
				map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin", "Origin": self}, 201},
			{"same origin without sec-fetch-site", "POST", "/api/v1/searches", search,
				map[string]string{"Content-Type": "application/json; charset=utf-8", "Origin": self}, 201},
			{"login form from this site", "POST", "/login", "key=k3y",
				map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": self, "Sec-Fetch-Site": "same-origin"}, 303},
			{"ingest stays cross-origin", "POST", "/api/v1/logs", `{"msg":"x"}`,
				map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, 0},
			{"loki push stays cross-origin", "POST", "/loki/api/v1/push", `{}`,
				map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, 0},
			{"reads are not writes", "GET", "/api/v1/searches", "",
				map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, 0},
		} {
			t.Run(fmt.Sprintf("key=%q/%s", key, tt.name), func(t *testing.T) {
				hdr := map[string]string{}
				for k, v := range tt.hdr {
					hdr[k] = v
				}
				if key != "" && !strings.HasPrefix(tt.path, "/login") {
					hdr["Authorization"] = "Bearer " + key
				}
				code, _, body := send(t, tt.method, ts.URL+tt.path, tt.body, hdr)
				if tt.code == 0 && code == 403 || tt.code != 0 && code != tt.code {
					t.Fatalf("%s %s: status %d, want %d: %s", tt.method, tt.path, code, tt.code, body)
				}
				if code == 403 && strings.HasPrefix(tt.path, "/api/") && !strings.Contains(body, `"errorKind":"refused"`) {
					t.Errorf("refusal without its error kind: %s", body)
				}
			})
		}
	}
}

// TestUnknownHostRefused: a server reached over loopback answers only to
// loopback names (DNS rebinding would otherwise let any page read it),
// plus the names given in AllowedHosts.
func TestUnknownHostRefused(t *testing.T) {
	ts := newKeyedServer(t, "", nil)
	proxied := newKeyedServer(t, "", func(d *web.Deps) { d.AllowedHosts = []string{"Blocktorch.Example.com", " ops.internal:443 "} })
	port := ts.URL[strings.LastIndex(ts.URL, ":")+1:]
	for _, tt := range []struct {
		srv  *httptest.Server
		host string
		path string
		code int
	}{
		{ts, "attacker.example:" + port, "/api/v1/status", 403},
		{ts, "attacker.example", "/", 403},
		{ts, "127.0.0.2:" + port, "/api/v1/status", 403},
		{ts, "localhost.attacker.example", "/api/v1/status", 403},
		{ts, "attacker.example", "/healthz", 403},
		{ts, "127.0.0.1:" + port, "/api/v1/status", 200},
		{ts, "127.0.0.1", "/api/v1/status", 200},
		{ts, "localhost:" + port, "/api/v1/status", 200},
		{ts, "LOCALHOST.", "/api/v1/status", 200},
		{ts, "[::1]:" + port, "/api/v1/status", 200},
		{ts, "[::1]", "/api/v1/status", 200},
		{proxied, "blocktorch.example.com", "/api/v1/status", 200},
		{proxied, "blocktorch.example.com:8443", "/api/v1/status", 200},
		{proxied, "ops.internal", "/api/v1/status", 200},
		{proxied, "localhost:" + port, "/api/v1/status", 200},
		{proxied, "evil.example.com", "/api/v1/status", 403},
	} {
		t.Run(tt.host+tt.path, func(t *testing.T) {
			code, _, body := send(t, "GET", tt.srv.URL+tt.path, "", map[string]string{"Host": tt.host})
			if code != tt.code {
				t.Fatalf("Host %q: status %d, want %d: %s", tt.host, code, tt.code, body)
			}
			if code == 403 && (strings.Contains(body, `"chainId"`) || !strings.Contains(body, "--allowed-hosts")) {
				t.Errorf("refusal leaks data or does not say what to do: %s", body)
			}
		})
	}
}

// serverWithRecords is a keyless server whose store holds a few records
// of now, so that histograms have data to count.
func serverWithRecords(t testing.TB) *httptest.Server {
	t.Helper()
	return httptest.NewServer(handlerWithRecords(t))
}

func handlerWithRecords(t testing.TB) http.Handler {
	t.Helper()
	return newKeyedHandler(t, "", func(d *web.Deps) {
		st := d.Search.(*sqlite.DB)
		now := time.Now()
		if err := st.AppendRecords(t.Context(), []record.Record{
			{Time: now.Add(-time.Minute), Source: record.SourceApp, Kind: record.KindLog, Level: "error", Message: "boom"},
			{Time: now, Source: record.SourceApp, Kind: record.KindLog, Level: "info", Message: "ok"},
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRangeLimits: every range parser (search, histogram, chart, tail and
// the shared views) answers a range beyond the searchable times with a 400
// that names the limit, never a panic; the widest allowed range works.
func TestRangeLimits(t *testing.T) {
	ts := serverWithRecords(t)
	json := map[string]string{"Content-Type": "application/json"}
	wide := "&from=1970-01-01T00:00:00Z&to=2300-01-01T00:00:00Z"
	for _, tt := range []struct {
		path string
		code int
	}{
		{"/api/v1/search/histogram?q=" + wide, 400},
		{"/api/v1/search?q=" + wide, 400},
		{"/api/v1/search?q=" + url.QueryEscape("* | timechart 1d count()") + wide, 400},
		{"/api/v1/chart?q=" + url.QueryEscape("* | timechart count()") + wide, 400},
		{"/api/v1/tail?q=&from=2300-01-01T00:00:00Z", 400},
		{"/api/v1/search/histogram?q=&from=1900-01-01T00:00:00Z", 400},
		{"/api/v1/search/histogram?q=&from=-9999999999999", 400},
		{"/api/v1/search/histogram?q=&to=99999999999", 400},
		{"/api/v1/search/histogram?q=&from=1970-01-01T00:00:00Z&to=2200-01-01T00:00:00Z", 200},
		{"/api/v1/search/histogram?q=&from=1970-01-01T00:00:00Z&buckets=1000", 200},
		{"/api/v1/search?q=&from=now-1h", 200},
	} {
		t.Run(tt.path, func(t *testing.T) {
			code, _, body := send(t, "GET", ts.URL+tt.path, "", nil)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			if code == 400 && !strings.Contains(body, "1970-01-01T00:00:00Z to 2200-01-01T00:00:00Z") {
				t.Errorf("the refusal does not name the limit: %s", body)
			}
		})
	}

	// A saved search with such a range, shared: its viewers get the 400.
	code, _, body := send(t, "POST", ts.URL+"/api/v1/searches", `{"name":"wide","query":"","from":"1970-01-01T00:00:00Z","to":"2300-01-01T00:00:00Z"}`, json)
	if code != 201 {
		t.Fatalf("save: %d %s", code, body)
	}
	var saved struct{ Data struct{ ID string } }
	decodeJSON(t, body, &saved)
	code, _, body = send(t, "POST", ts.URL+"/api/v1/shares", `{"kind":"search","target":"`+saved.Data.ID+`"}`, json)
	if code != 201 && code != 200 {
		t.Fatalf("share: %d %s", code, body)
	}
	var share struct{ Data struct{ Token string } }
	decodeJSON(t, body, &share)
	for _, p := range []string{"/histogram", "/search"} {
		code, _, body = send(t, "GET", ts.URL+"/api/v1/shared/"+share.Data.Token+p, "", nil)
		if code != 400 || !strings.Contains(body, "2200-01-01") {
			t.Errorf("shared %s over 1970-2300: %d %s, want 400 naming the limit", p, code, body)
		}
	}
}

func decodeJSON(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
}

// FuzzRangeParams sends arbitrary from, to and buckets to every endpoint
// that parses a range (search, histogram, chart with a timechart): the
// answer is never a server error, and a refusal says what was wrong.
func FuzzRangeParams(f *testing.F) {
	for _, c := range [][3]string{
		{"1970-01-01T00:00:00Z", "2300-01-01T00:00:00Z", "60"},
		{"-9223372036854775808", "9223372036854775807", "1000"},
		{"now-3650d", "now", "1"},
		{"now-366d", "now-1s", "7"},
		{"0", "1", ""},
		{"2199-12-31T23:59:59.999999999Z", "2200-01-01T00:00:00Z", "1000"},
	} {
		f.Add(c[0], c[1], c[2])
	}
	h := handlerWithRecords(f)
	f.Fuzz(func(t *testing.T, from, to, buckets string) {
		v := url.Values{"q": {""}, "from": {from}, "to": {to}}
		if buckets != "" {
			v.Set("buckets", buckets)
		}
		for _, path := range []string{"/api/v1/search", "/api/v1/search/histogram", "/api/v1/chart"} {
			if path == "/api/v1/chart" {
				v.Set("q", "* | timechart count()")
			}
			rw := httptest.NewRecorder()
			h.ServeHTTP(rw, httptest.NewRequest("GET", path+"?"+v.Encode(), nil))
			if rw.Code >= 500 || rw.Code == 400 && !strings.Contains(rw.Body.String(), `"error":"`) {
				t.Fatalf("%s?%s: %d %s", path, v.Encode(), rw.Code, rw.Body.String())
			}
		}
	})
}

// clock is a settable clock for the server.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// login posts a key from a client address to the handler directly.
func login(h http.Handler, ip, key, next string) *httptest.ResponseRecorder {
	form := url.Values{"key": {key}, "next": {next}}
	r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = ip + ":40000"
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, r)
	return rw
}

// TestLoginThrottled: after five wrong keys a client waits, with a 429
// and Retry-After, even with the right key; the wait doubles; other
// clients are not held; a success clears the client.
func TestLoginThrottled(t *testing.T) {
	c := &clock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	h := newKeyedHandler(t, "right-key", func(d *web.Deps) { d.Now = c.Now })
	for i := range 5 {
		if rw := login(h, "203.0.113.7", "wrong", "/"); rw.Code != 401 {
			t.Fatalf("wrong key %d: %d", i+1, rw.Code)
		}
	}
	rw := login(h, "203.0.113.7", "wrong", "/")
	if rw.Code != 401 {
		t.Fatalf("sixth wrong key: %d", rw.Code)
	}
	rw = login(h, "203.0.113.7", "right-key", "/")
	if rw.Code != 429 || rw.Header().Get("Retry-After") != "1" || !strings.Contains(rw.Body.String(), "try again in 1 s") {
		t.Fatalf("attempt while held: %d Retry-After %q", rw.Code, rw.Header().Get("Retry-After"))
	}
	if rw := login(h, "198.51.100.1", "right-key", "/"); rw.Code != 303 {
		t.Fatalf("another client was held: %d", rw.Code)
	}
	c.Add(time.Second)
	login(h, "203.0.113.7", "wrong", "/") // seventh failure: 2 s
	if rw := login(h, "203.0.113.7", "right-key", "/"); rw.Code != 429 || rw.Header().Get("Retry-After") != "2" {
		t.Fatalf("after the seventh failure: %d Retry-After %q, want 429 and 2", rw.Code, rw.Header().Get("Retry-After"))
	}
	c.Add(2 * time.Second)
	if rw := login(h, "203.0.113.7", "right-key", "/"); rw.Code != 303 {
		t.Fatalf("right key after the wait: %d", rw.Code)
	}
	if rw := login(h, "203.0.113.7", "wrong", "/"); rw.Code != 401 {
		t.Fatalf("a success did not clear the client: %d", rw.Code)
	}
}

// TestSessionsRevocable: each login gets its own random session id, which
// logout ends on the server (a copied cookie stops working) and which
// expires.
func TestSessionsRevocable(t *testing.T) {
	c := &clock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	h := newKeyedHandler(t, "right-key", func(d *web.Deps) { d.Now = c.Now })
	cookie := func() *http.Cookie {
		t.Helper()
		rw := login(h, "192.0.2.1", "right-key", "/")
		for _, ck := range rw.Result().Cookies() {
			if ck.Name == "blocktorch_session" && ck.Value != "" {
				if ck.MaxAge <= 0 || ck.MaxAge > 24*3600 {
					t.Errorf("session cookie Max-Age %d, want an expiry within a day", ck.MaxAge)
				}
				return ck
			}
		}
		t.Fatalf("no session cookie: %d", rw.Code)
		return nil
	}
	status := func(ck *http.Cookie, path, method string) int {
		r := httptest.NewRequest(method, path, nil)
		r.AddCookie(ck)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		rw := httptest.NewRecorder()
		h.ServeHTTP(rw, r)
		return rw.Code
	}
	a, b := cookie(), cookie()
	if a.Value == b.Value {
		t.Fatal("two logins got the same session id")
	}
	if status(a, "/api/v1/status", "GET") != 200 || status(b, "/api/v1/status", "GET") != 200 {
		t.Fatal("fresh sessions refused")
	}
	if code := status(a, "/logout", "POST"); code != 303 {
		t.Fatalf("logout: %d", code)
	}
	if status(a, "/api/v1/status", "GET") != 401 {
		t.Fatal("the cookie of a logged-out session still works")
	}
	if status(b, "/api/v1/status", "GET") != 200 {
		t.Fatal("logging out one session ended another")
	}
	c.Add(13 * time.Hour)
	if status(b, "/api/v1/status", "GET") != 401 {
		t.Fatal("a session still works after 13 hours")
	}
	forged := &http.Cookie{Name: "blocktorch_session", Value: b.Value + "x"}
	if status(forged, "/api/v1/status", "GET") != 401 {
		t.Fatal("a forged cookie works")
	}
}

// TestLoginRedirectStaysOnSite: next= cannot send the operator elsewhere,
// through TAB/CR/LF, backslashes or a second slash.
func TestLoginRedirectStaysOnSite(t *testing.T) {
	h := newKeyedHandler(t, "right-key", nil)
	for next, want := range map[string]string{
		"/\t/evil.example": "/", "/\r\n/evil.example": "/", "//evil.example": "/", "/\\evil.example": "/",
		"https://evil.example/": "/", "/explore?q=level%3Aerror": "/explore?q=level%3Aerror",
	} {
		rw := login(h, "192.0.2.9", "right-key", next)
		if loc := rw.Header().Get("Location"); rw.Code != 303 || loc != want {
			t.Errorf("next=%q: %d Location %q, want %q", next, rw.Code, loc, want)
		}
	}
	r := httptest.NewRequest("GET", "/login?next=%2F%09%2Fevil.example", nil)
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, r)
	if strings.Contains(rw.Body.String(), "evil.example") {
		t.Errorf("the login page carries the foreign next: %s", rw.Body.String())
	}
}

// TestOneDurationSyntax: relative times take the durations timechart
// takes, days included and past a year (from=now-3650d), and so do share
// expiries.
func TestOneDurationSyntax(t *testing.T) {
	ts := serverWithRecords(t)
	for _, tt := range []struct {
		path string
		code int
	}{
		{"/api/v1/search?q=&from=now-3650d", 200},
		{"/api/v1/search?q=&from=-400d&to=now-1d", 200},
		{"/api/v1/search/histogram?q=&from=now-3650d", 200},
		{"/api/v1/chart?q=" + url.QueryEscape("* | timechart 7d count()") + "&from=now-3650d", 200},
		{"/api/v1/search?q=&from=now-1y", 400},
		{"/api/v1/search?q=&from=now-0d", 400},
	} {
		code, _, body := send(t, "GET", ts.URL+tt.path, "", nil)
		if code != tt.code {
			t.Errorf("%s: %d, want %d: %.300s", tt.path, code, tt.code, body)
		}
	}
	json := map[string]string{"Content-Type": "application/json"}
	code, _, body := send(t, "POST", ts.URL+"/api/v1/searches", `{"name":"s","query":"level:error"}`, json)
	var saved struct{ Data struct{ ID string } }
	decodeJSON(t, body, &saved)
	code, _, body = send(t, "POST", ts.URL+"/api/v1/shares", `{"kind":"search","target":"`+saved.Data.ID+`","expiresIn":"400d"}`, json)
	if code != 201 && code != 200 {
		t.Errorf("a share expiring in 400d: %d %s", code, body)
	}
}
