package ethrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// RevertData returns the revert data of a failed transaction, which receipts
// do not carry; empty when it reverted without data (revert(), out of gas).
//
// With the debug API it is the output of the transaction's top call in a
// callTracer trace: exact. Without it the transaction is replayed as an
// eth_call on the state after its parent block. That is an approximation: it
// ignores the transactions before it in the same block, so it can see other
// data, or not revert at all (ErrNotReverted).
func (c *Client) RevertData(ctx context.Context, tx chain.Tx) ([]byte, error) {
	got, failed, err := c.revertData(ctx, []chain.Tx{tx})
	if err != nil {
		return nil, err
	}
	if err := failed[tx.Hash]; err != nil {
		return nil, fmt.Errorf("cannot get revert data of tx %s: %w", tx.Hash, err)
	}
	return got[tx.Hash], nil
}

// RevertDataBatch is RevertData for many transactions, in batches. The map
// holds the transactions whose revert data the node could tell; the others
// are left out (and logged). The error is for when the node could not be
// asked at all.
func (c *Client) RevertDataBatch(ctx context.Context, txs []chain.Tx) (map[common.Hash][]byte, error) {
	got, failed, err := c.revertData(ctx, txs)
	for h, e := range failed {
		c.opts.Logger.Warn("no revert data for transaction", "tx", h, "err", e)
	}
	return got, err
}

func (c *Client) revertData(ctx context.Context, txs []chain.Tx) (got map[common.Hash][]byte, failed map[common.Hash]error, err error) {
	got = make(map[common.Hash][]byte, len(txs))
	failed = make(map[common.Hash]error)
	if len(txs) == 0 {
		return got, failed, nil
	}
	caps, err := c.capabilities(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot get revert data: %w", err)
	}
	method := "eth_call"
	if caps.Debug {
		method = "debug_traceTransaction"
	}
	pending := make([]chain.Tx, 0, len(txs))
	seen := make(map[common.Hash]bool, len(txs))
	for _, tx := range txs {
		if !seen[tx.Hash] {
			seen[tx.Hash] = true
			pending = append(pending, tx)
		}
	}
	what := fmt.Sprintf("get revert data of %d transactions", len(pending))
	err = c.retry(ctx, what, method, func(ctx context.Context) error {
		elems := make([]rpc.BatchElem, len(pending))
		for i, tx := range pending {
			elems[i] = rpc.BatchElem{Method: method, Result: new(json.RawMessage)}
			if caps.Debug {
				elems[i].Args = []any{tx.Hash, traceConfig}
			} else {
				elems[i].Args = replayArgs(tx)
			}
		}
		if err := c.batch(ctx, elems); err != nil {
			return err
		}
		var (
			again   []chain.Tx
			lastErr error
		)
		for i, tx := range pending {
			var (
				data []byte
				err  error
			)
			if caps.Debug {
				data, err = traceOutput(elems[i])
			} else {
				data, err = callRevert(elems[i])
			}
			switch {
			case err == nil:
				got[tx.Hash] = data
			case retryable(err):
				again, lastErr = append(again, tx), err
			default:
				failed[tx.Hash] = err
			}
		}
		pending = again
		return lastErr
	})
	if err != nil {
		return nil, nil, err
	}
	return got, failed, nil
}

// replayArgs are the eth_call arguments that re-run tx on its parent's state.
// The input goes under both names: older nodes read "data", newer "input".
func replayArgs(tx chain.Tx) []any {
	value := tx.Value
	if value == nil {
		value = new(big.Int)
	}
	call := map[string]any{
		"from":  tx.From,
		"input": hexutil.Bytes(tx.Input),
		"data":  hexutil.Bytes(tx.Input),
		"value": (*hexutil.Big)(value),
		"gas":   hexutil.Uint64(tx.Gas),
	}
	if tx.To != nil {
		call["to"] = *tx.To
	}
	return []any{call, hexutil.Uint64(max(tx.BlockNumber, 1) - 1)}
}

// traceOutput reads the output of a callTracer trace.
func traceOutput(e rpc.BatchElem) ([]byte, error) {
	if e.Error != nil {
		return nil, classify(e.Method, e.Error)
	}
	return parseTraceOutput(*e.Result.(*json.RawMessage))
}

func parseTraceOutput(data []byte) ([]byte, error) {
	if isNull(data) {
		return nil, notAvailable("trace")
	}
	var tr struct {
		Output hexutil.Bytes `json:"output"`
	}
	if err := json.Unmarshal(data, &tr); err != nil {
		return nil, malformed("trace: %v", err)
	}
	return append([]byte{}, tr.Output...), nil
}

// evmFailures are fragments of eth_call errors that mean the call failed
// without revert data.
var evmFailures = []string{"revert", "out of gas", "invalid opcode", "invalid jump", "stack underflow", "stack overflow", "write protection", "gas uint64 overflow"}

// callRevert reads the revert data from a replayed call's error.
func callRevert(e rpc.BatchElem) ([]byte, error) {
	if e.Error == nil {
		return nil, ErrNotReverted
	}
	var de rpc.DataError
	if errors.As(e.Error, &de) {
		if s, ok := de.ErrorData().(string); ok {
			data, err := hexutil.Decode(s)
			if err != nil {
				return nil, malformed("eth_call revert data %q: %v", s, err)
			}
			return data, nil
		}
	}
	err := classify(e.Method, e.Error)
	if retryable(err) {
		return nil, err
	}
	msg := strings.ToLower(e.Error.Error())
	for _, f := range evmFailures {
		if strings.Contains(msg, f) {
			return []byte{}, nil
		}
	}
	return nil, err
}
