// Package guardtest boots the mempool guard's real parts for tests and the
// guard benchmark: the embedded chain with the demo app, a SQLite store,
// the indexer and the monitor engine with the demo's guard monitor, the
// response service signing as the demo's guardian with the demo's pause
// scenario, and the guard on the chain's WebSocket endpoint.
package guardtest

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"log/slog"
	"math/big"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/ethrpc"
	"github.com/blocktorch/blocktorch/internal/guard"
	"github.com/blocktorch/blocktorch/internal/indexer"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/notify"
	"github.com/blocktorch/blocktorch/internal/response"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// Config configures a Rig.
type Config struct {
	// BlockInterval is the chain's block time (1 s as in the demo when zero);
	// negative: blocks are made by Mine.
	BlockInterval time.Duration
	// Dir holds the SQLite file and simulation traces.
	Dir string
	// Channels are notified of the guard monitor's alerts.
	Channels []notify.Spec
	// Allow lets notifications reach these hosts (loopback for a local
	// receiver).
	Allow []string
	Hooks guard.Hooks
	Log   *slog.Logger
}

// Rig is the running parts. Start it, Run it, Close it.
type Rig struct {
	Chain    *demo.Chain
	App      *demo.App
	Store    *sqlite.DB
	Reg      *decode.Registry
	Monitors *monitor.Engine
	Respond  *response.Service
	Guard    *guard.Guard
	// WS is a WebSocket connection to the chain (the guard's).
	WS *rpc.Client
	// Keys are the demo's traffic keys; Attacker is keys[demo.Attacker].
	Keys     []*ecdsa.PrivateKey
	Attacker *ecdsa.PrivateKey
	Guardian *ecdsa.PrivateKey
	// PostInclusion turns on the normal path: a monitor firing on a mined
	// block runs its scenarios (as the app's notifier does).
	PostInclusion atomic.Bool
	// MineMu is held by Mine from asking its hold to making the block.
	MineMu sync.Mutex

	index   *indexer.Indexer
	ethrpc  *ethrpc.Client
	closers []func()
	wg      sync.WaitGroup
}

