package contracts_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	bc "github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

func TestDetect(t *testing.T) {
	d := newDemo(t)
	ctx := context.Background()
	arts := demoArtifacts(t)

	// An EIP-1967 proxy in front of Failures.
	failures := artifact(t, arts, "Failures")
	code, _ := sourcemap.DecodeObject(failures.Bytecode)
	impl := d.deploy(t, code)
	if c, _ := d.eth.CodeAt(ctx, impl, nil); len(c) == 0 {
		t.Fatalf("no code at the implementation %s", impl)
	}
	proxyArt := artifact(t, arts, "FailuresProxy")
	pabi, err := abi.JSON(strings.NewReader(string(proxyArt.ABI)))
	if err != nil {
		t.Fatal(err)
	}
	// The proxy runs an initialising call: Failures.counter(), a view.
	ctorArgs := []any{impl}
	if len(pabi.Constructor.Inputs) == 2 {
		ctorArgs = append(ctorArgs, crypto.Keccak256([]byte("counter()"))[:4])
	}
	args, err := pabi.Pack("", ctorArgs...)
	if err != nil {
		t.Fatal(err)
	}
	pcode, _ := sourcemap.DecodeObject(proxyArt.Bytecode)
	proxy := d.deploy(t, append(pcode, args...))

	// An EIP-1167 clone of LendingVault: the standard 10-byte init code
	// returning the 45-byte runtime.
	clone := common.FromHex("0x3d602d80600a3d3981f3363d3d373d3d3d363d73" + strings.TrimPrefix(d.app.VaultImpl.Hex(), "0x") + "5af43d82803e903d91602b57fd5bf3")
	cloneAddr := d.deploy(t, clone)

	deployer := crypto.PubkeyToAddress(d.key.PublicKey)
	tests := []struct {
		name string
		addr common.Address
		want bc.Capabilities
	}{
		{"DemoToken", d.app.Token, bc.Capabilities{Ownable: &bc.Ownable{Owner: deployer}}},
		{"LendingVault", d.app.VaultImpl, bc.Capabilities{Pausable: &bc.Pausable{}, AccessControl: true}},
		// The demo's vault: its implementation behind ERC1967Proxy.
		{"LendingVault's proxy", d.app.Vault, bc.Capabilities{Proxy: &bc.Proxy{Kind: bc.ProxyEIP1967, Implementation: d.app.VaultImpl}, Pausable: &bc.Pausable{}, AccessControl: true}},
		{"Router", d.app.Router, bc.Capabilities{}},
		{"FailuresProxy", proxy, bc.Capabilities{Proxy: &bc.Proxy{Kind: bc.ProxyEIP1967, Implementation: impl}}},
		{"clone", cloneAddr, bc.Capabilities{Proxy: &bc.Proxy{Kind: bc.ProxyEIP1167, Implementation: d.app.VaultImpl}, Pausable: &bc.Pausable{}, AccessControl: true}},
		{"no code", common.HexToAddress("0xdead"), bc.Capabilities{}},
	}
	for _, tt := range tests {
		got, err := bc.Detect(ctx, d.eth, tt.addr, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if g, w := jsonString(t, got), jsonString(t, tt.want); g != w {
			t.Errorf("%s: Detect = %s, want %s", tt.name, g, w)
		}
	}
	// The proxy's own code verifies as FailuresProxy.
	res, err := bc.Verify(ctx, d.eth, proxy, arts, bc.Options{})
	if err != nil || res.Status != bc.StatusFull || res.ContractName != "FailuresProxy" {
		t.Fatalf("proxy verification: %v %s %s %v", err, res.Status, res.ContractName, res.Mismatch)
	}
}
