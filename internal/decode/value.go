package decode

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/ethereum/go-ethereum/common"
)

// Limits on decoding. Inputs beyond them are refused rather than decoded
// slowly or into huge values.
const (
	// MaxDataSize is the largest calldata, log data or revert data decoded.
	MaxDataSize = 1 << 20
	// MaxValueBytes is how much of one string or bytes value is rendered;
	// longer values are cut there (on a UTF-8 boundary for strings) and end
	// in "…".
	MaxValueBytes = 4096

	maxValues = 1 << 16 // values (leaves and containers) decoded per call
	maxOutput = 4 << 20 // rendered bytes per call
)

// Errors returned by the decoder.
var (
	// ErrUnknown means no registered or bundled ABI knows the selector or topic.
	ErrUnknown = errors.New("no known ABI matches")
	// ErrTooLarge means the input is larger than MaxDataSize.
	ErrTooLarge = errors.New("data too large to decode")
	// errBudget means the data expands into too many values.
	errBudget = errors.New("data expands into too many values")
)

// truncMark ends a value cut at MaxValueBytes.
const truncMark = "…"

// valueDecoder decodes ABI-encoded values into their rendering, counting
// the work done so that crafted offsets cannot make it explode.
type valueDecoder struct {
	values int
	out    int
}

// args decodes params: the non-indexed ones from data, encoded as a tuple,
// the indexed ones from topics (which must hold exactly one per indexed
// parameter).
func (d *valueDecoder) args(params []param, data []byte, topics []common.Hash) ([]chain.Arg, error) {
	args := make([]chain.Arg, len(params))
	head, ti := 0, 0
	for i, p := range params {
		var (
			out []byte
			err error
		)
		if p.indexed {
			topic := topics[ti]
			ti++
			if p.typ.isValueType() {
				out, err = d.value(p.typ, topic[:], 0, false, nil)
			} else {
				out = appendHex(nil, topic[:], false)
			}
		} else {
			out, err = d.component(p.typ, data, head, false, nil)
			head += 32 * p.typ.words
		}
		if err != nil {
			return nil, fmt.Errorf("argument %d (%s %s): %w", i, p.typ.canon, p.name, err)
		}
		args[i] = chain.Arg{Name: p.name, Type: p.typ.canon, Value: string(out)}
	}
	return args, nil
}

// component decodes the value whose head is at buf[head:], buf being the
// encoding of the enclosing tuple (the base of any offset in the head).
func (d *valueDecoder) component(t *abiType, buf []byte, head int, nested bool, out []byte) ([]byte, error) {
	if !t.dynamic {
		return d.value(t, buf, head, nested, out)
	}
	off, err := readSize(buf, head)
	if err != nil {
		return nil, fmt.Errorf("offset: %w", err)
	}
	return d.value(t, buf, off, nested, out)
}

// value decodes the value of type t whose encoding starts at buf[at:], and
// appends its rendering to out: JSON when nested inside an array or tuple,
// plain text otherwise.
func (d *valueDecoder) value(t *abiType, buf []byte, at int, nested bool, out []byte) ([]byte, error) {
	d.values++
	if d.values > maxValues {
		return nil, errBudget
	}
	if at < 0 || at > len(buf) {
		return nil, fmt.Errorf("data too short: value at %d, have %d bytes", at, len(buf))
	}
	before := len(out)
	var err error
	switch t.kind {
	case kindArray:
		out, err = d.sequence(t.elem, t.size, nil, buf[at:], out)
	case kindSlice:
		var n int
		if n, err = readSize(buf, at); err != nil {
			return nil, fmt.Errorf("array length: %w", err)
		}
		elems := buf[at+32:]
		if n > len(elems)/(32*t.elem.words) {
			return nil, fmt.Errorf("array of %d elements does not fit in %d bytes", n, len(elems))
		}
		out, err = d.sequence(t.elem, n, nil, elems, out)
	case kindTuple:
		out, err = d.sequence(nil, len(t.comps), t, buf[at:], out)
	case kindString, kindBytes:
		var n int
		if n, err = readSize(buf, at); err != nil {
			return nil, fmt.Errorf("length: %w", err)
		}
		body := buf[at+32:]
		if n > len(body) {
			return nil, fmt.Errorf("%s of %d bytes does not fit in %d bytes", t.canon, n, len(body))
		}
		if t.kind == kindString {
			out = appendText(out, sanitize(body[:n]), nested)
		} else {
			out = appendHex(out, body[:n], nested)
		}
	default:
		var word []byte
		if word, err = readWord(buf, at); err != nil {
			return nil, err
		}
		out, err = appendWord(out, t, word, nested)
	}
	if err != nil {
		return nil, err
	}
	d.out += len(out) - before
	if d.out > maxOutput {
		return nil, errBudget
	}
	return out, nil
}

