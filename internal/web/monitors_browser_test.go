package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
)

// typoFile has a misspelled field on line 5.
const typoFile = "monitors:\n  - id: ui-paused\n    kind: event\n    contracts: [\"*\"]\n    evnt: Paused\n"

// oncallFile is applied as `blocktorch monitors apply` does: a channel and
// a monitor that notifies it.
const oncallFile = "channels:\n  - name: oncall\n    type: webhook\n    url: http://127.0.0.1:9/oncall\nmonitors:\n  - id: file-unpaused\n    kind: event\n    contract: LendingVault\n    event: Unpaused\n    channels: [oncall]\n"

const goodFile = "monitors:\n  - id: ui-paused\n    name: Paused from the UI\n    kind: event\n    contracts: [\"*\"]\n    events: [Paused, Unpaused]\n    labels: {team: ui}\n"

// TestMonitorsPageInBrowser runs the demo and drives the monitors page in
// chromium: the built-in monitors, a file with a typo and its line, a
// correct file, a silence and, after the scripted incident, alerts. What
// the editor applies never removes what it did not show: the channels and
// the other monitors of a file applied from the command line stay.
func TestMonitorsPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the whole demo and a browser")
	}
	cfg := apptest.DemoConfig(t)
	cfg.NotifyAllow = "127.0.0.1" // the file's oncall channel is a receiver on this machine
	a, stop := apptest.Start(t, cfg)
	defer stop()
	base := a.URL()

	ctx := browser(t)
	dir, err := os.MkdirTemp("", "blocktorch-monitors-ui-")
	if err != nil {
		t.Fatal(err)
	}
	sh := &shots{t: t, dir: dir}
	watchScripts(t, ctx)
	wait := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
			sh.take(ctx, "timeout")
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
			t.Fatalf("%s: waiting for %s: %v\npage:\n%.3000s", what, expr, err, text)
		}
	}
	setText := func(text string) {
		t.Helper()
		do(t, ctx, "type the file", chromedp.SetValue(chromedp.CSS(`#yaml`), text))
	}

	// A monitors file with a channel, applied as the CLI does.
	resp, err := http.Post(base+"/api/v1/monitors/apply?file=ops.yaml", "application/yaml", strings.NewReader(oncallFile))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("apply the file: HTTP %d", resp.StatusCode)
	}
	channels := func(when string) {
		t.Helper()
		resp, err := http.Get(base + "/api/v1/channels")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), `"name":"oncall"`) {
			t.Fatalf("%s: the channel oncall is gone: %s", when, body)
		}
	}

	// The built-in monitors are listed.
	do(t, ctx, "monitors page", chromedp.Navigate(base+"/monitors"))
	wait("page ready", `document.querySelector('#monitors').dataset.ready === 'true'`)
	wait("built-in monitors", `!!document.querySelector('#monitor-list tr[data-id="builtin.failure-spike"]') && !!document.querySelector('#monitor-list tr[data-id="builtin.paused"]')`)
	sh.take(ctx, "monitors-list")

	// A file with a typo: the error names its line; nothing is applied.
	do(t, ctx, "new monitor", chromedp.Click(chromedp.CSS(`#new-monitor`)))
	wait("editor open", `!document.querySelector('#editor-card').hidden && document.querySelector('#yaml').value.includes('kind: event')`)
	if text := eval[string](t, ctx, `document.querySelector('#yaml').value`); strings.Contains(text, "file-unpaused") {
		t.Errorf("the new monitor's editor shows the file's other monitors:\n%s", text)
	}
	setText(typoFile)
	do(t, ctx, "apply the typo", chromedp.Click(chromedp.CSS(`#apply`)))
	wait("error with its line", `!!document.querySelector('#yaml-errors a[data-line="5"]')`)
	if msg := eval[string](t, ctx, `document.querySelector('#yaml-errors').innerText`); !strings.Contains(msg, "evnt") {
		t.Errorf("the error does not name the misspelled field: %q", msg)
	}
	wait("error line marked in the gutter", `[...document.querySelectorAll('#yaml-gutter .err')].map((e) => e.textContent).includes('5')`)
	sh.take(ctx, "monitors-typo")
	if eval[bool](t, ctx, `!!document.querySelector('#monitor-list tr[data-id="ui-paused"]')`) {
		t.Fatal("a file with an error was applied")
	}

	// The corrected file is applied and listed.
	setText(goodFile)
	do(t, ctx, "apply", chromedp.Click(chromedp.CSS(`#apply`)))
	wait("applied", `document.querySelector('#apply-result').textContent.includes('created ui-paused')`)
	wait("listed", `!!document.querySelector('#monitor-list tr[data-id="ui-paused"]') && document.querySelector('#monitor-list tr[data-id="ui-paused"]').innerText.includes('Paused from the UI')`)
	if msg := eval[string](t, ctx, `document.querySelector('#apply-result').textContent`); strings.Contains(msg, "deleted") {
		t.Errorf("applying a new monitor deleted something: %q", msg)
	}
	channels("after New monitor → Apply")
	wait("the file's monitor kept", `!!document.querySelector('#monitor-list tr[data-id="file-unpaused"]')`)

	// Editing the file's monitor shows that monitor only; applying it keeps
	// its channel and the other monitors.
	do(t, ctx, "edit", chromedp.Click(chromedp.CSS(`#monitor-list tr[data-id="file-unpaused"] button[data-action="edit"]`)))
	wait("editor shows the monitor", `document.querySelector('#yaml').value.includes('id: file-unpaused') && !document.querySelector('#yaml').value.includes('ui-paused')`)
	eval[bool](t, ctx, `(() => { const ta = document.querySelector('#yaml'); ta.value = ta.value.replace('kind: event', 'kind: event\n    severity: warning'); return true; })()`)
	do(t, ctx, "apply the edit", chromedp.Click(chromedp.CSS(`#apply`)))
	wait("updated", `document.querySelector('#apply-result').textContent.includes('updated file-unpaused')`)
	channels("after Edit → Apply")
	wait("both listed", `!!document.querySelector('#monitor-list tr[data-id="ui-paused"]') && !!document.querySelector('#monitor-list tr[data-id="file-unpaused"]')`)

	// Disable from the list changes that monitor only.
	do(t, ctx, "disable", chromedp.Click(chromedp.CSS(`#monitor-list tr[data-id="ui-paused"] button[data-action="disable"]`)))
	wait("disabled", `!!document.querySelector('#monitor-list tr[data-id="ui-paused"].row-disabled')`)
	channels("after Disable")
	wait("the file's monitor still listed", `!!document.querySelector('#monitor-list tr[data-id="file-unpaused"]')`)

	// A monitor naming a channel that does not exist is refused at its line.
	do(t, ctx, "new monitor", chromedp.Click(chromedp.CSS(`#new-monitor`)))
	setText("monitors:\n  - id: ui-pager\n    kind: event\n    event: Paused\n    channels: [pager]\n")
	do(t, ctx, "apply an unknown channel", chromedp.Click(chromedp.CSS(`#apply`)))
	wait("unknown channel at its line", `!!document.querySelector('#yaml-errors a[data-line="5"]') && document.querySelector('#yaml-errors').innerText.includes('unknown channel "pager"')`)

	// The editor offers each price-feed health check (and sequencer-down)
	// with its parameters, and what it offers applies as it is.
	for _, c := range []struct{ kind, param string }{{"feed-stale", "grace: \"30s\""}, {"feed-jump", "pct: 20"}, {"feed-deviation", "pct: 3"},
		{"feed-nonpositive", "kind: feed-nonpositive"}, {"feed-bounds", "kind: feed-bounds"}, {"feed-stale-read", "grace: \"30s\""}, {"sequencer-down", "grace: \"1h\""}} {
		do(t, ctx, "new "+c.kind, chromedp.SetValue(chromedp.CSS(`#new-kind`), c.kind), chromedp.Click(chromedp.CSS(`#new-monitor`)))
		wait(c.kind+" in the editor", `document.querySelector('#yaml').value.includes('kind: `+c.kind+`\n') && document.querySelector('#yaml').value.includes('`+c.param+`') && document.querySelector('#yaml').value.startsWith('# `+c.kind+`: fires when')`)
		do(t, ctx, "apply "+c.kind, chromedp.Click(chromedp.CSS(`#apply`)))
		wait(c.kind+" applied", `document.querySelector('#apply-result').textContent.includes('created my-`+c.kind+`') && !!document.querySelector('#monitor-list tr[data-id="my-`+c.kind+`"]')`)
	}

	// A dry run over the stored data draws every monitor.
	do(t, ctx, "dry run", chromedp.Click(chromedp.CSS(`#dry-run-all`)))
	wait("dry run", `!!document.querySelector('#dry-run tr[data-id="ui-paused"]') && !!document.querySelector('#dry-run tr[data-id="builtin.failure-spike"]')`)

	// A silence.
	do(t, ctx, "silence", chromedp.SetValue(chromedp.CSS(`#silence-form [name=matcher]`), "monitor == ui-paused"),
		chromedp.SetValue(chromedp.CSS(`#silence-form [name=comment]`), "maintenance <b>window</b>"),
		chromedp.Click(chromedp.CSS(`#silence-form button[type=submit]`)))
	wait("silence listed", `document.querySelector('#silences tbody').innerText.includes('monitor == ui-paused') && document.querySelector('#silences tbody').innerText.includes('maintenance <b>window</b>')`)

	// Deploying the demo's contracts set their first owners and roles: a
	// baseline, not an ownership change. The one change after deployment
	// is the demo's Safe made a pauser of the vault (PAUSER_ROLE).
	hist, err := http.Get(base + "/api/v1/alerts?monitor=builtin.ownership")
	if err != nil {
		t.Fatal(err)
	}
	var owned struct {
		Data []struct {
			Key, Status string
			Detail      struct{ Summary string }
		}
	}
	body, _ := io.ReadAll(hist.Body)
	hist.Body.Close()
	if err := json.Unmarshal(body, &owned); err != nil {
		t.Fatalf("alert history: %v: %s", err, body)
	}
	pauserRole := crypto.Keccak256Hash([]byte("PAUSER_ROLE")).Hex()
	for _, a := range owned.Data {
		if a.Key != "contract=LendingVault,event=RoleGranted" || !strings.Contains(a.Detail.Summary, "role="+pauserRole) {
			t.Errorf("ownership alert before any ownership change but the Safe's pauser role: %s", body)
			break
		}
	}

	// The incident fires the built-in monitors: alerts show in the history.
	resp, err = http.Post(base+"/api/v1/demo/incident", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("incident: HTTP %d", resp.StatusCode)
	}
	// The stale oracle and the attacker's privileged calls come only from
	// the incident.
	wait("the incident's alerts in the history", `['builtin.oracle-stale', 'builtin.unauthorized'].every((id) => [...document.querySelectorAll('#history tbody tr')].some((tr) => tr.querySelector('.status-firing') && tr.textContent.includes(id)))`)
	wait("firing shown in the list", `!!document.querySelector('#monitor-list .state-firing') || [...document.querySelectorAll('#monitor-list td')].some((td) => /ago$/.test(td.textContent))`)
	checkNoScriptRan(t, ctx, "monitors page")
	sh.take(ctx, "monitors-alerts")

	// The light theme.
	do(t, ctx, "theme", chromedp.Click(chromedp.CSS(`#theme-toggle`)))
	settled(t, ctx, "monitors theme")
	sh.take(ctx, "monitors-light")

	// The home page's newest alerts link to their monitors.
	do(t, ctx, "home", chromedp.Navigate(base+"/"))
	wait("home alerts", `!!document.querySelector('.alert-list a[href^="/monitors?monitor="]')`)
	sh.take(ctx, "home-alerts")
}
