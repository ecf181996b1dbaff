// Command patch measures the patch check's replay against replaying the
// same transactions one by one through the node's own debug_traceCall with
// state overrides, on one real geth --dev (archive) in the same run.
//
//	go run ./bench/patch [-txs 1000]
//
// The vault of internal/patch/testdata (compiled by the demo's pinned
// solc-js, so node is needed) is deployed behind an ERC1967Proxy with its
// patched implementation beside it, and users send -txs transactions to it
// (deposits, loans, repayments, withdrawals, a few failing on purpose).
// Then, timed:
//
//   - blocktorch: one patch check of all of them (patch.Checker on
//     debugger.Local reading state from geth over JSON-RPC). Each
//     transaction runs twice, as mined and with the patch, and a patched
//     run that fails is traced again for its source line.
//   - geth: for each transaction, debug_traceCall of its call on the state
//     of the block before it, with the patch as state overrides (the
//     implementation's code and the proxy's ERC-1967 slot), callTracer.
//
// Both run the same patched code on the same node; the figure is
// transactions per second, and the ratio is ours over geth's.
package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/gethtest"
	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

var cpuProfile string

func main() {
	n := flag.Int("txs", 1000, "transactions to replay")
	users := flag.Int("users", 10, "accounts sending them")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the patch check to `FILE`")
	flag.Parse()
	if err := run(*n, *users); err != nil {
		fmt.Fprintln(os.Stderr, "bench-patch:", err)
		os.Exit(1)
	}
}

// compile builds internal/patch/testdata/src with the pinned solc-js.
func compile() ([]contracts.Artifact, error) {
	dir, err := os.MkdirTemp("", "bench-patch-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	script, err := filepath.Abs(filepath.Join("internal", "patch", "testdata", "compile.js"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", script, dir)
	cmd.Dir = filepath.Join("internal", "demo", "contracts")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("node %s (run from the repository root, after make contracts-deps): %v: %s", script, err, out)
	}
	return contracts.LoadDir(dir)
}

type chain struct {
	ctx     context.Context
	ec      *ethclient.Client
	chainID *big.Int
	nonces  map[common.Address]uint64
}

func (c *chain) send(key keyed, to *common.Address, value *big.Int, data []byte) (common.Hash, error) {
	from := key.addr
	if value == nil {
		value = new(big.Int)
	}
	tx, err := types.SignNewTx(key.key, types.LatestSignerForChainID(c.chainID), &types.DynamicFeeTx{
		ChainID: c.chainID, Nonce: c.nonces[from], To: to, Value: value, Gas: 3_000_000, Data: data,
		GasFeeCap: big.NewInt(100e9), GasTipCap: big.NewInt(1),
	})
	if err != nil {
		return common.Hash{}, err
	}
	c.nonces[from]++
	return tx.Hash(), c.ec.SendTransaction(c.ctx, tx)
}

