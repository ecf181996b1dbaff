package patch_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/response"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

// build compiles testdata/src with the demo's pinned solc-js, once per
// test binary.
var build = sync.OnceValues(func() ([]contracts.Artifact, error) {
	dir, err := os.MkdirTemp("", "patch-build-")
	if err != nil {
		return nil, err
	}
	script, err := filepath.Abs(filepath.Join("testdata", "compile.js"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", script, dir)
	cmd.Dir = filepath.Join("..", "demo", "contracts")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, errors.New("node testdata/compile.js: " + err.Error() + ": " + string(out))
	}
	return contracts.LoadDir(dir)
})

func artifacts(t *testing.T) []contracts.Artifact {
	t.Helper()
	arts, err := build()
	if err != nil {
		t.Fatal(err)
	}
	return arts
}

func artifact(t *testing.T, name string) contracts.Artifact {
	t.Helper()
	for _, a := range artifacts(t) {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no artifact %s", name)
	return contracts.Artifact{}
}

// chain is the embedded chain with the vault deployed behind a real
// ERC1967Proxy and its history: deposits, loans, repayments, failures and
// one successful reentrancy exploit.
type chain struct {
	c       *devchain.Chain
	ec      *ethclient.Client
	keys    map[string]*ecdsa.PrivateKey
	proxy   common.Address
	v1      common.Address
	att     common.Address
	vault   abi.ABI
	exploit common.Hash
	// deployed is the last deployment; proxyTx the proxy's, which the
	// sample finds (it emitted Upgraded and Initialized) and leaves out.
	deployed, proxyTx common.Hash
	failed            []common.Hash // failing transactions of the users
	normal            []common.Hash // successful transactions of the users
}

func (h *chain) addr(name string) common.Address {
	return crypto.PubkeyToAddress(h.keys[name].PublicKey)
}

// send signs and sends a transaction; commit seals a block after it.
func (h *chain) send(t *testing.T, from string, to *common.Address, value *big.Int, data []byte, commit bool) common.Hash {
	t.Helper()
	ctx := context.Background()
	nonce, err := h.ec.PendingNonceAt(ctx, h.addr(from))
	if err != nil {
		t.Fatal(err)
	}
	if value == nil {
		value = new(big.Int)
	}
	tx := types.MustSignNewTx(h.keys[from], types.LatestSignerForChainID(devchain.ChainID), &types.DynamicFeeTx{
		ChainID: devchain.ChainID, Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(5e9), Gas: 3_000_000,
		To: to, Value: value, Data: data,
	})
	if err := h.ec.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if commit {
		h.c.Commit()
	}
	return tx.Hash()
}

func (h *chain) receipt(t *testing.T, tx common.Hash) *types.Receipt {
	t.Helper()
	r, err := h.ec.TransactionReceipt(context.Background(), tx)
	if err != nil {
		t.Fatalf("receipt of %s: %v", tx, err)
	}
	return r
}

func (h *chain) deploy(t *testing.T, from string, a contracts.Artifact, args ...any) common.Address {
	t.Helper()
	code, err := sourcemap.DecodeObject(a.Bytecode)
	if err != nil {
		t.Fatal(err)
	}
	if len(args) > 0 {
		parsed, err := decode.ParseABI(a.ABI)
		if err != nil {
			t.Fatal(err)
		}
		packed, err := parsed.Pack("", args...)
		if err != nil {
			t.Fatal(err)
		}
		code = append(code, packed...)
	}
	r := h.receipt(t, h.send(t, from, nil, nil, code, true))
	if r.Status != 1 {
		t.Fatalf("deploying %s failed", a.Name)
	}
	h.deployed = r.TxHash
	return r.ContractAddress
}

func (h *chain) call(t *testing.T, method string, args ...any) []byte {
	t.Helper()
	data, err := h.vault.Pack(method, args...)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var eth = big.NewInt(1e18)

func ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), eth) }

var setup = struct {
	sync.Mutex
	h *chain
}{}