// Start boots the chain, deploys the demo app, makes the guardian a pauser
// and builds every part; nothing runs until Run.
func Start(ctx context.Context, cfg Config) (_ *Rig, err error) {
	if cfg.BlockInterval == 0 {
		cfg.BlockInterval = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	r := &Rig{Guardian: demo.GuardianKey()}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	keys := demo.DefaultKeyCount
	ch, err := demo.StartChain(ctx, demo.ChainConfig{Keys: keys, Chain: devchain.Config{BlockInterval: cfg.BlockInterval, RPCAddr: "127.0.0.1:0",
		Alloc: map[common.Address]*big.Int{crypto.PubkeyToAddress(r.Guardian.PublicKey): demo.GenesisFund}}})
	if err != nil {
		return nil, err
	}
	r.closers = append(r.closers, func() { ch.Close() })
	r.Chain, r.App, r.Keys, r.Attacker = ch, ch.App, ch.Keys, ch.Keys[demo.Attacker]
	if cfg.BlockInterval < 0 {
		// Blocks for the setup's own transactions.
		setupCtx, stopSetup := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			r.Mine(setupCtx, 5*time.Millisecond, nil)
		}()
		defer func() { stopSetup(); <-done }()
	}
	if err := r.App.GrantPauser(ctx, ch.Eth, ch.Keys[demo.Deployer], crypto.PubkeyToAddress(r.Guardian.PublicKey)); err != nil {
		return nil, err
	}

	if r.Store, err = sqlite.Open(ctx, filepath.Join(cfg.Dir, "guard.db")); err != nil {
		return nil, err
	}
	r.closers = append(r.closers, func() { r.Store.Close() })
	r.Reg = decode.NewRegistry()
	var contracts []response.Contract
	for _, c := range r.App.Contracts() {
		if err := r.Reg.Add(c.Address, c.Name, c.ABI); err != nil {
			return nil, err
		}
		if err := r.Store.PutContract(ctx, store.Contract{Address: c.Address, Name: c.Name, ABI: c.ABI, Origin: "demo", Added: time.Now()}); err != nil {
			return nil, err
		}
		contracts = append(contracts, response.Contract{Address: c.Address, Name: c.Name, ABI: c.ABI})
	}
	if r.WS, err = rpc.DialContext(ctx, ch.WSEndpoint()); err != nil {
		return nil, err
	}
	r.closers = append(r.closers, r.WS.Close)

	// The response service signs as the guardian and simulates on the
	// head state with the debugger, as the app does.
	local := &debugger.Local{RPC: ch.Client()}
	simOpts := debugger.Options{Dir: filepath.Join(cfg.Dir, "traces"), Registry: r.Reg}
	r.Respond = &response.Service{
		Node: ch.Eth, Signer: response.NewKeySigner(r.Guardian, "demo guardian"), History: r.Store, Log: cfg.Log, Poll: 20 * time.Millisecond,
		Contracts: func(context.Context) ([]response.Contract, error) { return contracts, nil },
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
			sim := &response.Simulation{Reverted: res.Status == 0, GasUsed: res.GasUsed, Block: res.BlockNumber - 1, TraceID: res.TxHash}
			if res.Failure != nil {
				sim.Reason = res.Failure.Reason
			}
			return sim, nil
		},
	}
	scs, err := response.ParseScenarios([]byte(demo.GuardScenarios))
	if err != nil {
		return nil, err
	}
	r.Respond.SetScenarios(scs)

	dest := notify.Destinations{Allow: notify.Loopback}
	ob := notify.NewOutbox(r.Store, notify.Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: time.Second, Destinations: dest, Logger: cfg.Log})
	r.Monitors = monitor.New(monitor.Deps{
		Store: r.Store, Contracts: r.Store.Contracts, Blocks: r.Store, Search: r.Store,
		Node: monitor.NewRPCNode(ch.Client()), Decode: r.Reg.DecodeCall, Notifier: ob, Responder: responder{rig: r},
	}, monitor.Options{Logger: cfg.Log})
	if err := r.Monitors.Load(ctx); err != nil {
		return nil, err
	}
	f, _, err := monitor.ParseYAML("guard.yaml", []byte(demo.GuardMonitors))
	if err != nil {
		return nil, err
	}
	f.Channels = cfg.Channels
	for i := range f.Monitors {
		for _, c := range cfg.Channels {
			f.Monitors[i].Channels = append(f.Monitors[i].Channels, c.Name)
		}
	}
	if _, err := r.Monitors.Apply(ctx, "demo", f); err != nil {
		return nil, err
	}

	if r.ethrpc, err = ethrpc.Dial(ctx, ch.HTTPEndpoint(), ethrpc.Options{BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond}); err != nil {
		return nil, err
	}
	r.closers = append(r.closers, r.ethrpc.Close)
	r.index = indexer.New(r.ethrpc, r.Store, indexer.Config{BatchSize: 50, Decode: r.Reg.DecodeTx, PollInterval: 10 * time.Millisecond,
		RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		Hooks: indexer.Hooks{
			OnBatch: func(b indexer.BatchInfo) { r.Monitors.OnStored(b.From, b.To) },
			OnReorg: func(ri indexer.ReorgInfo) { r.Monitors.OnReorg(ri.Ancestor) },
		}})

	guardian := crypto.PubkeyToAddress(r.Guardian.PublicKey)
	r.Guard = guard.New(guard.Config{
		RPC: r.WS, Decode: r.Reg.DecodeTx, Monitors: r.Monitors, Respond: r.Respond,
		Ignore: func(from common.Address) bool { return from == guardian },
		Hooks:  cfg.Hooks, Log: cfg.Log,
	})
	return r, nil
}

// Run starts the indexer and the monitor engine until ctx ends; Close
// waits for them.
func (r *Rig) Run(ctx context.Context) { r.start(ctx, r.index.Run, r.Monitors.Run) }

// RunGuard starts the guard until ctx ends.
func (r *Rig) RunGuard(ctx context.Context) { r.start(ctx, r.Guard.Run) }

func (r *Rig) start(ctx context.Context, parts ...func(context.Context) error) {
	for _, p := range parts {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			p(ctx)
		}()
	}
}