// sequence renders n elements of type elem (an array) or the components of
// tuple (a JSON object), encoded as a tuple at the start of buf.
func (d *valueDecoder) sequence(elem *abiType, n int, tuple *abiType, buf []byte, out []byte) ([]byte, error) {
	open, closing := byte('['), byte(']')
	if tuple != nil {
		open, closing = '{', '}'
	}
	out = append(out, open)
	head := 0
	for i := 0; i < n; i++ {
		if i > 0 {
			out = append(out, ',')
		}
		t := elem
		if tuple != nil {
			t = tuple.comps[i]
			out = appendJSONString(out, tuple.names[i])
			out = append(out, ':')
		}
		var err error
		if out, err = d.component(t, buf, head, true, out); err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		head += 32 * t.words
	}
	return append(out, closing), nil
}

// appendWord renders a static value held in one 32-byte word. Like solc's
// own decoder it refuses words with dirty high-order or padding bits: such
// data was not produced for this type.
func appendWord(out []byte, t *abiType, w []byte, nested bool) ([]byte, error) {
	if nested {
		out = append(out, '"')
	}
	switch t.kind {
	case kindUint:
		if !allBytes(w[:32-t.size/8], 0) {
			return nil, fmt.Errorf("value does not fit in %s", t.canon)
		}
		if allBytes(w[:24], 0) {
			out = strconv.AppendUint(out, binary.BigEndian.Uint64(w[24:]), 10)
		} else {
			out = new(big.Int).SetBytes(w).Append(out, 10)
		}
	case kindInt:
		ext := 32 - t.size/8 // sign-extension bytes
		neg := w[ext]&0x80 != 0
		fill := byte(0)
		if neg {
			fill = 0xff
		}
		if !allBytes(w[:ext], fill) {
			return nil, fmt.Errorf("value does not fit in %s", t.canon)
		}
		if allBytes(w[:24], fill) && (w[24]&0x80 != 0) == neg {
			out = strconv.AppendInt(out, int64(binary.BigEndian.Uint64(w[24:])), 10)
		} else {
			v := new(big.Int).SetBytes(w)
			if neg {
				v.Sub(v, two256)
			}
			out = v.Append(out, 10)
		}
	case kindAddress:
		if !allBytes(w[:12], 0) {
			return nil, errors.New("address has dirty high-order bytes")
		}
		out = append(out, common.BytesToAddress(w[12:]).Hex()...)
	case kindBool:
		if !allBytes(w[:31], 0) || w[31] > 1 {
			return nil, errors.New("bool is neither 0 nor 1")
		}
		out = strconv.AppendBool(out, w[31] == 1)
	case kindFixedBytes:
		if !allBytes(w[t.size:], 0) {
			return nil, fmt.Errorf("%s has dirty padding", t.canon)
		}
		out = appendHex(out, w[:t.size], false)
	case kindFunction:
		if !allBytes(w[24:], 0) {
			return nil, errors.New("function has dirty padding")
		}
		out = appendHex(out, w[:24], false)
	default:
		return nil, fmt.Errorf("BUG: %s is not a one-word type", t.canon)
	}
	if nested {
		out = append(out, '"')
	}
	return out, nil
}

var two256 = new(big.Int).Lsh(big.NewInt(1), 256)

func allBytes(b []byte, v byte) bool {
	for _, c := range b {
		if c != v {
			return false
		}
	}
	return true
}

// readWord returns the 32-byte word at buf[at:].
func readWord(buf []byte, at int) ([]byte, error) {
	if at < 0 || at > len(buf)-32 {
		return nil, fmt.Errorf("data too short: need 32 bytes at %d, have %d", at, len(buf))
	}
	return buf[at : at+32], nil
}

// readSize reads a word used as an offset or length. It must point within
// buf, which bounds it well below the int range.
func readSize(buf []byte, at int) (int, error) {
	w, err := readWord(buf, at)
	if err != nil {
		return 0, err
	}
	if !allBytes(w[:24], 0) {
		return 0, errors.New("value out of range")
	}
	v := binary.BigEndian.Uint64(w[24:])
	if v > uint64(len(buf)) {
		return 0, fmt.Errorf("value %d out of range (data is %d bytes)", v, len(buf))
	}
	return int(v), nil
}

// sanitize returns b as valid UTF-8, cut at MaxValueBytes.
func sanitize(b []byte) string {
	cut := false
	if len(b) > MaxValueBytes {
		n := MaxValueBytes
		for i := 0; i < utf8.UTFMax && n > 0 && !utf8.RuneStart(b[n]); i++ {
			n--
		}
		b, cut = b[:n], true
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if cut {
		s += truncMark
	}
	return s
}

// appendHex appends 0x-hex of b, cut at MaxValueBytes.
func appendHex(out, b []byte, nested bool) []byte {
	if nested {
		out = append(out, '"')
	}
	cut := len(b) > MaxValueBytes
	if cut {
		b = b[:MaxValueBytes]
	}
	out = append(out, "0x"...)
	out = hex.AppendEncode(out, b)
	if cut {
		out = append(out, truncMark...)
	}
	if nested {
		out = append(out, '"')
	}
	return out
}

func appendText(out []byte, s string, nested bool) []byte {
	if nested {
		return appendJSONString(out, s)
	}
	return append(out, s...)
}

// appendJSONString appends s (valid UTF-8) as a JSON string.
func appendJSONString(out []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c == '\t':
			out = append(out, '\\', 't')
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}
