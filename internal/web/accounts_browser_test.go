package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/blocktorch/blocktorch/internal/auth"
	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

// csrfPage posts the settings page's "create key" form to target from
// another site, in a hidden frame.
const csrfPage = `<!doctype html><html><body><iframe name="sink"></iframe>
<form method="POST" action="%s/settings/keys" target="sink" id="f">
<input name="op" value="create"><input name="name" value="pwned"><input name="scope" value="admin"></form>
<script>document.getElementById('f').submit(); window.__done = true;</script></body></html>`

// TestAccountsInBrowser: in real Chromium, the first admin sets a password
// through the setup link and is signed in; the Users & keys page makes a
// key, shown once, whose hostile name stays text; a form on another site
// posting to the page with the admin's session makes nothing; a key is
// revoked with its button; after logging out the page asks for a login.
func TestAccountsInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "acc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tok, err := auth.NewAccounts(st, nil, "", nil).FirstAdmin(t.Context(), "admin")
	if err != nil || tok == "" {
		t.Fatalf("FirstAdmin: %v", err)
	}
	srv, err := web.New(web.Deps{Chain: st, Contracts: st, Search: st, Dashboards: st, Shares: st, Accounts: st,
		Ingest: logingest.New(st, logingest.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	victim := httptest.NewServer(srv)
	t.Cleanup(victim.Close)
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, csrfPage, victim.URL)
	}))
	t.Cleanup(attacker.Close)
	u, _ := url.Parse(attacker.URL)
	ctx := browser(t, chromedp.Flag("host-resolver-rules", "MAP evil.example 127.0.0.1"))

	const pw = "the admin's new password"
	do(t, ctx, "set the password", chromedp.Navigate(victim.URL+"/setup/"+tok),
		chromedp.SendKeys(`input[name=password]`, pw), chromedp.SendKeys(`input[name=password2]`, pw),
		chromedp.Click(`button[type=submit]`), chromedp.WaitVisible(`#signed-in`))
	who := eval[string](t, ctx, `document.querySelector('#signed-in').innerText`)
	if !strings.Contains(who, "admin · admin") {
		t.Fatalf("signed in as %q", who)
	}

	const hostile = `<img src=x onerror="window.__pwned=1">`
	do(t, ctx, "create a key", chromedp.Navigate(victim.URL+"/settings/users"),
		chromedp.SendKeys(`#add-key input[name=name]`, hostile), chromedp.Click(`#add-key input[value=ingest]`),
		chromedp.Click(`#add-key button[type=submit]`), chromedp.WaitVisible(`#new-key-secret`))
	secret := eval[string](t, ctx, `document.querySelector('#new-key-secret').innerText`)
	if !strings.HasPrefix(secret, "bt_") {
		t.Fatalf("the new key shows as %q", secret)
	}
	if eval[bool](t, ctx, `window.__pwned === 1 || !!document.querySelector('#keys img')`) {
		t.Fatal("the key's name ran as HTML")
	}
	// The page shows the secret once: a reload does not.
	do(t, ctx, "reload", chromedp.Navigate(victim.URL+"/settings/users"), chromedp.WaitVisible(`#keys`))
	html := eval[string](t, ctx, `document.documentElement.outerHTML`)
	if strings.Contains(html, secret) || !strings.Contains(html, "never") {
		t.Fatal("the key list shows the secret, or not the key")
	}

	do(t, ctx, "the other site's form", chromedp.Navigate("http://evil.example:"+u.Port()+"/"))
	waitJS(t, ctx, "the other site's form", `window.__done === true`)
	// Its answer (a redirect to the login, SameSite=Strict kept the
	// cookie home, or a refusal) is done once the frame has loaded.
	waitJS(t, ctx, "the frame", `(() => { try { return frames[0].location.href !== 'about:blank' } catch (e) { return true } })()`)
	keys, err := st.APIKeys(t.Context())
	if err != nil || len(keys) != 1 {
		t.Fatalf("after the other site's form: %d keys, %v; want 1", len(keys), err)
	}

	do(t, ctx, "revoke", chromedp.Navigate(victim.URL+"/settings/users"),
		chromedp.Click(`#keys button[type=submit]`), chromedp.WaitVisible(`#settings-done`))
	done := eval[string](t, ctx, `document.querySelector('#settings-done').innerText`)
	if !strings.Contains(done, "Revoked") {
		t.Fatalf("after revoking: %q", done)
	}
	if keys, _ := st.APIKeys(t.Context()); len(keys) != 1 || keys[0].Revoked.IsZero() {
		t.Fatal("the key is not revoked")
	}

	do(t, ctx, "log out", chromedp.Click(`form[action="/logout"] button`), chromedp.WaitVisible(`#login-user`),
		chromedp.Navigate(victim.URL+"/settings/users"), chromedp.WaitVisible(`#login-user`))
	loc := eval[string](t, ctx, `location.href`)
	if !strings.Contains(loc, "/login?next=") {
		t.Fatalf("after logout the settings page is at %q", loc)
	}
}