func (c *chain) wait(h common.Hash) (*types.Receipt, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if r, err := c.ec.TransactionReceipt(c.ctx, h); err == nil {
			return r, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, fmt.Errorf("transaction %s not mined", h)
}

func (c *chain) deploy(key keyed, a contracts.Artifact, args ...any) (common.Address, error) {
	code, err := sourcemap.DecodeObject(a.Bytecode)
	if err != nil {
		return common.Address{}, err
	}
	if len(args) > 0 {
		parsed, err := decode.ParseABI(a.ABI)
		if err != nil {
			return common.Address{}, err
		}
		packed, err := parsed.Pack("", args...)
		if err != nil {
			return common.Address{}, err
		}
		code = append(code, packed...)
	}
	h, err := c.send(key, nil, nil, code)
	if err != nil {
		return common.Address{}, err
	}
	r, err := c.wait(h)
	if err != nil {
		return common.Address{}, err
	}
	if r.Status != 1 {
		return common.Address{}, fmt.Errorf("deploying %s failed", a.Name)
	}
	return r.ContractAddress, nil
}

type keyed struct {
	key  *ecdsa.PrivateKey
	addr common.Address
}

func find(arts []contracts.Artifact, name string) (contracts.Artifact, error) {
	for _, a := range arts {
		if a.Name == name {
			return a, nil
		}
	}
	return contracts.Artifact{}, fmt.Errorf("no artifact %s", name)
}

func run(n, nUsers int) error {
	ctx := context.Background()
	fmt.Printf("compiling the vaults with the pinned solc-js…\n")
	arts, err := compile()
	if err != nil {
		return err
	}
	v1, err := find(arts, "VaultV1")
	if err != nil {
		return err
	}
	v2, err := find(arts, "VaultV2")
	if err != nil {
		return err
	}
	proxyArt, err := find(arts, "ERC1967Proxy")
	if err != nil {
		return err
	}
	vault, err := decode.ParseABI(v1.ABI)
	if err != nil {
		return err
	}
	node, err := gethtest.Start(ctx, gethtest.Options{Debug: true, Archive: true})
	if err != nil {
		return err
	}
	defer node.Close()
	rc, err := rpc.DialContext(ctx, node.URL)
	if err != nil {
		return err
	}
	defer rc.Close()
	c := &chain{ctx: ctx, ec: ethclient.NewClient(rc), nonces: map[common.Address]uint64{}}
	if c.chainID, err = c.ec.ChainID(ctx); err != nil {
		return err
	}
	var users []keyed
	var addrs []common.Address
	for range nUsers + 1 {
		k, _ := crypto.GenerateKey()
		users = append(users, keyed{key: k, addr: crypto.PubkeyToAddress(k.PublicKey)})
		addrs = append(addrs, users[len(users)-1].addr)
	}
	if err := demo.Fund(ctx, rc, addrs, new(big.Int).Lsh(big.NewInt(1), 80)); err != nil {
		return err
	}
	owner, users := users[0], users[1:]
	impl, err := c.deploy(owner, v1)
	if err != nil {
		return err
	}
	init, _ := vault.Pack("initialize", owner.addr)
	proxy, err := c.deploy(owner, proxyArt, impl, init)
	if err != nil {
		return err
	}
	patched, err := c.deploy(owner, v2)
	if err != nil {
		return err
	}

	// The traffic: each round, every user sends its next transaction of a
	// cycle; one in ten withdraws more than it has and fails.
	fmt.Printf("sending %d transactions from %d users to the vault on geth --dev…\n", n, nUsers)
	eth := big.NewInt(1e18)
	milli := func(m int64) *big.Int { return new(big.Int).Mul(big.NewInt(m), big.NewInt(1e15)) }
	pack := func(m string, args ...any) []byte { b, _ := vault.Pack(m, args...); return b }
	var hashes []common.Hash
	for i := 0; len(hashes) < n; i++ {
		u := users[i%nUsers]
		var h common.Hash
		switch step := (i / nUsers) % 10; {
		case step == 0 || step == 5:
			h, err = c.send(u, &proxy, eth, pack("deposit"))
		case step == 1 || step == 6:
			h, err = c.send(u, &proxy, nil, pack("borrow", milli(100)))
		case step == 2 || step == 7:
			h, err = c.send(u, &proxy, milli(100), pack("repay"))
		case step == 9:
			h, err = c.send(u, &proxy, nil, pack("withdraw", new(big.Int).Mul(eth, big.NewInt(1000))))
		default:
			h, err = c.send(u, &proxy, nil, pack("withdraw", milli(200)))
		}
		if err != nil {
			return err
		}
		hashes = append(hashes, h)
		if len(hashes)%nUsers == 0 {
			// Let the round be mined before the next, so that a user's
			// transactions stay in order.
			if _, err := c.wait(h); err != nil {
				return err
			}
		}
	}
	failed := 0
	blocks := map[uint64]bool{}
	type mined struct {
		tx    *types.Transaction
		from  common.Address
		block uint64
	}
	txs := make([]mined, len(hashes))
	for i, h := range hashes {
		r, err := c.wait(h)
		if err != nil {
			return err
		}
		if r.Status == 0 {
			failed++
		}
		blocks[r.BlockNumber.Uint64()] = true
		tx, _, err := c.ec.TransactionByHash(ctx, h)
		if err != nil {
			return err
		}
		from, err := types.Sender(types.LatestSignerForChainID(c.chainID), tx)
		if err != nil {
			return err
		}
		txs[i] = mined{tx: tx, from: from, block: r.BlockNumber.Uint64()}
	}
	fmt.Printf("%d transactions in %d blocks, %d failed as mined\n\n", len(hashes), len(blocks), failed)

	// blocktorch: one patch check.
	dir, err := os.MkdirTemp("", "bench-patch-traces-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ck := &patch.Checker{Node: c.ec, Replayer: &debugger.Local{RPC: rc}, Options: debugger.Options{Dir: dir}, MaxTxs: n}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	start := time.Now()
	phases := map[string]time.Duration{}
	last, lastPhase := start, ""
	progress := func(p patch.Progress) {
		if p.Phase != lastPhase {
			now := time.Now()
			if lastPhase != "" {
				phases[lastPhase] += now.Sub(last)
			}
			last, lastPhase = now, p.Phase
		}
	}
	rep, err := ck.Check(ctx, patch.Request{Artifacts: arts, Contract: "VaultV2", Target: proxy, Txs: hashes, Deployed: &patched, Progress: progress})
	if err != nil {
		return err
	}
	ours := time.Since(start)
	pprof.StopCPUProfile()
	phases[lastPhase] += time.Since(last)
	if len(rep.Txs) != len(hashes) || rep.Summary.Errors > 0 {
		return fmt.Errorf("the patch check replayed %d of %d transactions, %d errors", len(rep.Txs), len(hashes), rep.Summary.Errors)
	}
	oursFailed := 0
	for _, t := range rep.Txs {
		if t.Patched.Status == 0 {
			oursFailed++
		}
	}

	// geth: debug_traceCall one by one with the patch as state overrides.
	code, err := c.ec.CodeAt(ctx, patched, nil)
	if err != nil {
		return err
	}
	overrides := map[common.Address]any{
		patched: map[string]any{"code": hexutil.Bytes(code)},
		proxy:   map[string]any{"stateDiff": map[common.Hash]common.Hash{contracts.SlotEIP1967Implementation: common.BytesToHash(patched[:])}},
	}
	start = time.Now()
	gethFailed := 0
	for _, m := range txs {
		call := map[string]any{"from": m.from, "to": m.tx.To(), "data": hexutil.Bytes(m.tx.Data()), "value": (*hexutil.Big)(m.tx.Value()), "gas": hexutil.Uint64(m.tx.Gas())}
		var frame struct {
			Error string `json:"error"`
		}
		err := rc.CallContext(ctx, &frame, "debug_traceCall", call, hexutil.EncodeUint64(m.block-1),
			map[string]any{"tracer": "callTracer", "stateOverrides": overrides})
		if err != nil {
			return fmt.Errorf("debug_traceCall: %w", err)
		}
		if frame.Error != "" {
			gethFailed++
		}
	}
	peer := time.Since(start)
	if oursFailed != gethFailed {
		fmt.Printf("note: %d patched runs failed here and %d in geth's calls (geth's calls start from the block's state, without the earlier transactions of the block)\n", oursFailed, gethFailed)
	}

	tps := func(d time.Duration) float64 { return float64(len(hashes)) / d.Seconds() }
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\ttransactions\ttime\ttx/s\tpatched runs failing\t")
	fmt.Fprintf(tw, "blocktorch patch check (as mined + patched, GOMAXPROCS %d)\t%d\t%s\t%.0f\t%d\t\n", runtime.GOMAXPROCS(0), len(hashes), ours.Round(time.Millisecond), tps(ours), oursFailed)
	fmt.Fprintf(tw, "geth debug_traceCall + stateOverrides, one by one (patched only)\t%d\t%s\t%.0f\t%d\t\n", len(hashes), peer.Round(time.Millisecond), tps(peer), gethFailed)
	tw.Flush()
	fmt.Printf("\nratio: blocktorch is %.2f× geth's debug_traceCall replays (tx/s), doing the mined run as well\n", tps(ours)/tps(peer))
	fmt.Printf("verdict: %s\n", rep.Verdict)
	fmt.Printf("the check's phases:")
	for _, p := range []string{"reading the target", "deploying the new implementation", "replaying"} {
		fmt.Printf(" %s %s;", p, phases[p].Round(time.Millisecond))
	}
	fmt.Println()
	if rep.Summary.Unchanged == 0 {
		return errors.New("no transaction replayed unchanged: the benchmark's traffic is wrong")
	}
	return nil
}
