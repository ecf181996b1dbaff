package contracts_test

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	bc "github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

func TestVerifyDemoFull(t *testing.T) {
	d := newDemo(t)
	arts := demoArtifacts(t)
	ctx := context.Background()
	for name, addr := range map[string]common.Address{"DemoToken": d.app.Token, "PriceFeed": d.app.Feed, "LendingVault": d.app.VaultImpl, "Router": d.app.Router} {
		res, err := bc.Verify(ctx, d.eth, addr, arts, bc.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != bc.StatusFull || res.ContractName != name || res.Mismatch != nil {
			t.Errorf("%s: status %s contract %s mismatch %v, want a full match", name, res.Status, res.ContractName, res.Mismatch)
			continue
		}
		if res.Settings.Compiler != "0.8.28+commit.7893614a" || res.Settings.Optimizer || res.Settings.EVMVersion != "cancun" {
			t.Errorf("%s: settings %+v", name, res.Settings)
		}
		if !strings.Contains(res.Sources[res.SourceName], "contract "+name) {
			t.Errorf("%s: source %s does not hold the contract", name, res.SourceName)
		}
	}
	// Immutables' on-chain values are reported: the Router's vault (its
	// proxy), and the vault implementation's own address, which
	// UUPSUpgradeable keeps to refuse calls that are not delegated.
	for _, c := range []struct {
		name       string
		addr, want common.Address
	}{{"Router", d.app.Router, d.app.Vault}, {"LendingVault", d.app.VaultImpl, d.app.VaultImpl}} {
		res, _ := bc.Verify(ctx, d.eth, c.addr, arts, bc.Options{Contract: c.name})
		if len(res.Immutables) != 1 {
			t.Fatalf("%s: immutables %v, want 1", c.name, res.Immutables)
		}
		for _, v := range res.Immutables {
			if common.HexToHash(v) != common.BytesToHash(c.want[:]) {
				t.Errorf("%s: immutable %s, want %s", c.name, v, c.want)
			}
		}
	}
}

func TestVerifyPartial(t *testing.T) {
	d := newDemo(t)
	a := artifact(t, demoArtifacts(t), "Router")
	code, _ := sourcemap.DecodeObject(a.DeployedBytecode)
	// Change one byte of the IPFS hash in the metadata section only.
	n := sourcemap.MetadataLength(code)
	code[len(code)-n+10] ^= 0xff
	a.DeployedBytecode = hex.EncodeToString(code)
	res, err := bc.Verify(context.Background(), d.eth, d.app.Router, []bc.Artifact{a}, bc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != bc.StatusPartial || res.Mismatch == nil || !strings.Contains(res.Mismatch.Reason, "metadata") {
		t.Fatalf("status %s, mismatch %+v; want a partial match for the metadata", res.Status, res.Mismatch)
	}
	if len(res.Mismatch.Causes) != 1 || !strings.Contains(res.Mismatch.Causes[0], "ipfs") {
		t.Errorf("causes %q, want the two ipfs hashes", res.Mismatch.Causes)
	}
}

func TestVerifyWrongContract(t *testing.T) {
	d := newDemo(t)
	a := artifact(t, demoArtifacts(t), "LendingVault")
	res, err := bc.Verify(context.Background(), d.eth, d.app.Router, []bc.Artifact{a}, bc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Mismatch
	if res.Status != bc.StatusNone || m == nil {
		t.Fatalf("status %s, want none", res.Status)
	}
	if m.Offset < 0 || m.Expected == "" || m.Actual == "" || m.Expected == m.Actual {
		t.Errorf("mismatch does not say where: %+v", m)
	}
	if len(m.Causes) == 0 || !strings.HasPrefix(m.Causes[0], "a different contract") {
		t.Errorf("causes %q, want a different contract first", m.Causes)
	}
	t.Logf("wrong contract: %s", m)

	// No code at all.
	res, err = bc.Verify(context.Background(), d.eth, common.HexToAddress("0x1234"), []bc.Artifact{a}, bc.Options{})
	if err != nil || res.Status != bc.StatusNone || !strings.Contains(res.Mismatch.Reason, "no code") {
		t.Fatalf("empty account: %v %+v", err, res.Mismatch)
	}
}

func TestVerifyOptimizerRecompile(t *testing.T) {
	d := newDemo(t)
	in, out := compile(t, map[string]any{"optimizer": map[string]any{"enabled": true, "runs": 200}})
	arts, err := bc.ParseStandardJSON(in, out, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := bc.Verify(context.Background(), d.eth, d.app.VaultImpl, arts, bc.Options{Contract: "LendingVault"})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Mismatch
	if res.Status != bc.StatusNone || m == nil || m.Offset < 0 {
		t.Fatalf("status %s mismatch %+v, want none with an offset", res.Status, m)
	}
	if !m.Settings.Optimizer || m.Settings.Runs != 200 {
		t.Errorf("settings %+v, want the optimizer on", m.Settings)
	}
	joined := strings.Join(m.Causes, "\n")
	if !strings.Contains(joined, "optimizer or via-IR") || strings.Contains(joined, "different contract") {
		t.Errorf("causes %q, want the optimizer and not a different contract", m.Causes)
	}
	t.Logf("optimizer recompile: %s", m)
}

func TestVerifyEVMVersion(t *testing.T) {
	d := newDemo(t)
	in, out := compile(t, map[string]any{"evmVersion": "paris"})
	arts, err := bc.ParseStandardJSON(in, out, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := bc.Verify(context.Background(), d.eth, d.app.Token, arts, bc.Options{Contract: "DemoToken"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != bc.StatusNone || !strings.Contains(strings.Join(res.Mismatch.Causes, "\n"), "EVM version: the chain code uses PUSH0") {
		t.Fatalf("status %s mismatch %v, want the EVM version named", res.Status, res.Mismatch)
	}
}

// TestVerifyViaIR deploys a via-IR, optimised build of Router and verifies
// it against that build's artifact.
func TestVerifyViaIR(t *testing.T) {
	d := newDemo(t)
	in, out := compile(t, map[string]any{"viaIR": true, "optimizer": map[string]any{"enabled": true, "runs": 200}})
	arts, err := bc.ParseStandardJSON(in, out, "")
	if err != nil {
		t.Fatal(err)
	}
	a := artifact(t, arts, "Router")
	if !a.Settings.ViaIR {
		t.Fatalf("settings %+v, want via-IR", a.Settings)
	}
	code, _ := sourcemap.DecodeObject(a.Bytecode)
	parsed, err := abi.JSON(strings.NewReader(string(a.ABI)))
	if err != nil {
		t.Fatal(err)
	}
	args, err := parsed.Pack("", d.app.VaultImpl)
	if err != nil {
		t.Fatal(err)
	}
	addr := d.deploy(t, append(code, args...))
	res, err := bc.Verify(context.Background(), d.eth, addr, arts, bc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != bc.StatusFull || res.ContractName != "Router" {
		t.Fatalf("status %s contract %s mismatch %v, want a full match of Router", res.Status, res.ContractName, res.Mismatch)
	}
	if v := res.Immutables; len(v) != 1 {
		t.Errorf("immutables %v, want the vault", v)
	}
	// The via-IR build's source map still lands in Router.sol.
	m, err := a.Mapper(sourcemap.Runtime)
	if err != nil {
		t.Fatal(err)
	}
	onChain, _ := d.eth.CodeAt(context.Background(), addr, nil)
	hits := 0
	for pc := range onChain {
		if loc, ok := m.Locate(uint64(pc)); ok && loc.File == "src/Router.sol" && loc.Line > 0 {
			hits++
		}
	}
	if hits == 0 {
		t.Errorf("no instruction of the via-IR Router maps to src/Router.sol")
	}

	// The unoptimised artifact does not match the via-IR code, and says why.
	res, err = bc.Verify(context.Background(), d.eth, addr, demoArtifacts(t), bc.Options{Contract: "Router"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != bc.StatusNone || !strings.Contains(strings.Join(res.Mismatch.Causes, "\n"), "via-IR") {
		t.Fatalf("status %s mismatch %v", res.Status, res.Mismatch)
	}
}
