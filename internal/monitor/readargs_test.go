package monitor

import (
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestStateReadArgs: a state read's arguments are parsed like the contract
// page's read form (one parser, in decode): every integer size, checked
// bools and addresses, arrays; mistakes name the argument.
func TestStateReadArgs(t *testing.T) {
	feed := common.HexToAddress("0x00000000000000000000000000000000000000fe")
	cat := newCatalog(nil)
	cat.byName["Feed"] = []common.Address{feed}
	cat.byAddr[feed] = &known{name: "Feed"}
	word := func(s string) string { return strings.Repeat("0", 64-len(s)) + s }
	cases := []struct {
		read string
		args []string
		want string // calldata after the selector, or "error: …"
	}{
		{"level(uint8) returns (uint256)", []string{"7"}, word("7")},
		{"level(int16) returns (uint256)", []string{"-1"}, strings.Repeat("f", 64)},
		{"paused(bool) returns (bool)", []string{"true"}, word("1")},
		{"sum(uint256[]) returns (uint256)", []string{"[1, 2]"}, word("20") + word("2") + word("1") + word("2")},
		{"balanceOf(address) returns (uint256)", []string{"0x8ba1f109551bD432803012645Ac136ddd64DBA72"}, word("8ba1f109551bd432803012645ac136ddd64dba72")},
		{"level(uint8) returns (uint256)", []string{"256"}, "error: out of range for uint8"},
		{"paused(bool) returns (bool)", []string{"yes"}, "error: not true or false"},
		{"balanceOf(address) returns (uint256)", []string{"0x8ba1f109551bd432803012645Ac136ddd64DBA72"}, "error: wrong EIP-55 checksum"},
	}
	for _, c := range cases {
		name, _, _ := strings.Cut(c.read, " returns ")
		cm, err := compile(Spec{ID: "s", Kind: KindState, Contract: "Feed", Read: c.read, Args: c.args, Condition: "> 0"}, cat)
		if want, ok := strings.CutPrefix(c.want, "error: "); ok {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s %v: error %v, want %q", name, c.args, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %v: %v", name, c.args, err)
			continue
		}
		if got := hexutil.Encode(cm.readData[4:])[2:]; got != c.want {
			t.Errorf("%s %v: calldata %s, want %s", name, c.args, got, c.want)
		}
	}
}
