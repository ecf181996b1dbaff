package web_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/app"
	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/response"
)

// pausableABI makes the hostile contract look Pausable: its pause() then
// reverts with the payload, from anyone.
const pausableABI = `[{"type":"function","name":"pause","stateMutability":"nonpayable","inputs":[],"outputs":[]},
{"type":"function","name":"unpause","stateMutability":"nonpayable","inputs":[],"outputs":[]}]`

// sendFrom sends data to to (nil: a deployment) from key and waits for
// its receipt.
func sendFrom(t *testing.T, ec *ethclient.Client, key *ecdsa.PrivateKey, to *common.Address, data []byte) *types.Receipt {
	t.Helper()
	ctx := t.Context()
	chainID, err := ec.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nonce, err := ec.PendingNonceAt(ctx, crypto.PubkeyToAddress(key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	price, err := ec.SuggestGasPrice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.LegacyTx{Nonce: nonce, To: to, Gas: 1_000_000, GasPrice: new(big.Int).Mul(price, big.NewInt(2)), Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := ec.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	var rcpt *types.Receipt
	eventually(t, "the receipt of "+tx.Hash().Hex(), 30*time.Second, func() bool {
		rcpt, err = ec.TransactionReceipt(ctx, tx.Hash())
		return err == nil
	})
	return rcpt
}

// attackerKey is the demo's attacker account, idle while the demo's
// traffic is off.
func attackerKey() *ecdsa.PrivateKey { return demo.Keys(demo.Attacker + 1)[demo.Attacker] }

// deployHostilePausable deploys the contract that reverts with payload
// (hostileContract) and registers it under a hostile name with an ABI
// that has pause() and unpause().
func deployHostilePausable(t *testing.T, a *app.App, ec *ethclient.Client) common.Address {
	t.Helper()
	initCode, _ := hostileContract()
	rcpt := sendFrom(t, ec, attackerKey(), nil, initCode)
	if rcpt.Status != 1 {
		t.Fatalf("deploying the hostile contract failed: %+v", rcpt)
	}
	if err := a.AddContract(t.Context(), rcpt.ContractAddress, "Boom<img src=x onerror=alert(5)>", []byte(pausableABI)); err != nil {
		t.Fatal(err)
	}
	return rcpt.ContractAddress
}

// respondBrowser drives the Respond panel in chromium against the demo
// whose vault respondAPI left unpaused: the vault's contract page lists
// pause() and unpause() with PAUSER_ROLE and its holders; Prepare pause
// shows a simulation that succeeds and the four forms (the Safe JSON, as
// shown and as downloaded, parses as a Transaction Builder batch), and the
// permalink shows it again; Send pauses the vault on chain, the run is in
// the history and on the open incident's timeline; a second send is
// refused with the simulation's revert. On the incident's page the Safe
// unpauses it: proposed, two owners' signatures pasted, executed. A hostile
// contract's name and revert reason, and a hostile permalink, stay text.
func respondBrowser(t *testing.T, a *app.App, deployer *ecdsa.PrivateKey) {
	base := a.URL()
	// The checksummed address, as the panel's texts and the timeline write
	// it (the API answers addresses in lower case).
	vault := common.HexToAddress(demoContract(t, base, "LendingVault")).Hex()
	rpcURL, _ := a.ChainRPC()
	ec, err := ethclient.DialContext(t.Context(), rpcURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	paused := func() bool { t.Helper(); return isPaused(t, ec, vault) }
	if paused() {
		t.Fatal("the vault is paused before the test")
	}
	boom := deployHostilePausable(t, a, ec)

	// The open incident, on the vault.
	resp, err := http.Post(base+"/api/v1/incidents", "application/json",
		strings.NewReader(`{"title":"Vault drained","severity":"critical","contracts":["`+vault+`"]}`))
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
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(raw, &opened); err != nil || resp.StatusCode != http.StatusCreated || opened.Data.Incident.ID == 0 {
		t.Fatalf("open an incident: HTTP %d %s", resp.StatusCode, raw)
	}
	var actions []response.Action
	if code := apptest.GetData(t, base+"/api/v1/respond/contracts/"+vault+"/actions", &actions); code != 200 {
		t.Fatalf("actions: HTTP %d", code)
	}
	var pauserHolders []common.Address
	for _, ac := range actions {
		if ac.Kind == response.KindPause {
			pauserHolders = ac.Role.Holders
		}
	}
	if len(pauserHolders) < 2 || !containsAddr(pauserHolders, crypto.PubkeyToAddress(deployer.PublicKey)) {
		t.Fatalf("the pause's holders: %v", pauserHolders)
	}

	ctx := browser(t)
	watchScripts(t, ctx)
	dir, err := os.MkdirTemp("", "blocktorch-respond-ui-")
	if err != nil {
		t.Fatal(err)
	}
	sh := &shots{t: t, dir: dir}
	wait := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
			sh.take(ctx, "timeout")
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('#respond') || document.body).innerText`))
			t.Fatalf("%s: waiting for %s: %v\npanel:\n%.3000s", what, expr, err, text)
		}
	}
	click := func(sel string) chromedp.Action[chromedp.Void] {
		js := `(() => { const e = document.querySelector(` + strconv.Quote(sel) + `); if (!e) throw new Error('nothing matches ' + ` + strconv.Quote(sel) + `); e.click(); return true; })()`
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Evaluate[bool](js)(ctx, tg)
			return chromedp.Void{}, err
		}
	}

	// The vault's actions, with the role and who holds it.
	do(t, ctx, "the vault's page", chromedp.Navigate(base+"/contract/"+vault))
	wait("the panel", `document.querySelector('#respond')?.dataset.ready === 'true'`)
	for _, name := range []string{"pause", "unpause"} {
		row := `#respond tr[data-action="` + name + `"]`
		if !eval[bool](t, ctx, `!!document.querySelector('`+row+`') && document.querySelector('`+row+` .respond-role').innerText.includes('PAUSER_ROLE')`) {
			t.Errorf("%s is not listed with PAUSER_ROLE:\n%s", name, eval[string](t, ctx, `document.querySelector('#respond').innerText`))
		}
		for _, hld := range pauserHolders {
			if !eval[bool](t, ctx, `!!document.querySelector('`+row+` .respond-holders a[href="/address/`+strings.ToLower(hld.Hex())+`"]')`) {
				t.Errorf("%s does not show the holder %s", name, hld)
			}
		}
	}

	// Prepare: the simulation succeeds, the four forms are shown.
	do(t, ctx, "open pause", click(`#respond tr[data-action="pause"] .respond-open`))
	wait("the pause's detail", `document.querySelector('#respond-detail')?.dataset.action === 'pause' && new URLSearchParams(location.search).get('action') === 'pause'`)
	do(t, ctx, "prepare", click(`#respond-prepare`))
	wait("the simulation", `!!document.querySelector('#respond-sim')`)
	checkPrepared := func() {
		t.Helper()
		// Its texts, not the forms (the Safe JSON holds "data": null).
		if text := eval[string](t, ctx, `(() => { const c = document.querySelector('#respond').cloneNode(true); c.querySelectorAll('pre').forEach((p) => p.remove()); return c.textContent; })()`); strings.Contains(text, "null") || strings.Contains(text, "undefined") {
			t.Errorf("the panel writes null or undefined:\n%s", text)
		}
		if !eval[bool](t, ctx, `document.querySelector('#respond-sim').dataset.reverted === 'false' && !!document.querySelector('#respond-events li[data-event="Paused"]')`) {
			t.Errorf("the pause's simulation does not succeed with Paused:\n%s", eval[string](t, ctx, `document.querySelector('#respond-prepared').innerText`))
		}
		if got := eval[string](t, ctx, `document.querySelector('#respond-calldata').textContent`); got != "0x8456cb59" {
			t.Errorf("calldata %q", got)
		}
		if got := eval[string](t, ctx, `document.querySelector('#respond-cast').textContent`); !strings.HasPrefix(got, "cast send") || !strings.Contains(got, vault+" 'pause()'") {
			t.Errorf("cast line %q", got)
		}
		shown := eval[string](t, ctx, `document.querySelector('#respond-safe-json').textContent`)
		href := eval[string](t, ctx, `document.querySelector('#respond-safe-download').href`)
		file := eval[string](t, ctx, `document.querySelector('#respond-safe-download').getAttribute('download')`)
		downloaded, err := url.PathUnescape(strings.TrimPrefix(href, "data:application/json;charset=utf-8,"))
		if err != nil || downloaded != shown || !strings.HasSuffix(file, ".json") {
			t.Errorf("the download (%s, %v) is not the JSON shown", file, err)
		}
		b, err := response.ParseBatch([]byte(shown))
		if err != nil || len(b.Transactions) != 1 || !strings.EqualFold(b.Transactions[0].To, vault) {
			t.Errorf("the Safe JSON is not a Transaction Builder batch of the pause: %v\n%s", err, shown)
		}
		signed := eval[string](t, ctx, `document.querySelector('#respond-signed').textContent`)
		var tx types.Transaction
		if err := tx.UnmarshalBinary(common.FromHex(signed)); err != nil || tx.To() == nil || *tx.To() != common.HexToAddress(vault) || hexutil.Encode(tx.Data()) != "0x8456cb59" {
			t.Errorf("the signed transaction %q: %v", signed, err)
		}
	}
	checkPrepared()
	permalink := eval[string](t, ctx, `location.href`)
	if u, _ := url.Parse(permalink); u.Query().Get("action") != "pause" || u.Query().Get("prepare") != "1" {
		t.Errorf("the URL does not hold the panel's state: %s", permalink)
	}
	sh.take(ctx, "prepared")

	// The permalink opens the same view, prepared again.
	do(t, ctx, "the permalink", chromedp.Navigate(permalink))
	wait("prepared from the permalink", `!!document.querySelector('#respond-sim') && !!document.querySelector('#respond-signed')`)
	checkPrepared()

	// The scenario, dry run from the panel: simulated, recorded, nothing
	// sent; the automation switch goes off and on again.
	do(t, ctx, "dry run", click(`#respond-scenario-list tr[data-scenario="pause-vault"] .respond-dry`))
	wait("the dry run", `!!document.querySelector('#respond-scenario-result [data-scenario="pause-vault"][data-status="simulated"]') && !!document.querySelector('#respond-runs tr[data-status="simulated"]')`)
	if paused() {
		t.Fatal("a dry run paused the vault")
	}
	automation := func() bool {
		t.Helper()
		var sc struct{ Automation bool }
		apptest.GetData(t, base+"/api/v1/respond/scenarios", &sc)
		return sc.Automation
	}
	for _, on := range []bool{false, true} {
		do(t, ctx, "the automation switch", click(`#respond-automation`))
		wait("the switch redrawn from the server's answer", `document.querySelector('#respond-scenarios').dataset.automation === '`+strconv.FormatBool(on)+`' && document.querySelector('#respond-automation').checked === `+strconv.FormatBool(on))
		if automation() != on {
			t.Fatalf("the automation switch clicked to %t, the server has %t", on, !on)
		}
	}

	// Send: the vault pauses on chain, the run is in the history.
	do(t, ctx, "send", click(`#respond-send`))
	wait("sent and mined", `document.querySelector('#respond-sent')?.dataset.mined === 'true'`)
	if st := eval[string](t, ctx, `document.querySelector('#respond-sent').dataset.status`); st != "1" {
		t.Fatalf("the pause was mined with status %s:\n%s", st, eval[string](t, ctx, `document.querySelector('#respond-result').innerText`))
	}
	if !paused() {
		t.Fatal("the vault is not paused on chain after Send")
	}
	var runs []response.Run
	apptest.GetData(t, base+"/api/v1/respond/runs?limit=1&contract="+vault, &runs)
	if len(runs) != 1 || runs[0].Status != response.RunDone || runs[0].Steps[0].Function != "pause()" {
		t.Fatalf("the newest run: %+v", runs)
	}
	sentHash := runs[0].Steps[0].Hash.Hex()
	wait("the run in the history", `document.querySelector('#respond-runs tr[data-run="`+strconv.FormatInt(runs[0].ID, 10)+`"]')?.innerText.includes('`+sentHash+`')`)
	wait("the state read again", `document.querySelector('#respond tr[data-action="pause"]').innerText.includes('paused: true')`)

	// A second pause would revert: the server refuses it and shows why.
	do(t, ctx, "send again", click(`#respond-send`))
	wait("refused", `!!document.querySelector('#respond-sent #respond-sim[data-reverted="true"]')`)
	if text := eval[string](t, ctx, `document.querySelector('#respond-sent').innerText`); !strings.Contains(text, "EnforcedPause") || !strings.Contains(text, "force") {
		t.Errorf("the refusal says:\n%s", text)
	}
	sh.take(ctx, "sent")

	// The incident's page: the panel for its contract, the send on the
	// timeline; the Safe unpauses the vault.
	incidentURL := base + "/incidents/" + strconv.FormatInt(opened.Data.Incident.ID, 10)
	do(t, ctx, "the incident", chromedp.Navigate(incidentURL+"?action=unpause"))
	wait("the send on the timeline", `[...document.querySelectorAll('#timeline li[data-kind="action"]')].some((li) => li.innerText.includes('pause() on `+vault+` tx `+sentHash+`') && li.querySelector('a.entry-link[href="/tx/`+sentHash+`"]'))`)
	wait("the panel on the incident's page", `document.querySelector('#respond')?.dataset.ready === 'true' && document.querySelector('#respond-detail')?.dataset.action === 'unpause'`)
	do(t, ctx, "propose", click(`#respond-propose`))
	wait("the proposal", `!!document.querySelector('#respond-proposals .respond-proposal[data-signatures="0"]')`)
	safeTx := common.HexToHash(eval[string](t, ctx, `document.querySelector('#respond-proposals .respond-proposal[data-signatures="0"]').dataset.hash`))
	proposal := `#respond-proposals .respond-proposal[data-hash="` + safeTx.Hex() + `"]`
	for i, owner := range demo.SafeOwnerKeys()[:demo.SafeThreshold] {
		sig, err := crypto.Sign(safeTx[:], owner)
		if err != nil {
			t.Fatal(err)
		}
		sig[64] += 27
		sel := proposal
		do(t, ctx, "an owner's signature", chromedp.SetValue(chromedp.CSS(sel+` input[name=signature]`), hexutil.Encode(sig)), click(sel+` .respond-sign`))
		wait("the signature counted", `!!document.querySelector('`+sel+`[data-signatures="`+strconv.Itoa(i+1)+`"]')`)
	}
	do(t, ctx, "execute", click(proposal+` .respond-execute`))
	wait("executed", `document.querySelector('`+proposal+`')?.innerText.includes('executed by')`)
	if paused() {
		t.Fatal("the vault is still paused after the Safe's execTransaction")
	}
	wait("the Safe's run on the timeline", `[...document.querySelectorAll('#timeline li[data-kind="action"]')].some((li) => li.innerText.includes('Safe transaction `+safeTx.Hex()+`'))`)
	sh.take(ctx, "incident")
	checkNoScriptRan(t, ctx, "the incident page")

	// Hostile text: a permalink naming a payload, a contract named with
	// one, whose pause() reverts with one.
	do(t, ctx, "a hostile permalink", chromedp.Navigate(base+"/contract/"+boom.Hex()+"?action="+url.QueryEscape(payload)+"&arg="+url.QueryEscape(payload)))
	wait("the unknown action named as text", `document.querySelector('#respond-unknown')?.textContent.includes(`+strconv.Quote(payload)+`)`)
	do(t, ctx, "the hostile pause", click(`#respond tr[data-action="pause"] .respond-open`), click(`#respond-prepare`))
	wait("the hostile revert as text", `document.querySelector('#respond-sim')?.dataset.reverted === 'true' && document.querySelector('#respond-sim').textContent.includes(`+strconv.Quote(payload)+`)`)
	sh.take(ctx, "hostile")
	checkNoScriptRan(t, ctx, "the hostile contract's page")
}

// isPaused reads paused() of the contract at addr from the chain.
func isPaused(t *testing.T, ec *ethclient.Client, addr string) bool {
	t.Helper()
	to := common.HexToAddress(addr)
	out, err := ec.CallContract(t.Context(), ethereum.CallMsg{To: &to, Data: crypto.Keccak256([]byte("paused()"))[:4]}, nil)
	if err != nil || len(out) != 32 {
		t.Fatalf("paused(): %x %v", out, err)
	}
	return out[31] == 1
}

func containsAddr(list []common.Address, a common.Address) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}
