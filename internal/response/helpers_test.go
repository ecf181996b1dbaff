package response_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/gethtest"
	"github.com/blocktorch/blocktorch/internal/response"
)

// rig is the embedded chain with the demo app deployed on it.
type rig struct {
	rc      *rpc.Client
	ec      *ethclient.Client
	chainID *big.Int
	app     *demo.App
	keys    []*ecdsa.PrivateKey
	vault   abi.ABI
	reg     *decode.Registry
	sim     response.SimulateFunc
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newRig starts the embedded chain sealing every 100 ms and deploys the
// demo app.
func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := testContext(t)
	keys := demo.Keys(demo.DefaultKeyCount)
	ch, err := devchain.Start(devchain.Config{BlockInterval: 100 * time.Millisecond, Alloc: demo.Alloc(keys), RPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	rc, err := rpc.Dial(ch.HTTPEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	ec := ethclient.NewClient(rc)
	app, err := demo.Deploy(ctx, ec, keys[demo.Deployer])
	if err != nil {
		t.Fatal(err)
	}
	return finishRig(t, rc, ec, app, keys)
}

// chains runs a test on the embedded chain and on a real geth --dev
// (skipped with -short or without the geth binary).
func chains(t *testing.T, test func(t *testing.T, r *rig)) {
	t.Run("embedded", func(t *testing.T) { test(t, newRig(t)) })
	t.Run("geth", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts geth")
		}
		if _, err := gethtest.Find(); err != nil {
			t.Skipf("no geth: %v", err)
		}
		test(t, newGethRig(t))
	})
}

// newGethRig starts a real geth --dev (sealing each transaction as it
// arrives), funds the demo's keys from its dev account and deploys the
// demo app.
func newGethRig(t *testing.T) *rig {
	t.Helper()
	ctx := testContext(t)
	node, err := gethtest.Start(ctx, gethtest.Options{Debug: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	rc, err := rpc.DialContext(ctx, node.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	keys := demo.Keys(demo.DefaultKeyCount)
	if err := demo.Fund(ctx, rc, demo.Addresses(keys), new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(1e18))); err != nil {
		t.Fatal(err)
	}
	ec := ethclient.NewClient(rc)
	app, err := demo.Deploy(ctx, ec, keys[demo.Deployer])
	if err != nil {
		t.Fatalf("deploying the demo on geth: %v\n%s", err, node.Output())
	}
	return finishRig(t, rc, ec, app, keys)
}

// finishRig builds the rig over a chain the demo app is deployed on.
func finishRig(t *testing.T, rc *rpc.Client, ec *ethclient.Client, app *demo.App, keys []*ecdsa.PrivateKey) *rig {
	t.Helper()
	vault, _ := app.ABI("LendingVault")
	reg := decode.NewRegistry()
	for _, c := range app.Contracts() {
		if err := reg.Add(c.Address, c.Name, c.ABI); err != nil {
			t.Fatal(err)
		}
	}
	r := &rig{rc: rc, ec: ec, chainID: app.ChainID, app: app, keys: keys, vault: vault, reg: reg}
	local := &debugger.Local{RPC: rc}
	opts := debugger.Options{Dir: t.TempDir(), Registry: reg}
	r.sim = func(ctx context.Context, call response.Call) (*response.Simulation, error) {
		to := call.To
		res, err := local.Simulate(ctx, debugger.SimRequest{From: call.From, To: &to, Data: call.Data}, opts)
		if err != nil {
			return nil, err
		}
		return simulation(res), nil
	}
	return r
}

// simulation converts the debugger's result the way the app does.
func simulation(r *debugger.Result) *response.Simulation {
	sim := &response.Simulation{Reverted: r.Status == 0, GasUsed: r.GasUsed, Block: r.BlockNumber - 1, TraceID: r.TxHash,
		Events: []response.SimEvent{}, Changes: []response.StateChange{}}
	if r.Failure != nil {
		sim.Reason = r.Failure.Reason
	}
	for _, e := range r.Events {
		ev := response.SimEvent{Address: e.Address, Reverted: e.Reverted}
		if e.Decoded != nil {
			ev.Name, ev.Args = e.Decoded.Name, e.Decoded.Args
		} else if len(e.Topics) > 0 {
			ev.Name = e.Topics[0].Hex()
		}
		sim.Events = append(sim.Events, ev)
	}
	for _, d := range r.State {
		for _, s := range d.Storage {
			if s.Written && s.Before != s.After {
				sim.Changes = append(sim.Changes, response.StateChange{Address: d.Address, Label: s.Label, Slot: s.Slot, Before: s.Before, After: s.After})
			}
		}
	}
	return sim
}

// service returns a response service over the rig's contracts.
// marks lists the functions marked as emergency, by contract.
func (r *rig) service(signer response.Signer, marks map[common.Address][]string) *response.Service {
	return &response.Service{
		Node: r.ec, Simulate: r.sim, Signer: signer, Poll: 20 * time.Millisecond,
		Contracts: func(context.Context) ([]response.Contract, error) {
			var out []response.Contract
			for _, c := range r.app.Contracts() {
				out = append(out, response.Contract{Address: c.Address, Name: c.Name, ABI: c.ABI, Emergency: marks[c.Address]})
			}
			return out, nil
		},
	}
}

// paused reads the vault's paused().
func (r *rig) paused(t *testing.T) bool {
	t.Helper()
	data, _ := r.vault.Pack("paused")
	out, err := r.ec.CallContract(testContext(t), ethereum.CallMsg{To: &r.app.Vault, Data: data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return new(big.Int).SetBytes(out).Sign() != 0
}

// send sends data to to from key and waits for the receipt.
func (r *rig) send(t *testing.T, key *ecdsa.PrivateKey, to common.Address, data []byte) *types.Receipt {
	t.Helper()
	ctx := testContext(t)
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := r.ec.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(r.chainID), &types.DynamicFeeTx{
		ChainID: r.chainID, Nonce: nonce, To: &to, Gas: 1_000_000, Data: data,
		GasFeeCap: big.NewInt(100_000_000_000), GasTipCap: big.NewInt(1_000_000_000),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.ec.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	return r.receipt(t, tx.Hash())
}

// receipt polls for a receipt until the test's deadline.
func (r *rig) receipt(t *testing.T, hash common.Hash) *types.Receipt {
	t.Helper()
	ctx := testContext(t)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		rec, err := r.ec.TransactionReceipt(ctx, hash)
		if err == nil {
			return rec
		}
		if !errors.Is(err, ethereum.NotFound) && !strings.Contains(err.Error(), "indexing") {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no receipt for %s", hash)
		case <-tick.C:
		}
	}
}
