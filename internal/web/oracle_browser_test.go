package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
)

// TestOraclePagesInBrowser runs the demo and opens its price feed: found
// from the demo's ABI with the demo's heartbeat, listed healthy on
// /oracles, and on its page the latest round, a live age, the vault among
// the contracts that read it, a chart of answers whose update marker
// opens the update's transaction, and health checks whose verdicts open
// the records behind them in Explore. The API refuses what is no feed with
// the reason.
func TestOraclePagesInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the whole demo and a browser")
	}
	a, stop := apptest.Start(t, apptest.DemoConfig(t))
	defer stop()
	base := a.URL()

	type feed struct {
		Address          string `json:"address"`
		Source           string `json:"source"`
		HeartbeatSeconds int64  `json:"heartbeatSeconds"`
		HeartbeatDefault bool   `json:"heartbeatDefault"`
		Health           struct {
			Status string `json:"status"`
		} `json:"health"`
		Details struct {
			Description string `json:"description"`
		} `json:"details"`
		Readers []struct {
			Reader string `json:"reader"`
		} `json:"readers"`
	}
	getJSON := func(path string, v any) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var env struct {
			Data  json.RawMessage `json:"data"`
			Error string          `json:"error"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			t.Fatalf("%s: %s", path, body)
		}
		if v != nil && resp.StatusCode == 200 {
			if err := json.Unmarshal(env.Data, v); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, env.Error
	}
	var feeds []feed
	if code, msg := getJSON("/api/v1/oracles", &feeds); code != 200 || len(feeds) != 1 {
		t.Fatalf("GET /api/v1/oracles: %d %s %+v", code, msg, feeds)
	}
	f := feeds[0]
	if f.Source != "abi" || f.HeartbeatSeconds != 45 || f.HeartbeatDefault || f.Details.Description != "ETH / USD" || f.Health.Status != "ok" {
		t.Fatalf("the demo feed: %+v", f)
	}
	var contracts []struct {
		Name    string `json:"name"`
		Address string `json:"address"`
	}
	getJSON("/api/v1/contracts", &contracts)
	var vault, token string
	for _, c := range contracts {
		switch c.Name {
		case "LendingVault":
			vault = c.Address
		case "DemoToken":
			token = c.Address
		}
	}

	// Bad input: clear errors, nothing followed.
	for _, c := range []struct{ body, want string }{
		{`{"address":"` + token + `"}`, "does not answer latestRoundData()"},
		{`{"address":"0x0000000000000000000000000000000000000001"}`, "holds no contract"},
		{`{"address":"nope"}`, "is not an address"},
		{`{"address":"` + f.Address + `","heartbeat":"soon"}`, "is not a duration"},
		{`{"address":"` + f.Address + `","deviationPct":-3}`, "percentage"},
		{`{"adress":"x"}`, "not the expected JSON"},
	} {
		resp, err := http.Post(base+"/api/v1/oracles", "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), c.want) {
			t.Errorf("POST %s: %d %s, want 400 with %q", c.body, resp.StatusCode, body, c.want)
		}
	}
	if code, _ := getJSON("/api/v1/oracles/"+token, nil); code != 404 {
		t.Errorf("a contract that is no followed feed: %d, want 404", code)
	}
	for q, want := range map[string]string{
		"from=now-1h&to=now-2h":                             "from is after to",
		"from=now-1000d&to=now":                             "longer than the 366 days a history covers",
		"from=1970-01-01T00:00:00Z&to=2199-01-01T00:00:00Z": "longer than the 366 days",
		"from=yesterday":                                    "is not a time",
	} {
		if code, msg := getJSON("/api/v1/oracles/"+f.Address+"/history?"+q, nil); code != 400 || !strings.Contains(msg, want) {
			t.Errorf("history?%s: %d %q, want 400 saying %q", q, code, msg, want)
		}
	}

	// The vault reads the feed as the traffic borrows and liquidates.
	deadline := time.Now().Add(90 * time.Second)
	for {
		var got feed
		getJSON("/api/v1/oracles/"+f.Address, &got)
		if len(got.Readers) > 0 && strings.EqualFold(got.Readers[0].Reader, vault) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the vault was never seen reading the feed: %+v", got)
		}
		<-time.After(200 * time.Millisecond) // the traffic's next borrow
	}

	ctx := browser(t)
	watchScripts(t, ctx)
	do(t, ctx, "feeds page", chromedp.Navigate(base+"/oracles"))
	waitJS(t, ctx, "feed row", `!!document.querySelector('#feed-list tr[data-address="`+f.Address+`"] .ok')`)
	if got := eval[string](t, ctx, `document.querySelector('#feed-list tbody tr').innerText`); !strings.Contains(got, "ETH / USD") || !strings.Contains(got, "45 s") {
		t.Errorf("feed row: %q", got)
	}
	if href := eval[string](t, ctx, `document.querySelector('#feed-list tbody tr a').getAttribute('href')`); href != "/oracle/"+f.Address {
		t.Fatalf("the feed's row links to %q", href)
	}
	do(t, ctx, "feed page", chromedp.Navigate(base+"/oracle/"+f.Address))
	waitJS(t, ctx, "latest round", `!!document.querySelector('#f-value') && document.querySelector('#f-value').textContent !== ''`)
	waitJS(t, ctx, "readers", `[...document.querySelectorAll('#f-readers tr[data-reader]')].some((tr) => tr.innerText.includes('LendingVault'))`)
	waitJS(t, ctx, "chart", `Number((document.querySelector('#f-chart') || {dataset: {}}).dataset.points) >= 1`)
	age1 := eval[string](t, ctx, `document.querySelector('#f-age').textContent`)
	waitJS(t, ctx, "live age", `document.querySelector('#f-age').textContent !== `+jsString(age1))
	if got := eval[string](t, ctx, `document.querySelector('#f-health').textContent`); got != "ok" {
		t.Errorf("health badge %q", got)
	}
	settled(t, ctx, "feed page")
	checkNoScriptRan(t, ctx, "feed page")

	// Each health verdict links to the records behind it: the stale
	// check's link opens Explore on the feed's last update, over a fixed
	// range.
	waitJS(t, ctx, "health checks", `document.querySelectorAll('#f-checks tr[data-check] a.records-link').length >= 4`)
	for _, c := range []string{"stale", "jump", "deviation", "nonpositive", "bounds", "stale-read"} {
		if n := eval[int](t, ctx, `document.querySelectorAll('#f-checks tr[data-check="`+c+`"]').length`); n != 1 {
			t.Errorf("the %s check is shown %d times", c, n)
		}
	}
	href := eval[string](t, ctx, `document.querySelector('#f-checks tr[data-check="stale"] a.records-link').getAttribute('href')`)
	recs, err := url.Parse(href)
	if err != nil || recs.Path != "/explore" || !strings.Contains(strings.ToLower(recs.Query().Get("q")), strings.ToLower(f.Address)) || recs.Query().Get("from") == "" || recs.Query().Get("to") == "" {
		t.Fatalf("the stale check links to %q", href)
	}
	do(t, ctx, "click the stale check's records", chromedp.Click(chromedp.CSS(`#f-checks tr[data-check="stale"] a.records-link`)))
	if loc := waitLocation(t, ctx, "/explore"); loc.RawQuery != recs.RawQuery {
		t.Errorf("the link opened %s, want %s", loc, href)
	}
	waitJS(t, ctx, "the records behind the verdict", `location.pathname === '/explore' && [...document.querySelectorAll('#results .rec')].some((r) => r.innerText.includes('AnswerUpdated'))`)

	do(t, ctx, "feed page again", chromedp.Navigate(base+"/oracle/"+f.Address))
	waitJS(t, ctx, "chart again", `Number((document.querySelector('#f-chart') || {dataset: {}}).dataset.points) >= 1`)

	// Click the newest update marker that stands apart from its neighbours
	// (updates a pixel apart are one marker on the screen, and a click on it
	// opens either): its transaction opens.
	type point struct {
		X, Y float64
		Tx   string
	}
	p := eval[point](t, ctx, `(() => {
		document.querySelector('#f-chart').scrollIntoView({block: 'center'});
		const c = __bt.charts.oracle, n = c.pts.length;
		const x = (i) => (i < 0 || i >= n ? null : c.pointPos('answer', i).x);
		let i = n - 1;
		while (i > 0 && ((x(i - 1) !== null && x(i) - x(i - 1) < 8) || (x(i + 1) !== null && x(i + 1) - x(i) < 8))) i--;
		const pos = c.pointPos('answer', i);
		return {X: pos.x, Y: pos.y, Tx: c.pts[i].tx};
	})()`)
	do(t, ctx, "click the marker",
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, p.X, p.Y),
		chromedp.MouseClickXY(p.X, p.Y),
	)
	loc := waitLocation(t, ctx, "/tx/")
	if !strings.EqualFold(loc.Path, "/tx/"+p.Tx) {
		t.Fatalf("the marker opened %s, want /tx/%s", loc.Path, p.Tx)
	}

	// The vault's contract page lists the feed it reads.
	do(t, ctx, "vault page", chromedp.Navigate(base+"/contract/"+vault))
	waitJS(t, ctx, "feeds it reads", `[...document.querySelectorAll('#feed-reads a')].some((a) => a.getAttribute('href').toLowerCase() === '/oracle/`+strings.ToLower(f.Address)+`')`)
}

// waitLocation waits until the page a click navigates to has a path
// starting with prefix. The page navigates away: it asks for the location
// until it is there (a query made while the old page goes may fail).
func waitLocation(t *testing.T, ctx context.Context, prefix string) *url.URL {
	t.Helper()
	var loc *url.URL
	for end := time.Now().Add(20 * time.Second); ; {
		if s, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
			if loc, _ = url.Parse(s); loc != nil && strings.HasPrefix(loc.Path, prefix) {
				return loc
			}
		}
		if time.Now().After(end) {
			t.Fatalf("the click opened no %s page: at %v", prefix, loc)
		}
		<-time.After(50 * time.Millisecond) // the navigation the click started
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
