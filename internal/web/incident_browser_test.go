package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/incident"
)

// dappPage is a dApp front end on another origin that includes the
// kill-switch script from src, reading flags from endpoint (empty: the
// script's own server).
func dappPage(src, endpoint, deployment string) string {
	ep := ""
	if endpoint != "" {
		ep = ` data-endpoint="` + endpoint + `"`
	}
	return `<!doctype html><html><head><title>dApp</title></head><body>
<div id="banner" data-bt-banner></div>
<button id="borrow" data-bt-flag="borrow">Borrow</button>
<button id="swap" data-bt-flag="swap" data-bt-mode="disable">Swap</button>
<section id="bridge" data-bt-flag="bridge" data-bt-fallback="off">Bridge</section>
<script src="` + src + `"` + ep + ` data-deployment="` + deployment + `"></script>
</body></html>`
}

// TestIncidentInBrowser runs the demo's scripted incident end to end in
// chromium: an alert fires → Open incident on the monitors page → the
// timeline shows the alert, then the failing transaction debugged → a note
// → a kill switch flipped: the public flags get a new ETag and a dApp page
// on another origin that includes /sdk/flags.js hides the feature and
// shows the banner as text → the incident goes on the status page →
// resolved → the postmortem's Markdown holds it all, escaped. Stakeholder
// updates reach a webhook receiver on 127.0.0.1 through the outbox.
func TestIncidentInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the whole demo and a browser")
	}
	updates := make(chan string, 100)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Status, Summary string
			Links           []struct{ URL string }
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil || len(m.Links) == 0 {
			t.Errorf("the webhook got %s (%v)", b, err)
			return
		}
		updates <- m.Status + " " + m.Links[0].URL + " " + m.Summary
	}))
	defer recv.Close()

	cfg := apptest.DemoConfig(t)
	cfg.NotifyAllow = "127.0.0.1"
	a, stop := apptest.Start(t, cfg)
	defer stop()
	base := a.URL()
	// The dApp: its page, and a copy of the script served from its own
	// origin, the way a dApp stays fail-safe when blocktorch is down.
	dapp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/flags.js" {
			resp, err := http.Get(base + "/sdk/flags.js")
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.Header().Set("Content-Type", "text/javascript")
			io.Copy(w, resp.Body)
			return
		}
		q := r.URL.Query()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, dappPage(q.Get("src"), q.Get("endpoint"), q.Get("deployment")))
	}))
	defer dapp.Close()

	// The stakeholders' channel, applied as `blocktorch monitors apply`.
	resp, err := http.Post(base+"/api/v1/monitors/apply?file=stakeholders.yaml", "application/yaml",
		strings.NewReader("channels:\n  - name: stakeholders\n    type: webhook\n    url: "+recv.URL+"/slack\nmonitors: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("apply the channel: HTTP %d", resp.StatusCode)
	}
	// A failed demo transaction whose failure lands on a source line.
	var failedTx string
	eventually(t, "a failed demo transaction with a source line", 90*time.Second, func() bool {
		var txs []struct{ Hash string }
		apptest.GetData(t, base+"/api/v1/txs?status=failed&limit=20", &txs)
		for _, tx := range txs {
			var d debugAnswer
			if apptest.GetData(t, base+"/api/v1/debug/"+tx.Hash, &d) == 200 && d.Failure != nil && d.Failure.File != "" && d.Failure.Line > 0 {
				failedTx = tx.Hash
				return true
			}
		}
		return false
	})
	// The scripted incident fires the built-in monitors.
	if resp, err = http.Post(base+"/api/v1/demo/incident", "application/json", nil); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	began := time.Now()
	ctx := browser(t)
	dir, err := os.MkdirTemp("", "blocktorch-incident-ui-")
	if err != nil {
		t.Fatal(err)
	}
	sh := &shots{t: t, dir: dir}
	watchScripts(t, ctx)
	wait := func(what, expr string) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		var err error
		for {
			// A click that navigates ends the poll on the page it left:
			// poll again on the new one.
			_, err = chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline))))
			if err == nil || !(strings.Contains(err.Error(), "navigated or closed") || strings.Contains(err.Error(), "Cannot find context")) || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			sh.take(ctx, "timeout")
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("%s: waiting for %s: %v\npage:\n%.3000s", what, expr, err, text)
		}
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	// click clicks an element as a user would, through its click(): the
	// page's sticky header may cover the point a pointer click aims at.
	click := func(sel string) chromedp.Action[chromedp.Void] {
		js := `(() => { const e = document.querySelector(` + strconv.Quote(sel) + `); if (!e) throw new Error('nothing matches ' + ` + strconv.Quote(sel) + `); e.click(); return true; })()`
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Evaluate[bool](js)(ctx, tg)
			return chromedp.Void{}, err
		}
	}

	// Alert → Open incident, one click in the alert history.
	do(t, ctx, "monitors page", chromedp.Navigate(base+"/monitors"))
	wait("a firing alert to open an incident from", `!!document.querySelector('#history tbody tr button.open-incident')`)
	do(t, ctx, "open incident", chromedp.Click(css(`#history tbody tr button.open-incident`)))
	wait("the incident's page", `location.pathname.startsWith('/incidents/') && document.body.dataset.page === 'incident'`)
	id := eval[string](t, ctx, `document.querySelector('#incident').dataset.id`)
	wait("the alert on the timeline", `!!document.querySelector('#timeline li[data-kind="alert"]') && !!document.querySelector('#timeline li[data-kind="open"]')`)
	wait("the scope of impact", `!!document.querySelector('#scope tr[data-figure="failedTxs"] td.now')`)

	// The failing transaction, debugged, joins the timeline with its line.
	do(t, ctx, "debugger", chromedp.Navigate(base+"/debug/"+failedTx))
	wait("debugger ready", `document.querySelector('#debugger').dataset.ready === 'true'`)
	do(t, ctx, "back to the incident", chromedp.Navigate(base+"/incidents/"+id))
	wait("the debugged transaction on the timeline", `[...document.querySelectorAll('#timeline li[data-kind="debug"]')].some((li) => li.innerText.includes('.sol:') && li.querySelector('a.entry-link[href="/debug/`+failedTx+`"]'))`)

	// A note, typed with markup that must stay text.
	const note = `Oracle <b>stale</b> <img src=x onerror=alert(9)>`
	do(t, ctx, "note", chromedp.SetValue(css(`#note-form [name=text]`), note), click(`#note-form button[type=submit]`))
	wait("the note on the timeline", `[...document.querySelectorAll('#timeline li[data-kind="note"]')].some((li) => li.innerText.includes('Oracle <b>stale</b>'))`)

	// A kill switch: off, from the incident page. The public flags answer
	// a new version, and a dApp page that includes the script hides the
	// feature.
	flagsTag := func() string {
		t.Helper()
		resp, err := http.Get(base + "/api/v1/public/flags")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("ETag")
	}
	before := flagsTag()
	do(t, ctx, "add a kill switch", chromedp.SetValue(css(`#flag-form [name=name]`), "borrow"),
		chromedp.SetValue(css(`#flag-form [name=description]`), "the Borrow button"), click(`#flag-form button[type=submit]`))
	wait("switched off", `!!document.querySelector('#flag-list tr[data-flag="default/borrow"].flag-off')`)
	wait("the change on the timeline", `[...document.querySelectorAll('#timeline li[data-kind="flag"]')].some((li) => li.innerText.includes('default/borrow: off'))`)
	if after := flagsTag(); after == before || after == "" {
		t.Errorf("the public flags' ETag did not change: %s → %s", before, after)
	}
	// The users' banner, with markup that must stay text.
	do(t, ctx, "banner", chromedp.SetValue(css(`#banner-form [name=text]`), `Do not sign <script>alert(7)</script>`), click(`#banner-form button[type=submit]`))
	wait("banner saved", `[...document.querySelectorAll('#timeline li[data-kind="edit"]')].some((li) => li.innerText.includes('banner'))`)
	sh.take(ctx, "incident")

	// A second browser for the rest: one keeps each browser's deadline
	// clear of the demo's slow start under load.
	t.Logf("incident page done after %s", time.Since(began).Round(time.Second))
	ctx = browser(t)
	watchScripts(t, ctx)
	do(t, ctx, "the dApp", chromedp.Navigate(dapp.URL+"/?deployment=default&src="+url.QueryEscape(base+"/sdk/flags.js")))
	wait("the feature hidden", `document.querySelector('#borrow').hidden && document.querySelector('#borrow').dataset.btState === 'off'`)
	wait("the banner shown as text", `document.querySelector('#banner').textContent === 'Do not sign <script>alert(7)</script>' && !document.querySelector('#banner').hidden`)
	if eval[bool](t, ctx, `document.querySelector('#swap').disabled || document.querySelector('#swap').hidden || document.querySelector('#bridge').hidden`) {
		t.Error("the dApp hid or disabled a feature no flag switches off")
	}
	sh.take(ctx, "dapp")
	checkNoScriptRan(t, ctx, "the dApp page")
	// Unreachable: what must stay off until confirmed stays off, the rest
	// stays on.
	do(t, ctx, "the dApp, blocktorch unreachable", chromedp.Navigate(dapp.URL+"/?deployment=offline&src=/flags.js&endpoint=http://127.0.0.1:1"))
	wait("fail-safe defaults", `document.querySelector('#bridge').hidden && !document.querySelector('#borrow').hidden`)

	// Gradual restore: on for 50% of users, each keeping their answer.
	do(t, ctx, "back to the incident", chromedp.Navigate(base+"/incidents/"+id))
	wait("kill switches listed", `!!document.querySelector('#flag-list tr[data-flag="default/borrow"] input.pct')`)
	do(t, ctx, "restore for 50%", chromedp.SetValue(css(`#flag-list tr[data-flag="default/borrow"] input.pct`), "50"),
		click(`#flag-list tr[data-flag="default/borrow"] button.flag-restore`))
	wait("on for 50%", `!!document.querySelector('#flag-list tr[data-flag="default/borrow"]')?.innerText.includes('on for 50%')`)
	do(t, ctx, "the dApp again", chromedp.Navigate(dapp.URL+"/?deployment=default&src="+url.QueryEscape(base+"/sdk/flags.js")))
	wait("the dApp read the flags", `document.querySelector('#borrow').dataset.btState !== undefined && window.blocktorchFlags && document.querySelector('#banner').textContent !== ''`)
	eval[bool](t, ctx, `window.blocktorchFlags.ready.then(() => true)`)
	if on, want := eval[bool](t, ctx, `!document.querySelector('#borrow').hidden`), eval[bool](t, ctx, `window.blocktorchFlags.bucket('borrow') < 50`); on != want {
		t.Errorf("at 50%%, the feature is shown %v for a user in bucket %d", on, eval[int](t, ctx, `window.blocktorchFlags.bucket('borrow')`))
	}

	// On the public status page.
	do(t, ctx, "back to the incident", chromedp.Navigate(base+"/incidents/"+id))
	wait("page ready", `!!document.querySelector('#timeline li[data-kind="open"]')`)
	do(t, ctx, "make it public", click(`#public-form [name=public]`),
		chromedp.SetValue(css(`#public-form [name=publicTitle]`), "Borrowing paused"), click(`#public-form button[type=submit]`))
	wait("public", `document.querySelector('#incident-meta').textContent.includes('Borrowing paused')`)
	do(t, ctx, "public update", chromedp.SetValue(css(`#note-form [name=text]`), "Borrowing is paused while we fix the price feed."),
		click(`#note-form [name=public]`), click(`#note-form [name=notify]`), click(`#note-form button[type=submit]`))
	wait("the update on the timeline", `[...document.querySelectorAll('#timeline li[data-kind="update"]')].some((li) => li.innerText.includes('Borrowing is paused'))`)
	do(t, ctx, "status page", chromedp.Navigate(base+"/status"))
	wait("the incident on the status page", `document.querySelector('#active').innerText.includes('Borrowing paused') && document.querySelector('#active').innerText.includes('Borrowing is paused while we fix the price feed.')`)
	if text := eval[string](t, ctx, `document.body.innerText`); strings.Contains(text, "Oracle <b>stale</b>") || strings.Contains(text, "Debugged") {
		t.Errorf("the status page shows what was not written for the public:\n%s", text)
	}
	sh.take(ctx, "status")

	// Resolved, with a message.
	do(t, ctx, "back to the incident", chromedp.Navigate(base+"/incidents/"+id))
	wait("status buttons", `!document.querySelector('#status-buttons button[data-status="resolved"]').disabled`)
	do(t, ctx, "resolve", chromedp.SetValue(css(`#status-message`), "Price feed fixed; borrowing restored."),
		click(`#status-buttons button[data-status="resolved"]`))
	wait("resolved", `document.querySelector('#incident-status').textContent === 'resolved' && document.querySelector('#status-buttons button[data-status="investigating"]').disabled === false`)

	// The postmortem: root cause and an action item, then its Markdown.
	do(t, ctx, "postmortem", chromedp.SetValue(css(`#postmortem-form [name=rootCause]`), "The price feed went *stale*."),
		click(`#add-action`))
	do(t, ctx, "action item", chromedp.SetValue(css(`#action-items .action-item [name=text]`), "Add a staleness monitor"),
		chromedp.SetValue(css(`#action-items .action-item [name=owner]`), "ana"), click(`#postmortem-form button[type=submit]`))
	wait("saved", `document.querySelector('#postmortem-result').textContent === 'Saved.'`)
	sh.take(ctx, "postmortem")
	md := eval[string](t, ctx, `fetch(document.querySelector('#postmortem-download').href).then((r) => r.text())`)
	for _, want := range []string{"Postmortem", incident.EscapeMarkdown("Oracle <b>stale</b> <img src=x onerror=alert(9)>"), "Debugged", incident.EscapeMarkdown("default/borrow: off"),
		incident.EscapeMarkdown("The price feed went *stale*."), "Add a staleness monitor", "ana", "resolved"} {
		if !strings.Contains(md, want) {
			t.Errorf("the postmortem lacks %q:\n%s", want, md)
		}
	}
	if regexp.MustCompile(`(^|[^\\])(<img|\*stale)`).MatchString(md) {
		t.Errorf("the postmortem holds typed text unescaped:\n%s", md)
	}
	checkNoScriptRan(t, ctx, "the incident page")

	// Stakeholder updates: the opening, the notified update and the
	// resolution reached the webhook, each linking to the incident.
	link := base + "/incidents/" + id
	want := map[string]bool{"investigating " + link + " Opened": false, "investigating " + link + " Borrowing is paused": false, "resolved " + link + " Resolved: Price feed fixed": false}
	timeout := time.After(2 * time.Minute)
	for missing := len(want); missing > 0; {
		select {
		case u := <-updates:
			for w, seen := range want {
				if !seen && strings.HasPrefix(u, w) {
					want[w] = true
					missing--
				}
			}
		case <-timeout:
			t.Fatalf("stakeholder updates missing at the webhook: %v", want)
		}
	}
}
