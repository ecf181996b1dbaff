package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demo"
)

func eventually(t *testing.T, what string, d time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// payload is what the hostile contract's source and revert reason carry.
const payload = `</script><script>alert(1)</script><img src=x onerror=alert(2)>`

// hostileSource is the "verified" source of a contract that reverts with
// payload; its comment carries a payload too.
var hostileSource = "// <script>alert(3)</script>\ncontract Boom {\n    fallback() external {\n        revert(\"" + payload + "\");\n    }\n}\n"

// hostileContract hand-assembles Boom: runtime code that reverts with
// Error(payload), and the init code that deploys it.
func hostileContract() (initCode, runtime []byte) {
	reason := []byte(payload)
	blob := append(common.FromHex("0x08c379a0"), common.LeftPadBytes(big.NewInt(32).Bytes(), 32)...)
	blob = append(blob, common.LeftPadBytes(big.NewInt(int64(len(reason))).Bytes(), 32)...)
	blob = append(blob, common.RightPadBytes(reason, (len(reason)+31)/32*32)...)
	n := len(blob)
	// PUSH2 n PUSH2 15 PUSH1 0 CODECOPY PUSH2 n PUSH1 0 REVERT, then the blob.
	runtime = []byte{0x61, byte(n >> 8), byte(n), 0x61, 0x00, 15, 0x60, 0x00, 0x39, 0x61, byte(n >> 8), byte(n), 0x60, 0x00, 0xfd}
	runtime = append(runtime, blob...)
	r := len(runtime)
	// PUSH2 r PUSH1 14 PUSH1 0 CODECOPY PUSH2 r PUSH1 0 RETURN, then the runtime.
	initCode = append([]byte{0x61, byte(r >> 8), byte(r), 0x60, 14, 0x60, 0x00, 0x39, 0x61, byte(r >> 8), byte(r), 0x60, 0x00, 0xf3}, runtime...)
	return initCode, runtime
}

// hostileArtifacts is Boom as solc standard JSON would describe it, every
// instruction mapped to the revert statement.
func hostileArtifacts(t *testing.T, initCode, runtime []byte) []contracts.Artifact {
	t.Helper()
	at := strings.Index(hostileSource, "revert(")
	span := strings.Index(hostileSource[at:], ";")
	smap := fmt.Sprintf("%d:%d:0:-", at, span) + strings.Repeat(";", 6)
	in, _ := json.Marshal(map[string]any{"language": "Solidity", "sources": map[string]any{"src/Boom.sol": map[string]string{"content": hostileSource}},
		"settings": map[string]any{"optimizer": map[string]any{"enabled": false}}})
	out, _ := json.Marshal(map[string]any{
		"sources": map[string]any{"src/Boom.sol": map[string]int{"id": 0}},
		"contracts": map[string]any{"src/Boom.sol": map[string]any{"Boom": map[string]any{
			"abi": []any{map[string]any{"type": "fallback", "stateMutability": "nonpayable"}},
			"evm": map[string]any{
				"bytecode":         map[string]any{"object": common.Bytes2Hex(initCode), "sourceMap": smap},
				"deployedBytecode": map[string]any{"object": common.Bytes2Hex(runtime), "sourceMap": smap},
			}}}}})
	arts, err := contracts.ParseStandardJSON(in, out, "0.8.28+commit.7893614a")
	if err != nil {
		t.Fatal(err)
	}
	return arts
}

// sendHostile deploys Boom on the demo chain, verifies it with the server
// and sends it a transaction, which fails with the payload as its reason.
func sendHostile(t *testing.T, ctx context.Context, rpcURL, base string) (common.Address, common.Hash) {
	t.Helper()
	ec, err := ethclient.DialContext(ctx, rpcURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	// The attacker's key is idle outside the scripted incident.
	key := demo.Keys(demo.Attacker + 1)[demo.Attacker]
	from := crypto.PubkeyToAddress(key.PublicKey)
	chainID, err := ec.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	signer := types.LatestSignerForChainID(chainID)
	send := func(to *common.Address, data []byte) *types.Receipt {
		nonce, err := ec.PendingNonceAt(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		price, err := ec.SuggestGasPrice(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := types.SignNewTx(key, signer, &types.LegacyTx{Nonce: nonce, To: to, Gas: 5_000_000, GasPrice: new(big.Int).Mul(price, big.NewInt(2)), Data: data})
		if err != nil {
			t.Fatal(err)
		}
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatal(err)
		}
		var rcpt *types.Receipt
		eventually(t, "receipt of "+tx.Hash().Hex(), 30*time.Second, func() bool {
			rcpt, err = ec.TransactionReceipt(ctx, tx.Hash())
			return err == nil
		})
		return rcpt
	}
	initCode, runtime := hostileContract()
	rcpt := send(nil, initCode)
	if rcpt.Status != 1 {
		t.Fatalf("deploying Boom failed: %+v", rcpt)
	}
	boom := rcpt.ContractAddress
	body, _ := json.Marshal(contracts.VerifyRequest{Artifacts: hostileArtifacts(t, initCode, runtime)})
	resp, err := http.Post(base+"/api/v1/contracts/"+boom.Hex()+"/verify", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(answer), `"status":"full"`) {
		t.Fatalf("verifying Boom: HTTP %d %.400s", resp.StatusCode, answer)
	}
	rcpt = send(&boom, []byte{1, 2, 3, 4})
	if rcpt.Status != 0 {
		t.Fatal("the call to Boom did not fail")
	}
	return boom, rcpt.TxHash
}

type debugAnswer struct {
	Steps   int `json:"steps"`
	Failure *struct {
		File        string `json:"file"`
		Line        int    `json:"line"`
		Step        int    `json:"step"`
		Reason      string `json:"reason"`
		Approximate bool   `json:"approximate"`
	} `json:"failure"`
	Root struct {
		Calls []struct {
			ID        int `json:"id"`
			FirstStep int `json:"firstStep"`
		} `json:"calls"`
	} `json:"root"`
}

// TestDebuggerAndContractPages runs the demo (embedded chain, demo app,
// indexer, server) and drives the debugger and contract pages in chromium.
func TestDebuggerAndContractPages(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the whole demo and a browser")
	}
	a, stop := apptest.Start(t, apptest.DemoConfig(t))
	defer stop()
	base := a.URL()
	rpcURL, _ := a.ChainRPC()

	// A failed demo transaction whose failure lands on a source line.
	type txRow struct {
		Hash   string `json:"hash"`
		Status string `json:"status"`
	}
	var failedTx string
	var dbg debugAnswer
	eventually(t, "a failed demo transaction with a source line", 90*time.Second, func() bool {
		var txs []txRow
		apptest.GetData(t, base+"/api/v1/txs?status=failed&limit=20", &txs)
		for _, tx := range txs {
			var d debugAnswer
			if apptest.GetData(t, base+"/api/v1/debug/"+tx.Hash, &d) == 200 && d.Failure != nil && d.Failure.File != "" && d.Failure.Line > 0 && d.Failure.Step > 0 {
				failedTx, dbg = tx.Hash, d
				return true
			}
		}
		return false
	})
	boom, boomTx := sendHostile(t, t.Context(), rpcURL, base)

	ctx := browser(t)
	dir, err := os.MkdirTemp("", "blocktorch-debugger-ui-")
	if err != nil {
		t.Fatal(err)
	}
	sh := &shots{t: t, dir: dir}
	watchScripts(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	// waitJS with the page's text and a screenshot when it times out.
	waitJS := func(t *testing.T, ctx context.Context, what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			sh.take(ctx, "timeout")
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
			t.Fatalf("%s: waiting for %s: %v\npage:\n%.3000s", what, expr, err, text)
		}
	}

	// The debugger lands on the failing line.
	do(t, ctx, "debugger", chromedp.Navigate(base+"/debug/"+failedTx))
	waitJS(t, ctx, "debugger ready", `document.querySelector('#debugger').dataset.ready === 'true'`)
	type view struct {
		Step     int    `json:"step"`
		Line     string `json:"line"`
		File     string `json:"file"`
		FailLine string `json:"failLine"`
		Label    string `json:"label"`
		Frame    string `json:"frame"`
	}
	state := func() view {
		return eval[view](t, ctx, `(() => {
			const cur = document.querySelector('#src .line.cur'), fail = document.querySelector('#src .line.fail'), fr = document.querySelector('#tree .frame.on');
			return {step: Number(document.querySelector('#debugger').dataset.step), line: cur ? cur.dataset.line : '', file: document.querySelector('#src').dataset.file || '',
				failLine: fail ? fail.dataset.line : '', label: document.querySelector('#step-label').textContent, frame: fr ? fr.dataset.frame : ''};
		})()`)
	}
	v := state()
	if v.Step != dbg.Failure.Step || v.Line != fmt.Sprint(dbg.Failure.Line) || v.File != dbg.Failure.File || v.FailLine != fmt.Sprint(dbg.Failure.Line) {
		sh.take(ctx, "debugger-wrong-line")
		t.Fatalf("debugger opened at step %d %s:%s (failure marked on line %q), want the failure: step %d %s:%d; page:\n%.2000s",
			v.Step, v.File, v.Line, v.FailLine, dbg.Failure.Step, dbg.Failure.File, dbg.Failure.Line, eval[string](t, ctx, `document.querySelector('main').innerText`))
	}
	if reason := run(t, ctx, "reason", chromedp.Text(css(`#dbg-failure .reason`))); reason != dbg.Failure.Reason {
		t.Errorf("failure banner says %q, want %q", reason, dbg.Failure.Reason)
	}
	settled(t, ctx, "debugger at the failure")
	sh.take(ctx, "debugger-failure")

	// Step back (b), then the next instruction (n), by keyboard.
	do(t, ctx, "step back", chromedp.KeyEvent("b"))
	waitJS(t, ctx, "step back", `Number(document.querySelector('#debugger').dataset.step) !== `+fmt.Sprint(dbg.Failure.Step))
	back := state()
	if back.Step >= dbg.Failure.Step || !strings.HasPrefix(back.Label, fmt.Sprintf("step %d of %d", back.Step, dbg.Steps)) {
		t.Fatalf("after step back: step %d, label %q (failure at %d)", back.Step, back.Label, dbg.Failure.Step)
	}
	do(t, ctx, "next instruction", chromedp.KeyEvent("n"))
	waitJS(t, ctx, "next", `Number(document.querySelector('#debugger').dataset.step) === `+fmt.Sprint(back.Step+1))
	sh.take(ctx, "debugger-back")
	// A frame of the call tree goes to its first step; f back to the failure.
	if len(dbg.Root.Calls) > 0 && dbg.Root.Calls[0].FirstStep >= 0 {
		c := dbg.Root.Calls[0]
		do(t, ctx, "frame click", chromedp.Click(css(fmt.Sprintf(`#tree .frame[data-frame="%d"]`, c.ID))))
		waitJS(t, ctx, "frame", `Number(document.querySelector('#debugger').dataset.step) === `+fmt.Sprint(c.FirstStep))
		if got := state(); got.Frame != fmt.Sprint(c.ID) {
			t.Errorf("after clicking frame %d the tree highlights frame %q", c.ID, got.Frame)
		}
	}
	do(t, ctx, "go to failure", chromedp.KeyEvent("f"))
	waitJS(t, ctx, "failure", `Number(document.querySelector('#debugger').dataset.step) === `+fmt.Sprint(dbg.Failure.Step))
	// Step N from the form.
	do(t, ctx, "goto", chromedp.Click(css(`#goto`)), chromedp.SendKeys(css(`#goto`), "0\r"))
	waitJS(t, ctx, "goto 0", `document.querySelector('#debugger').dataset.step === '0'`)
	checkNoScriptRan(t, ctx, "debugger")

	// The transaction page and Explore link failures to the debugger.
	do(t, ctx, "tx page", chromedp.Navigate(base+"/tx/"+failedTx), chromedp.WaitVisible(css(`#debug-btn`)))
	if href := eval[string](t, ctx, `document.querySelector('#debug-btn').getAttribute('href')`); href != "/debug/"+failedTx {
		t.Errorf("tx page Debug link %q", href)
	}
	eventually(t, "revert records", 30*time.Second, func() bool {
		var found struct {
			Records []json.RawMessage `json:"records"`
		}
		return apptest.GetData(t, base+"/api/v1/search?q=kind:revert", &found) == 200 && len(found.Records) > 0
	})
	// With fast blocks the dev chain's clock runs ahead of the wall clock:
	// the range reaches into the future.
	do(t, ctx, "explore", chromedp.Navigate(base+"/explore?q=kind:revert&from=now-1h&to="+time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339)))
	waitJS(t, ctx, "explore debug links", `document.querySelectorAll('#results .rec a.debug-link[href^="/debug/0x"]').length > 0`)

	// The contract page of LendingVault: a full match, its source, its reads.
	var list []struct {
		Address string `json:"address"`
		Name    string `json:"name"`
	}
	apptest.GetData(t, base+"/api/v1/contracts", &list)
	var vault, feed string
	for _, c := range list {
		switch c.Name {
		case "LendingVault":
			vault = c.Address
		case "PriceFeed":
			feed = c.Address
		}
	}
	if vault == "" {
		t.Fatalf("no LendingVault among %+v", list)
	}
	do(t, ctx, "contract page", chromedp.Navigate(base+"/contract/"+vault))
	waitJS(t, ctx, "badge", `document.querySelector('#badge').dataset.status === 'full'`)
	waitJS(t, ctx, "source", `document.querySelectorAll('#source .line').length > 50 && document.querySelector('#source').textContent.includes('contract LendingVault')`)
	waitJS(t, ctx, "paused()", `!!document.querySelector('form[data-sig="paused()"] .read-val')`)
	if got := run(t, ctx, "paused", chromedp.Text(css(`form[data-sig="paused()"] .read-out`))); !strings.Contains(got, "bool = false") {
		t.Errorf("paused() shows %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#source .tk-kw').length`); n < 20 {
		t.Errorf("only %d keywords highlighted", n)
	}
	// A read with an argument, one that reverts, and a wrong input.
	do(t, ctx, "healthFactor",
		chromedp.SendKeys(css(`form[data-sig="healthFactor(address)"] input`), "0x0000000000000000000000000000000000000001"),
		chromedp.Click(css(`form[data-sig="healthFactor(address)"] button`)))
	waitJS(t, ctx, "healthFactor revert", `document.querySelector('form[data-sig="healthFactor(address)"] .read-out').textContent.includes('reverted')`)
	do(t, ctx, "maxBorrow",
		chromedp.SendKeys(css(`form[data-sig="maxBorrow(address)"] input`), "0x12"),
		chromedp.Click(css(`form[data-sig="maxBorrow(address)"] button`)))
	waitJS(t, ctx, "maxBorrow error", `document.querySelector('form[data-sig="maxBorrow(address)"] .read-out .bad') !== null`)
	if got := run(t, ctx, "error", chromedp.Text(css(`form[data-sig="maxBorrow(address)"] .read-out`))); !strings.Contains(got, "is not an address") {
		t.Errorf("a wrong address shows %q", got)
	}
	if txt := run(t, ctx, "reverts", chromedp.Text(css(`#c-reverts`))); !strings.Contains(txt, "Debug") {
		t.Errorf("the contract's reverts have no Debug link: %q", txt)
	}
	settled(t, ctx, "contract page")
	sh.take(ctx, "contract-vault")
	checkNoScriptRan(t, ctx, "contract page")
	if feed != "" {
		do(t, ctx, "price feed", chromedp.Navigate(base+"/contract/"+feed))
		waitJS(t, ctx, "latestRoundData()", `document.querySelectorAll('form[data-sig="latestRoundData()"] .read-val').length === 5`)
		sh.take(ctx, "contract-feed")
	}

	// Payloads in a verified source and in a revert reason stay text.
	do(t, ctx, "hostile contract", chromedp.Navigate(base+"/contract/"+boom.Hex()))
	waitJS(t, ctx, "hostile source", `document.querySelector('#source').textContent.includes('<script>alert(3)</script>')`)
	checkNoScriptRan(t, ctx, "hostile contract page")
	eventually(t, "the hostile transaction indexed", 30*time.Second, func() bool {
		return apptest.GetData(t, base+"/api/v1/txs/"+boomTx.Hex(), nil) == 200
	})
	do(t, ctx, "hostile debugger", chromedp.Navigate(base+"/debug/"+boomTx.Hex()))
	waitJS(t, ctx, "hostile debugger", `document.querySelector('#debugger').dataset.ready === 'true'`)
	for _, sel := range []string{`#dbg-failure .reason`, `#src .line.cur`, `#tree .freason`} {
		if txt := run(t, ctx, sel, chromedp.Text(css(sel))); !strings.Contains(txt, payload) {
			t.Errorf("%s shows %q, want the payload as text", sel, txt)
		}
	}
	sh.take(ctx, "debugger-hostile")
	checkNoScriptRan(t, ctx, "hostile debugger")
	do(t, ctx, "hostile tx page", chromedp.Navigate(base+"/tx/"+boomTx.Hex()), chromedp.WaitVisible(css(`#debug-btn`)))
	checkNoScriptRan(t, ctx, "hostile tx page")

	checkSimulator(t, ctx, sh, base)

	// The light theme, for the look.
	do(t, ctx, "theme", chromedp.Navigate(base+"/debug/"+failedTx))
	waitJS(t, ctx, "debugger ready", `document.querySelector('#debugger').dataset.ready === 'true'`)
	do(t, ctx, "theme", chromedp.Click(css(`#theme-toggle`)))
	settled(t, ctx, "debugger theme")
	sh.take(ctx, "debugger-other-theme")
	t.Logf("screenshots in %s", dir)
}
