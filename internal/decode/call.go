package decode

import (
	"fmt"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/ethereum/go-ethereum/common"
)

// DecodeCall decodes calldata sent to the contract at to (nil for a contract
// creation, whose input is code and never decoded). The contract's own ABI is
// tried first, then the bundled table. It returns an error wrapping
// ErrUnknown when no ABI knows the selector, ErrTooLarge for inputs over
// MaxDataSize, and a decoding error when the data does not fit the ABI.
func (r *Registry) DecodeCall(to *common.Address, input []byte) (call *chain.Call, err error) {
	defer func() {
		if p := recover(); p != nil {
			call, err = nil, panicError("calldata", p)
		}
	}()
	if to == nil {
		return nil, fmt.Errorf("contract creation input: %w", ErrUnknown)
	}
	if len(input) > MaxDataSize {
		return nil, fmt.Errorf("calldata of %d bytes: %w", len(input), ErrTooLarge)
	}
	if len(input) < 4 {
		return nil, fmt.Errorf("calldata of %d bytes has no selector: %w", len(input), ErrUnknown)
	}
	sel := [4]byte(input[:4])
	own := r.contract(to)
	var contract string
	candidates := make([]*fragment, 0, 2)
	if own != nil {
		contract = own.name
		if f := own.methods[sel]; f != nil {
			candidates = append(candidates, f)
		}
	}
	if f := r.bundled.methods[sel]; f != nil {
		candidates = append(candidates, f)
	}
	var lastErr error
	for _, f := range candidates {
		var d valueDecoder
		args, err := d.args(f.params, input[4:], nil)
		if err != nil {
			lastErr = fmt.Errorf("cannot decode call to %s: %w", f.sig, err)
			continue
		}
		return &chain.Call{Contract: contract, Method: f.name, Signature: f.sig, Args: args}, nil
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, fmt.Errorf("selector 0x%x: %w", sel, ErrUnknown)
}
