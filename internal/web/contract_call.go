package web

import (
	"errors"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/decode"
)

// The contract page's read functions: the browser sends a function and its
// arguments as JSON, decode encodes them with the contract's ABI, the
// server runs eth_call and decode decodes the outputs or the revert.

// CallRevert is a read that reverted.
type CallRevert struct {
	Reason string `json:"reason"`
	Data   string `json:"data,omitempty"`
}

// callRevert reads the revert of an eth_call error, decoding Error(string),
// Panic(uint256) and the custom errors of abiJSON (or the bundled table);
// nil when err is no revert.
func callRevert(abiJSON []byte, err error) *CallRevert {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return nil
	}
	s, _ := de.ErrorData().(string)
	data, derr := hexutil.Decode(s)
	if derr != nil {
		return &CallRevert{Reason: de.Error()}
	}
	rev := &CallRevert{Reason: de.Error(), Data: s}
	switch r := decode.Revert(data, abiJSON); r.Kind {
	case chain.RevertError, chain.RevertPanic, chain.RevertCustom:
		rev.Reason = r.Message
	}
	return rev
}
