package debugger

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	icontracts "github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/store"
)

// deployDemoToken deploys the demo's DemoToken owned by the harness's key.
func deployDemoToken(t *testing.T, h *chainHarness) (common.Address, abi.ABI) {
	t.Helper()
	in, out := demo.StandardJSON()
	list, err := icontracts.ParseStandardJSON(in, out, "0.8.28+commit.7893614a")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.Name != "DemoToken" {
			continue
		}
		parsed, err := abi.JSON(strings.NewReader(string(a.ABI)))
		if err != nil {
			t.Fatal(err)
		}
		args, err := parsed.Pack("", crypto.PubkeyToAddress(h.key.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		_, r := h.send(t, nil, append(common.FromHex(a.Bytecode), args...), 5_000_000)
		if r.Status != 1 {
			t.Fatal("DemoToken deployment failed")
		}
		return r.ContractAddress, parsed
	}
	t.Fatal("no DemoToken in the demo build")
	return common.Address{}, abi.ABI{}
}

// shortString is a Solidity string under 32 bytes as its storage slot
// holds it: the bytes left-aligned, twice the length in the last byte.
func shortString(s string) common.Hash {
	var h common.Hash
	copy(h[:], s)
	h[31] = byte(2 * len(s))
	return h
}

// testSimulationOverrides runs simulations with block overrides and with
// ether and token movements on a real chain: the block the code sees, the
// balance changes with the token's own decimals and symbol (read on the
// simulated state, overrides included), and the requests refused.
func testSimulationOverrides(t *testing.T, h *chainHarness, l *Local) {
	ctx := context.Background()
	opts := Options{Dir: t.TempDir()}
	head, err := h.ec.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("block overrides", func(t *testing.T) {
		// NUMBER PUSH1 0 SSTORE TIMESTAMP PUSH1 1 SSTORE STOP
		code := hexutil.Bytes(common.FromHex("0x4360005542600155" + "00"))
		probe := common.Address{0xb1}
		num, at := hexutil.Uint64(987654), hexutil.Uint64(2_000_000_000)
		block := hexutil.Uint64(head)
		for _, c := range []struct {
			name       string
			over       *BlockOverrides
			wantNumber uint64
		}{
			{"none", nil, head + 1},
			{"number and time", &BlockOverrides{Number: &num, Time: &at}, uint64(num)},
		} {
			res, err := l.Simulate(ctx, SimRequest{From: common.Address{0xab}, To: &probe, Block: &block, BlockOverrides: c.over,
				Overrides: map[common.Address]Override{probe: {Code: &code}}}, opts)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			slots := map[common.Hash]common.Hash{}
			for _, d := range res.State {
				if d.Address == probe {
					for _, s := range d.Storage {
						slots[s.Slot] = s.After
					}
				}
			}
			gotNumber, gotTime := slots[common.Hash{}].Big().Uint64(), slots[common.BigToHash(big.NewInt(1))].Big().Uint64()
			if gotNumber != c.wantNumber || res.BlockNumber != c.wantNumber || res.StateBlock != head || gotTime != res.BlockTime {
				t.Errorf("%s: NUMBER %d TIMESTAMP %d, result block %d time %d state %d; want number %d on state %d",
					c.name, gotNumber, gotTime, res.BlockNumber, res.BlockTime, res.StateBlock, c.wantNumber, head)
			}
			if c.over != nil && gotTime != uint64(at) {
				t.Errorf("TIMESTAMP %d, want %d", gotTime, at)
			}
		}
	})

	t.Run("balance changes", func(t *testing.T) {
		token, tokenABI := deployDemoToken(t, h)
		owner := crypto.PubkeyToAddress(h.key.PublicKey)
		to := common.Address{0xc4}
		amount := new(big.Int).Mul(big.NewInt(15), big.NewInt(1e17)) // 1.5 tokens
		data, _ := tokenABI.Pack("mint", to, amount)
		payload := "<img src=x onerror=alert(9)>"
		// Slot 4 is ERC20's _symbol (after _balances, _allowances,
		// _totalSupply, _name).
		over := map[common.Address]Override{token: {Storage: map[common.Hash]common.Hash{common.BigToHash(big.NewInt(4)): shortString(payload)}}}
		rich := (*hexutil.Big)(new(big.Int).Lsh(big.NewInt(1), 70))
		over[owner] = Override{Balance: rich}
		value := (*hexutil.Big)(big.NewInt(3e18))
		// The owner mints to `to` and sends the token 3 ether on the way,
		// which the token refuses: first without value.
		res, err := l.Simulate(ctx, SimRequest{From: owner, To: &token, Data: data, Overrides: over}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != 1 || len(res.BalanceChanges) != 1 {
			t.Fatalf("mint: status %d, balance changes %+v", res.Status, res.BalanceChanges)
		}
		bc := res.BalanceChanges[0]
		if bc.Account != to || bc.Token == nil || *bc.Token != token || bc.Decimals == nil || *bc.Decimals != 18 || bc.Delta != amount.String() || bc.Symbol != payload {
			t.Errorf("mint: %+v (decimals %v), want %s +%s of %s, 18 decimals, symbol %q", bc, bc.Decimals, to, amount, token, payload)
		}
		res, err = l.Simulate(ctx, SimRequest{From: owner, To: &to, Value: value, Overrides: over}, opts)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range res.BalanceChanges {
			got = append(got, c.Account.Hex()+" "+c.Symbol+" "+c.Delta)
		}
		want := []string{owner.Hex() + " ETH -3000000000000000000", to.Hex() + " ETH 3000000000000000000"}
		if owner.Cmp(to) > 0 {
			want[0], want[1] = want[1], want[0]
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("ether transfer: balance changes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("refused", func(t *testing.T) {
		to := common.Address{0xc4}
		far := hexutil.Uint64(head + 1_000_000)
		_, err := l.Simulate(ctx, SimRequest{From: common.Address{0xab}, To: &to, Block: &far}, opts)
		if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "not on the chain yet") {
			t.Errorf("a block past the head: %v", err)
		}
		poor := SimRequest{From: common.Address{0xad}, To: &to, Value: (*hexutil.Big)(big.NewInt(1e18))}
		if _, err := l.Simulate(ctx, poor, opts); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "override the sender's balance") {
			t.Errorf("a sender without the value: %v", err)
		}
		huge := hexutil.Bytes(make([]byte, MaxOverrideCode+1))
		req := SimRequest{From: common.Address{0xab}, To: &to, Overrides: map[common.Address]Override{to: {Code: &huge}}}
		if err := req.Validate(); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "code override") {
			t.Errorf("huge code: %v", err)
		}
	})
}

func TestBalanceChanges(t *testing.T) {
	tokenA, tokenB := common.Address{0x0a}, common.Address{0x0b}
	alice, bob, carol := common.Address{1}, common.Address{2}, common.Address{3}
	six := uint8(6)
	info := func(tok common.Address) TokenInfo {
		if tok == tokenA {
			return TokenInfo{Symbol: "USDX", Decimals: &six}
		}
		return TokenInfo{}
	}
	transfer := func(tok, from, to common.Address, v int64, reverted bool) Event {
		return Event{Address: tok, Topics: []common.Hash{transferTopic, common.BytesToHash(from[:]), common.BytesToHash(to[:])},
			Data: common.BigToHash(big.NewInt(v)).Bytes(), Reverted: reverted}
	}
	bal := func(before, after int64) *BalanceDiff {
		return &BalanceDiff{Before: (*hexutil.Big)(big.NewInt(before)), After: (*hexutil.Big)(big.NewInt(after))}
	}
	nft := transfer(tokenB, alice, bob, 1, false)
	nft.Topics = append(nft.Topics, common.Hash{7})
	for _, c := range []struct {
		name string
		res  Result
		want []string
	}{
		{"nothing", Result{}, nil},
		{"ether", Result{State: []AccountDiff{{Address: bob, Balance: bal(10, 4)}, {Address: alice, Balance: bal(0, 6)}, {Address: carol, Balance: bal(5, 5)}}},
			[]string{"01 ETH 18 6", "02 ETH 18 -6"}},
		{"tokens summed, reverted and NFTs left out, names asked", Result{Events: []Event{
			transfer(tokenA, alice, bob, 100, false), transfer(tokenA, bob, carol, 30, false), transfer(tokenA, alice, carol, 1000, true),
			transfer(tokenB, carol, alice, 5, false), nft, transfer(tokenA, carol, carol, 9, false),
		}}, []string{"01 USDX 6 -100", "02 USDX 6 70", "03 USDX 6 30", "01 ? 5", "03 ? -5"}},
		{"a round trip cancels out", Result{Events: []Event{transfer(tokenA, alice, bob, 100, false), transfer(tokenA, bob, alice, 100, false)}}, nil},
	} {
		var got []string
		for _, bc := range BalanceChanges(&c.res, info) {
			s := bc.Account.Hex()[2:4] + " "
			if bc.Symbol != "" {
				s += bc.Symbol + " "
			} else {
				s += "? "
			}
			if bc.Decimals != nil {
				s += big.NewInt(int64(*bc.Decimals)).String() + " "
			}
			got = append(got, s+bc.Delta)
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func FuzzDecodeSymbol(f *testing.F) {
	str, _ := abi.Arguments{{Type: stringType}}.Pack("DUSD")
	long, _ := abi.Arguments{{Type: stringType}}.Pack(strings.Repeat("é", 100))
	f.Add(str)
	f.Add(long)
	f.Add(common.RightPadBytes([]byte("MKR"), 32))
	f.Add([]byte{})
	f.Add(common.FromHex("0x0000000000000000000000000000000000000000000000000000000000000020ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"))
	f.Fuzz(func(t *testing.T, out []byte) {
		s := decodeSymbol(out)
		if len(s) > maxSymbol || !utf8Valid(s) {
			t.Fatalf("symbol %q: too long or not UTF-8", s)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
