package patch_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/response"
)

// TestDemoPatchStopsExploit plays the demo's scripted incident without a
// mempool guard, so that its exploit drains the vault, and checks the
// demo's patched LendingVault (internal/demo/contracts/patched, deployed
// by the demo beside the implementation in use) against the incident's
// failing transactions and its exploit, with a sample of the vault's
// normal traffic: the exploit now fails on the patched line, every other
// failure still fails as mined, the sample is unchanged, and the upgrade
// of the demo's ERC-1967 proxy to the fix is prepared.
func TestDemoPatchStopsExploit(t *testing.T) {
	if testing.Short() {
		t.Skip("plays the demo's incident on an embedded chain")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ch, err := demo.StartChain(ctx, demo.ChainConfig{Chain: devchain.Config{BlockInterval: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	app := ch.App
	var mu sync.Mutex
	var sent []demo.Sent
	tr, err := ch.Traffic(demo.Options{Rate: 10, Seed: 7, OnSend: func(s demo.Sent) { mu.Lock(); sent = append(sent, s); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	// Normal traffic first, for the sample; then the incident.
	for range 15 {
		if err := tr.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Incident(ctx); err != nil {
		t.Fatal(err)
	}
	attacker := demo.Addresses(ch.Keys)[demo.Attacker]
	var chosen []common.Hash
	var exploit common.Hash
	failed := map[common.Hash]bool{}
	mu.Lock()
	for _, s := range sent {
		switch {
		case s.From == attacker && s.Action == "router.depositAndBorrow":
			exploit = s.Tx.Hash()
			chosen = append(chosen, exploit)
		case s.Failure != demo.NoFailure:
			failed[s.Tx.Hash()] = true
			chosen = append(chosen, s.Tx.Hash())
		}
	}
	mu.Unlock()
	ec := ch.Eth
	if r, err := ec.TransactionReceipt(ctx, exploit); err != nil || r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("the exploit %s did not drain the vault (%v): without a guard it must succeed for the patch to stop it", exploit, err)
	}

	in, out := demo.PatchedStandardJSON()
	fix, err := contracts.ParseStandardJSON(in, out, "")
	if err != nil {
		t.Fatal(err)
	}
	in, out = demo.StandardJSON()
	old, err := contracts.ParseStandardJSON(in, out, "")
	if err != nil {
		t.Fatal(err)
	}
	// Who may upgrade is learnt as the response actions learn who may
	// pause: the vault's upgrade needs DEFAULT_ADMIN_ROLE.
	respond := &response.Service{Node: ec, Contracts: func(context.Context) ([]response.Contract, error) {
		var cs []response.Contract
		for _, c := range app.Contracts() {
			cs = append(cs, response.Contract{Address: c.Address, Name: c.Name, ABI: c.ABI})
		}
		return cs, nil
	}}
	ck := &patch.Checker{Node: ethclient.NewClient(ch.Client()), Replayer: &debugger.Local{RPC: ch.Client()},
		Options: debugger.Options{Dir: t.TempDir()}, Prepare: prepare,
		Role: func(ctx context.Context, to common.Address, data []byte) (string, []common.Address, error) {
			r, err := respond.RoleFor(ctx, to, data)
			return r.Name, r.Holders, err
		}}
	deployed := app.PatchedVault
	rep, err := ck.Check(ctx, patch.Request{Artifacts: fix, Old: old, Contract: "LendingVault", Target: app.Vault,
		Txs: chosen, Sample: 30, Deployed: &deployed})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != "uups" || rep.Current != app.VaultImpl || !rep.Deployed || rep.Implementation != app.PatchedVault || !rep.Layout.Checked {
		t.Errorf("kind %s current %s deployed %v at %s, layout %+v", rep.Kind, rep.Current, rep.Deployed, rep.Implementation, rep.Layout)
	}
	capLine := "patched/LendingVault.sol:" + itoa(sourceLine(t, "revert BorrowOverCap("))
	seen := 0
	for _, r := range rep.Txs {
		switch {
		case r.Tx == exploit:
			seen++
			if r.Verdict != patch.NowFails || r.Where != capLine || !strings.Contains(r.PatchedReason, "BorrowOverCap") {
				t.Errorf("the exploit: verdict %s at %s (%q), want now-fails at %s with BorrowOverCap", r.Verdict, r.Where, r.PatchedReason, capLine)
			}
		case failed[r.Tx]:
			seen++
			stale := strings.Contains(r.MinedReason, "StalePrice")
			if r.Verdict != patch.StillFails || r.PatchedReason == "" || stale != strings.Contains(r.PatchedReason, "StalePrice") {
				t.Errorf("failing %s: verdict %s, reason %q as mined and %q patched", r.Tx, r.Verdict, r.MinedReason, r.PatchedReason)
			}
		case r.Role == patch.RoleSample:
			if r.Verdict != patch.Unchanged {
				t.Errorf("normal %s: verdict %s, changes %v", r.Tx, r.Verdict, r.Changes)
			}
		}
	}
	if seen != len(chosen) {
		t.Errorf("%d of the %d chosen transactions are in the report", seen, len(chosen))
	}
	t.Logf("%s (%d chosen, took %s)", rep.Verdict, len(chosen), rep.Took)
	if !rep.Passed || rep.Summary.Sample == 0 || rep.Summary.SampleChanged != 0 {
		t.Errorf("verdict %q", rep.Verdict)
	}
	up := rep.Upgrade
	if up == nil {
		t.Fatalf("no upgrade prepared: %s", rep.UpgradeNote)
	}
	if up.Kind != "uups" || up.To != app.Vault || len(up.Args) != 2 || up.Args[0] != app.PatchedVault.Hex() || !strings.Contains(up.Cast, "cast send") || len(up.Safe) == 0 {
		t.Errorf("upgrade %+v", up)
	}
	// The vault has no owner(): its upgrade needs DEFAULT_ADMIN_ROLE,
	// which the deployer alone holds.
	admin := demo.Addresses(ch.Keys)[demo.Deployer]
	if up.Role != "DEFAULT_ADMIN_ROLE" || len(up.Holders) != 1 || up.Holders[0] != admin || up.Sender == nil || *up.Sender != admin {
		t.Errorf("upgrade sender %v, role %q held by %v; want the deployer %s, the one holder of DEFAULT_ADMIN_ROLE", up.Sender, up.Role, up.Holders, admin)
	}
}

// sourceLine is the 1-based line of the demo's patched vault holding text.
func sourceLine(t *testing.T, text string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "demo", "contracts", "patched", "LendingVault.sol"))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("the patched vault has no line with %q", text)
	return 0
}
