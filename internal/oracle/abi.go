package oracle

import (
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Errors of reading a feed. Each is a store.ErrInvalid for errors.Is, so
// that the API answers them as bad input rather than as its own failure.
var (
	// ErrNotFeed: the address holds no contract, or one that does not
	// answer like a price feed.
	ErrNotFeed = store.Sentinel("not a price feed", store.ErrInvalid)
	// ErrReverted: the feed reverted a read a feed must answer.
	ErrReverted = store.Sentinel("the feed reverted", store.ErrInvalid)
	// ErrBadDecimals: decimals() is beyond any price's (more than MaxDecimals).
	ErrBadDecimals = store.Sentinel("absurd decimals", store.ErrInvalid)
	// ErrProxyLoop: a proxy's aggregator() leads back to itself.
	ErrProxyLoop = store.Sentinel("the proxy points to itself", store.ErrInvalid)
)

// MaxDecimals is the most decimals a feed may have; Chainlink's have 8 or 18.
const MaxDecimals = 36

// Selectors of the feed functions whose calls make a contract a reader.
var (
	selLatestRoundData = selector("latestRoundData()")
	selLatestAnswer    = selector("latestAnswer()")
	selGetRoundData    = selector("getRoundData(uint80)")
	selDecimals        = selector("decimals()")
	selDescription     = selector("description()")
	selVersion         = selector("version()")
	selAggregator      = selector("aggregator()")
	selMinAnswer       = selector("minAnswer()")
	selMaxAnswer       = selector("maxAnswer()")
)

// readMethods names the selectors of reads of a feed's value.
var readMethods = map[[4]byte]string{
	selLatestRoundData: "latestRoundData",
	selLatestAnswer:    "latestAnswer",
	selGetRoundData:    "getRoundData",
}

// Event topics of aggregators' answers.
var (
	topicAnswerUpdated   = crypto.Keccak256Hash([]byte("AnswerUpdated(int256,uint256,uint256)"))
	topicNewTransmission = crypto.Keccak256Hash([]byte("NewTransmission(uint32,int192,address,uint32,int192[],bytes,int192,bytes32,uint40)"))
)

// newTransmissionData are the non-indexed arguments of OCR2's NewTransmission.
var newTransmissionData = mustArgs(
	"int192", "address", "uint32", "int192[]", "bytes", "int192", "bytes32", "uint40")

func mustArgs(types ...string) abi.Arguments {
	var out abi.Arguments
	for _, t := range types {
		typ, err := abi.NewType(t, "", nil)
		if err != nil {
			panic("BUG: " + err.Error())
		}
		out = append(out, abi.Argument{Type: typ})
	}
	return out
}

func selector(sig string) [4]byte {
	var s [4]byte
	copy(s[:], crypto.Keccak256([]byte(sig))[:4])
	return s
}

// Round is one round of a feed, as latestRoundData and getRoundData
// return it. Times are unix seconds as the feed reports them.
type Round struct {
	RoundID         *big.Int
	Answer          *big.Int
	StartedAt       uint64
	UpdatedAt       uint64
	AnsweredInRound *big.Int
}

var (
	maxUint80 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 80), big.NewInt(1))
	two256    = new(big.Int).Lsh(big.NewInt(1), 256)
	maxInt256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(1))
)

// DecodeRound decodes what latestRoundData or getRoundData returned: five
// words (uint80, int256, uint256, uint256, uint80). Round ids must fit 80
// bits and times 64; anything else is an error, never a panic.
func DecodeRound(data []byte) (Round, error) {
	if len(data) < 5*32 {
		return Round{}, fmt.Errorf("%w: a round is 160 bytes, the feed answered %d", ErrNotFeed, len(data))
	}
	word := func(i int) *big.Int { return new(big.Int).SetBytes(data[i*32 : (i+1)*32]) }
	r := Round{RoundID: word(0), Answer: signed(word(1)), AnsweredInRound: word(4)}
	if r.RoundID.Cmp(maxUint80) > 0 || r.AnsweredInRound.Cmp(maxUint80) > 0 {
		return Round{}, fmt.Errorf("%w: a round id does not fit 80 bits", ErrNotFeed)
	}
	started, updated := word(2), word(3)
	if !started.IsUint64() || !updated.IsUint64() {
		return Round{}, fmt.Errorf("%w: a round's time does not fit 64 bits", ErrNotFeed)
	}
	r.StartedAt, r.UpdatedAt = started.Uint64(), updated.Uint64()
	return r, nil
}

