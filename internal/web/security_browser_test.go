package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// evilPage is the attacker's page: it posts a saved search to target with
// a text/plain fetch and a text/plain form (both "simple" requests that no
// CORS preflight stops), then marks itself done.
const evilPage = `<!doctype html><html><body><iframe name="sink"></iframe><script>
window.__done = false;
(async () => {
  const target = %q;
  try {
    await fetch(target + '/api/v1/searches', {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'},
      body: JSON.stringify({name: 'pwned-fetch', query: 'level:error'})});
  } catch (e) {}
  const f = document.createElement('form');
  f.method = 'POST'; f.action = target + '/api/v1/searches'; f.enctype = 'text/plain'; f.target = 'sink';
  const i = document.createElement('input');
  i.name = '{"name":"pwned-form'; i.value = '","query":"level:error"}';
  f.appendChild(i); document.body.appendChild(f); f.submit();
  window.__done = true;
})();
</script></body></html>`

// rebindPage runs at an origin whose name now resolves to the server (DNS
// rebinding): to the browser every request is same-origin, so only the
// server's Host check stands between the page and the answers.
const rebindPage = `<!doctype html><html><body><script>
window.__result = null;
(async () => {
  const r = {};
  try { const a = await fetch('/api/v1/status'); r.read = a.status; r.readBody = await a.text(); } catch (e) { r.read = String(e); }
  try {
    const b = await fetch('/api/v1/searches', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({name: 'pwned-rebind', query: 'level:error'})});
    r.write = b.status;
  } catch (e) { r.write = String(e); }
  window.__result = r;
})();
</script></body></html>`

// TestForeignPageCannotWriteOrRead: in real Chromium, a page on another
// site can neither change a keyless server (text/plain fetch, form POST)
// nor, after rebinding its own name to 127.0.0.1, read or write it; the
// server's own pages still write.
func TestForeignPageCannotWriteOrRead(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	srv := newKeyedHandler(t, "", nil) // the default: no operator key
	arrived := make(chan string, 64)
	seen := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r)
		select {
		case arrived <- r.Method + " " + r.URL.Path:
		default:
		}
	})
	victim := httptest.NewServer(seen)
	t.Cleanup(victim.Close)
	// The same server behind a second listener, so the attacker's page and
	// the API share an origin as they do after a DNS rebinding.
	rebind := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rebind" {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, rebindPage)
			return
		}
		seen.ServeHTTP(w, r)
	}))
	t.Cleanup(rebind.Close)
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, evilPage, victim.URL)
	}))
	t.Cleanup(attacker.Close)
	evil := func(ts *httptest.Server, path string) string {
		u, _ := url.Parse(ts.URL)
		return "http://evil.example:" + u.Port() + path
	}

	ctx := browser(t, chromedp.Flag("host-resolver-rules", "MAP evil.example 127.0.0.1"))

	// A foreign page writes with a text/plain fetch and a form.
	do(t, ctx, "open the attacker's page", chromedp.Navigate(evil(attacker, "/attack")))
	waitJS(t, ctx, "attack", `window.__done === true`)
	posts := 0
	deadline := time.After(20 * time.Second)
	for posts < 2 {
		select {
		case m := <-arrived:
			if m == "POST /api/v1/searches" {
				posts++
			}
		case <-deadline:
			t.Fatalf("the browser sent %d of the attacker's 2 writes", posts)
		}
	}

	// A rebound name reads and writes "same-origin".
	do(t, ctx, "open the rebinding page", chromedp.Navigate(evil(rebind, "/rebind")))
	waitJS(t, ctx, "rebinding", `window.__result !== null`)
	type result struct {
		Read     any    `json:"read"`
		ReadBody string `json:"readBody"`
		Write    any    `json:"write"`
	}
	r := eval[result](t, ctx, `window.__result`)
	if r.Read != float64(403) || strings.Contains(r.ReadBody, "counts") || r.Write != float64(403) {
		t.Errorf("a rebinding page read %v (%.120s) and wrote %v, want 403 and 403", r.Read, r.ReadBody, r.Write)
	}

	// The server's own page still writes JSON.
	do(t, ctx, "open the UI", chromedp.Navigate(victim.URL+"/searches"))
	own := eval[float64](t, ctx, `fetch('/api/v1/searches', {method: 'POST', headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({name: 'mine', query: 'level:error'})}).then(r => r.status)`)
	if own != 201 {
		t.Errorf("the UI's own write answered %v, want 201", own)
	}

	_, _, body := send(t, "GET", victim.URL+"/api/v1/searches", "", nil)
	if strings.Contains(body, "pwned") || !strings.Contains(body, `"mine"`) {
		t.Fatalf("saved searches after the attack: %s", body)
	}
}
