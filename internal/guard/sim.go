package guard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/monitor"
)

// Pending is a transaction seen in the pool, with its sender.
type Pending struct {
	Tx   *types.Transaction
	From common.Address
}

// UnmarshalJSON reads a transaction as eth_subscribe("newPendingTransactions",
// true) delivers it: the RPC form of a transaction with its "from".
func (p *Pending) UnmarshalJSON(b []byte) error {
	var tx types.Transaction
	if err := tx.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("pending transaction: %w", err)
	}
	var f struct {
		From *common.Address `json:"from"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("pending transaction: %w", err)
	}
	if f.From == nil {
		return errors.New("pending transaction: no sender (from)")
	}
	p.Tx, p.From = &tx, *f.From
	return nil
}

// traceFrame is a frame of go-ethereum's callTracer with withLog.
type traceFrame struct {
	Type    string          `json:"type"`
	From    common.Address  `json:"from"`
	To      *common.Address `json:"to"`
	Input   hexutil.Bytes   `json:"input"`
	Output  hexutil.Bytes   `json:"output"`
	Value   *hexutil.Big    `json:"value"`
	Error   string          `json:"error"`
	GasUsed hexutil.Uint64  `json:"gasUsed"`
	Calls   []traceFrame    `json:"calls"`
	Logs    []struct {
		Address common.Address `json:"address"`
		Topics  []common.Hash  `json:"topics"`
		Data    hexutil.Bytes  `json:"data"`
	} `json:"logs"`
}

// maxDepth bounds the call tree read from a trace (the EVM's own bound):
// the answer comes from a node and must not drive unbounded recursion.
const maxDepth = 1024

// outcome turns a callTracer answer for p into the decoded shape the
// monitors judge: the transaction with its status, gas, logs (of the
// frames that did not revert, in order) and revert data, and its frames
// depth first.
func outcome(raw []byte, p Pending) (*chain.Tx, []monitor.Frame, error) {
	var root traceFrame
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, nil, fmt.Errorf("cannot read the simulation's trace: %w", err)
	}
	tx := &chain.Tx{
		Hash: p.Tx.Hash(), Type: p.Tx.Type(), From: p.From, To: p.Tx.To(), Value: p.Tx.Value(), Nonce: p.Tx.Nonce(),
		Gas: p.Tx.Gas(), Input: p.Tx.Data(), Status: types.ReceiptStatusSuccessful, GasUsed: uint64(root.GasUsed),
	}
	if root.Error != "" {
		tx.Status = types.ReceiptStatusFailed
		tx.RevertData = root.Output
	}
	var frames []monitor.Frame
	var walk func(f *traceFrame, depth int) error
	walk = func(f *traceFrame, depth int) error {
		if depth > maxDepth {
			return fmt.Errorf("the simulation's trace is deeper than %d calls", maxDepth)
		}
		fr := monitor.Frame{Type: f.Type, From: f.From, Input: f.Input, Error: f.Error, Output: f.Output, Depth: depth}
		if f.To != nil {
			fr.To = *f.To
		}
		if f.Value != nil {
			fr.Value = (*big.Int)(f.Value)
		}
		frames = append(frames, fr)
		// callTracer drops the logs of frames that reverted; the rest are
		// what a receipt would hold (their order among sibling calls is
		// approximate, which no monitor depends on).
		if tx.Status == types.ReceiptStatusSuccessful {
			for _, l := range f.Logs {
				tx.Logs = append(tx.Logs, chain.Log{Address: l.Address, Topics: l.Topics, Data: l.Data, TxHash: tx.Hash, Index: uint(len(tx.Logs))})
			}
		}
		for i := range f.Calls {
			if err := walk(&f.Calls[i], depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(&root, 0); err != nil {
		return nil, nil, err
	}
	return tx, frames, nil
}

// touched lists the addresses a simulated transaction called or that
// logged: what decides whether a watched contract is involved.
func touched(tx *chain.Tx, frames []monitor.Frame) []common.Address {
	out := make([]common.Address, 0, len(frames)+len(tx.Logs))
	for _, f := range frames {
		out = append(out, f.To)
	}
	for _, l := range tx.Logs {
		out = append(out, l.Address)
	}
	return out
}

// traceCall simulates p on the node's latest state with debug_traceCall
// and the callTracer (logs included).
func (g *Guard) traceCall(ctx context.Context, p Pending) (json.RawMessage, error) {
	args := map[string]any{
		"from":  p.From,
		"gas":   hexutil.Uint64(p.Tx.Gas()),
		"value": (*hexutil.Big)(p.Tx.Value()),
		"input": hexutil.Bytes(p.Tx.Data()),
	}
	if to := p.Tx.To(); to != nil {
		args["to"] = to
	}
	var raw json.RawMessage
	err := g.cfg.RPC.CallContext(ctx, &raw, "debug_traceCall", args, "latest",
		map[string]any{"tracer": "callTracer", "tracerConfig": map[string]any{"withLog": true}})
	if err != nil {
		return nil, fmt.Errorf("cannot simulate pending tx %s: %w", p.Tx.Hash(), err)
	}
	return raw, nil
}
