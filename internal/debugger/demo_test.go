package debugger

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	icontracts "github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/gethtest"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
)

// chainHarness sends transactions to a dev node and waits for them.
type chainHarness struct {
	rc      *rpc.Client
	url     string
	ec      *ethclient.Client
	key     *ecdsa.PrivateKey
	chainID *big.Int
	commit  func() // seals a block (embedded chain), or nil (geth --dev seals on arrival)
	nonce   uint64
}

// embeddedChain starts the embedded chain with one funded key and returns a
// harness on it, its RPC client and the node's HTTP endpoint; the test's
// cleanup stops them.
func embeddedChain(t *testing.T) (h *chainHarness, rc *rpc.Client, url string) {
	t.Helper()
	key, _ := crypto.GenerateKey()
	chain, err := devchain.Start(devchain.Config{
		BlockInterval: -1, RPCAddr: "127.0.0.1:0",
		Alloc: map[common.Address]*big.Int{crypto.PubkeyToAddress(key.PublicKey): new(big.Int).Lsh(big.NewInt(1), 100)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	rc, err = rpc.Dial(chain.HTTPEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	return newHarness(t, rc, chain.HTTPEndpoint(), key, func() { chain.Commit() }), rc, chain.HTTPEndpoint()
}

func newHarness(t *testing.T, rc *rpc.Client, url string, key *ecdsa.PrivateKey, commit func()) *chainHarness {
	t.Helper()
	ec := ethclient.NewClient(rc)
	ctx := context.Background()
	id, err := ec.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nonce, err := ec.PendingNonceAt(ctx, crypto.PubkeyToAddress(key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return &chainHarness{rc: rc, url: url, ec: ec, key: key, chainID: id, commit: commit, nonce: nonce}
}

func (h *chainHarness) send(t *testing.T, to *common.Address, data []byte, gas uint64) (common.Hash, *types.Receipt) {
	t.Helper()
	return h.sendValue(t, to, data, gas, nil)
}

// sendValue sends a transaction carrying value wei (nil for none).
func (h *chainHarness) sendValue(t *testing.T, to *common.Address, data []byte, gas uint64, value *big.Int) (common.Hash, *types.Receipt) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tx, err := types.SignNewTx(h.key, types.LatestSignerForChainID(h.chainID), &types.DynamicFeeTx{
		ChainID: h.chainID, Nonce: h.nonce, To: to, Gas: gas, Data: data, Value: value,
		GasFeeCap: big.NewInt(100_000_000_000), GasTipCap: big.NewInt(1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ec.SendTransaction(ctx, tx); err != nil {
		t.Fatalf("cannot send: %v", err)
	}
	h.nonce++
	if h.commit != nil {
		h.commit()
	}
	for {
		r, err := h.ec.TransactionReceipt(ctx, tx.Hash())
		if err == nil {
			return tx.Hash(), r
		}
		if !errors.Is(err, ethereum.NotFound) && !strings.Contains(err.Error(), "indexing") {
			t.Fatalf("receipt of %s: %v", tx.Hash(), err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("receipt of %s: %v", tx.Hash(), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// failuresApp is a deployed Failures with a proxy in front.
type failuresApp struct {
	impl, proxy common.Address
	abi         abi.ABI
}

func deployFailures(t *testing.T, h *chainHarness) *failuresApp {
	t.Helper()
	in, out := demo.StandardJSON()
	return deployFailuresBuild(t, h, in, out)
}

// deployFailuresBuild deploys Failures and its proxy as compiled into the
// solc standard-JSON input and output given.
func deployFailuresBuild(t *testing.T, h *chainHarness, in, out []byte) *failuresApp {
	t.Helper()
	list, err := icontracts.ParseStandardJSON(in, out, "0.8.28+commit.7893614a")
	if err != nil {
		t.Fatal(err)
	}
	type compiled struct {
		ABI      []byte
		Bytecode []byte
	}
	arts := make(map[string]compiled)
	for _, a := range list {
		arts[a.Name] = compiled{ABI: a.ABI, Bytecode: common.FromHex(a.Bytecode)}
	}
	srcs := NewArtifacts()
	if err := srcs.AddStandardJSON(in, out); err != nil {
		t.Fatal(err)
	}
	parsed, err := abi.JSON(strings.NewReader(string(arts["Failures"].ABI)))
	if err != nil {
		t.Fatal(err)
	}
	_, r := h.send(t, nil, arts["Failures"].Bytecode, 5_000_000)
	if r.Status != 1 {
		t.Fatal("Failures deployment failed")
	}
	impl := r.ContractAddress
	proxyABI, err := abi.JSON(strings.NewReader(string(arts["FailuresProxy"].ABI)))
	if err != nil {
		t.Fatal(err)
	}
	init, err := parsed.Pack("requireString", big.NewInt(101))
	if err != nil {
		t.Fatal(err)
	}
	args, err := proxyABI.Pack("", impl, init)
	if err != nil {
		t.Fatal(err)
	}
	_, r = h.send(t, nil, append(append([]byte(nil), arts["FailuresProxy"].Bytecode...), args...), 10_000_000)
	if r.Status != 1 {
		res, err := (&Local{RPC: h.rc}).Replay(context.Background(), r.TxHash, Options{Dir: t.TempDir(), Sources: srcs})
		t.Fatalf("FailuresProxy deployment failed: %+v %v root %+v", res.Failure, err, res.Root)
	}
	return &failuresApp{impl: impl, proxy: r.ContractAddress, abi: parsed}
}

func demoArtifacts(t *testing.T) *Artifacts {
	t.Helper()
	a := NewArtifacts()
	in, out := demo.StandardJSON()
	if err := a.AddStandardJSON(in, out); err != nil {
		t.Fatal(err)
	}
	return a
}

// lineOf returns the 1-based line of Failures.sol holding text.
func lineOf(t *testing.T, a *Artifacts, text string) int {
	t.Helper()
	src, ok := a.Content("src/Failures.sol")
	if !ok {
		t.Fatal("no source of Failures.sol")
	}
	for i, l := range strings.Split(src, "\n") {
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("no line holds %q", text)
	return 0
}

type failureCase struct {
	name    string
	proxied bool
	method  string
	args    []any
	gas     uint64
	line    string // text of the line the failure must land on
	reason  string // substring of the reason
	caught  bool   // a failure before the origin was handled
	depth   int    // depth of the origin frame
}

var failureCases = []failureCase{
	{name: "require", method: "requireString", args: []any{big.NewInt(5)}, line: `require(x > 100, "Failures: x too small");`, reason: "Failures: x too small"},
	{name: "custom error", method: "customError", args: []any{big.NewInt(9)}, line: "revert Refused(msg.sender, code);", reason: "Refused"},
	{name: "panic overflow", method: "overflow", args: []any{big.NewInt(1)}, line: "return y + x;", reason: "0x11"},
	{name: "division by zero", method: "divide", args: []any{big.NewInt(1), big.NewInt(0)}, line: "return a / b;", reason: "0x12"},
	{name: "out of gas", method: "burnGas", gas: 200_000, line: "while (true) { unchecked { counter += 1; } }", reason: "out of gas"},
	{name: "three calls deep", method: "nest", args: []any{big.NewInt(3)}, line: "revert Refused(msg.sender, 3);", reason: "Refused", depth: 3},
	{name: "caught then revert", method: "catchThenRevert", args: []any{big.NewInt(5)}, line: `require(x == 0, "Failures: later revert");`, reason: "Failures: later revert", caught: true},
	{name: "low-level call handled then revert", method: "lowLevelThenRevert", args: []any{big.NewInt(5)}, line: "revert LaterFailure(x);", reason: "LaterFailure", caught: true},
	{name: "through EIP-1967 proxy", proxied: true, method: "customError", args: []any{big.NewInt(4)}, line: "revert Refused(msg.sender, code);", reason: "Refused", depth: 1},
}

type replayer struct {
	name   string
	replay func(ctx context.Context, tx common.Hash, opts Options) (*Result, error)
}

func replayers(h *chainHarness, debugAPI bool) []replayer {
	out := []replayer{{"local", (&Local{RPC: h.rc}).Replay}}
	if debugAPI {
		out = append(out, replayer{"node", (&Node{RPC: h.rc, URL: h.url}).Replay})
	}
	return out
}

func runFailureCases(t *testing.T, h *chainHarness, app *failuresApp, reps []replayer) map[string]common.Hash {
	return runFailureCasesWith(t, h, app, reps, demoArtifacts(t))
}

// runFailureCasesWith is runFailureCases on the build arts describes.
func runFailureCasesWith(t *testing.T, h *chainHarness, app *failuresApp, reps []replayer, arts *Artifacts) map[string]common.Hash {
	hashes := make(map[string]common.Hash)
	ctx := context.Background()
	for _, c := range failureCases {
		data, err := app.abi.Pack(c.method, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		to := app.impl
		if c.proxied {
			to = app.proxy
		}
		gas := c.gas
		if gas == 0 {
			gas = 3_000_000
		}
		hash, r := h.send(t, &to, data, gas)
		if r.Status != 0 {
			t.Fatalf("%s: the transaction succeeded", c.name)
		}
		hashes[c.name] = hash
		want := lineOf(t, arts, c.line)
		for _, rp := range reps {
			t.Run(c.name+"/"+rp.name, func(t *testing.T) {
				res, err := rp.replay(ctx, hash, Options{Dir: t.TempDir(), Sources: arts, Names: arts})
				if err != nil {
					t.Fatalf("replay: %v", err)
				}
				f := res.Failure
				if f == nil {
					t.Fatal("no failure found")
				}
				if f.File != "src/Failures.sol" || f.Line != want {
					t.Errorf("failure at %s:%d:%d, want src/Failures.sol:%d (%s)", f.File, f.Line, f.Column, want, c.line)
				}
				if !strings.Contains(f.Reason, c.reason) {
					t.Errorf("reason %q does not mention %q", f.Reason, c.reason)
				}
				if f.Address != app.impl {
					t.Errorf("failure in code of %s, want the implementation %s", f.Address, app.impl)
				}
				if got := res.Root.frame(f.FrameID).Depth; got != c.depth {
					t.Errorf("origin frame at depth %d, want %d", got, c.depth)
				}
				if (len(f.Caught) > 0) != c.caught {
					t.Errorf("caught failures %v, want some: %v", f.Caught, c.caught)
				}
				if c.proxied {
					d := res.Root.Calls[0]
					if d.Type != "DELEGATECALL" || d.Address != app.proxy || d.CodeAddress != app.impl {
						t.Errorf("proxy frame %s address %s code %s", d.Type, d.Address, d.CodeAddress)
					}
				}
			})
		}
	}
	// A successful call through the proxy writes the implementation's
	// variable in the proxy's storage and reads the EIP-1967 slot there.
	data, _ := app.abi.Pack("requireString", big.NewInt(200))
	hash, r := h.send(t, &app.proxy, data, 3_000_000)
	if r.Status != 1 {
		t.Fatal("requireString(200) through the proxy failed")
	}
	implSlot := common.HexToHash("0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc")
	for _, rp := range reps {
		t.Run("proxy storage/"+rp.name, func(t *testing.T) {
			res, err := rp.replay(ctx, hash, Options{Dir: t.TempDir(), Sources: arts, Names: arts})
			if err != nil {
				t.Fatalf("replay: %v", err)
			}
			if res.Failure != nil {
				t.Errorf("failure on a successful transaction: %+v", res.Failure)
			}
			var proxy *AccountDiff
			for i := range res.State {
				if res.State[i].Address == app.proxy {
					proxy = &res.State[i]
				}
				if res.State[i].Address == app.impl && len(res.State[i].Storage) > 0 {
					t.Errorf("storage listed under the implementation: %+v", res.State[i].Storage)
				}
			}
			if proxy == nil {
				t.Fatalf("no state change under the proxy: %+v", res.State)
			}
			var wrote, read bool
			for _, s := range proxy.Storage {
				if s.Slot == (common.Hash{}) && s.Written && s.After == common.BigToHash(big.NewInt(200)) && s.Label == "counter" {
					wrote = true
				}
				if s.Slot == implSlot && !s.Written && s.After == common.BytesToHash(app.impl[:]) {
					read = true
				}
			}
			if !wrote || !read {
				t.Errorf("proxy storage %+v: want counter written to 200 and the implementation slot read", proxy.Storage)
			}
			if len(res.Events) != 1 || res.Events[0].Address != app.proxy || res.Events[0].Decoded == nil || res.Events[0].Decoded.Name != "Stored" {
				t.Errorf("events %+v, want Stored from the proxy", res.Events)
			}
		})
	}
	return hashes
}

func (f *Frame) frame(id int) *Frame {
	var out *Frame
	f.Walk(func(g *Frame) {
		if g.ID == id {
			out = g
		}
	})
	return out
}

func TestFailurePathsEmbeddedChain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an embedded chain")
	}
	h, rc, url := embeddedChain(t)
	app := deployFailures(t, h)
	hashes := runFailureCases(t, h, app, replayers(h, true))
	arts := demoArtifacts(t)
	svc := &Service{Local: &Local{RPC: rc}, Node: &Node{RPC: rc, URL: url}, Options: Options{Dir: t.TempDir(), Sources: arts, Names: arts}}
	t.Run("navigation", func(t *testing.T) { testNavigation(t, svc, arts, hashes["three calls deep"]) })
	t.Run("simulation", func(t *testing.T) { testSimulation(t, &Local{RPC: rc}, app, arts) })
	t.Run("simulation overrides", func(t *testing.T) { testSimulationOverrides(t, h, &Local{RPC: rc}) })
	t.Run("api", func(t *testing.T) { testAPI(t, svc, hashes["three calls deep"]) })
}

// TestFailurePathsOptimizedBuilds runs the demo's failure cases on the
// demo contracts compiled with the optimizer and via IR (testdata/demo,
// made by internal/demo/contracts/compile.js --optimize [--via-ir]): every failure lands
// on the same line as in the plain build.
func TestFailurePathsOptimizedBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an embedded chain")
	}
	h, _, _ := embeddedChain(t)
	for _, build := range []string{"optimized", "viair"} {
		t.Run(build, func(t *testing.T) {
			dir := filepath.Join("testdata", "demo", build)
			in, err := os.ReadFile(filepath.Join(dir, "input.json"))
			if err != nil {
				t.Fatal(err)
			}
			out, err := os.ReadFile(filepath.Join(dir, "output.json"))
			if err != nil {
				t.Fatal(err)
			}
			plainIn, _ := demo.StandardJSON()
			if !sameSources(t, in, plainIn) {
				t.Fatalf("%s holds other sources than internal/demo/contracts/build: run make contracts", dir)
			}
			arts := NewArtifacts()
			if err := arts.AddStandardJSON(in, out); err != nil {
				t.Fatal(err)
			}
			app := deployFailuresBuild(t, h, in, out)
			runFailureCasesWith(t, h, app, replayers(h, true), arts)
		})
	}
}

// sameSources reports whether two solc inputs hold the same sources.
func sameSources(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y stdInputJSON
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	if len(x.Sources) != len(y.Sources) {
		return false
	}
	for name, s := range x.Sources {
		if y.Sources[name].Content != s.Content {
			return false
		}
	}
	return true
}

func testNavigation(t *testing.T, svc *Service, arts *Artifacts, tx common.Hash) {
	tr, err := svc.Open(context.Background(), tx)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	fail, err := tr.Failure()
	if err != nil {
		t.Fatal(err)
	}
	depthOf := func(i int) int {
		_, d, _, err := tr.header(i)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := depthOf(fail); d != 4 {
		t.Fatalf("failure at depth %d, want 4", d)
	}
	out, err := tr.StepOut(fail)
	if err != nil || depthOf(out) != 3 || out <= fail {
		t.Errorf("step out of the failing call: step %d depth %d (%v)", out, depthOf(out), err)
	}
	line := lineOf(t, arts, "revert Refused(msg.sender, 3);")
	hit, err := tr.RunToLine(0, "src/Failures.sol", line)
	if err != nil || depthOf(hit) != 4 || hit > fail {
		t.Errorf("run to line %d: step %d depth %d (%v), failure at %d", line, hit, depthOf(hit), err, fail)
	}
	if s, err := tr.Step(hit); err != nil || s.Source == nil || s.Source.Line != line {
		t.Errorf("step %d source %+v (%v)", hit, s, err)
	}
	if back, err := tr.StepBack(hit); err != nil || back >= hit {
		t.Errorf("step back from %d: %d (%v)", hit, back, err)
	}
	over, err := tr.StepOver(0)
	if err != nil || depthOf(over) != 1 {
		t.Errorf("step over from 0: step %d depth %d (%v)", over, depthOf(over), err)
	}
	into := 0
	for k := 0; k < 10000 && depthOf(into) == 1; k++ {
		if into, err = tr.StepInto(into); err != nil {
			t.Fatal(err)
		}
	}
	if depthOf(into) != 2 {
		t.Errorf("stepping into never entered the nested call")
	}
	if _, err := tr.GoTo(tr.Result.Steps); !errors.Is(err, ErrNoStep) {
		t.Errorf("go to past the end: %v", err)
	}
}

func testSimulation(t *testing.T, l *Local, app *failuresApp, arts *Artifacts) {
	ctx := context.Background()
	data, _ := app.abi.Pack("requireString", big.NewInt(500))
	ok, failed := uint64(1), uint64(0)
	slot0 := common.Hash{}
	v500 := common.BigToHash(big.NewInt(500))
	req := SimRequest{
		From: common.Address{0xab}, To: &app.impl, Data: data,
		Overrides: map[common.Address]Override{app.impl: {Storage: map[common.Hash]common.Hash{slot0: common.BigToHash(big.NewInt(7))}}},
		Expect:    []Expectation{{Status: &ok}, {Address: app.impl, Slot: &slot0, Value: &v500}, {Address: app.impl, Slot: &slot0, Unchanged: true}, {Status: &failed}},
	}
	if err := req.Validate(); err != nil {
		t.Fatal(err)
	}
	res, err := l.Simulate(ctx, req, Options{Dir: t.TempDir(), Sources: arts, Names: arts})
	if err != nil {
		t.Fatal(err)
	}
	var got []bool
	for _, a := range res.Assertions {
		got = append(got, a.OK)
	}
	if want := []bool{true, true, false, false}; !slicesEqual(got, want) {
		t.Errorf("assertions %v, want %v: %+v", got, want, res.Assertions)
	}
	for _, d := range res.State {
		for _, s := range d.Storage {
			if d.Address == app.impl && s.Slot == slot0 && s.Before != common.BigToHash(big.NewInt(7)) {
				t.Errorf("override not applied: before %s", s.Before)
			}
		}
	}
	data, _ = app.abi.Pack("requireString", big.NewInt(5))
	res, err = l.Simulate(ctx, SimRequest{From: common.Address{0xab}, To: &app.impl, Data: data}, Options{Dir: t.TempDir(), Sources: arts, Names: arts})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failure == nil || res.Failure.Line != lineOf(t, arts, `require(x > 100, "Failures: x too small");`) {
		t.Errorf("simulated failure %+v", res.Failure)
	}
}

func slicesEqual(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// testAPI checks what the debugger's API (internal/web/api_debug.go)
// answers from: the result, a page of steps, and the errors the web layer
// maps to 400 and 404.
func testAPI(t *testing.T, svc *Service, tx common.Hash) {
	ctx := context.Background()
	res, err := svc.Debug(ctx, tx)
	if err != nil || res.Failure == nil || res.Failure.Line == 0 || res.Root == nil {
		t.Fatalf("debug answer %+v, %v", res, err)
	}
	page, err := svc.StepsPage(ctx, tx, 10, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Steps) != 5 || page.Steps[0].Index != 10 || page.Total != res.Steps {
		t.Errorf("steps page %+v", page)
	}
	if _, err := svc.StepsPage(ctx, tx, 0, 100000); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a page of 100000 steps: %v, want store.ErrInvalid (400)", err)
	}
	if _, err := svc.Debug(ctx, common.Hash{0x42}); !errors.Is(err, store.ErrNotFound) && !errors.Is(err, ethereum.NotFound) {
		t.Errorf("an unknown transaction: %v, want not found (404)", err)
	}
}

func TestFailurePathsGethDev(t *testing.T) {
	if testing.Short() {
		t.Skip("starts geth")
	}
	if _, err := gethtest.Find(); err != nil {
		t.Skipf("no geth: %v", err)
	}
	for _, debugAPI := range []bool{true, false} {
		name := "debug API off"
		if debugAPI {
			name = "debug API on"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			node, err := gethtest.Start(ctx, gethtest.Options{Debug: debugAPI})
			if err != nil {
				t.Fatal(err)
			}
			defer node.Close()
			rc, err := rpc.Dial(node.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			key, _ := crypto.GenerateKey()
			if err := demo.Fund(ctx, rc, []common.Address{crypto.PubkeyToAddress(key.PublicKey)}, new(big.Int).Lsh(big.NewInt(1), 80)); err != nil {
				t.Fatal(err)
			}
			h := newHarness(t, rc, node.URL, key, nil)
			app := deployFailures(t, h)
			runFailureCases(t, h, app, replayers(h, debugAPI))
		})
	}
}
