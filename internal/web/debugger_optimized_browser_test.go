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
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demo"
)

// TestDebuggerOptimizedOrigin verifies contracts built with the optimizer
// and via IR on the running demo and makes them fail in a require: in the
// optimized build the failing step is a revert tail shared with a base
// contract's modifier, in the via-IR build it is mapped to the whole
// contract. The page must show the origin the API gives, in the banner and
// in the source pane, that origin must be the line the fixture marks, and
// a via-IR step mapped to the whole contract is shown as naming no
// statement.
func TestDebuggerOptimizedOrigin(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the whole demo and a browser")
	}
	a, stop := apptest.Start(t, apptest.DemoConfig(t))
	defer stop()
	base := a.URL()
	rpcURL, _ := a.ChainRPC()
	ctx := t.Context()

	ec, err := ethclient.DialContext(ctx, rpcURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	key := demo.Keys(demo.Attacker + 1)[demo.Attacker]
	from := crypto.PubkeyToAddress(key.PublicKey)
	chainID, err := ec.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	send := func(t *testing.T, to *common.Address, data []byte) *types.Receipt {
		t.Helper()
		nonce, err := ec.PendingNonceAt(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		price, err := ec.SuggestGasPrice(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.LegacyTx{Nonce: nonce, To: to, Gas: 5_000_000, GasPrice: new(big.Int).Mul(price, big.NewInt(2)), Data: data})
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
	bctx := browser(t)
	watchScripts(t, bctx)
	sh := &shots{t: t, dir: t.TempDir()}
	for _, build := range []string{"optimized", "viair"} {
		t.Run(build, func(t *testing.T) { checkBuildOrigin(t, bctx, sh, base, build, send) })
	}
}

// checkBuildOrigin deploys and verifies Origins as compiled by build, makes
// requireMessage fail and checks the page against the API and the marker.
func checkBuildOrigin(t *testing.T, bctx context.Context, sh *shots, base, build string, send func(*testing.T, *common.Address, []byte) *types.Receipt) {
	dir := filepath.Join("..", "debugger", "testdata", "origin", build)
	in, err := os.ReadFile(filepath.Join(dir, "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(filepath.Join(dir, "output.json"))
	if err != nil {
		t.Fatal(err)
	}
	arts, err := contracts.ParseStandardJSON(in, out, "0.8.28+commit.7893614a")
	if err != nil {
		t.Fatal(err)
	}
	var origins contracts.Artifact
	for _, art := range arts {
		if art.Name == "Origins" {
			origins = art
		}
	}
	if origins.Name == "" {
		t.Fatal("no Origins in the optimized fixtures")
	}
	src := origins.Sources[origins.SourceName]
	i := strings.Index(src, "// @fail:require")
	if i < 0 {
		t.Fatal("no @fail:require marker")
	}
	wantLine := 1 + strings.Count(src[:i], "\n")

	rcpt := send(t, nil, common.FromHex(origins.Bytecode))
	if rcpt.Status != 1 {
		t.Fatal("deploying Origins failed")
	}
	addr := rcpt.ContractAddress
	body, _ := json.Marshal(contracts.VerifyRequest{Artifacts: []contracts.Artifact{origins}})
	resp, err := http.Post(base+"/api/v1/contracts/"+addr.Hex()+"/verify", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(answer), `"status":"full"`) {
		t.Fatalf("verifying Origins: HTTP %d %.400s", resp.StatusCode, answer)
	}
	parsed, err := abi.JSON(bytes.NewReader(origins.ABI))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := parsed.Pack("requireMessage", big.NewInt(5))
	rcpt = send(t, &addr, data)
	if rcpt.Status != 0 {
		t.Fatal("requireMessage(5) did not fail")
	}
	tx := rcpt.TxHash.Hex()

	var dbg debugAnswer
	if code := apptest.GetData(t, base+"/api/v1/debug/"+tx, &dbg); code != 200 || dbg.Failure == nil {
		t.Fatalf("debug answer %d %+v", code, dbg.Failure)
	}
	f := dbg.Failure
	if f.File != origins.SourceName || f.Line != wantLine || f.Approximate {
		t.Fatalf("the API places the failure at %s:%d (approximate %v), want %s:%d exactly", f.File, f.Line, f.Approximate, origins.SourceName, wantLine)
	}

	do(t, bctx, "debugger", chromedp.Navigate(base+"/debug/"+tx))
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelector('#debugger').dataset.ready === 'true'`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		sh.take(bctx, "timeout")
		t.Fatalf("debugger never ready: %v", err)
	}
	type view struct {
		Step     int    `json:"step"`
		File     string `json:"file"`
		Line     string `json:"line"`
		FailLine string `json:"failLine"`
		Loc      string `json:"loc"`
		Banner   string `json:"banner"`
	}
	v := eval[view](t, bctx, `(() => {
		const cur = document.querySelector('#src .line.cur'), fail = document.querySelector('#src .line.fail');
		return {step: Number(document.querySelector('#debugger').dataset.step), file: document.querySelector('#src').dataset.file || '',
			line: cur ? cur.dataset.line : '', failLine: fail ? fail.dataset.line : '',
			loc: document.querySelector('#src-loc').textContent, banner: document.querySelector('#dbg-failure .fail-loc').textContent};
	})()`)
	where := fmt.Sprintf("%s:%d", f.File, f.Line)
	if v.Step != f.Step || v.File != f.File || v.Line != fmt.Sprint(f.Line) || v.FailLine != fmt.Sprint(f.Line) ||
		!strings.HasPrefix(v.Loc, where+":") || !strings.HasPrefix(v.Banner, where+":") {
		sh.take(bctx, "optimized-origin")
		t.Errorf("page at step %d shows %s line %s (location %q, failure marked on %q, banner %q), want step %d at %s everywhere",
			v.Step, v.File, v.Line, v.Loc, v.FailLine, v.Banner, f.Step, where)
	}
	if strings.Contains(v.Loc, "approximate") {
		t.Errorf("an exact origin is shown as approximate: %q", v.Loc)
	}

	// A step mapped to the whole contract (the dispatcher, in via-IR code)
	// names no statement: the page says so instead of marking the
	// contract's first line.
	var page struct {
		Steps []struct {
			Index  int `json:"index"`
			Source *struct {
				WholeContract bool `json:"wholeContract"`
			} `json:"source"`
		} `json:"steps"`
	}
	apptest.GetData(t, base+"/api/v1/debug/"+tx+"/steps?from=0&count=200", &page)
	whole := -1
	for _, st := range page.Steps {
		if st.Source != nil && st.Source.WholeContract {
			whole = st.Index
			break
		}
	}
	if build == "optimized" {
		return // the legacy pipeline maps the dispatcher to no source at all
	}
	if whole < 0 {
		t.Fatal("no step of the via-IR transaction is mapped to the whole contract")
	}
	do(t, bctx, "whole-contract step", chromedp.Navigate(fmt.Sprintf("%s/debug/%s?step=%d", base, tx, whole)))
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector('#debugger').dataset.ready === 'true' && Number(document.querySelector('#debugger').dataset.step) === %d`, whole), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		sh.take(bctx, "timeout")
		t.Fatalf("debugger never reached step %d: %v", whole, err)
	}
	w := eval[view](t, bctx, `(() => {
		const cur = document.querySelector('#src .line.cur');
		return {line: cur ? cur.dataset.line : '', loc: document.querySelector('#src-loc').textContent};
	})()`)
	if w.Line != "" || !strings.Contains(w.Loc, "whole contract") {
		sh.take(bctx, "whole-contract")
		t.Errorf("step %d, mapped to the whole contract, shows line %q with location %q", whole, w.Line, w.Loc)
	}
}
