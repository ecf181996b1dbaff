package main

import (
	"testing"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestDescribeCall checks the CALL line of a call no ABI decodes: the
// selector prints as hex (it printed the hex of the text "0xc5ebeaec").
func TestDescribeCall(t *testing.T) {
	addr := common.HexToAddress("0x7132000000000000000000000000000000000001")
	proxy := common.HexToAddress("0x7132000000000000000000000000000000000002")
	for _, c := range []struct {
		f    debugger.Frame
		want string
	}{
		{debugger.Frame{Type: "CALL", Address: addr, CodeAddress: addr, Input: hexutil.MustDecode("0xc5ebeaec00000000")}, addr.Hex() + ".0xc5ebeaec"},
		{debugger.Frame{Type: "DELEGATECALL", Address: proxy, CodeAddress: addr, Contract: "Vault", Input: hexutil.MustDecode("0xc5ebeaec")}, "Vault (as " + proxy.Hex() + ").0xc5ebeaec"},
		{debugger.Frame{Type: "CALL", Address: addr, CodeAddress: addr, Contract: "Vault", Input: hexutil.MustDecode("0xc5ebeaec"),
			Call: &chain.Call{Method: "borrow", Args: []chain.Arg{{Name: "amount", Value: "5"}}}}, "Vault.borrow(amount=5)"},
		{debugger.Frame{Type: "CREATE", Address: addr, CodeAddress: addr, Contract: "Vault", Input: hexutil.MustDecode("0x60806040")}, "Vault"},
	} {
		if got := describeCall(&c.f); got != c.want {
			t.Errorf("describeCall(%s %x) = %q, want %q", c.f.Type, []byte(c.f.Input), got, c.want)
		}
	}
}
