package monitor

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// A state watch reads one value per block: an output of a view call or a
// storage word.
//
// read: a method and, optionally, which of its outputs to watch, by name or
// by index (the first output by default):
//
//	latestRoundData               first output (roundId)
//	latestRoundData().answer      the output named answer
//	latestRoundData()[1]          the second output
//	getRoundData(uint80).answer   with args: [42]
//	"latestRoundData() returns (uint80 roundId, int256 answer).answer"
//
// slot: a storage slot (decimal, or hex with 0x), then mapping keys in
// brackets and a struct field's slot offset after a dot:
//
//	3                  slot 3
//	3[0x71326f…]       mapping at slot 3, address key: keccak256(pad32(key) . pad32(3))
//	3[7].1             mapping at slot 3, key 7, second slot of the struct it holds
//	5[0xa…][0xb…]      nested mapping: keccak256(pad32(b) . keccak256(pad32(a) . pad32(5)))
//	4["alice"]         string key: keccak256("alice" . pad32(4))
//
// Keys: addresses (0x + 40 hex), integers (decimal, negative ones as
// int256), 32-byte values (0x + 64 hex; bytesN shorter than 32 are written
// right-padded to 32 bytes), true/false, and "quoted" string or bytes keys.
// The offset counts slots, not bytes: fields packed into one slot share it,
// and the value read is the whole 32-byte word as an unsigned integer.

// outputSelector picks one output of a call: by name, or by index when
// name is "".
type outputSelector struct {
	name  string
	index int
	set   bool
}

func (s outputSelector) String() string {
	if s.name != "" {
		return "." + s.name
	}
	return "[" + strconv.Itoa(s.index) + "]"
}

// splitReadSelector splits "call.name" or "call[i]" (the selector may also
// follow a "returns (…)" list) into the call and its output selector.
func splitReadSelector(read string) (string, outputSelector, error) {
	s := strings.TrimSpace(read)
	switch {
	case strings.HasSuffix(s, "]"):
		open := strings.LastIndexByte(s, '[')
		if open < 0 {
			return "", outputSelector{}, fmt.Errorf("%q: unbalanced ]", read)
		}
		n, err := strconv.Atoi(s[open+1 : len(s)-1])
		if err != nil || n < 0 {
			return "", outputSelector{}, fmt.Errorf("%q: an output index is a number, as in latestRoundData()[1]", read)
		}
		return strings.TrimSpace(s[:open]), outputSelector{index: n, set: true}, nil
	default:
		dot := strings.LastIndexByte(s, '.')
		if dot < 0 || strings.ContainsAny(s[dot:], "()") {
			return s, outputSelector{}, nil
		}
		name := s[dot+1:]
		if !isIdent(name) {
			return "", outputSelector{}, fmt.Errorf("%q: an output name is an identifier, as in latestRoundData().answer", read)
		}
		return strings.TrimSpace(s[:dot]), outputSelector{name: name, set: true}, nil
	}
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r != '_' && r != '$' && !(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z') && !(i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// pick returns the index of the selected output of method.
func (s outputSelector) pick(method *abi.Method) (int, error) {
	outs := method.Outputs
	names := func() string {
		var l []string
		for i, o := range outs {
			n := o.Name
			if n == "" {
				n = "[" + strconv.Itoa(i) + "]"
			}
			l = append(l, n+" "+o.Type.String())
		}
		return strings.Join(l, ", ")
	}
	if !s.set {
		return 0, nil
	}
	if s.name == "" {
		if s.index >= len(outs) {
			return 0, fmt.Errorf("%s returns %d values (%s): there is no [%d]", method.Sig, len(outs), names(), s.index)
		}
		return s.index, nil
	}
	for i, o := range outs {
		if o.Name == s.name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%s has no output named %q (it returns %s)", method.Sig, s.name, names())
}

// parseSlot computes the storage slot a slot expression names.
func parseSlot(expr string) (common.Hash, error) {
	s := strings.TrimSpace(expr)
	end := strings.IndexAny(s, "[.")
	if end < 0 {
		end = len(s)
	}
	base, err := slotNumber(s[:end])
	if err != nil {
		return common.Hash{}, err
	}
	slot := common.BigToHash(base)
	s = s[end:]
	for s != "" {
		switch s[0] {
		case '[':
			key, rest, err := cutKey(s[1:])
			if err != nil {
				return common.Hash{}, err
			}
			slot = crypto.Keccak256Hash(key, slot[:])
			s = rest
		case '.':
			end := strings.IndexAny(s[1:], "[.") + 1
			if end == 0 {
				end = len(s)
			}
			off, err := strconv.ParseUint(s[1:end], 10, 32)
			if err != nil {
				return common.Hash{}, fmt.Errorf("%q is not a struct field's slot offset (a number, as in 3[7].1)", s[1:end])
			}
			v := new(big.Int).Add(slot.Big(), new(big.Int).SetUint64(off))
			slot = common.BigToHash(v.Mod(v, two256))
			s = s[end:]
		default:
			return common.Hash{}, fmt.Errorf("unexpected %q: write a slot like 3, 3[0xabc…] or 3[7].1", s)
		}
	}
	return slot, nil
}

var two256 = new(big.Int).Lsh(big.NewInt(1), 256)

func slotNumber(s string) (*big.Int, error) {
	v, ok := new(big.Int).SetString(s, 0)
	if strings.HasPrefix(s, "0") && len(s) > 1 && !strings.HasPrefix(s, "0x") {
		ok = false // no octal or binary surprises: decimal, or hex with 0x
	}
	if !ok || v.Sign() < 0 || v.BitLen() > 256 {
		return nil, fmt.Errorf("%q is not a storage slot: a decimal number, or hex with 0x (at most 32 bytes)", s)
	}
	return v, nil
}

// cutKey reads one mapping key up to its closing bracket and returns its
// encoding as hashed with the slot, and what follows the bracket.
func cutKey(s string) ([]byte, string, error) {
	if strings.HasPrefix(s, `"`) {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, "", fmt.Errorf("unterminated string key in %q", s)
		}
		rest, ok := strings.CutPrefix(s[len(q):], "]")
		if !ok {
			return nil, "", fmt.Errorf("a string key is followed by ]")
		}
		v, _ := strconv.Unquote(q)
		return []byte(v), rest, nil
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return nil, "", fmt.Errorf("missing ] after mapping key %q", s)
	}
	k, rest := strings.TrimSpace(s[:end]), s[end+1:]
	switch {
	case k == "true":
		return common.LeftPadBytes([]byte{1}, 32), rest, nil
	case k == "false":
		return make([]byte, 32), rest, nil
	case strings.HasPrefix(k, "0x") || strings.HasPrefix(k, "0X"):
		b, err := hex.DecodeString(k[2:])
		if err != nil || (len(b) != 20 && len(b) != 32) {
			return nil, "", fmt.Errorf("key %q: hex keys are addresses (20 bytes) or 32-byte values; write integers in decimal and shorter bytesN right-padded to 32 bytes", k)
		}
		return common.LeftPadBytes(b, 32), rest, nil
	}
	v, ok := new(big.Int).SetString(k, 10)
	if !ok || v.BitLen() > 256 || (v.Sign() < 0 && v.Cmp(new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 255))) < 0) {
		return nil, "", fmt.Errorf("key %q is not an address, a number, true/false, 32 bytes of hex or a \"string\"", k)
	}
	if v.Sign() < 0 {
		v.Add(v, two256) // two's complement, as int256 is stored
	}
	return common.BigToHash(v).Bytes(), rest, nil
}
