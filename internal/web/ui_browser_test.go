package web_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/web"
)

// uiBrowser is a logged-in operator's tab on a keyed server holding the
// browser corpus, with the vault known as the contract "LendingVault", and
// a directory for screenshots.
func uiBrowser(t *testing.T) (ctx context.Context, base string, start time.Time, sh *shots) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	st, start, _ := browserCorpus(t)
	// The vault is a known contract, "LendingVault".
	if err := st.PutContract(t.Context(), store.Contract{Address: vault, Name: "LendingVault", ABI: []byte("[]"), Origin: "user", Added: start}); err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Deps{Chain: st, Contracts: st, Search: st, Dashboards: st, Shares: st, OperatorKey: operatorKey,
		Status: func(context.Context) web.Status {
			return web.Status{Mode: "test", ChainID: "1337", NodeHead: 59, IndexedHead: 59}
		}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	ctx = browser(t)
	dir, err := os.MkdirTemp("", "blocktorch-ui-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	watchScripts(t, ctx)
	do(t, ctx, "login",
		chromedp.Navigate(ts.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="key"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="key"]`), operatorKey),
		chromedp.Click(chromedp.CSS(`form.stack button`)),
		chromedp.WaitVisible(chromedp.CSS(`#panels .panel`)),
	)
	return ctx, ts.URL, start, &shots{t: t, dir: dir}
}

// A share link's view links only inside what it shares: an outsider
// holding a search or snapshot link meets no link to /tx, /debug,
// /address or /block (each would send them to the login).
func TestBrowserSharedViewLinksStayInside(t *testing.T) {
	ctx, base, start, sh := uiBrowser(t)
	from, to := start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339)
	type idOnly struct {
		ID string `json:"id"`
	}
	ss := eval[idOnly](t, ctx, `fetch('/api/v1/searches', {method: 'POST', headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({name: 'Failed deposits', query: 'kind:tx OR kind:revert OR service:api', from: '`+from+`', to: '`+to+`'})}).then((r) => r.json()).then((b) => b.data)`)
	if ss.ID == "" {
		t.Fatal("saved search not created")
	}
	for _, kind := range []string{store.ShareSearch, store.ShareSnapshot} {
		url := eval[string](t, ctx, `fetch('/api/v1/shares', {method: 'POST', headers: {'Content-Type': 'application/json'},
			body: JSON.stringify({kind: '`+kind+`', target: '`+ss.ID+`'})}).then((r) => r.json()).then((b) => b.data.url)`)
		if !strings.HasPrefix(url, "/s/") {
			t.Fatalf("%s share: url %q", kind, url)
		}
		outsider, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
		do(t, outsider, "outsider")
		watchScripts(t, outsider)
		do(t, outsider, "shared "+kind, chromedp.Navigate(base+url))
		waitJS(t, outsider, "shared records", `document.querySelectorAll('#results .rec').length > 20`)
		// Open every record's details, where hashes and addresses show.
		eval[bool](t, outsider, `(document.querySelectorAll('#results .rec-line').forEach((e) => e.click()), true)`)
		waitJS(t, outsider, "details", `document.querySelectorAll('#results .rec-detail').length > 20`)
		hrefs := eval[[]string](t, outsider, `[...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href'))`)
		var outside []string
		for _, h := range hrefs {
			if h != "#" && !strings.HasPrefix(h, url) {
				outside = append(outside, h)
			}
		}
		if len(outside) > 0 {
			t.Errorf("%s share shows %d links the outsider cannot open, such as %q", kind, len(outside), outside[:min(3, len(outside))])
		}
		// The values are still there, as text.
		if text := eval[string](t, outsider, `document.querySelector('#results').textContent`); !strings.Contains(text, vault.Hex()) {
			t.Errorf("%s share: the records' addresses are gone", kind)
		}
		sh.take(outsider, "shared-"+kind)
		checkNoScriptRan(t, outsider, "shared "+kind)
		cancel()
	}
}

// The search box opens the page of what is typed: a known contract by its
// name (any case) or address, a transaction, a block, another address;
// anything else searches.
func TestBrowserSearchBoxOpensPages(t *testing.T) {
	ctx, base, _, sh := uiBrowser(t)
	tx := common.BigToHash(common.Big1).Hex()
	other := common.HexToAddress("0x000000000000000000000000000000000000a000").Hex()
	for _, tc := range []struct{ typed, want string }{
		{"LendingVault", "/contract/" + vault.Hex()},
		{"lendingvault", "/contract/" + vault.Hex()},
		{strings.ToLower(vault.Hex()), "/contract/" + strings.ToLower(vault.Hex())},
		{tx, "/tx/" + tx},
		{"42", "/block/42"},
		{other, "/address/" + other},
		{"deposit 7", "/explore?q=deposit+7"},
	} {
		do(t, ctx, "home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`form.jump input`)))
		do(t, ctx, "type "+tc.typed, chromedp.SendKeys(chromedp.CSS(`form.jump input`), tc.typed+"\r"))
		loc := awayFrom(t, ctx, "/")
		if !strings.EqualFold(loc, tc.want) {
			t.Errorf("typing %q opened %s, want %s", tc.typed, loc, tc.want)
		}
		if tc.typed == "LendingVault" {
			waitJS(t, ctx, "contract page", `document.readyState === 'complete' && document.body.clientWidth > 0`)
			sh.take(ctx, "jump-contract")
		}
	}
}

// awayFrom waits until the tab has left the page at path (a navigation
// the page started), and returns the new path and query.
func awayFrom(t *testing.T, ctx context.Context, path string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		// Evaluating fails while the navigation swaps documents: try again.
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === 'loading' ? '' : location.pathname + location.search`))
		if err == nil && v != "" && v != path {
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the tab stayed on %s", path)
	return ""
}
