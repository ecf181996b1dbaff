package debugger

import (
	"math/big"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
)

// BalanceChange is how much of ether or of one ERC-20 token an account
// gained or lost.
type BalanceChange struct {
	Account common.Address `json:"account"`
	// Token is the ERC-20 contract; nil for ether.
	Token *common.Address `json:"token,omitempty"`
	// Symbol is the token's symbol() ("ETH" for ether), as the token
	// answers it: attacker-controlled text. Empty when it did not answer.
	Symbol string `json:"symbol,omitempty"`
	// Decimals is the token's decimals() (18 for ether); nil when the
	// token did not answer, and Delta is then in raw units.
	Decimals *uint8 `json:"decimals,omitempty"`
	// Delta is the signed change in the token's smallest unit (wei for
	// ether), in decimal.
	Delta string `json:"delta"`
}

// TokenInfo is what a token says of itself.
type TokenInfo struct {
	Symbol   string
	Decimals *uint8
}

// transferTopic is ERC-20's Transfer(address,address,uint256). ERC-721
// shares it with the id indexed (four topics): those are not amounts.
var transferTopic = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))

// BalanceChanges sums a run's ether balance changes (from its state diff)
// and ERC-20 transfers (from its Transfer events that were not reverted)
// per account and token (mints and burns count for their holder only);
// info names each token (nil: no names). Ether
// comes first, then tokens by address; accounts by address within each;
// changes that cancel out are left out.
func BalanceChanges(res *Result, info func(token common.Address) TokenInfo) []BalanceChange {
	var out []BalanceChange
	eth := uint8(18)
	for _, d := range res.State {
		if d.Balance == nil || d.Balance.Before == nil || d.Balance.After == nil {
			continue
		}
		delta := new(big.Int).Sub((*big.Int)(d.Balance.After), (*big.Int)(d.Balance.Before))
		if delta.Sign() != 0 {
			out = append(out, BalanceChange{Account: d.Address, Symbol: "ETH", Decimals: &eth, Delta: delta.String()})
		}
	}
	slices.SortFunc(out, func(a, b BalanceChange) int { return a.Account.Cmp(b.Account) })
	sums := map[common.Address]map[common.Address]*big.Int{}
	for _, e := range res.Events {
		if e.Reverted || len(e.Topics) != 3 || e.Topics[0] != transferTopic || len(e.Data) != 32 {
			continue
		}
		v := new(big.Int).SetBytes(e.Data)
		m := sums[e.Address]
		if m == nil {
			m = map[common.Address]*big.Int{}
			sums[e.Address] = m
		}
		add := func(a common.Address, v *big.Int) {
			// The zero address is where mints come from and burns go,
			// not an account that holds tokens.
			if a == (common.Address{}) {
				return
			}
			if m[a] == nil {
				m[a] = new(big.Int)
			}
			m[a].Add(m[a], v)
		}
		add(common.BytesToAddress(e.Topics[1][:]), new(big.Int).Neg(v))
		add(common.BytesToAddress(e.Topics[2][:]), v)
	}
	tokens := make([]common.Address, 0, len(sums))
	for t := range sums {
		tokens = append(tokens, t)
	}
	slices.SortFunc(tokens, func(a, b common.Address) int { return a.Cmp(b) })
	for _, t := range tokens {
		var ti TokenInfo
		if info != nil {
			ti = info(t)
		}
		accts := make([]common.Address, 0, len(sums[t]))
		for a, v := range sums[t] {
			if v.Sign() != 0 {
				accts = append(accts, a)
			}
		}
		slices.SortFunc(accts, func(a, b common.Address) int { return a.Cmp(b) })
		for _, a := range accts {
			tok := t
			out = append(out, BalanceChange{Account: a, Token: &tok, Symbol: ti.Symbol, Decimals: ti.Decimals, Delta: sums[t][a].String()})
		}
	}
	return out
}

// tokenCallGas bounds each of a token's name reads.
const tokenCallGas = 200_000

// maxSymbol bounds the symbol kept, in bytes.
const maxSymbol = 64

// tokenInfo asks token for decimals() and symbol() on the engine's
// current state, without tracing; an answer that is missing or malformed
// is left out.
func (e *engine) tokenInfo(token common.Address) TokenInfo {
	call := func(sig string) []byte {
		evm := vm.NewEVM(e.blockCtx, e.sdb, e.config, vm.Config{})
		evm.SetTxContext(vm.TxContext{GasPrice: new(uint256.Int)})
		out, _, err := evm.StaticCall(common.Address{}, token, crypto.Keccak256([]byte(sig))[:4], vm.NewGasBudget(tokenCallGas, 0))
		if err != nil {
			return nil
		}
		return out
	}
	var ti TokenInfo
	if out := call("decimals()"); len(out) == 32 {
		if d := new(big.Int).SetBytes(out); d.IsUint64() && d.Uint64() <= 255 {
			v := uint8(d.Uint64())
			ti.Decimals = &v
		}
	}
	ti.Symbol = decodeSymbol(call("symbol()"))
	return ti
}

var stringType, _ = abi.NewType("string", "", nil)

// decodeSymbol reads a symbol() answer: an ABI string, or a bytes32 as
// some early tokens return. Invalid UTF-8 and overlong symbols are cut.
func decodeSymbol(out []byte) string {
	var s string
	if vals, err := (abi.Arguments{{Type: stringType}}).Unpack(out); err == nil && len(vals) == 1 {
		s, _ = vals[0].(string)
	} else if len(out) == 32 {
		s = strings.TrimRight(string(out), "\x00")
	}
	if len(s) > maxSymbol {
		s = s[:maxSymbol]
	}
	return strings.ToValidUTF8(s, "")
}
