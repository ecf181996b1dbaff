package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

const operatorKey = "e2e-operator-key"

// spikeBlock is the block (minutes after the corpus start) whose minute
// has the failure spike.
const spikeBlock = 40

// browserCorpus stores an hour of chain activity ending now, one block a
// minute with three transactions; in minute spikeBlock two of the three
// fail. Off-chain logs mention transactions; some records carry XSS
// payloads in every field a page shows.
func browserCorpus(t *testing.T) (*sqlite.DB, time.Time, common.Hash) {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ui.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	start := time.Now().UTC().Truncate(time.Minute).Add(-59 * time.Minute)
	var blocks []chain.Block
	parent := common.Hash{}
	var xssTx common.Hash
	for n := uint64(0); n < 60; n++ {
		bt := start.Add(time.Duration(n)*time.Minute + 5*time.Second)
		b := chain.Block{Number: n, Hash: common.BigToHash(big.NewInt(int64(1000 + n))), ParentHash: parent, Time: bt, GasLimit: 30_000_000}
		for i := range 3 {
			h := common.BigToHash(big.NewInt(int64(n*10 + uint64(i) + 1)))
			from := common.BigToAddress(big.NewInt(int64(0xa000 + i)))
			tx := chain.Tx{Hash: h, BlockNumber: n, BlockHash: b.Hash, Index: uint(i), Time: bt, From: from, To: &vault,
				Value: big.NewInt(0), Status: 1, GasUsed: 50_000, EffectiveGasPrice: big.NewInt(1), Input: common.FromHex("0xd0e30db0"),
				Call: &chain.Call{Contract: "Vault", Method: "deposit", Signature: "deposit()"}}
			switch {
			case n == spikeBlock && i < 2:
				tx.Status = 0
				tx.RevertData = common.FromHex("0x08c379a0")
				tx.Revert = &chain.Revert{Kind: chain.RevertError, Name: "Error", Message: "insufficient collateral"}
			case n == 50 && i == 0:
				tx.Status = 0
				tx.RevertData = common.FromHex("0x08c379a0")
				tx.Revert = &chain.Revert{Kind: chain.RevertError, Name: "Error", Message: xss}
				xssTx = h
			default:
				tx.Logs = []chain.Log{{Address: vault, Topics: []common.Hash{common.HexToHash("0xaa")}, BlockNumber: n, BlockHash: b.Hash, TxHash: h, Index: uint(i),
					Event: &chain.Event{Name: "Deposit", Signature: "Deposit(address)", Args: []chain.Arg{{Name: "who", Type: "address", Value: from.Hex()}}}}}
			}
			b.Txs = append(b.Txs, tx)
		}
		b.TxCount = len(b.Txs)
		blocks = append(blocks, b)
		parent = b.Hash
	}
	if err := st.WriteBlocks(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	var logs []record.Record
	for m := range 60 {
		lvl := "info"
		if m == spikeBlock {
			lvl = "error"
		}
		logs = append(logs, record.Record{Time: start.Add(time.Duration(m)*time.Minute + 20*time.Second), Source: record.SourceApp, Kind: record.KindLog,
			Level: lvl, Service: "api", Message: fmt.Sprintf("handled deposit %d", m), TxHashes: []common.Hash{blocks[m].Txs[0].Hash}})
	}
	logs = append(logs, record.Record{Time: start.Add(55 * time.Minute), Source: record.SourceApp, Kind: record.KindLog, Level: "error",
		Service: xss, Message: "payload " + xss, Attrs: map[string]any{"note": xss}, TxHashes: []common.Hash{xssTx}})
	if err := st.AppendRecords(ctx, logs); err != nil {
		t.Fatal(err)
	}
	return st, start, xssTx
}

func newBrowserServer(t *testing.T) (*httptest.Server, time.Time, common.Hash) {
	t.Helper()
	st, start, xssTx := browserCorpus(t)
	srv, err := web.New(web.Deps{
		Chain: st, Contracts: st, Search: st, Dashboards: st, Shares: st, OperatorKey: operatorKey,
		Status: func(context.Context) web.Status {
			return web.Status{Mode: "test", ChainID: "1337", NodeHead: 59, IndexedHead: 59}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, start, xssTx
}

// browser starts Debian's chromium with any extra options. A missing
// browser fails the test: the UI is not tested otherwise.
func browser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatal("chromium is not installed (apt-get install -y chromium): the browser tests cannot run")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()))
	opts = append(opts, extra...)
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("cannot start chromium: %v", err)
	}
	return ctx
}

