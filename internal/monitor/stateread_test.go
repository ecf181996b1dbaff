package monitor

import (
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// abiSlot is the slot of mapping[key] at slot base as Solidity's docs
// define it: keccak256(abi.encode(key, base)), encoded here by the ABI
// packer rather than by parseSlot's own padding.
func abiSlot(t *testing.T, typ string, key any, base common.Hash) common.Hash {
	t.Helper()
	kt, _ := abi.NewType(typ, "", nil)
	bt, _ := abi.NewType("uint256", "", nil)
	enc, err := abi.Arguments{{Type: kt}, {Type: bt}}.Pack(key, base.Big())
	if err != nil {
		t.Fatal(err)
	}
	return crypto.Keccak256Hash(enc)
}

func TestParseSlot(t *testing.T) {
	addr := common.HexToAddress("0x71326f4d34BD2027b7b35Dc056436c39E201a1C2")
	other := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	n := func(v int64) common.Hash { return common.BigToHash(big.NewInt(v)) }
	plus := func(h common.Hash, k int64) common.Hash {
		return common.BigToHash(new(big.Int).Add(h.Big(), big.NewInt(k)))
	}
	var b32 [32]byte
	b32[0] = 0xab
	cases := []struct {
		expr string
		want common.Hash
	}{
		{"3", n(3)},
		{"0x10", n(16)},
		{"10", n(10)},
		{"3.2", n(5)},
		{"3[" + addr.Hex() + "]", abiSlot(t, "address", addr, n(3))},
		{"3[7]", abiSlot(t, "uint256", big.NewInt(7), n(3))},
		{"3[7].1", plus(abiSlot(t, "uint256", big.NewInt(7), n(3)), 1)},
		{"3[-1]", abiSlot(t, "int256", big.NewInt(-1), n(3))},
		{"3[true]", abiSlot(t, "bool", true, n(3))},
		{"3[0x" + strings.Repeat("0", 0) + "ab" + strings.Repeat("00", 31) + "]", abiSlot(t, "bytes32", b32, n(3))},
		{"5[" + addr.Hex() + "][" + other.Hex() + "]", abiSlot(t, "address", other, abiSlot(t, "address", addr, n(5)))},
		{`4["alice"]`, crypto.Keccak256Hash([]byte("alice"), n(4).Bytes())},
	}
	for _, c := range cases {
		got, err := parseSlot(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s = %s, want %s", c.expr, got, c.want)
		}
	}
	for _, bad := range []string{"", "x", "010", "3[", "3[0x12]", "3[abc]", "3.x", "3]", `3["a"`, "-1", "3[7]x"} {
		if _, err := parseSlot(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseSlot(f *testing.F) {
	for _, s := range []string{"3", "0x10", "3[0x71326f4d34BD2027b7b35Dc056436c39E201a1C2].1", `4["a\"b"]`, "3[-5][true].2", "3[", "3.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseSlot(s)
		if err != nil {
			return
		}
		// A slot expression names one slot, whatever the spacing at its ends.
		b, err := parseSlot(" " + s + " ")
		if err != nil || a != b {
			t.Fatalf("%q = %s, padded = %s, %v", s, a, b, err)
		}
	})
}

const feedABI = `[{"type":"function","name":"latestRoundData","stateMutability":"view","inputs":[],"outputs":[
 {"name":"roundId","type":"uint80"},{"name":"answer","type":"int256"},{"name":"startedAt","type":"uint256"},
 {"name":"updatedAt","type":"uint256"},{"name":"answeredInRound","type":"uint80"}]},
 {"type":"function","name":"getRoundData","stateMutability":"view","inputs":[{"name":"_roundId","type":"uint80"}],"outputs":[
 {"name":"roundId","type":"uint80"},{"name":"answer","type":"int256"},{"name":"startedAt","type":"uint256"},
 {"name":"updatedAt","type":"uint256"},{"name":"answeredInRound","type":"uint80"}]}]`

// TestStateReadSelectsOutput: read picks an output by name or index; the
// unpacked value is that output's.
func TestStateReadSelectsOutput(t *testing.T) {
	feed := common.HexToAddress("0x00000000000000000000000000000000000000fe")
	cat := newCatalog(nil)
	a, err := abi.JSON(strings.NewReader(feedABI))
	if err != nil {
		t.Fatal(err)
	}
	cat.byName["Feed"] = []common.Address{feed}
	cat.byAddr[feed] = &known{name: "Feed", abi: &a}
	ret, err := a.Methods["latestRoundData"].Outputs.Pack(big.NewInt(7), big.NewInt(-250000000000), big.NewInt(100), big.NewInt(200), big.NewInt(7))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		read string
		args []string
		want string // value, or "error: …" substring
	}{
		{"latestRoundData", nil, "7"},
		{"latestRoundData().answer", nil, "-250000000000"},
		{"latestRoundData()[1]", nil, "-250000000000"},
		{"latestRoundData.updatedAt", nil, "200"},
		{"getRoundData(uint80).answer", []string{"7"}, "-250000000000"},
		{"latestRoundData() returns (uint80 roundId, int256 answer).answer", nil, "-250000000000"},
		{"latestRoundData() returns (uint80, int256)[1]", nil, "-250000000000"},
		{"latestRoundData().price", nil, "error: has no output named \"price\" (it returns roundId uint80, answer int256"},
		{"latestRoundData()[5]", nil, "error: returns 5 values"},
		{"latestRoundData()[x]", nil, "error: an output index is a number"},
	}
	for _, c := range cases {
		cm, err := compile(Spec{ID: "s", Kind: KindState, Contract: "Feed", Read: c.read, Args: c.args, Condition: "< 0"}, cat)
		if want, ok := strings.CutPrefix(c.want, "error: "); ok {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %v, want %q", c.read, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.read, err)
			continue
		}
		got, err := cm.unpack(ret)
		if err != nil || got != c.want {
			t.Errorf("%s = %q (%v), want %s", c.read, got, err, c.want)
		}
	}
}

func FuzzReadSelector(f *testing.F) {
	for _, s := range []string{"latestRoundData().answer", "latestRoundData()[1]", "totalSupply", "x() returns (uint256 a).a", "a[", "a.", "[]", "f(uint8)[99999999999999999999]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, read string) {
		call, sel, err := splitReadSelector(read)
		if err != nil || !sel.set {
			return
		}
		// The canonical form reads back as the same call and selector.
		call2, sel2, err := splitReadSelector(call + sel.String())
		if err != nil || call2 != call || sel2 != sel {
			t.Fatalf("%q → %q %v → %q %v (%v)", read, call, sel, call2, sel2, err)
		}
	})
}