// Mine makes a block every interval until ctx ends, on a chain started
// with a negative BlockInterval, except while hold (when set) says to
// wait, for at most 10 s at a time. It asks hold and makes the block
// under MineMu: a caller that changes what hold answers and sends a
// transaction under it knows the block cannot be made in between.
func (r *Rig) Mine(ctx context.Context, every time.Duration, hold func() bool) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var held time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r.MineMu.Lock()
		if hold != nil && hold() {
			if held.IsZero() {
				held = time.Now()
			}
			if time.Since(held) < 10*time.Second {
				r.MineMu.Unlock()
				continue
			}
		}
		held = time.Time{}
		r.Chain.Commit()
		r.MineMu.Unlock()
	}
}

// Wait waits for what Run started (after its ctx ended).
func (r *Rig) Wait() { r.wg.Wait() }

// Close releases everything; call it after the ctx given to Run ended.
func (r *Rig) Close() {
	r.wg.Wait()
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}

// Attack sends the demo's exploit from the attacker at the feed's current
// price, with tip and fee cap per gas (wei), at nonce; it returns the
// transaction once the node took it. An earlier exploit that was not
// blocked left its debt on the attacker's account, and a price that fell
// since may leave that position short: the exploit's collateral then
// covers the shortfall too, so that it fails only on the guard's pause.
func (r *Rig) Attack(ctx context.Context, nonce uint64, tip, feeCap *big.Int) (*types.Transaction, error) {
	price, err := r.App.Price(ctx, r.Chain.Eth)
	if err != nil {
		return nil, err
	}
	to, value, data := r.App.Exploit(price)
	attacker := crypto.PubkeyToAddress(r.Attacker.PublicKey)
	debt, err := r.vaultView(ctx, "debtOf", attacker)
	if err != nil {
		return nil, err
	}
	if debt.Sign() > 0 {
		limit, err := r.vaultView(ctx, "maxBorrow", attacker)
		if err != nil {
			return nil, err
		}
		if short := new(big.Int).Sub(debt, limit); short.Sign() > 0 {
			// value covers ExploitBorrow: scale it to ExploitBorrow + short.
			value.Mul(value, new(big.Int).Add(demo.ExploitBorrow, short))
			value.Div(value, demo.ExploitBorrow)
		}
	}
	return r.send(ctx, r.Attacker, nonce, &to, value, data, 1_500_000, tip, feeCap)
}

// vaultView calls a view of the vault taking an address and returning a
// uint256.
func (r *Rig) vaultView(ctx context.Context, method string, arg common.Address) (*big.Int, error) {
	vault, _ := r.App.ABI("LendingVault")
	data, err := vault.Pack(method, arg)
	if err != nil {
		return nil, err
	}
	out, err := r.Chain.Eth.CallContract(ctx, callMsg(r.App.Vault, data), nil)
	if err != nil {
		return nil, fmt.Errorf("cannot call the vault's %s: %w", method, err)
	}
	return new(big.Int).SetBytes(out), nil
}

// PrepareAttacker has the attacker let the router act for it (the
// exploit's one preparation) and waits until it is mined.
func (r *Rig) PrepareAttacker(ctx context.Context) error {
	nonce, err := r.Chain.Eth.PendingNonceAt(ctx, crypto.PubkeyToAddress(r.Attacker.PublicKey))
	if err != nil {
		return err
	}
	to, data := r.App.ExploitOperator()
	tx, err := r.send(ctx, r.Attacker, nonce, &to, nil, data, 200_000, big.NewInt(2e9), big.NewInt(100e9))
	if err != nil {
		return err
	}
	rec, err := r.WaitMined(ctx, tx.Hash())
	if err != nil {
		return err
	}
	if rec.Status != types.ReceiptStatusSuccessful {
		return fmt.Errorf("setOperator failed in %s", tx.Hash())
	}
	return nil
}

// Unpause has the guardian unpause the vault and waits until it is mined.
func (r *Rig) Unpause(ctx context.Context) error {
	nonce, err := r.Chain.Eth.PendingNonceAt(ctx, crypto.PubkeyToAddress(r.Guardian.PublicKey))
	if err != nil {
		return err
	}
	to := r.App.Vault
	vault, _ := r.App.ABI("LendingVault")
	data, _ := vault.Pack("unpause")
	tx, err := r.send(ctx, r.Guardian, nonce, &to, nil, data, 200_000, big.NewInt(2e9), big.NewInt(100e9))
	if err != nil {
		return err
	}
	rec, err := r.WaitMined(ctx, tx.Hash())
	if err != nil {
		return err
	}
	if rec.Status != types.ReceiptStatusSuccessful {
		return fmt.Errorf("unpause failed in %s", tx.Hash())
	}
	return nil
}

