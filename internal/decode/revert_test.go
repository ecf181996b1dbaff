package decode

import (
	"encoding/hex"
	"math/big"
	"reflect"
	"testing"

	"github.com/blocktorch/blocktorch/internal/chain"
)

// TestRevert decodes revert data with one contract's ABI, as the contract
// page's reads and the debugger do, and agrees with the registry.
func TestRevert(t *testing.T) {
	vaultJSON := readFile(t, "vault.abi.json")
	vaultABI := gethABI(t, vaultJSON)
	ownable := gethABI(t, mustBundled(t, "Ownable"))
	custom := packError(t, vaultABI, "InsufficientCollateral", alice, big.NewInt(5), big.NewInt(3))
	f := func(name string, data, abiJSON []byte, want *chain.Revert) {
		t.Helper()
		got := Revert(data, abiJSON)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
	errData := append(selectorBytes("Error(string)"), mustPackArgs(t, "string", "too <b>late</b>")...)
	f("error string", errData, nil, &chain.Revert{Kind: chain.RevertError, Name: "Error", Signature: "Error(string)", Message: "too <b>late</b>"})
	panicData := append(selectorBytes("Panic(uint256)"), mustPackArgs(t, "uint256", big.NewInt(0x11))...)
	f("panic", panicData, vaultJSON, &chain.Revert{Kind: chain.RevertPanic, Name: "Panic", Signature: "Panic(uint256)",
		Message: "Panic(0x11): arithmetic overflow or underflow", PanicCode: 0x11})
	f("custom error of the ABI", custom, vaultJSON, &chain.Revert{Kind: chain.RevertCustom, Name: "InsufficientCollateral",
		Signature: "InsufficientCollateral(address,uint256,uint256)",
		Message:   "InsufficientCollateral(account=" + alice.Hex() + ", requested=5, maxBorrow=3)",
		Args: []chain.Arg{{Name: "account", Type: "address", Value: alice.Hex()},
			{Name: "requested", Type: "uint256", Value: "5"}, {Name: "maxBorrow", Type: "uint256", Value: "3"}}})
	f("custom error without the ABI", custom, nil,
		&chain.Revert{Kind: chain.RevertUnknown, Message: "unknown error selector 0x" + common4(custom) + " (100 bytes of data)"})
	f("custom error with an ABI that does not parse", custom, []byte(`[{"type":"error"`),
		&chain.Revert{Kind: chain.RevertUnknown, Message: "unknown error selector 0x" + common4(custom) + " (100 bytes of data)"})
	f("bundled error", packError(t, ownable, "OwnableUnauthorizedAccount", bob), nil, &chain.Revert{Kind: chain.RevertCustom,
		Name: "OwnableUnauthorizedAccount", Signature: "OwnableUnauthorizedAccount(address)",
		Message: "OwnableUnauthorizedAccount(account=" + bob.Hex() + ")", Contract: "Ownable",
		Args: []chain.Arg{{Name: "account", Type: "address", Value: bob.Hex()}}})
	f("empty", nil, vaultJSON, &chain.Revert{Kind: chain.RevertEmpty, Message: "reverted without data"})

	// The registry, knowing the vault at its address, says the same.
	r := newTestRegistry(t)
	for _, data := range [][]byte{errData, panicData} {
		if a, b := Revert(data, vaultJSON), r.DecodeRevert(&vault, data); !reflect.DeepEqual(a, b) {
			t.Errorf("Revert %+v, registry %+v", a, b)
		}
	}
	if a, b := Revert(custom, vaultJSON), r.DecodeRevert(&vault, custom); a.Message != b.Message || a.Kind != b.Kind {
		t.Errorf("Revert %+v, registry %+v", a, b)
	}
}

func common4(b []byte) string { return hex.EncodeToString(b[:4]) }
