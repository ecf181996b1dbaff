package decode

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/ethereum/go-ethereum/common"
)

var (
	errorSelector = selector("Error(string)")  // 0x08c379a0
	panicSelector = selector("Panic(uint256)") // 0x4e487b71

	errorParams = []param{{name: "message", typ: &abiType{kind: kindString, canon: "string", dynamic: true, words: 1}}}
)

// panicReasons names the Panic(uint256) codes that solc emits.
var panicReasons = map[uint64]string{
	0x00: "generic compiler-inserted panic",
	0x01: "assertion failed",
	0x11: "arithmetic overflow or underflow",
	0x12: "division or modulo by zero",
	0x21: "invalid enum conversion",
	0x22: "bad storage byte array encoding",
	0x31: "pop on empty array",
	0x32: "array index out of bounds",
	0x41: "out of memory or too large allocation",
	0x51: "call to zero-initialised function",
}

// PanicReason names a Panic(uint256) code, e.g. 0x11 "arithmetic overflow
// or underflow".
func PanicReason(code uint64) string {
	if s, ok := panicReasons[code]; ok {
		return s
	}
	return "unknown panic code"
}

// DecodeRevert decodes the revert data of a call to the contract at to (nil
// for a contract creation). It never returns nil: data that matches nothing
// gives Kind chain.RevertUnknown. A custom error is looked up in the
// target's ABI, then in every registered ABI (an error raised by a callee
// bubbles up through its callers), then in the bundled table.
func (r *Registry) DecodeRevert(to *common.Address, data []byte) *chain.Revert {
	return decodeRevert(data, func(sel [4]byte) []*fragment { return r.errorCandidates(to, sel) })
}

// Revert decodes revert data on its own, as one contract's call returned
// it: Error(string), Panic(uint256), or a custom error that abiJSON (the
// ABI of the contract called; nil when none is known) or the bundled table
// declares. It never returns nil, and an ABI that does not parse only
// leaves custom errors to the bundled table. The contract page's reads,
// the debugger and the transaction view all decode reverts through here
// or DecodeRevert.
func Revert(data, abiJSON []byte) *chain.Revert {
	var own *contractABI
	if len(abiJSON) > 0 {
		func() {
			defer func() { _ = recover() }() // a bad ABI only loses its errors
			own, _ = parseABI("", abiJSON)
		}()
	}
	bundled := bundledABI()
	return decodeRevert(data, func(sel [4]byte) []*fragment {
		var out []*fragment
		if own != nil && own.errors[sel] != nil {
			out = append(out, own.errors[sel])
		}
		if f := bundled.errors[sel]; f != nil {
			out = append(out, f)
		}
		return out
	})
}

// decodeRevert decodes revert data, finding custom errors among the
// candidates that errs gives for a selector, in order of preference.
func decodeRevert(data []byte, errs func(sel [4]byte) []*fragment) (rev *chain.Revert) {
	defer func() {
		if p := recover(); p != nil {
			rev = unknownRevert(panicError("revert data", p).Error())
		}
	}()
	switch {
	case len(data) == 0:
		return &chain.Revert{Kind: chain.RevertEmpty, Message: "reverted without data"}
	case len(data) > MaxDataSize:
		return unknownRevert(fmt.Sprintf("revert data of %d bytes is too large to decode", len(data)))
	case len(data) < 4:
		return unknownRevert(fmt.Sprintf("revert data 0x%x is shorter than a selector", data))
	}
	sel := [4]byte(data[:4])
	switch sel {
	case errorSelector:
		var d valueDecoder
		args, err := d.args(errorParams, data[4:], nil)
		if err != nil {
			return unknownRevert(fmt.Sprintf("malformed Error(string) data: %v", err))
		}
		return &chain.Revert{Kind: chain.RevertError, Name: "Error", Signature: "Error(string)", Message: args[0].Value}
	case panicSelector:
		w, err := readWord(data[4:], 0)
		if err != nil || !allBytes(w[:24], 0) {
			return unknownRevert(fmt.Sprintf("malformed Panic(uint256) data 0x%x", data[4:min(len(data), 4+64)]))
		}
		code := binary.BigEndian.Uint64(w[24:])
		return &chain.Revert{
			Kind:      chain.RevertPanic,
			Name:      "Panic",
			Signature: "Panic(uint256)",
			Message:   fmt.Sprintf("Panic(0x%02x): %s", code, PanicReason(code)),
			PanicCode: code,
		}
	}
	if rev, err := customError(errs(sel), data[4:]); rev != nil {
		return rev
	} else if err != nil {
		return unknownRevert(fmt.Sprintf("error selector 0x%x: %v", sel, err))
	}
	return unknownRevert(fmt.Sprintf("unknown error selector 0x%x (%d bytes of data)", sel, len(data)))
}

func unknownRevert(msg string) *chain.Revert {
	return &chain.Revert{Kind: chain.RevertUnknown, Message: msg}
}

// errorCandidates lists the custom errors with selector sel that a revert
// of a call to to may be: the target's own, then every other registered
// ABI's, then the bundled table's.
func (r *Registry) errorCandidates(to *common.Address, sel [4]byte) []*fragment {
	var candidates []*fragment
	r.mu.RLock()
	if to != nil {
		if own := r.contracts[*to]; own != nil {
			if f := own.errors[sel]; f != nil {
				candidates = append(candidates, f)
			}
		}
	}
	for _, ref := range r.errs[sel] {
		if to == nil || ref.addr != *to { // the target's own was tried first
			candidates = append(candidates, ref.f)
		}
	}
	r.mu.RUnlock()
	if f := r.bundled.errors[sel]; f != nil {
		candidates = append(candidates, f)
	}
	return candidates
}

// customError decodes data as the first candidate it fits. It returns nil
// and the last decoding error when candidates exist but the data fits none.
func customError(candidates []*fragment, data []byte) (*chain.Revert, error) {
	var lastErr error
	for _, f := range candidates {
		var d valueDecoder
		args, err := d.args(f.params, data, nil)
		if err != nil {
			lastErr = fmt.Errorf("cannot decode %s: %w", f.sig, err)
			continue
		}
		return &chain.Revert{
			Kind:      chain.RevertCustom,
			Name:      f.name,
			Signature: f.sig,
			Message:   errorMessage(f.name, args),
			Args:      args,
			Contract:  f.owner,
		}, nil
	}
	return nil, lastErr
}

// errorMessage renders a one-line message such as
// "InsufficientCollateral(account=0x…, requested=5, maxBorrow=3)".
// String arguments are quoted, so that their content cannot pose as more
// arguments; the whole is cut at MaxValueBytes.
func errorMessage(name string, args []chain.Arg) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.Name)
		b.WriteByte('=')
		if a.Type == "string" {
			b.WriteString(strconv.Quote(a.Value))
		} else {
			b.WriteString(a.Value)
		}
		if b.Len() > MaxValueBytes {
			break
		}
	}
	b.WriteByte(')')
	if b.Len() > MaxValueBytes {
		return sanitize([]byte(b.String()))
	}
	return b.String()
}
