package web_test

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/web"
)

// TestPatchPage runs a patch check from the /patch page on the embedded
// chain: the demo's token (a plain contract, "patched" with its own code
// deployed where it is) with a failing mint chosen and its history
// sampled; the build is uploaded as the demo's solc standard-JSON pair.
// The report shows the failing mint still failing, the sample unchanged,
// and the permalink shows the same report in a fresh browser context.
// (internal/patch runs the real patch on a proxy.)
func TestPatchPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain and a browser")
	}
	ownerKey, _ := crypto.GenerateKey()
	strangerKey, _ := crypto.GenerateKey()
	owner, stranger := crypto.PubkeyToAddress(ownerKey.PublicKey), crypto.PubkeyToAddress(strangerKey.PublicKey)
	c, err := devchain.Start(devchain.Config{BlockInterval: -1, Alloc: map[common.Address]*big.Int{owner: big.NewInt(1e18), stranger: big.NewInt(1e18)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ec := ethclient.NewClient(c.Client())
	ctx := t.Context()
	nonces := map[common.Address]uint64{}
	send := func(key *ecdsa.PrivateKey, from common.Address, to *common.Address, data []byte) *types.Receipt {
		t.Helper()
		tx := types.MustSignNewTx(key, types.LatestSignerForChainID(devchain.ChainID), &types.DynamicFeeTx{
			ChainID: devchain.ChainID, Nonce: nonces[from], GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(5e9), Gas: 3_000_000, To: to, Data: data,
		})
		nonces[from]++
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatal(err)
		}
		c.Commit()
		r, err := ec.TransactionReceipt(ctx, tx.Hash())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	arts, err := demo.Artifacts()
	if err != nil {
		t.Fatal(err)
	}
	tokenABI, err := decode.ParseABI(arts["DemoToken"].ABI)
	if err != nil {
		t.Fatal(err)
	}
	ctor, _ := tokenABI.Pack("", owner)
	token := send(ownerKey, owner, nil, append(append([]byte{}, arts["DemoToken"].Bytecode...), ctor...)).ContractAddress
	mint, _ := tokenABI.Pack("mint", stranger, big.NewInt(5))
	if r := send(ownerKey, owner, &token, mint); r.Status != 1 {
		t.Fatal("the owner's mint failed")
	}
	failed := send(strangerKey, stranger, &token, mint)
	if failed.Status != 0 {
		t.Fatal("a stranger's mint succeeded")
	}

	svc := &patch.Service{Checker: &patch.Checker{Node: ec, Replayer: &debugger.Local{RPC: c.Client()}, Options: debugger.Options{Dir: t.TempDir()}}}
	t.Cleanup(svc.Close)
	ts := newKeyedServer(t, "", func(d *web.Deps) { d.Patch = svc })
	dir := t.TempDir()
	in, out := demo.StandardJSON()
	for name, b := range map[string][]byte{"input.json": in, "output.json": out} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	bctx := browser(t)
	watchScripts(t, bctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	page := ts.URL + "/patch?target=" + token.Hex() + "&contract=DemoToken&deployed=" + token.Hex() + "&sample=5&txs=" + failed.TxHash.Hex()
	do(t, bctx, "patch page", chromedp.Navigate(page),
		chromedp.SetUploadFiles(css(`#patch-build`), []string{filepath.Join(dir, "input.json"), filepath.Join(dir, "output.json")}),
		chromedp.Click(css(`#patch-run`)))
	waitJS(t, bctx, "the report", `!!document.querySelector('#patch-verdict')`)
	type report struct {
		Verdict string            `json:"verdict"`
		Rows    map[string]string `json:"rows"`
		Note    string            `json:"note"`
		Layout  string            `json:"layout"`
		URL     string            `json:"url"`
		Error   string            `json:"error"`
	}
	read := func(ctx context.Context) report {
		return eval[report](t, ctx, `(() => {
			const rows = {};
			for (const tr of document.querySelectorAll('#patch-table tbody tr')) rows[tr.dataset.tx] = tr.querySelector('.verdict').textContent;
			const note = document.querySelector('#patch-upgrade-note');
			return {verdict: document.querySelector('#patch-verdict').textContent, rows, note: note ? note.textContent : '',
				layout: document.querySelector('#patch-layout').textContent, url: document.querySelector('#patch-permalink').getAttribute('href'),
				error: document.querySelector('#patch-error').hidden ? '' : document.querySelector('#patch-error').textContent};
		})()`)
	}
	got := read(bctx)
	if got.Verdict != "Passes" || got.Rows[failed.TxHash.Hex()] != patch.StillFails || len(got.Rows) != 2 || got.Error != "" {
		t.Fatalf("report %+v", got)
	}
	for tx, v := range got.Rows {
		if tx != failed.TxHash.Hex() && v != patch.Unchanged {
			t.Errorf("sampled %s: %s", tx, v)
		}
	}
	if !strings.Contains(got.Note, "not a proxy") || !strings.Contains(got.Layout, "keep their slots") {
		t.Errorf("note %q layout %q", got.Note, got.Layout)
	}
	if !strings.Contains(got.URL, "run=") || !strings.Contains(got.URL, "txs="+failed.TxHash.Hex()) {
		t.Fatalf("permalink %s", got.URL)
	}

	// The permalink, in a fresh context, shows the same report.
	fresh, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel()
	fresh, cancel2 := context.WithTimeout(fresh, time.Minute)
	defer cancel2()
	do(t, fresh, "permalink", chromedp.Navigate(ts.URL+got.URL))
	waitJS(t, fresh, "the report again", `!!document.querySelector('#patch-verdict')`)
	again := read(fresh)
	if again.Verdict != got.Verdict || len(again.Rows) != len(got.Rows) || again.Rows[failed.TxHash.Hex()] != patch.StillFails {
		t.Errorf("permalink report %+v, want %+v", again, got)
	}
	if v := eval[string](t, fresh, `document.querySelector('#patch-target').value`); v != token.Hex() {
		t.Errorf("permalink form target %q", v)
	}
}
