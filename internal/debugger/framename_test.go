package debugger

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestFrameName checks the gas profile's label of a call that no ABI
// decodes: the selector as hex, not the hex of its text.
func TestFrameName(t *testing.T) {
	addr := common.HexToAddress("0x7132000000000000000000000000000000000001")
	for _, c := range []struct {
		f    Frame
		want string
	}{
		{Frame{Type: "CALL", CodeAddress: addr, Input: hexutil.MustDecode("0xc5ebeaec0000")}, addr.Hex() + ".0xc5ebeaec"},
		{Frame{Type: "CALL", CodeAddress: addr, Contract: "Vault", Input: hexutil.MustDecode("0xc5ebeaec")}, "Vault.0xc5ebeaec"},
		{Frame{Type: "CALL", CodeAddress: addr, Contract: "Vault"}, "Vault.receive"},
		{Frame{Type: "CALL", CodeAddress: addr, Contract: "Vault", Input: hexutil.MustDecode("0x01")}, "Vault.fallback"},
		{Frame{Type: "CREATE", CodeAddress: addr, Contract: "Vault", Input: hexutil.MustDecode("0x60806040")}, "Vault.constructor"},
	} {
		if got := frameName(&c.f); got != c.want {
			t.Errorf("frameName(%s %x) = %q, want %q", c.f.Type, []byte(c.f.Input), got, c.want)
		}
	}
}
