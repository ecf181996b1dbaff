package web_test

import (
	"bytes"
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
	"github.com/blocktorch/blocktorch/internal/demoapp"
)

// TestDebuggerOptimizedOrigin verifies a contract built with the optimizer
// on the running demo and makes it fail in a require whose revert the
// optimizer shares with a modifier of a base contract: the failing step is
// mapped to the modifier, the origin is the require. The page must show
// the origin the API gives, in the banner and in the source pane, and that
// origin must be the line the fixture marks.
func TestDebuggerOptimizedOrigin(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the whole demo and a browser")
	}
	a, stop := apptest.Start(t, apptest.DemoConfig(t))
	defer stop()
	base := a.URL()
	rpcURL, _ := a.ChainRPC()
	ctx := t.Context()

	dir := filepath.Join("..", "debugger", "testdata", "origin", "optimized")
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

	ec, err := ethclient.DialContext(ctx, rpcURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	key := demoapp.Keys(demoapp.Attacker + 1)[demoapp.Attacker]
	from := crypto.PubkeyToAddress(key.PublicKey)
	chainID, err := ec.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	send := func(to *common.Address, data []byte) *types.Receipt {
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
	rcpt := send(nil, common.FromHex(origins.Bytecode))
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
	rcpt = send(&addr, data)
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

	bctx := browser(t)
	watchScripts(t, bctx)
	sh := &shots{t: t, dir: t.TempDir()}
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
}
