package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
)

// tokenPayload is a token symbol that would be markup if the page let it
// be: short enough (under 32 bytes) to sit in one storage slot.
const tokenPayload = `<img src=x onerror=alert(7)>`

// simAnswer is the part of a simulation's result the test reads.
type simAnswer struct {
	Status  uint64 `json:"status"`
	TxHash  string `json:"txHash"`
	Failure *struct {
		File string `json:"file"`
		Line int    `json:"line"`
	} `json:"failure"`
}

// postSim posts a simulation request and decodes the answer's data.
func postSim(t *testing.T, base string, req map[string]any) (simAnswer, string) {
	t.Helper()
	body, _ := json.Marshal(req)
	resp, err := http.Post(base+"/api/v1/simulate", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Data  simAnswer `json:"data"`
		Error string    `json:"error"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("simulate: not JSON: %.300s", raw)
	}
	return env.Data, env.Error
}

// checkSimulator drives the simulator page on the running demo: a
// function with typed inputs and a balance override, its permalink in a
// fresh browser context, a token whose symbol is a payload, bad inputs,
// and Re-simulate from a failed demo transaction landing on its failing
// line.
func checkSimulator(t *testing.T, ctx context.Context, sh *shots, base string) {
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	wait := func(ctx context.Context, what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(45*time.Second))); err != nil {
			sh.take(ctx, "simulate-timeout")
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
			t.Fatalf("%s: waiting for %s: %v\npage:\n%.3000s", what, expr, err, text)
		}
	}
	pick := func(ctx context.Context, sel, value string) {
		t.Helper()
		js := fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); return s.value === %q; })()`, sel, value, value)
		if !eval[bool](t, ctx, js) {
			t.Fatalf("%s has no option %q", sel, value)
		}
	}
	// runSim clicks Simulate and waits for the answer (state done or error).
	runSim := func(ctx context.Context, what string) string {
		t.Helper()
		eval[bool](t, ctx, `document.querySelector('#simulator').dataset.state = ''; true`)
		do(t, ctx, what, chromedp.Click(css(`#sim-run`)))
		wait(ctx, what, `['done', 'error'].includes(document.querySelector('#simulator').dataset.state)`)
		return eval[string](t, ctx, `document.querySelector('#simulator').dataset.state`)
	}
	errorText := func(ctx context.Context) string {
		return eval[string](t, ctx, `document.querySelector('#sim-error').textContent`)
	}
	balances := func(ctx context.Context) string {
		return eval[string](t, ctx, `[...document.querySelectorAll('#sim-balances tr')].map((r) => r.dataset.account.toLowerCase() + ' ' + r.children[1].textContent + ' ' + r.children[2].textContent).join('\n')`)
	}

	var list []struct {
		Address string `json:"address"`
		Name    string `json:"name"`
	}
	apptest.GetData(t, base+"/api/v1/contracts", &list)
	var vault, token string
	for _, c := range list {
		switch c.Name {
		case "LendingVault":
			vault = c.Address
		case "DemoToken":
			token = c.Address
		}
	}
	if vault == "" || token == "" {
		t.Fatalf("no LendingVault or DemoToken among %+v", list)
	}

	// A deposit for an account from a sender with no ether: refused, then
	// run with the sender's balance overridden.
	sender, account := "0x00000000000000000000000000000000000051a1", "0x00000000000000000000000000000000000051a2"
	do(t, ctx, "simulator", chromedp.Navigate(base+"/simulate"))
	wait(ctx, "simulator ready", `document.querySelector('#simulator').dataset.ready === 'true'`)
	pick(ctx, `#sim-contract`, vault)
	pick(ctx, `#sim-fn`, "depositFor(address)")
	do(t, ctx, "inputs",
		chromedp.SendKeys(css(`#sim-args [data-arg="0"]`), account),
		chromedp.SendKeys(css(`#sim-from`), sender),
		chromedp.SendKeys(css(`#sim-value`), "2.5"))
	if got := runSim(ctx, "without the funds"); got != "error" || !strings.Contains(errorText(ctx), "override the sender's balance") {
		t.Fatalf("a sender without the value: state %s, error %q", got, errorText(ctx))
	}
	do(t, ctx, "balance override", chromedp.Click(css(`#sim-form [data-add="balance"]`)),
		chromedp.SendKeys(css(`#sim-overrides .sim-ov [data-ov="address"]`), sender),
		chromedp.SendKeys(css(`#sim-overrides .sim-ov [data-ov="balance"]`), "10"))
	if got := runSim(ctx, "deposit"); got != "done" {
		t.Fatalf("deposit: %s %q", got, errorText(ctx))
	}
	if st := run(t, ctx, "status", chromedp.Text(css(`#sim-status`))); st != "success" {
		t.Fatalf("deposit status %q", st)
	}
	wantBal := strings.Join([]string{sender + " -2.5 ETH", strings.ToLower(vault) + " +2.5 ETH"}, "\n")
	if got := balances(ctx); got != wantBal {
		t.Errorf("deposit balance changes:\n%s\nwant\n%s", got, wantBal)
	}
	if ev := run(t, ctx, "events", chromedp.Text(css(`#sim-events`))); !strings.Contains(ev, "Deposited") {
		t.Errorf("events %q, want Deposited", ev)
	}
	settled(t, ctx, "deposit")
	sh.take(ctx, "simulate-deposit")
	hash := eval[string](t, ctx, `document.querySelector('#simulator').dataset.hash`)
	link := eval[string](t, ctx, `location.href`)
	if !strings.Contains(link, "/simulate?req=") || eval[string](t, ctx, `document.querySelector('#sim-permalink').href`) != link {
		t.Fatalf("permalink %q (link %q)", link, eval[string](t, ctx, `document.querySelector('#sim-permalink').href`))
	}

	// The permalink in a fresh browser context (no cookies, no history)
	// runs the same simulation on the same block.
	fresh, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	watchScripts(t, fresh)
	do(t, fresh, "permalink", chromedp.Navigate(link))
	wait(fresh, "permalink result", `document.querySelector('#simulator').dataset.state === 'done'`)
	if got := eval[string](t, fresh, `document.querySelector('#simulator').dataset.hash`); got != hash {
		t.Errorf("the permalink ran simulation %s, want %s", got, hash)
	}
	if got := balances(fresh); got != wantBal {
		t.Errorf("the permalink's balance changes:\n%s\nwant\n%s", got, wantBal)
	}
	for _, f := range []struct{ sel, want string }{{`#sim-fn`, "depositFor(address)"}, {`#sim-args [data-arg="0"]`, account}, {`#sim-value`, "2.5"},
		{`#sim-overrides [data-ov="balance"]`, "10"}} {
		if got := eval[string](t, fresh, `document.querySelector('`+f.sel+`').value`); got != f.want {
			t.Errorf("the permalink's form: %s = %q, want %q", f.sel, got, f.want)
		}
	}
	cancel()

	// A request too long for a query string (4 KB of code) keeps its
	// permalink in the fragment, which opens the same way.
	probe := "0x00000000000000000000000000000000000051b0"
	do(t, ctx, "long request", chromedp.Navigate(base+"/simulate"))
	wait(ctx, "simulator ready", `document.querySelector('#simulator').dataset.ready === 'true'`)
	do(t, ctx, "long request", chromedp.SendKeys(css(`#sim-to`), probe), chromedp.Click(css(`#sim-form [data-add="code"]`)),
		chromedp.SendKeys(css(`#sim-overrides [data-kind="code"] [data-ov="address"]`), probe))
	eval[bool](t, ctx, `document.querySelector('#sim-overrides [data-kind="code"] [data-ov="code"]').value = '0x`+strings.Repeat("5b", 4000)+`00'; true`)
	if got := runSim(ctx, "long request"); got != "done" {
		t.Fatalf("long request: %s %q", got, errorText(ctx))
	}
	longHash := eval[string](t, ctx, `document.querySelector('#simulator').dataset.hash`)
	longLink := eval[string](t, ctx, `location.href`)
	if !strings.Contains(longLink, "/simulate#req=") {
		t.Fatalf("a 4 KB request's permalink %.120s…, want it in the fragment", longLink)
	}
	fresh, cancel = chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	do(t, fresh, "long permalink", chromedp.Navigate(longLink))
	wait(fresh, "long permalink result", `document.querySelector('#simulator').dataset.state === 'done'`)
	if got := eval[string](t, fresh, `document.querySelector('#simulator').dataset.hash`); got != longHash {
		t.Errorf("the fragment permalink ran simulation %s, want %s", got, longHash)
	}
	cancel()

	// A mint of 1.5 tokens (decimals help on the amount) while the token's
	// symbol slot is overridden with a payload: the change is in the
	// token's decimals, the symbol is text.
	var owner struct {
		Outputs []struct {
			Value string `json:"value"`
		} `json:"outputs"`
	}
	body := strings.NewReader(`{"function":"owner()","args":[]}`)
	resp, err := http.Post(base+"/api/v1/contracts/"+token+"/call", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if json.Unmarshal(env.Data, &owner) != nil || len(owner.Outputs) != 1 {
		t.Fatalf("owner(): %s", env.Data)
	}
	var slot common.Hash
	copy(slot[:], tokenPayload)
	slot[31] = byte(2 * len(tokenPayload))
	do(t, ctx, "simulator again", chromedp.Navigate(base+"/simulate"))
	wait(ctx, "simulator ready", `document.querySelector('#simulator').dataset.ready === 'true'`)
	pick(ctx, `#sim-contract`, token)
	pick(ctx, `#sim-fn`, "mint(address,uint256)")
	do(t, ctx, "mint inputs",
		chromedp.SendKeys(css(`#sim-args [data-arg="0"]`), account),
		chromedp.SendKeys(css(`#sim-args [data-arg="1"]`), "1.5"),
		chromedp.SendKeys(css(`#sim-from`), owner.Outputs[0].Value),
		chromedp.Click(css(`#sim-form [data-add="storage"]`)),
		chromedp.SendKeys(css(`#sim-overrides [data-ov="address"]`), token),
		chromedp.SendKeys(css(`#sim-overrides [data-ov="slot"]`), "4"),
		chromedp.SendKeys(css(`#sim-overrides [data-ov="value"]`), slot.Hex()))
	// The amount's decimals start as the token's own (18), read from it.
	wait(ctx, "token decimals", `document.querySelector('#sim-args [data-dec="1"]').value === '18'`)
	if got := runSim(ctx, "mint"); got != "done" {
		t.Fatalf("mint: %s %q", got, errorText(ctx))
	}
	if got, want := balances(ctx), account+" +1.5 "+tokenPayload; got != want {
		t.Errorf("mint balance changes %q, want %q", got, want)
	}
	if q := eval[string](t, ctx, `decodeURIComponent(location.search)`); !strings.Contains(q, `"args":["`+account+`","1.5"]`) || !strings.Contains(q, `"decimals":[null,18]`) {
		t.Errorf("the mint's permalink does not keep the amount as written: %s", q)
	}
	settled(t, ctx, "mint")
	sh.take(ctx, "simulate-token-payload")
	checkNoScriptRan(t, ctx, "simulator with a hostile token symbol")

	// Bad input: an argument that is no address, a block past the head,
	// code larger than an override may be: clear errors on the page.
	do(t, ctx, "bad address", chromedp.SetValue(css(`#sim-args [data-arg="0"]`), "0x12"))
	if got := runSim(ctx, "bad address"); got != "error" || !strings.Contains(errorText(ctx), `"0x12" is not an address`) {
		t.Errorf("a malformed address argument: %s %q", got, errorText(ctx))
	}
	do(t, ctx, "far block", chromedp.SetValue(css(`#sim-args [data-arg="0"]`), account), chromedp.SetValue(css(`#sim-block`), "99999999999"))
	if got := runSim(ctx, "far block"); got != "error" || !strings.Contains(errorText(ctx), "is not on the chain yet") {
		t.Errorf("a block past the head: %s %q", got, errorText(ctx))
	}
	huge := "0x" + strings.Repeat("5b", 100_000)
	eval[bool](t, ctx, `document.querySelector('#sim-block').value = ''; true`)
	do(t, ctx, "huge code", chromedp.Click(css(`#sim-form [data-add="code"]`)),
		chromedp.SendKeys(css(`#sim-overrides [data-kind="code"] [data-ov="address"]`), token))
	// 200,000 hex digits are pasted, not typed.
	eval[bool](t, ctx, `document.querySelector('#sim-overrides [data-kind="code"] [data-ov="code"]').value = '`+huge+`'; true`)
	if got := runSim(ctx, "huge code"); got != "error" || !strings.Contains(errorText(ctx), "code override") {
		t.Errorf("huge code: %s %q", got, errorText(ctx))
	}
	checkNoScriptRan(t, ctx, "simulator errors")
	// A hand-made link with markup and values the form cannot hold: the
	// server's reason is shown, as text.
	bad := `{"to":"` + tokenPayload + `","overrides":{"` + token + `":{"balance":"zz"}}}`
	do(t, ctx, "hand-made link", chromedp.Navigate(base+"/simulate?req="+url.QueryEscape(bad)))
	wait(ctx, "hand-made link", `document.querySelector('#simulator').dataset.state === 'error'`)
	if msg := errorText(ctx); !strings.Contains(msg, "cannot decode the simulation") {
		t.Errorf("a hand-made link: %q", msg)
	}
	checkNoScriptRan(t, ctx, "simulator with a hand-made link")

	// Re-simulate a failed demo transaction from its page: the result
	// lands on the failing line. The transaction is one whose simulation
	// on the block boundary fails where it failed on chain (an earlier
	// transaction of its block may have set up its failure).
	type txRow struct {
		Hash        string          `json:"hash"`
		BlockNumber uint64          `json:"blockNumber"`
		From        string          `json:"from"`
		To          *string         `json:"to"`
		Gas         uint64          `json:"gas"`
		Value       string          `json:"value"`
		Input       hexutil.Bytes   `json:"input"`
		Revert      json.RawMessage `json:"revert"`
	}
	var failed string
	var want simAnswer
	eventually(t, "a failed demo transaction that fails the same when simulated", 60*time.Second, func() bool {
		var txs []txRow
		apptest.GetData(t, base+"/api/v1/txs?status=failed&limit=20", &txs)
		for _, row := range txs {
			var tx txRow
			var dbg debugAnswer
			if row.To == nil || apptest.GetData(t, base+"/api/v1/txs/"+row.Hash, &tx) != 200 || apptest.GetData(t, base+"/api/v1/debug/"+row.Hash, &dbg) != 200 ||
				dbg.Failure == nil || dbg.Failure.File == "" {
				continue
			}
			v, _ := new(big.Int).SetString(tx.Value, 10)
			req := map[string]any{"from": tx.From, "to": *tx.To, "data": tx.Input, "gas": hexutil.Uint64(tx.Gas), "block": hexutil.Uint64(tx.BlockNumber - 1)}
			if v != nil && v.Sign() > 0 {
				req["value"] = (*hexutil.Big)(v)
			}
			ans, msg := postSim(t, base, req)
			if msg == "" && ans.Failure != nil && ans.Failure.File == dbg.Failure.File && ans.Failure.Line == dbg.Failure.Line {
				failed, want = row.Hash, ans
				return true
			}
		}
		return false
	})
	do(t, ctx, "tx page", chromedp.Navigate(base+"/tx/"+failed), chromedp.WaitVisible(css(`#resim-btn`)), chromedp.Click(css(`#resim-btn`)), chromedp.WaitVisible(css(`#sim-form`)))
	wait(ctx, "re-simulation", `document.querySelector('#simulator') && document.querySelector('#simulator').dataset.state === 'done'`)
	if got := eval[string](t, ctx, `document.querySelector('#sim-status').textContent`); got != "failed" {
		t.Errorf("re-simulated status %q", got)
	}
	wait(ctx, "failing line", `!!document.querySelector('#sim-source .line.fail')`)
	if got := eval[string](t, ctx, `document.querySelector('#sim-source .line.fail').dataset.line`); got != fmt.Sprint(want.Failure.Line) {
		t.Errorf("Re-simulate marks line %s, want %d", got, want.Failure.Line)
	}
	if got := eval[string](t, ctx, `document.querySelector('#sim-source').dataset.file`); got != want.Failure.File {
		t.Errorf("Re-simulate shows %s, want %s", got, want.Failure.File)
	}
	if got := eval[string](t, ctx, `document.querySelector('#simulator').dataset.hash`); got != want.TxHash {
		t.Errorf("Re-simulate ran %s, the same request through the API ran %s", got, want.TxHash)
	}
	if !strings.Contains(eval[string](t, ctx, `location.search`), "req=") {
		t.Errorf("the re-simulation's URL is no permalink: %s", eval[string](t, ctx, `location.href`))
	}
	settled(t, ctx, "re-simulation")
	sh.take(ctx, "simulate-resimulate")
	// The simulation steps through in the debugger, and the debugger page
	// of the failed transaction links back here.
	do(t, ctx, "debug the simulation", chromedp.Click(css(`#sim-debug`)), chromedp.WaitVisible(css(`#dbg-bar`)))
	wait(ctx, "debugger of the simulation", `document.querySelector('#debugger') && document.querySelector('#debugger').dataset.ready === 'true'`)
	if got := eval[string](t, ctx, `document.querySelector('#src .line.cur') ? document.querySelector('#src .line.cur').dataset.line : ''`); got != fmt.Sprint(want.Failure.Line) {
		t.Errorf("the simulation's debugger opened on line %q, want %d", got, want.Failure.Line)
	}
	do(t, ctx, "debugger page", chromedp.Navigate(base+"/debug/"+failed), chromedp.WaitVisible(css(`#resim-btn`)))
	if href := eval[string](t, ctx, `document.querySelector('#resim-btn').getAttribute('href')`); href != "/simulate?tx="+failed {
		t.Errorf("debugger Re-simulate link %q", href)
	}

	// An incident on the vault lists its failed transactions, each with a
	// Re-simulate link.
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	resp, err = http.Post(base+"/api/v1/incidents", "application/json", strings.NewReader(`{"title":"Vault failing","severity":"major","contracts":["`+vault+`"],"started":"`+since+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var opened struct {
		Data struct {
			Incident struct {
				ID int64 `json:"id"`
			} `json:"incident"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&opened)
	resp.Body.Close()
	if resp.StatusCode != 200 && resp.StatusCode != 201 {
		t.Fatalf("opening an incident: HTTP %d", resp.StatusCode)
	}
	do(t, ctx, "incident page", chromedp.Navigate(fmt.Sprintf("%s/incidents/%d", base, opened.Data.Incident.ID)))
	wait(ctx, "incident's failed transactions", `document.querySelectorAll('#failed-txs .resim').length > 0`)
	if href := eval[string](t, ctx, `document.querySelector('#failed-txs .resim').getAttribute('href')`); !strings.HasPrefix(href, "/simulate?tx=0x") {
		t.Errorf("incident Re-simulate link %q", href)
	}
	// Debugging a simulation while the incident is open does not put it
	// on the incident's timeline: it is no transaction of the incident.
	if code := apptest.GetData(t, base+"/api/v1/debug/"+want.TxHash, nil); code != 200 {
		t.Fatalf("the simulation's trace: HTTP %d", code)
	}
	var timeline []struct {
		Text string `json:"text"`
	}
	apptest.GetData(t, fmt.Sprintf("%s/api/v1/incidents/%d/timeline", base, opened.Data.Incident.ID), &timeline)
	for _, e := range timeline {
		if strings.Contains(e.Text, want.TxHash) {
			t.Errorf("a debugged simulation is on the incident's timeline: %q", e.Text)
		}
	}
}
