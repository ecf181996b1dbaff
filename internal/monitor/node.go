package monitor

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// Node reads what stored blocks do not hold: state at a block and call
// traces. RPCNode implements it over JSON-RPC.
type Node interface {
	// CallAt runs a read-only call at a block (eth_call).
	CallAt(ctx context.Context, to common.Address, data []byte, block uint64) ([]byte, error)
	// StorageAt reads a storage slot at a block (eth_getStorageAt).
	StorageAt(ctx context.Context, addr common.Address, slot common.Hash, block uint64) ([]byte, error)
	// BalanceAt reads a native balance at a block (eth_getBalance).
	BalanceAt(ctx context.Context, addr common.Address, block uint64) (*big.Int, error)
	// TraceCalls returns every call frame of a block's transactions, by
	// transaction, depth first (debug_traceBlockByNumber with callTracer).
	TraceCalls(ctx context.Context, block uint64) (map[common.Hash][]Frame, error)
}

// Frame is one call of a call trace.
type Frame struct {
	Type  string // CALL, DELEGATECALL, STATICCALL, CREATE, …
	From  common.Address
	To    common.Address
	Input []byte
	Value *big.Int
	// Error is set when the frame reverted.
	Error string
	// Output is what the call returned (its revert data when it failed).
	Output []byte
	Depth  int
}

// RPCNode is a Node over a go-ethereum RPC client.
type RPCNode struct{ rc *rpc.Client }

// NewRPCNode returns a Node reading through rc.
func NewRPCNode(rc *rpc.Client) *RPCNode { return &RPCNode{rc: rc} }

func blockArg(n uint64) string { return hexutil.EncodeUint64(n) }

// CallAt implements Node.
func (n *RPCNode) CallAt(ctx context.Context, to common.Address, data []byte, block uint64) ([]byte, error) {
	var out hexutil.Bytes
	msg := map[string]any{"to": to, "data": hexutil.Bytes(data)}
	if err := n.rc.CallContext(ctx, &out, "eth_call", msg, blockArg(block)); err != nil {
		return nil, fmt.Errorf("eth_call to %s at block %d: %w", to, block, err)
	}
	return out, nil
}

// StorageAt implements Node.
func (n *RPCNode) StorageAt(ctx context.Context, addr common.Address, slot common.Hash, block uint64) ([]byte, error) {
	var out hexutil.Bytes
	if err := n.rc.CallContext(ctx, &out, "eth_getStorageAt", addr, slot, blockArg(block)); err != nil {
		return nil, fmt.Errorf("eth_getStorageAt %s at block %d: %w", addr, block, err)
	}
	return out, nil
}

// BalanceAt implements Node.
func (n *RPCNode) BalanceAt(ctx context.Context, addr common.Address, block uint64) (*big.Int, error) {
	var out hexutil.Big
	if err := n.rc.CallContext(ctx, &out, "eth_getBalance", addr, blockArg(block)); err != nil {
		return nil, fmt.Errorf("eth_getBalance %s at block %d: %w", addr, block, err)
	}
	return (*big.Int)(&out), nil
}

type callFrame struct {
	Type   string          `json:"type"`
	From   common.Address  `json:"from"`
	To     *common.Address `json:"to"`
	Input  hexutil.Bytes   `json:"input"`
	Value  *hexutil.Big    `json:"value"`
	Error  string          `json:"error"`
	Calls  []callFrame     `json:"calls"`
	Output hexutil.Bytes   `json:"output"`
}

// TraceCalls implements Node.
func (n *RPCNode) TraceCalls(ctx context.Context, block uint64) (map[common.Hash][]Frame, error) {
	var res []struct {
		TxHash common.Hash `json:"txHash"`
		Result *callFrame  `json:"result"`
		Error  string      `json:"error"`
	}
	if err := n.rc.CallContext(ctx, &res, "debug_traceBlockByNumber", blockArg(block), map[string]any{"tracer": "callTracer"}); err != nil {
		return nil, fmt.Errorf("debug_traceBlockByNumber %d: %w", block, err)
	}
	out := make(map[common.Hash][]Frame, len(res))
	for _, r := range res {
		if r.Result == nil {
			continue
		}
		out[r.TxHash] = flatten(nil, r.Result, 0)
	}
	return out, nil
}

// flatten lists a call tree depth first; the depth is bounded by the EVM's
// (1024), so recursion is safe.
func flatten(out []Frame, f *callFrame, depth int) []Frame {
	fr := Frame{Type: f.Type, From: f.From, Input: f.Input, Error: f.Error, Output: f.Output, Depth: depth}
	if f.To != nil {
		fr.To = *f.To
	}
	if f.Value != nil {
		fr.Value = (*big.Int)(f.Value)
	}
	out = append(out, fr)
	for i := range f.Calls {
		out = flatten(out, &f.Calls[i], depth+1)
	}
	return out
}
