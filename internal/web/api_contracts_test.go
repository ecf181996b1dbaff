package web

import (
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// dataError is a node's revert answer to eth_call.
type dataError struct{ data string }

func (e dataError) Error() string  { return "execution reverted" }
func (e dataError) ErrorData() any { return e.data }

// TestCallRevert: a reverted read says why, whatever kind of revert it is.
func TestCallRevert(t *testing.T) {
	const errABI = `[{"type":"error","name":"TooLow","inputs":[{"name":"got","type":"uint256"},{"name":"who","type":"string"}]}]`
	word := func(n byte) string { return strings.Repeat("00", 31) + hexutil.Encode([]byte{n})[2:] }
	tests := []struct {
		name, data, abi, want string
	}{
		{"Error(string)", "0x08c379a0" + word(0x20) + word(2) + hexutil.Encode([]byte("no"))[2:] + strings.Repeat("00", 30), "", "no"},
		{"Panic(uint256)", "0x4e487b71" + word(0x11), "", "Panic(0x11): arithmetic overflow or underflow"},
		{"custom error", "0x" + hexutil.Encode(selectorOf("TooLow(uint256,string)"))[2:] + word(5) + word(0x40) + word(3) + hexutil.Encode([]byte("bob"))[2:] + strings.Repeat("00", 29),
			errABI, `TooLow(got=5, who="bob")`},
		{"unknown selector", "0x12345678", errABI, "execution reverted"},
		{"not hex", "zz", "", "execution reverted"},
	}
	for _, tt := range tests {
		got := callRevert([]byte(tt.abi), dataError{tt.data})
		if got == nil || got.Reason != tt.want {
			t.Errorf("%s: %+v, want reason %q", tt.name, got, tt.want)
		}
	}
	if got := callRevert(nil, errors.New("connection refused")); got != nil {
		t.Errorf("a failed call is no revert: %+v", got)
	}
}

func selectorOf(sig string) []byte { return crypto.Keccak256([]byte(sig))[:4] }
