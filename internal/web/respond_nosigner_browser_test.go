package web_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/app"
	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/response"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

// respondBrowserNoSigner: a server whose response service has no signer
// (a second server on the running demo's chain, with a store that knows
// the vault) shows in the Respond panel that none is configured; the
// pause prepares and simulates, and Send is disabled with its reason,
// while nothing is signed.
func respondBrowserNoSigner(t *testing.T, a *app.App) {
	ctx := t.Context()
	vault := common.HexToAddress(demoContract(t, a.URL(), "LendingVault"))
	rpcURL, _ := a.ChainRPC()
	rc, err := rpc.DialContext(ctx, rpcURL)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	ec := ethclient.NewClient(rc)
	arts, err := demo.Artifacts()
	if err != nil {
		t.Fatal(err)
	}
	vaultABI := arts["LendingVault"].ABI
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "nosigner.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.PutContract(ctx, store.Contract{Address: vault, Name: "LendingVault", ABI: vaultABI, Origin: "demo", Added: time.Now()}); err != nil {
		t.Fatal(err)
	}
	reg := decode.NewRegistry()
	if err := reg.Add(vault, "LendingVault", vaultABI); err != nil {
		t.Fatal(err)
	}
	local := &debugger.Local{RPC: rc}
	simOpts := debugger.Options{Dir: t.TempDir(), Registry: reg}
	svc := &response.Service{
		Node: ec,
		Contracts: func(context.Context) ([]response.Contract, error) {
			return []response.Contract{{Address: vault, Name: "LendingVault", ABI: vaultABI}}, nil
		},
		Simulate: func(ctx context.Context, call response.Call) (*response.Simulation, error) {
			to := call.To
			req := debugger.SimRequest{From: call.From, To: &to, Data: call.Data}
			if call.Value != nil {
				req.Value = (*hexutil.Big)(call.Value)
			}
			res, err := local.Simulate(ctx, req, simOpts)
			if err != nil {
				return nil, err
			}
			sim := &response.Simulation{Reverted: res.Status == 0, GasUsed: res.GasUsed, Block: res.BlockNumber - 1, TraceID: res.TxHash,
				Events: []response.SimEvent{}, Changes: []response.StateChange{}}
			if res.Failure != nil {
				sim.Reason = res.Failure.Reason
			}
			for _, e := range res.Events {
				ev := response.SimEvent{Address: e.Address, Reverted: e.Reverted}
				if e.Decoded != nil {
					ev.Name, ev.Args = e.Decoded.Name, e.Decoded.Args
				}
				sim.Events = append(sim.Events, ev)
			}
			return sim, nil
		},
	}
	srv, err := web.New(web.Deps{Chain: st, Contracts: st, Search: st, Dashboards: st, Shares: st, Respond: svc, Call: ec.CallContract,
		Status: func(context.Context) web.Status { return web.Status{Mode: "test"} }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	bctx := browser(t)
	watchScripts(t, bctx)
	do(t, bctx, "the vault's page without a signer", chromedp.Navigate(ts.URL+"/contract/"+vault.Hex()+"?action=pause"))
	waitJS(t, bctx, "the panel", `document.querySelector('#respond')?.dataset.ready === 'true'`)
	if got := eval[string](t, bctx, `document.querySelector('#respond-no-signer')?.innerText || ''`); got == "" {
		t.Errorf("the panel does not say no signer is configured:\n%s", eval[string](t, bctx, `document.querySelector('#respond').innerText`))
	}
	waitJS(t, bctx, "the pause's detail", `document.querySelector('#respond-detail')?.dataset.action === 'pause'`)
	type sendState struct {
		Disabled      bool
		Title, Reason string
	}
	s := eval[sendState](t, bctx, `(() => { const b = document.querySelector('#respond-send'); return {Disabled: b.disabled, Title: b.title, Reason: document.querySelector('#respond-send-reason')?.innerText || ''}; })()`)
	if !s.Disabled || s.Title != "No signer is configured on the server" || s.Reason != "Send is off: no signer is configured on the server." {
		t.Errorf("Send without a signer: %+v, want disabled with its reason", s)
	}
	// Prepare still works: the simulation from the role's holder, and no
	// signed form.
	do(t, bctx, "prepare", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`(() => { document.querySelector('#respond-prepare').click(); return true; })()`)(ctx, tg)
		return chromedp.Void{}, err
	})
	waitJS(t, bctx, "the simulation", `!!document.querySelector('#respond-sim') && !!document.querySelector('#respond-signed-none')`)
	if !eval[bool](t, bctx, `document.querySelector('#respond-sim').dataset.reverted === 'false' && document.querySelector('#respond-send').disabled`) {
		t.Errorf("after Prepare: %s", eval[string](t, bctx, `document.querySelector('#respond').innerText`))
	}
}