// history boots the chain once per test binary and plays the vault's
// history.
func history(t *testing.T) *chain {
	t.Helper()
	setup.Lock()
	defer setup.Unlock()
	if setup.h != nil {
		return setup.h
	}
	h := &chain{keys: map[string]*ecdsa.PrivateKey{}}
	alloc := map[common.Address]*big.Int{}
	for _, n := range []string{"owner", "alice", "bob", "mallory"} {
		k, _ := crypto.GenerateKey()
		h.keys[n] = k
		alloc[crypto.PubkeyToAddress(k.PublicKey)] = ether(1000)
	}
	c, err := devchain.Start(devchain.Config{BlockInterval: -1, Alloc: alloc})
	if err != nil {
		t.Fatal(err)
	}
	h.c, h.ec = c, ethclient.NewClient(c.Client())
	v1 := artifact(t, "VaultV1")
	parsed, err := decode.ParseABI(v1.ABI)
	if err != nil {
		t.Fatal(err)
	}
	h.vault = *parsed
	h.v1 = h.deploy(t, "owner", v1)
	h.proxy = h.deploy(t, "owner", artifact(t, "ERC1967Proxy"), h.v1, h.call(t, "initialize", h.addr("owner")))
	h.proxyTx = h.deployed
	h.att = h.deploy(t, "mallory", artifact(t, "Attacker"), h.proxy)
	attABI, err := decode.ParseABI(artifact(t, "Attacker").ABI)
	if err != nil {
		t.Fatal(err)
	}
	p := &h.proxy
	ok := func(tx common.Hash) { h.normal = append(h.normal, tx) }
	bad := func(tx common.Hash) { h.failed = append(h.failed, tx) }
	ok(h.send(t, "alice", p, ether(10), h.call(t, "deposit"), true))
	ok(h.send(t, "bob", p, ether(5), h.call(t, "deposit"), true))
	ok(h.send(t, "alice", p, nil, h.call(t, "borrow", ether(2)), true))
	bad(h.send(t, "bob", p, nil, h.call(t, "withdraw", ether(100)), true))
	ok(h.send(t, "alice", p, ether(1), h.call(t, "repay"), true))
	bad(h.send(t, "bob", p, ether(1), h.call(t, "repay"), true))
	// A deposit and the exploit in one block: the exploit's replay must
	// see the deposit applied.
	sameBlock := h.send(t, "bob", p, ether(2), h.call(t, "deposit"), false)
	ok(sameBlock)
	attack, _ := attABI.Pack("attack")
	h.exploit = h.send(t, "mallory", &h.att, ether(3), attack, true)
	ok(h.send(t, "bob", p, nil, h.call(t, "withdraw", ether(1)), true))
	ok(h.send(t, "alice", p, ether(1), h.call(t, "repay"), true))
	for _, tx := range h.normal {
		if r := h.receipt(t, tx); r.Status != 1 {
			t.Fatalf("normal transaction %s failed", tx)
		}
	}
	for _, tx := range h.failed {
		if r := h.receipt(t, tx); r.Status != 0 {
			t.Fatalf("failing transaction %s succeeded", tx)
		}
	}
	r := h.receipt(t, h.exploit)
	if r.Status != 1 {
		t.Fatal("the exploit failed on V1; it must succeed for the patch to stop it")
	}
	if r.BlockNumber.Cmp(h.receipt(t, sameBlock).BlockNumber) != 0 {
		t.Fatal("the deposit and the exploit are not in one block")
	}
	setup.h = h
	return h
}

func TestMain(m *testing.M) {
	code := m.Run()
	if setup.h != nil {
		setup.h.c.Close()
	}
	os.Exit(code)
}

func prepare(chainID *big.Int, to common.Address, m abi.Method, args []string, name string, at time.Time) (*patch.Prepared, error) {
	f, err := response.PrepareCall(chainID, to, m, args, name, at)
	if err != nil {
		return nil, err
	}
	return &patch.Prepared{To: f.To, Function: f.Function, Args: f.Args, Calldata: f.Calldata, Cast: f.Cast, Safe: f.SafeBatch}, nil
}

func checker(t *testing.T, h *chain) *patch.Checker {
	return &patch.Checker{
		Node: h.ec, Replayer: &debugger.Local{RPC: h.c.Client()},
		Options: debugger.Options{Dir: t.TempDir()}, Prepare: prepare,
	}
}

// lineOf is the 1-based line of the first line of file holding text.
func lineOf(t *testing.T, file, text string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, text)
	return 0
}

