package web_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// TestVerifiedContractSurvivesRestart verifies a demo contract on a server
// following a node, sends a transaction that fails in it, restarts the
// server on the same data, and finds the contract page still showing the
// verified sources and the debugger landing on the failing line, in the
// API and in the browser. The transaction is first debugged after the
// restart, so no trace from the first run can stand in for the sources.
func TestVerifiedContractSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a chain, the server twice and a browser")
	}
	ctx := t.Context()
	ch, err := demo.StartChain(ctx, demo.ChainConfig{Chain: devchain.Config{BlockInterval: 200 * time.Millisecond, RPCAddr: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	cfg := config.Default(config.ModeServe)
	cfg.Addr = "127.0.0.1:0"
	cfg.RPC = ch.WSEndpoint()
	cfg.From = 0
	cfg.DataDir = t.TempDir()
	cfg.DB = "sqlite:" + filepath.Join(cfg.DataDir, "serve.db")
	// The vault runs behind an ERC-1967 proxy: what is verified is its
	// implementation, whose code the proxy's calls run.
	vault := ch.App.VaultImpl.Hex()

	// First run: a transaction failing in the vault is debugged before the
	// vault is verified (no source then), then verified as `blocktorch
	// verify --server` does.
	a, stop := apptest.Start(t, cfg)
	early := borrowWithoutCollateral(t, ctx, ch)
	var dbg debugAnswer
	if code := apptest.GetData(t, a.URL()+"/api/v1/debug/"+early.Hex(), &dbg); code != 200 || dbg.Failure == nil || dbg.Failure.File != "" {
		t.Fatalf("debugging before verification: HTTP %d %+v", code, dbg.Failure)
	}
	in, out := demo.StandardJSON()
	arts, err := contracts.ParseStandardJSON(in, out, "")
	if err != nil {
		t.Fatal(err)
	}
	var art contracts.Artifact
	for _, x := range arts {
		if x.Name == "LendingVault" {
			art = x
		}
	}
	body, _ := json.Marshal(contracts.VerifyRequest{Artifacts: []contracts.Artifact{art}, Contract: art.FullName()})
	resp, err := http.Post(a.URL()+"/api/v1/contracts/"+vault+"/verify", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(answer), `"status":"full"`) {
		t.Fatalf("verifying the vault: HTTP %d %.400s", resp.StatusCode, answer)
	}
	// Its failure now lands on the source line.
	dbg = debugAnswer{}
	if code := apptest.GetData(t, a.URL()+"/api/v1/debug/"+early.Hex(), &dbg); code != 200 || dbg.Failure == nil || dbg.Failure.File != "src/LendingVault.sol" {
		t.Errorf("debugging a transaction again after verifying its contract: HTTP %d %+v, want its line in src/LendingVault.sol", code, dbg.Failure)
	}
	failed := borrowWithoutCollateral(t, ctx, ch)
	stop()
	// Meanwhile the router's address "held the vault before a chain
	// reset": its page must say the code there changed.
	moveRecord(t, filepath.Join(cfg.DataDir, "serve.db"), ch.App.VaultImpl, ch.App.Router)

	// Second run on the same data.
	a, stop = apptest.Start(t, cfg)
	defer stop()
	base := a.URL()
	var page struct {
		Status       string `json:"status"`
		Verification struct {
			ContractName string            `json:"contractName"`
			Sources      map[string]string `json:"sources"`
			Settings     struct {
				Compiler string `json:"compiler"`
			} `json:"settings"`
			Verified time.Time `json:"verified"`
		} `json:"verification"`
	}
	if code := apptest.GetData(t, base+"/api/v1/contracts/"+vault, &page); code != 200 || page.Status != "full" {
		t.Fatalf("contract API after a restart: HTTP %d, status %q", code, page.Status)
	}
	source := page.Verification.Sources["src/LendingVault.sol"]
	if !strings.Contains(source, "contract LendingVault") || page.Verification.Settings.Compiler == "" || page.Verification.Verified.IsZero() {
		t.Fatalf("contract API after a restart: %s, compiler %q, verified %s, sources %d",
			page.Verification.ContractName, page.Verification.Settings.Compiler, page.Verification.Verified, len(page.Verification.Sources))
	}
	var list []struct {
		Address      common.Address `json:"address"`
		Verification *struct {
			Status       string `json:"status"`
			ContractName string `json:"contractName"`
		} `json:"verification"`
	}
	apptest.GetData(t, base+"/api/v1/contracts", &list)
	listed := false
	for _, c := range list {
		if c.Address == ch.App.VaultImpl {
			listed = c.Verification != nil && c.Verification.Status == "full" && c.Verification.ContractName == "LendingVault"
		}
	}
	if !listed {
		t.Errorf("GET /api/v1/contracts after a restart does not list the vault as verified: %+v", list)
	}

	dbg = debugAnswer{}
	if code := apptest.GetData(t, base+"/api/v1/debug/"+failed.Hex(), &dbg); code != 200 || dbg.Failure == nil {
		t.Fatalf("debugger after a restart: HTTP %d %+v", code, dbg)
	}
	lines := strings.Split(source, "\n")
	f := dbg.Failure
	if f.File != "src/LendingVault.sol" || f.Line < 1 || f.Line > len(lines) || !strings.Contains(lines[f.Line-1], "InsufficientCollateral") {
		t.Fatalf("the debugger lands on %s:%d after a restart, want the line of revert InsufficientCollateral", f.File, f.Line)
	}
	failingLine := strings.TrimSpace(lines[f.Line-1])

	// The pages, in a browser.
	eventually(t, "the failed transaction indexed", 30*time.Second, func() bool {
		return apptest.GetData(t, base+"/api/v1/txs/"+failed.Hex(), nil) == 200
	})
	bctx := browser(t)
	do(t, bctx, "contract page", chromedp.Navigate(base+"/contract/"+vault))
	waitJS(t, bctx, "badge", `document.querySelector('#badge').dataset.status === 'full'`)
	waitJS(t, bctx, "source", `document.querySelectorAll('#source .line').length > 50 && document.querySelector('#source').textContent.includes('contract LendingVault')`)
	if at := eval[string](t, bctx, `document.querySelector('#verified-at').getAttribute('datetime')`); at == "" {
		t.Error("the contract page does not say when the vault was verified")
	}
	if eval[bool](t, bctx, `!document.querySelector('#code-changed').hidden`) {
		t.Error("the vault's page says its code changed")
	}
	do(t, bctx, "moved record's page", chromedp.Navigate(base+"/contract/"+ch.App.Router.Hex()))
	waitJS(t, bctx, "code changed note", `!document.querySelector('#code-changed').hidden && document.querySelector('#code-changed').textContent.includes('no longer matches')`)
	do(t, bctx, "debugger page", chromedp.Navigate(base+"/debug/"+failed.Hex()))
	waitJS(t, bctx, "debugger ready", `document.querySelector('#debugger').dataset.ready === 'true'`)
	if got := run(t, bctx, "current line", chromedp.Text(chromedp.CSS(`#src .line.cur`))); !strings.Contains(got, failingLine) {
		t.Errorf("the debugger page's current line is %q, want %q", got, failingLine)
	}
}

// borrowWithoutCollateral sends borrow(1) to the vault from a funded
// account that deposited nothing; it reverts with InsufficientCollateral.
// The feed's owner first answers the same price again: the chain seals a
// block every 200 ms, a second apart in block time, so on a slow machine
// the deploy's answer grows stale and the borrow would revert with
// StalePrice instead.
func borrowWithoutCollateral(t *testing.T, ctx context.Context, ch *demo.Chain) common.Hash {
	t.Helper()
	feedABI, ok := ch.App.ABI("PriceFeed")
	if !ok {
		t.Fatal("no PriceFeed ABI")
	}
	out, err := ch.Eth.CallContract(ctx, ethereum.CallMsg{To: &ch.App.Feed, Data: feedABI.Methods["latestRoundData"].ID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	round, err := feedABI.Unpack("latestRoundData", out)
	if err != nil || len(round) < 2 {
		t.Fatalf("latestRoundData: %v", err)
	}
	update, err := feedABI.Pack("updateAnswer", round[1])
	if err != nil {
		t.Fatal(err)
	}
	if rcpt := sendTx(t, ctx, ch, ch.Keys[demo.Deployer], ch.App.Feed, update); rcpt.Status != types.ReceiptStatusSuccessful {
		t.Fatal("the feed's owner could not answer again")
	}
	vaultABI, ok := ch.App.ABI("LendingVault")
	if !ok {
		t.Fatal("no LendingVault ABI")
	}
	borrow, err := vaultABI.Pack("borrow", big.NewInt(1))
	if err != nil {
		t.Fatal(err)
	}
	rcpt := sendTx(t, ctx, ch, ch.Keys[len(ch.Keys)-1], ch.App.Vault, borrow)
	if rcpt.Status != types.ReceiptStatusFailed {
		t.Fatal("borrowing without collateral did not fail")
	}
	return rcpt.TxHash
}

// sendTx sends data to to from key and returns its receipt once mined.
func sendTx(t *testing.T, ctx context.Context, ch *demo.Chain, key *ecdsa.PrivateKey, to common.Address, data []byte) *types.Receipt {
	t.Helper()
	chainID, err := ch.Eth.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nonce, err := ch.Eth.PendingNonceAt(ctx, crypto.PubkeyToAddress(key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	price, err := ch.Eth.SuggestGasPrice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.LegacyTx{
		Nonce: nonce, To: &to, Gas: 500_000, GasPrice: new(big.Int).Mul(price, big.NewInt(2)), Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Eth.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	var rcpt *types.Receipt
	eventually(t, "receipt of "+tx.Hash().Hex(), 30*time.Second, func() bool {
		rcpt, err = ch.Eth.TransactionReceipt(ctx, tx.Hash())
		return err == nil
	})
	return rcpt
}

// moveRecord stores the verification of from as that of to, in the
// database at path, as a chain reset would leave it: a record of code that
// is not what runs at to.
func moveRecord(t *testing.T, path string, from, to common.Address) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := db.Verified(t.Context(), from)
	if err != nil {
		t.Fatal(err)
	}
	var stored struct {
		Version int            `json:"version"`
		Result  map[string]any `json:"result"`
	}
	if err := json.Unmarshal(v.Result, &stored); err != nil {
		t.Fatal(err)
	}
	stored.Result["address"] = to.Hex()
	v.Address = to
	if v.Result, err = json.Marshal(stored); err != nil {
		t.Fatal(err)
	}
	if err := db.PutVerified(t.Context(), v); err != nil {
		t.Fatal(err)
	}
}