// EncodeRound is DecodeRound's inverse, for tests and fixtures.
func EncodeRound(r Round) []byte {
	out := make([]byte, 5*32)
	put := func(i int, v *big.Int) {
		if v.Sign() < 0 {
			v = new(big.Int).Add(v, two256)
		}
		v.FillBytes(out[i*32 : (i+1)*32])
	}
	put(0, r.RoundID)
	put(1, r.Answer)
	put(2, new(big.Int).SetUint64(r.StartedAt))
	put(3, new(big.Int).SetUint64(r.UpdatedAt))
	put(4, r.AnsweredInRound)
	return out
}

// signed reads a 256-bit two's complement word.
func signed(v *big.Int) *big.Int {
	if v.Cmp(maxInt256) > 0 {
		return v.Sub(v, two256)
	}
	return v
}

// decodeInt decodes one signed word (latestAnswer, minAnswer, maxAnswer).
func decodeInt(data []byte) (*big.Int, error) {
	if len(data) < 32 {
		return nil, fmt.Errorf("%w: an integer is 32 bytes, the feed answered %d", ErrNotFeed, len(data))
	}
	return signed(new(big.Int).SetBytes(data[:32])), nil
}

// decodeDecimals decodes decimals(): a uint8 no larger than MaxDecimals.
func decodeDecimals(data []byte) (uint8, error) {
	if len(data) < 32 {
		return 0, fmt.Errorf("%w: decimals() answered %d bytes", ErrNotFeed, len(data))
	}
	v := new(big.Int).SetBytes(data[:32])
	if !v.IsUint64() || v.Uint64() > MaxDecimals {
		return 0, fmt.Errorf("%w: decimals() = %s (at most %d)", ErrBadDecimals, v, MaxDecimals)
	}
	return uint8(v.Uint64()), nil
}

// decodeAddress decodes a word holding an address; upper bytes must be zero.
func decodeAddress(data []byte) (common.Address, error) {
	if len(data) < 32 {
		return common.Address{}, fmt.Errorf("an address is 32 bytes, got %d", len(data))
	}
	for _, b := range data[:12] {
		if b != 0 {
			return common.Address{}, errors.New("not an address")
		}
	}
	return common.BytesToAddress(data[12:32]), nil
}

// decodeString decodes an ABI string return value, bounded to 256 bytes
// and with control characters dropped: a description is shown on pages.
func decodeString(data []byte) (string, error) {
	if len(data) < 64 {
		return "", fmt.Errorf("a string is at least 64 bytes, got %d", len(data))
	}
	off := new(big.Int).SetBytes(data[:32])
	if !off.IsUint64() || off.Uint64() > uint64(len(data))-32 {
		return "", errors.New("string offset out of range")
	}
	o := off.Uint64()
	n := new(big.Int).SetBytes(data[o : o+32])
	if !n.IsUint64() || n.Uint64() > uint64(len(data))-o-32 {
		return "", errors.New("string length out of range")
	}
	s := data[o+32 : o+32+n.Uint64()]
	if len(s) > 256 {
		s = s[:256]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(string(s), "")), nil
}

// FormatAnswer writes an answer with its decimals: 300012345678 with 8 is
// "3000.12345678".
func FormatAnswer(answer *big.Int, decimals uint8) string {
	if answer == nil {
		return ""
	}
	neg := answer.Sign() < 0
	digits := new(big.Int).Abs(answer).String()
	d := int(decimals)
	if d > 0 {
		if len(digits) <= d {
			digits = strings.Repeat("0", d-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-d] + "." + digits[len(digits)-d:]
		digits = strings.TrimRight(strings.TrimRight(digits, "0"), ".")
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// Float is an answer scaled by its decimals, for charts.
func Float(answer *big.Int, decimals uint8) float64 {
	if answer == nil {
		return 0
	}
	f := new(big.Float).SetInt(answer)
	f.Quo(f, new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
	v, _ := f.Float64()
	return v
}
