package web_test

import (
	"context"
	"math/big"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/web"
)

// tokenABI is the vault's ABI in this test: a token with 6 decimals.
const tokenABI = `[{"type":"function","name":"decimals","inputs":[],"outputs":[{"name":"","type":"uint8"}],"stateMutability":"view"},
{"type":"event","name":"Transfer","inputs":[{"name":"from","type":"address","indexed":true},{"name":"to","type":"address","indexed":true},{"name":"value","type":"uint256","indexed":false}]}]`

// Names and units: a known contract shows by its name (address on hover)
// in Explore's facets, in stats tables and in the debugger's header; a
// token amount shows in whole tokens; epoch seconds show as a time; facet
// titles read as written.
func TestBrowserNamesAndUnits(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	st, start, _ := browserCorpus(t)
	ctx := t.Context()
	if err := st.PutContract(ctx, store.Contract{Address: vault, Name: "LendingVault", ABI: []byte(tokenABI), Origin: "user", Added: start}); err != nil {
		t.Fatal(err)
	}
	// One more block: a transaction sending 2.5 ETH and logging a Transfer
	// of 1.5 tokens (1500000 units) that also carries an update time in
	// epoch seconds.
	bt := start.Add(59*time.Minute + 30*time.Second)
	h := common.HexToHash("0x7777")
	b := chain.Block{Number: 60, Hash: common.BigToHash(big.NewInt(1060)), ParentHash: common.BigToHash(big.NewInt(1059)), Time: bt, GasLimit: 30_000_000, TxCount: 1,
		Txs: []chain.Tx{{Hash: h, BlockNumber: 60, BlockHash: common.BigToHash(big.NewInt(1060)), Time: bt, From: alice, To: &vault, Value: new(big.Int).Mul(big.NewInt(25), big.NewInt(1e17)), Status: 1,
			GasUsed: 40_000, EffectiveGasPrice: big.NewInt(1), Input: common.FromHex("0xa9059cbb"), Call: &chain.Call{Contract: "LendingVault", Method: "transfer", Signature: "transfer(address,uint256)"},
			Logs: []chain.Log{{Address: vault, Topics: []common.Hash{common.HexToHash("0xddf2")}, BlockNumber: 60, BlockHash: common.BigToHash(big.NewInt(1060)), TxHash: h,
				Event: &chain.Event{Name: "Transfer", Contract: "LendingVault", Signature: "Transfer(address,address,uint256)", Args: []chain.Arg{
					{Name: "from", Type: "address", Value: alice.Hex()}, {Name: "to", Type: "address", Value: vault.Hex()},
					{Name: "value", Type: "uint256", Value: "1500000"}, {Name: "updatedAt", Type: "uint256", Value: "1764806400"}}}}}}},
	}
	if err := st.WriteBlocks(ctx, []chain.Block{b}); err != nil {
		t.Fatal(err)
	}
	// An alert whose summary names the vault by address, as monitors write it.
	summary := "withdraw of 5 from " + vault.Hex() + " by " + alice.Hex()
	if err := st.SaveAlerts(ctx, nil, []store.AlertEvent{{MonitorID: "vault-outflow", Key: "k", Status: "firing", Time: bt, Block: 60,
		Detail: []byte(`{"summary":"` + summary + `"}`)}}); err != nil {
		t.Fatal(err)
	}
	alerts := monitor.New(monitor.Deps{Store: st}, monitor.Options{})
	decimals := common.FromHex("0x313ce567")
	srv, err := web.New(web.Deps{Chain: st, Contracts: st, Search: st, Dashboards: st, Shares: st,
		Status: func(context.Context) web.Status {
			return web.Status{Mode: "test", ChainID: "1337", NodeHead: 60, IndexedHead: 60}
		},
		Monitors: alerts,
		Call: func(_ context.Context, msg ethereum.CallMsg, _ *big.Int) ([]byte, error) {
			if *msg.To == vault && string(msg.Data) == string(decimals) {
				return common.LeftPadBytes([]byte{6}, 32), nil
			}
			return nil, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	bctx := browser(t)
	dir, err := os.MkdirTemp("", "blocktorch-ui-")
	if err != nil {
		t.Fatal(err)
	}
	sh := &shots{t: t, dir: dir}
	watchScripts(t, bctx)
	hour := "&from=" + start.Format(time.RFC3339) + "&to=" + start.Add(time.Hour).Format(time.RFC3339)

	// Facets: the contract by name, titles as written.
	do(t, bctx, "explore", chromedp.Navigate(ts.URL+"/explore?q="+url.QueryEscape("kind:tx OR kind:revert OR kind:event")+hour))
	waitJS(t, bctx, "facets", `!!document.querySelector('#facets [data-field="contract"] .facet-row .name.named') && !!document.querySelector('#facets [data-field="revertReason"]')`)
	type facet struct {
		Name, Title, Heading, Transform string
	}
	f := eval[facet](t, bctx, `(() => {
		const n = document.querySelector('#facets [data-field="contract"] .facet-row .name');
		const h = document.querySelector('#facets [data-field="revertReason"] h3');
		return {Name: n.textContent, Title: n.title, Heading: h.innerText, Transform: getComputedStyle(h).textTransform};
	})()`)
	if f.Name != "LendingVault" || !strings.EqualFold(f.Title, vault.Hex()) {
		t.Errorf("contract facet shows %q (hover %q), want LendingVault with its address on hover", f.Name, f.Title)
	}
	if f.Heading != "revertReason" || f.Transform != "none" {
		t.Errorf("facet title reads %q (text-transform %s), want revertReason as written", f.Heading, f.Transform)
	}

	// The Transfer's details: 1.5 tokens, the update time as a time.
	do(t, bctx, "transfer", chromedp.Navigate(ts.URL+"/explore?q="+url.QueryEscape("event:Transfer")+hour))
	waitJS(t, bctx, "transfer record", `document.querySelectorAll('#results .rec').length === 1`)
	eval[bool](t, bctx, `(document.querySelector('#results .rec-line').click(), true)`)
	waitJS(t, bctx, "amount", `!!document.querySelector('#results .rec-detail .amount') && document.querySelector('#results .rec-detail .amount').textContent === '1.5'`)
	detail := eval[map[string]string](t, bctx, `Object.fromEntries([...document.querySelectorAll('#results .rec-detail tr')].map((tr) => [tr.querySelector('th').textContent, tr.querySelector('td').textContent]))`)
	if ok, _ := regexp.MatchString(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`, detail["attr.args.updatedAt"]); !ok {
		t.Errorf("updatedAt shows %q, want a time", detail["attr.args.updatedAt"])
	}
	if detail["attr.args.to"] != "LendingVault" {
		t.Errorf("the Transfer's to shows %q, want LendingVault", detail["attr.args.to"])
	}
	sh.take(bctx, "names-detail")

	// The transaction's value in ether, the wei on hover.
	do(t, bctx, "tx record", chromedp.Navigate(ts.URL+"/explore?q="+url.QueryEscape("kind:tx method:transfer")+hour))
	waitJS(t, bctx, "tx record", `document.querySelectorAll('#results .rec').length === 1`)
	eval[bool](t, bctx, `(document.querySelector('#results .rec-line').click(), true)`)
	if v := eval[string](t, bctx, `(() => { const a = document.querySelector('#results .rec-detail .amount'); return a ? a.textContent + ' | ' + a.title : ''; })()`); v != "2.5 ETH | 2500000000000000000 wei" {
		t.Errorf("the transaction's value shows %q, want 2.5 ETH with the wei on hover", v)
	}

	// stats by to: the contract by name.
	do(t, bctx, "stats", chromedp.Navigate(ts.URL+"/explore?q="+url.QueryEscape("kind:tx | stats count() by to")+hour))
	waitJS(t, bctx, "stats table", `!!document.querySelector('#results .result-table tbody td .named')`)
	if cell := eval[string](t, bctx, `document.querySelector('#results .result-table tbody td').textContent`); cell != "LendingVault" {
		t.Errorf("stats by to shows %q, want LendingVault", cell)
	}
	sh.take(bctx, "names-stats")

	// The debugger's header names the called contract.
	do(t, bctx, "debugger", chromedp.Navigate(ts.URL+"/debug/"+h.Hex()), chromedp.WaitReady(chromedp.CSS(`#dbg-to`)))
	if to := eval[string](t, bctx, `document.querySelector('#dbg-to').textContent + ' ' + document.querySelector('#dbg-to').title`); !strings.EqualFold(to, "LendingVault "+vault.Hex()) {
		t.Errorf("debugger header says to %q, want LendingVault with the address on hover", to)
	}
	// The home's alert list: the vault by name in the summary.
	do(t, bctx, "home", chromedp.Navigate(ts.URL+"/"))
	waitJS(t, bctx, "alert", `!!document.querySelector('.alert-item .what .named')`)
	if got := eval[string](t, bctx, `document.querySelector('.alert-item .what').textContent + ' | ' + document.querySelector('.alert-item .what .named').title`); got != "withdraw of 5 from LendingVault by "+alice.Hex()+" | "+vault.Hex() {
		t.Errorf("alert summary reads %q, want the vault by name with its address on hover", got)
	}

	// A wallet's address page: no contract page, the Transfer that names
	// it among its events.
	do(t, bctx, "wallet", chromedp.Navigate(ts.URL+"/address/"+alice.Hex()), chromedp.WaitReady(chromedp.CSS(`#addr-events`)))
	type walletPage struct {
		Kind     string
		Contract bool
		Events   []string
	}
	wp := eval[walletPage](t, bctx, `({Kind: document.querySelector('#addr-kind').textContent, Contract: !!document.querySelector('#contract-link'),
		Events: [...document.querySelectorAll('#addr-events tbody tr')].map((tr) => tr.cells[0].querySelector('strong') ? tr.cells[0].querySelector('strong').textContent + '/' + tr.cells[1].textContent : tr.textContent.trim())})`)
	if wp.Kind != "Wallet" || wp.Contract || len(wp.Events) != 1 || wp.Events[0] != "Transfer/from" {
		t.Errorf("wallet page: %+v, want a Wallet without contract page listing the Transfer from it", wp)
	}
	waitJS(t, bctx, "activity chart", `!!document.querySelector('#activity .chart-host, #activity .msg')`)
	sh.take(bctx, "address-wallet")
	checkNoScriptRan(t, bctx, "names")
}