// TestPatchStopsExploit replays the exploit, the users' failing
// transactions and a sample of their successful ones against the patched
// vault: the exploit now fails on the patched line, the failures still
// fail, the normal transactions are unchanged; deployed for real, the
// upgrade it prepares upgrades the proxy.
func TestPatchStopsExploit(t *testing.T) {
	h := history(t)
	ctx := context.Background()
	ck := checker(t, h)
	var phases []string
	chosen := append([]common.Hash{h.exploit}, h.failed...)
	req := patch.Request{
		Artifacts: artifacts(t), Contract: "VaultV2", Target: h.proxy, Txs: chosen, Sample: 50,
		Progress: func(p patch.Progress) {
			if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
				phases = append(phases, p.Phase)
			}
		},
	}
	rep, err := ck.Check(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != "uups" || rep.Current != h.v1 || rep.Deployed {
		t.Errorf("kind %s current %s deployed %v", rep.Kind, rep.Current, rep.Deployed)
	}
	if !rep.Layout.Checked || rep.Layout.Vars == 0 || !strings.Contains(rep.Layout.From, "VaultV1") {
		t.Errorf("layout %+v", rep.Layout)
	}
	if !strings.Contains(strings.Join(phases, ","), "replaying") {
		t.Errorf("progress phases %v", phases)
	}
	byTx := map[common.Hash]patch.TxReport{}
	for _, tr := range rep.Txs {
		byTx[tr.Tx] = tr
	}
	ex := byTx[h.exploit]
	want := "src/VaultV2.sol:" + itoa(lineOf(t, "src/VaultV2.sol", `require(!withdrawing`))
	if ex.Verdict != patch.NowFails || ex.Where != want || !strings.Contains(ex.PatchedReason, "withdraw entered again") || ex.Role != patch.RoleChosen {
		t.Errorf("exploit: verdict %s where %s (want %s) reason %q role %s", ex.Verdict, ex.Where, want, ex.PatchedReason, ex.Role)
	}
	if ex.TraceID == nil {
		t.Error("the exploit's patched run has no trace")
	}
	if len(ex.Mined.Balances) == 0 {
		t.Error("the mined exploit moved no ether")
	}
	for _, tx := range h.failed {
		if tr := byTx[tx]; tr.Verdict != patch.StillFails || tr.MinedReason == "" {
			t.Errorf("failing %s: verdict %s reason %q", tx, tr.Verdict, tr.MinedReason)
		}
	}
	for _, tx := range h.normal {
		tr, ok := byTx[tx]
		if !ok {
			t.Errorf("normal %s not in the sample", tx)
			continue
		}
		if tr.Role != patch.RoleSample || tr.Verdict != patch.Unchanged || len(tr.Mined.Logs) == 0 {
			t.Errorf("normal %s: role %s verdict %s changes %v", tx, tr.Role, tr.Verdict, tr.Changes)
		}
	}
	if _, ok := byTx[h.proxyTx]; ok || rep.Summary.Deployments != 1 {
		t.Errorf("the proxy's deployment is in the report (%d deployments left out)", rep.Summary.Deployments)
	}
	if want := len(chosen) + len(h.normal); len(rep.Txs) != want {
		t.Errorf("%d transactions replayed, want %d", len(rep.Txs), want)
	}
	if !rep.Passed || rep.Summary.NowFails != 1 || rep.Summary.StillFails != 2 || rep.Summary.SampleChanged != 0 {
		t.Errorf("passed %v summary %+v: %s", rep.Passed, rep.Summary, rep.Verdict)
	}
	if rep.Upgrade != nil || !strings.Contains(rep.UpgradeNote, "--deployed") {
		t.Errorf("upgrade prepared before deployment: %+v %s", rep.Upgrade, rep.UpgradeNote)
	}

	// Deployed for real, the check verifies the code there and prepares
	// the upgrade, which the owner sends.
	v2 := h.deploy(t, "owner", artifact(t, "VaultV2"))
	req.Deployed = &v2
	rep, err = ck.Check(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || rep.Implementation != v2 || rep.Upgrade == nil {
		t.Fatalf("passed %v implementation %s upgrade %v note %s", rep.Passed, rep.Implementation, rep.Upgrade, rep.UpgradeNote)
	}
	up := rep.Upgrade
	if up.Kind != "uups" || up.To != h.proxy || up.Sender == nil || *up.Sender != h.addr("owner") ||
		!strings.HasPrefix(up.Cast, "cast send") || !strings.Contains(up.Cast, "upgradeToAndCall(address,bytes)") {
		t.Errorf("upgrade %+v", up)
	}
	if _, err := response.ParseBatch(up.Safe); err != nil {
		t.Errorf("the Safe batch does not read back: %v", err)
	}
	r := h.receipt(t, h.send(t, "owner", &up.To, nil, up.Calldata, true))
	if r.Status != 1 {
		t.Fatal("the prepared upgrade failed")
	}
	// Other tests start from V1 again.
	t.Cleanup(func() {
		back := h.call(t, "upgradeToAndCall", h.v1, []byte{})
		if r := h.receipt(t, h.send(t, "owner", &h.proxy, nil, back, true)); r.Status != 1 {
			t.Error("cannot downgrade the vault to V1")
		}
	})
	slot, err := h.ec.StorageAt(ctx, h.proxy, contracts.SlotEIP1967Implementation, nil)
	if err != nil {
		t.Fatal(err)
	}
	if common.BytesToAddress(slot) != v2 {
		t.Errorf("implementation after the upgrade = %x, want %s", slot, v2)
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// TestCheckRefuses lists requests the check refuses before any replay,
// and the error each gets.
func TestCheckRefuses(t *testing.T) {
	h := history(t)
	ck := checker(t, h)
	iface := artifact(t, "IVault")
	tests := []struct {
		name string
		req  patch.Request
		max  int
		is   error
		msg  string
	}{
		{"layout change", patch.Request{Contract: "VaultV3", Txs: []common.Hash{h.exploit}}, 0, patch.ErrLayoutChange,
			"slot 0: `owner` (address) in the old layout is `withdrawing` (bool) in the new"},
		{"interface", patch.Request{Artifacts: []contracts.Artifact{iface}, Contract: "IVault", Txs: []common.Hash{h.exploit}}, 0, patch.ErrNoCode,
			"IVault has no code to deploy"},
		{"only interfaces", patch.Request{Artifacts: []contracts.Artifact{iface}, Txs: []common.Hash{h.exploit}}, 0, patch.ErrNoCode,
			"no contract with code"},
		{"ambiguous", patch.Request{Txs: []common.Hash{h.exploit}}, 0, patch.ErrInvalid, "name the new implementation (Attacker, VaultV1, VaultV2, VaultV3)"},
		{"too many", patch.Request{Contract: "VaultV2", Txs: append([]common.Hash{h.exploit}, h.normal...), Sample: 5}, 4, patch.ErrTooMany,
			"is more than the cap of 4"},
		{"no code at target", patch.Request{Contract: "VaultV2", Target: h.addr("alice"), Txs: []common.Hash{h.exploit}}, 0, patch.ErrInvalid, "has no code"},
		{"nothing to replay", patch.Request{Contract: "VaultV2"}, 0, patch.ErrInvalid, "no transactions to replay"},
		{"wrong deployment", patch.Request{Contract: "VaultV2", Deployed: &h.v1, Txs: []common.Hash{h.exploit}}, 0, patch.ErrInvalid, "is not VaultV2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			if req.Artifacts == nil {
				req.Artifacts = artifacts(t)
			}
			if req.Target == (common.Address{}) {
				req.Target = h.proxy
			}
			c := *ck
			c.MaxTxs = tt.max
			rep, err := c.Check(context.Background(), req)
			if err == nil {
				t.Fatalf("no error; report %s", rep.Verdict)
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q\nwant %v containing %q", err, tt.is, tt.msg)
			}
		})
	}
}

// TestTransparentUpgrade checks the patch behind OpenZeppelin's
// TransparentUpgradeableProxy: the proxy's ERC-1967 admin slot names its
// ProxyAdmin, so the upgrade is ProxyAdmin.upgradeAndCall from the admin's
// owner, which the owner sends.
func TestTransparentUpgrade(t *testing.T) {
	h := history(t)
	ctx := context.Background()
	proxy := h.deploy(t, "owner", artifact(t, "TransparentUpgradeableProxy"), h.v1, h.addr("owner"), h.call(t, "initialize", h.addr("owner")))
	deposit := h.send(t, "alice", &proxy, ether(1), h.call(t, "deposit"), true)
	withdraw := h.send(t, "alice", &proxy, nil, h.call(t, "withdraw", ether(5)), true)
	v2 := h.deploy(t, "owner", artifact(t, "VaultV2"))
	rep, err := checker(t, h).Check(ctx, patch.Request{Artifacts: artifacts(t), Contract: "VaultV2", Target: proxy,
		Txs: []common.Hash{withdraw}, Sample: 10, Deployed: &v2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != "transparent" || rep.Admin == nil || !rep.Passed || len(rep.Txs) != 2 {
		t.Fatalf("kind %s admin %v passed %v: %s", rep.Kind, rep.Admin, rep.Passed, rep.Verdict)
	}
	for _, tr := range rep.Txs {
		if want := map[common.Hash]string{deposit: patch.Unchanged, withdraw: patch.StillFails}[tr.Tx]; tr.Verdict != want {
			t.Errorf("%s: %s, want %s", tr.Tx, tr.Verdict, want)
		}
	}
	up := rep.Upgrade
	if up == nil || up.Kind != "transparent" || up.To != *rep.Admin || up.Sender == nil || *up.Sender != h.addr("owner") ||
		!strings.Contains(up.Cast, "upgradeAndCall(address,address,bytes)") {
		t.Fatalf("upgrade %+v (%s)", up, rep.UpgradeNote)
	}
	if r := h.receipt(t, h.send(t, "owner", &up.To, nil, up.Calldata, true)); r.Status != 1 {
		t.Fatal("the prepared upgrade failed")
	}
	slot, err := h.ec.StorageAt(ctx, proxy, contracts.SlotEIP1967Implementation, nil)
	if err != nil {
		t.Fatal(err)
	}
	if common.BytesToAddress(slot) != v2 {
		t.Errorf("implementation after the upgrade = %x, want %s", slot, v2)
	}
}