// Paused reads the vault's paused().
func (r *Rig) Paused(ctx context.Context) (bool, error) {
	vault, _ := r.App.ABI("LendingVault")
	data, _ := vault.Pack("paused")
	to := r.App.Vault
	out, err := r.Chain.Eth.CallContract(ctx, callMsg(to, data), nil)
	if err != nil {
		return false, err
	}
	return len(out) == 32 && out[31] == 1, nil
}

func (r *Rig) send(ctx context.Context, key *ecdsa.PrivateKey, nonce uint64, to *common.Address, value *big.Int, data []byte, gas uint64, tip, feeCap *big.Int) (*types.Transaction, error) {
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(r.App.ChainID), &types.DynamicFeeTx{
		ChainID: r.App.ChainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas, To: to, Value: value, Data: data,
	})
	if err != nil {
		return nil, err
	}
	if err := r.Chain.Eth.SendTransaction(ctx, tx); err != nil {
		return nil, fmt.Errorf("cannot send %s: %w", tx.Hash(), err)
	}
	return tx, nil
}

// WaitMined polls for a receipt.
func (r *Rig) WaitMined(ctx context.Context, h common.Hash) (*types.Receipt, error) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		rec, err := r.Chain.Eth.TransactionReceipt(ctx, h)
		if err == nil {
			return rec, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w", h, ctx.Err())
		case <-tick.C:
		}
	}
}

// responder is the normal, post-inclusion path: a monitor firing on a
// mined block runs its scenarios, as the app's responder does, once
// PostInclusion is on.
type responder struct{ rig *Rig }

func (r responder) CheckScenario(name string) error { return r.rig.Respond.CheckScenario(name) }

func (r responder) Fired(monitorID, _, scenario, tx string) {
	if !r.rig.PostInclusion.Load() {
		return
	}
	r.rig.wg.Add(1)
	go func() {
		defer r.rig.wg.Done()
		var h common.Hash
		if b, err := hexutil.Decode(tx); err == nil && len(b) == common.HashLength {
			h = common.BytesToHash(b)
		}
		r.rig.Respond.OnMonitorFiring(context.Background(), monitorID, scenario, h)
	}()
}

func callMsg(to common.Address, data []byte) ethereum.CallMsg {
	return ethereum.CallMsg{To: &to, Data: data}
}

// FundVault mints amount of the demo token to the vault, from the deployer
// (the token's owner); call it before traffic runs, which sends from the
// deployer too.
func (r *Rig) FundVault(ctx context.Context, amount *big.Int) error {
	deployer := r.Chain.Keys[demo.Deployer]
	nonce, err := r.Chain.Eth.PendingNonceAt(ctx, crypto.PubkeyToAddress(deployer.PublicKey))
	if err != nil {
		return err
	}
	token, _ := r.App.ABI("DemoToken")
	data, err := token.Pack("mint", r.App.Vault, amount)
	if err != nil {
		return err
	}
	to := r.App.Token
	tx, err := r.send(ctx, deployer, nonce, &to, nil, data, 200_000, big.NewInt(2e9), big.NewInt(100e9))
	if err != nil {
		return err
	}
	rec, err := r.WaitMined(ctx, tx.Hash())
	if err != nil {
		return err
	}
	if rec.Status != types.ReceiptStatusSuccessful {
		return fmt.Errorf("mint failed in %s", tx.Hash())
	}
	return nil
}

// GroupByTx makes the guard monitor fire once per transaction (instead of
// once while its alert lasts), so that every attack fires it on the
// post-inclusion path too.
func (r *Rig) GroupByTx(ctx context.Context, channels []string) error {
	f, _, err := monitor.ParseYAML("guard.yaml", []byte(demo.GuardMonitors))
	if err != nil {
		return err
	}
	for i := range f.Monitors {
		f.Monitors[i].GroupBy = []string{"tx"}
		f.Monitors[i].Channels = channels
	}
	_, err = r.Monitors.Merge(ctx, "demo", f, nil)
	return err
}