// watchScripts records alert() calls and CSP violations in every page the
// tab opens: a payload that ran, or tried to, shows up there. It also
// accepts confirm() and prompt(), which the UI asks before deleting.
func watchScripts(t *testing.T, ctx context.Context) {
	t.Helper()
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
		window.__alerts = [];
		window.alert = function (m) { window.__alerts.push(String(m)); };
		window.confirm = function () { return true; };
		window.__csp = [];
		document.addEventListener('securitypolicyviolation', function (e) { window.__csp.push(e.violatedDirective + ' ' + e.blockedURI); });
		// Fetches in flight, so that a test can wait for the page to be done.
		window.__fetching = 0;
		const fetch0 = window.fetch;
		window.fetch = function () {
			window.__fetching++;
			return fetch0.apply(this, arguments).finally(function () { window.__fetching--; });
		};
	`})
	if err != nil {
		t.Fatalf("cannot watch scripts: %v", err)
	}
}

// shots saves screenshots into a directory that outlives the test.
type shots struct {
	t   *testing.T
	dir string
}

func (s *shots) take(ctx context.Context, name string) {
	s.t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(s.dir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("screenshot %s", p)
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitJS waits until expr is true in the page.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("%s: waiting for %s: %v", what, expr, err)
	}
}

// settled waits until the page is done: no fetch in flight for three
// frames running (so a fetch chained on another counts), fonts loaded and
// every finite animation or transition finished, then one more frame
// painted. It replaces guessed sleeps before screenshots and checks.
func settled(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	const js = `new Promise((resolve) => {
		let quiet = 0;
		const tick = () => {
			quiet = (window.__fetching || 0) === 0 ? quiet + 1 : 0;
			if (quiet < 3) { requestAnimationFrame(tick); return; }
			document.fonts.ready
				.then(() => Promise.all(document.getAnimations()
					.filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
					.map((a) => a.finished.catch(() => {}))))
				.then(() => requestAnimationFrame(() => resolve(true)));
		};
		requestAnimationFrame(tick);
	})`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("%s: the page did not settle: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func run[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

type scriptReport struct {
	Alerts []string `json:"alerts"`
	CSP    []string `json:"csp"`
	Imgs   int      `json:"imgs"`
}

func checkNoScriptRan(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	res := eval[scriptReport](t, ctx, `({alerts: window.__alerts || [], csp: window.__csp || [], imgs: document.querySelectorAll('img[src="x"], script:not([src])').length})`)
	if len(res.Alerts) > 0 || len(res.CSP) > 0 || res.Imgs > 0 {
		t.Fatalf("%s: a payload ran or became markup: alerts %v, CSP violations %v, injected elements %d", where, res.Alerts, res.CSP, res.Imgs)
	}
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	ts, start, xssTx := newBrowserServer(t)
	ctx := browser(t)
	dir, err := os.MkdirTemp("", "blocktorch-ui-")
	if err != nil {
		t.Fatal(err)
	}
	sh := &shots{t: t, dir: dir}
	watchScripts(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	// Without the operator's session, pages ask for the key.
	do(t, ctx, "login",
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(css(`input[name="key"]`)),
		chromedp.SendKeys(css(`input[name="key"]`), operatorKey),
		chromedp.Click(css(`form.stack button`)),
		chromedp.WaitVisible(css(`#panels .panel`)),
	)
	if loc := run(t, ctx, "location", chromedp.Location()); loc != ts.URL+"/" {
		t.Fatalf("after login at %s, want the home dashboard", loc)
	}

	// Home over the corpus's hour, fixed: with the default "last hour" a
	// minute boundary passing during the test drops the first block.
	hourFrom, hourTo := start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339)
	do(t, ctx, "home over the hour", chromedp.Navigate(ts.URL+"/?from="+hourFrom+"&to="+hourTo), chromedp.WaitVisible(css(`#panels .panel`)))

	// Home: every KPI panel draws; the failure-rate chart shows the spike.
	waitJS(t, ctx, "home panels", `!!(window.__bt && __bt.charts['panel-failures'] && __bt.charts['panel-txs'] && __bt.charts['panel-gas'] && document.querySelectorAll('#panels .catbar').length > 0)`)
	if n := eval[int](t, ctx, `document.querySelectorAll('#panels .panel .msg.err').length`); n != 0 {
		t.Fatalf("%d home panels show an error", n)
	}
	failRate := run(t, ctx, "summary", chromedp.Text(css(`[data-panel="failures"] .summary`)))
	// 3 failures of 180 transactions.
	if !strings.HasPrefix(failRate, "1.67") {
		t.Errorf("failure rate summary %q, want 1.67%%", failRate)
	}
	settled(t, ctx, "home")
	sh.take(ctx, "home")

	// Click the failed segment of the spike's bar.
	type point struct {
		Idx int     `json:"idx"`
		X   float64 `json:"x"`
		Y   float64 `json:"y"`
		T0  int64   `json:"t0"`
		Iv  int64   `json:"iv"`
	}
	spike := eval[point](t, ctx, `(() => {
		const c = __bt.charts['panel-failures'];
		const s = c.res.series.find((s) => s.name === 'failed');
		const idx = s.values.indexOf(Math.max(...s.values.map((v) => v || 0)));
		const p = c.pointPos('failed', idx);
		return {idx, x: p.x, y: p.y, t0: c.res.times[idx], iv: c.res.intervalMs};
	})()`)
	do(t, ctx, "click-through",
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, spike.X, spike.Y),
		chromedp.MouseClickXY(spike.X, spike.Y),
		chromedp.WaitVisible(css(`#results .rec`)),
	)
	loc := run(t, ctx, "location", chromedp.Location())
	u, _ := url.Parse(loc)
	if u.Path != "/explore" || u.Query().Get("q") != `kind:tx status:"failed"` {
		t.Fatalf("click landed on %s, want Explore with the failed transactions", loc)
	}
	from, err1 := time.Parse(time.RFC3339, u.Query().Get("from"))
	to, err2 := time.Parse(time.RFC3339, u.Query().Get("to"))
	spikeAt := start.Add(spikeBlock * time.Minute)
	if err1 != nil || err2 != nil || from.After(spikeAt) || !to.After(spikeAt) || from.UnixMilli() != spike.T0 || to.Sub(from).Milliseconds() != spike.Iv {
		t.Fatalf("click-through range %s → %s, want the bucket holding %s", u.Query().Get("from"), u.Query().Get("to"), spikeAt)
	}
	recs := eval[[]string](t, ctx, `[...document.querySelectorAll('#results .rec .rec-msg')].map((e) => e.textContent)`)
	if len(recs) != 2 {
		t.Fatalf("Explore shows %d records, want the spike's 2 failed transactions: %q", len(recs), recs)
	}
	for _, m := range recs {
		if !strings.Contains(m, "failed: insufficient collateral") {
			t.Errorf("record %q is not a failed transaction of the spike", m)
		}
	}
	sh.take(ctx, "explore-clickthrough")

	// Explore over the hour; drag across histogram bars to zoom.
	do(t, ctx, "explore", chromedp.Navigate(ts.URL+"/explore?q=kind%3Atx&from="+hourFrom+"&to="+hourTo))
	waitJS(t, ctx, "explore", `!!(window.__bt && __bt.charts['histogram']) && document.querySelectorAll('#results .rec').length > 0 && document.querySelectorAll('#facets .facet-row').length > 0`)
	sh.take(ctx, "explore")
	type dragPlan struct {
		X1, X2, Y float64
		T1, T2    int64
	}
	drag := eval[dragPlan](t, ctx, `(() => {
		const c = __bt.charts['histogram'], n = c.names[0];
		const a = c.pointPos(n, 10), b = c.pointPos(n, 19);
		const r = c.u.over.getBoundingClientRect();
		return {X1: a.x, X2: b.x, Y: r.top + r.height / 2, T1: c.res.times[10], T2: c.res.times[19] + c.res.intervalMs};
	})()`)
	do(t, ctx, "histogram drag",
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, drag.X1, drag.Y),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, drag.X1, drag.Y, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, (drag.X1+drag.X2)/2, drag.Y, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, drag.X2, drag.Y, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, drag.X2, drag.Y, chromedp.ButtonLeft),
	)
	waitJS(t, ctx, "zoom", `new URLSearchParams(location.search).get('from') !== '`+hourFrom+`'`)
	u, _ = url.Parse(run(t, ctx, "location", chromedp.Location()))
	zf, _ := time.Parse(time.RFC3339Nano, u.Query().Get("from"))
	zt, _ := time.Parse(time.RFC3339Nano, u.Query().Get("to"))
	if zf.UnixMilli() != drag.T1 || zt.UnixMilli() != drag.T2 {
		t.Fatalf("drag zoomed to %s → %s, want the dragged buckets %s → %s", zf, zt, time.UnixMilli(drag.T1).UTC(), time.UnixMilli(drag.T2).UTC())
	}

	// An invalid query shows its error with a caret.
	do(t, ctx, "query error",
		chromedp.Navigate(ts.URL+"/explore?q="+url.QueryEscape("level:error AND (service:api")),
		chromedp.WaitVisible(css(`#query-error`)),
	)
	if errText := run(t, ctx, "error text", chromedp.Text(css(`#query-error`))); !strings.Contains(errText, "^") {
		t.Fatalf("query error %q has no caret", errText)
	}
	sh.take(ctx, "explore-error")

	// XSS payloads render as text on every page that shows them.
	for _, p := range []string{
		"/explore?q=" + url.QueryEscape("payload OR revertKind:error") + "&from=" + hourFrom + "&to=" + hourTo,
		"/tx/" + xssTx.Hex(),
		"/address/" + vault.Hex(),
		"/",
	} {
		do(t, ctx, p, chromedp.Navigate(ts.URL+p), chromedp.WaitReady(css(`main`)))
		switch {
		case strings.HasPrefix(p, "/explore"):
			waitJS(t, ctx, p, `document.querySelectorAll('#results .rec').length > 0 && document.querySelectorAll('#facets .facet-row').length > 0`)
			eval[bool](t, ctx, `(document.querySelectorAll('#results .rec-line').forEach((e) => e.click()), true)`)
			text := run(t, ctx, "text", chromedp.Text(css(`#explore`)))
			if !strings.Contains(text, "<img src=x onerror=alert(1)>") || !strings.Contains(text, "</script><script>alert(2)</script>") {
				t.Fatalf("%s: the payload is not shown as text", p)
			}
			sh.take(ctx, "explore-xss")
		case strings.HasPrefix(p, "/tx/"):
			do(t, ctx, p, chromedp.WaitVisible(css(`#related .rec`)))
			sh.take(ctx, "tx")
		case strings.HasPrefix(p, "/address/"):
			waitJS(t, ctx, p, `!!(window.__bt && __bt.charts['activity'])`)
			sh.take(ctx, "address")
		default:
			waitJS(t, ctx, p, `!!(window.__bt && __bt.charts['panel-errors'])`)
		}
		settled(t, ctx, p) // late fetches rendered
		checkNoScriptRan(t, ctx, p)
	}
	do(t, ctx, "block", chromedp.Navigate(ts.URL+"/block/"+fmt.Sprint(spikeBlock)), chromedp.WaitVisible(css(`#block-txs`)))
	sh.take(ctx, "block")

	// A custom dashboard, shared with a link.
	type idOnly struct {
		ID string `json:"id"`
	}
	created := eval[idOnly](t, ctx, `fetch('/api/v1/dashboards', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({
		name: 'Vault ops', spec: {from: '`+hourFrom+`', to: '`+hourTo+`', panels: [
			{id: 'fails', title: 'Failures by reason', type: 'bar', query: 'kind:revert | top 5 revertReason', width: 6, height: 2},
			{id: 'deposits', title: 'Deposits', type: 'timeseries', query: 'event:Deposit | timechart count()', width: 6, height: 2}]}})
	}).then((r) => r.json()).then((b) => b.data)`)
	if created.ID == "" {
		t.Fatal("dashboard not created")
	}
	do(t, ctx, "dashboard", chromedp.Navigate(ts.URL+"/dashboards/"+created.ID))
	waitJS(t, ctx, "dashboard", `!!(window.__bt && __bt.charts['panel-deposits']) && document.querySelectorAll('.catbar').length > 0`)
	do(t, ctx, "share", chromedp.Click(css(`#share-btn`)), chromedp.Click(css(`#share-create`)), chromedp.WaitVisible(css(`#share-url`)))
	shareURL := run(t, ctx, "share url", chromedp.Value(css(`#share-url`)))
	sh.take(ctx, "dashboard-share")
	token := strings.TrimPrefix(shareURL, ts.URL+"/s/")
	if !strings.HasPrefix(shareURL, ts.URL+"/s/") || len(token) != 22 {
		t.Fatalf("share URL %q", shareURL)
	}

	// A fresh browser context, without the operator's session, opens the
	// link and sees the dashboard, and nothing else.
	fresh, cancelFresh := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelFresh()
	do(t, fresh, "fresh context")
	watchScripts(t, fresh)
	do(t, fresh, "shared page", chromedp.Navigate(shareURL))
	waitJS(t, fresh, "shared page", `!!(window.__bt && __bt.charts['panel-deposits']) && document.querySelectorAll('.catbar').length > 0`)
	if title := run(t, fresh, "title", chromedp.Text(css(`#shared-title`))); title != "Vault ops" {
		t.Fatalf("shared page title %q", title)
	}
	sh.take(fresh, "shared")
	probes := eval[map[string]int](t, fresh, `(async () => {
		const st = async (u) => (await fetch(u)).status;
		return {
			dashboards: await st('/api/v1/dashboards'),
			home: await st('/api/v1/dashboards/home'),
			search: await st('/api/v1/search?q=*'),
			shares: await st('/api/v1/shares'),
			otherPanel: await st('/api/v1/shared/`+token+`/panels/failures'),
			ownPanel: await st('/api/v1/shared/`+token+`/panels/deposits'),
			asSearch: await st('/api/v1/shared/`+token+`/search'),
		};
	})()`)
	want := map[string]int{"dashboards": 401, "home": 401, "search": 401, "shares": 401, "otherPanel": 404, "ownPanel": 200, "asSearch": 404}
	for k, v := range want {
		if probes[k] != v {
			t.Errorf("from the shared page, %s answered %d, want %d", k, probes[k], v)
		}
	}
	checkNoScriptRan(t, fresh, "shared")
	do(t, fresh, "another dashboard without a session", chromedp.Navigate(ts.URL+"/dashboards/home"), chromedp.WaitVisible(css(`input[name="key"]`)))

	// Revoke it from the list; the link is refused from then on.
	do(t, ctx, "shares", chromedp.Navigate(ts.URL+"/shares"), chromedp.WaitVisible(css(`#share-list button.danger`)))
	sh.take(ctx, "shares")
	do(t, ctx, "revoke", chromedp.Click(css(`#share-list button.danger`)))
	waitJS(t, ctx, "revoke", `!!document.querySelector('#share-list .bad') && document.querySelector('#share-list .bad').textContent === 'revoked'`)
	do(t, fresh, "revoked link", chromedp.Navigate(shareURL))
	if refused := run(t, fresh, "refused", chromedp.Text(css(`main`))); !strings.Contains(refused, "not valid") {
		t.Fatalf("revoked link shows %q", refused)
	}
	if status := eval[int](t, fresh, `fetch('/api/v1/shared/`+token+`/panels/deposits').then((r) => r.status)`); status != 410 {
		t.Fatalf("revoked link's API answered %d, want 410", status)
	}
	events := eval[[]string](t, ctx, `fetch('/api/v1/shares/events').then((r) => r.json()).then((b) => b.data.map((e) => e.action))`)
	if j, _ := json.Marshal(events); !strings.Contains(string(j), `"revoke"`) || !strings.Contains(string(j), `"use"`) || !strings.Contains(string(j), `"create"`) || !strings.Contains(string(j), `"refuse"`) {
		t.Fatalf("audit log %v lacks create, use, revoke and refuse", events)
	}

	// The light theme, for the look.
	do(t, ctx, "theme", chromedp.Navigate(ts.URL+"/"))
	waitJS(t, ctx, "home", `!!(window.__bt && __bt.charts['panel-failures'])`)
	theme := eval[string](t, ctx, `document.documentElement.dataset.theme`)
	do(t, ctx, "theme", chromedp.Click(css(`#theme-toggle`)))
	if now := eval[string](t, ctx, `document.documentElement.dataset.theme`); now == theme {
		t.Fatalf("theme toggle left the theme at %s", now)
	}
	do(t, ctx, "reload", chromedp.Navigate(ts.URL+"/"))
	waitJS(t, ctx, "other theme", `document.documentElement.dataset.theme !== '`+theme+`' && !!(window.__bt && __bt.charts['panel-failures'])`)
	settled(t, ctx, "other theme")
	sh.take(ctx, "home-other-theme")
	t.Logf("screenshots in %s", dir)
}
