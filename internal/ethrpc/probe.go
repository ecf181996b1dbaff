package ethrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// Capabilities is what a node offers beyond the standard eth_ methods.
type Capabilities struct {
	ChainID *big.Int
	// BlockReceipts: eth_getBlockReceipts works, so a block's receipts take
	// one request instead of one per transaction.
	BlockReceipts bool
	// Debug: debug_traceTransaction with the callTracer answers.
	Debug bool
	// Subscriptions: the transport is a websocket (or in-process) and
	// eth_subscribe newHeads works.
	Subscriptions bool
}

// traceConfig asks for the top call only: its output is the revert data.
var traceConfig = map[string]any{"tracer": "callTracer", "tracerConfig": map[string]any{"onlyTopCall": true}}

// Probe asks the node what it supports and remembers it: later calls use the
// faster paths when available. The first fetch probes by itself when Probe
// was not called.
func (c *Client) Probe(ctx context.Context) (Capabilities, error) {
	var caps Capabilities
	err := c.retry(ctx, "get the chain id", "eth_chainId", func(ctx context.Context) error {
		var raw json.RawMessage
		if err := c.call(ctx, &raw, "eth_chainId"); err != nil {
			return err
		}
		var id hexutil.Big
		if err := json.Unmarshal(raw, &id); err != nil {
			return malformed("eth_chainId: %v", err)
		}
		caps.ChainID = (*big.Int)(&id)
		return nil
	})
	if err != nil {
		return Capabilities{}, fmt.Errorf("cannot probe node: %w", err)
	}
	head, err := c.BlockNumber(ctx)
	if err != nil {
		return Capabilities{}, fmt.Errorf("cannot probe node: %w", err)
	}

	err = c.retry(ctx, "try eth_getBlockReceipts", "eth_getBlockReceipts", func(ctx context.Context) error {
		var raw json.RawMessage
		if err := c.call(ctx, &raw, "eth_getBlockReceipts", hexutil.Uint64(head)); err != nil {
			return err
		}
		var list []json.RawMessage
		if isNull(raw) {
			return notAvailable("receipts of block %d", head)
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			return malformed("eth_getBlockReceipts: %v", err)
		}
		return nil
	})
	if caps.BlockReceipts, err = supported(err); err != nil {
		return Capabilities{}, fmt.Errorf("cannot probe node: %w", err)
	}

	// A made-up transaction: a node with the debug API answers with an
	// error about the transaction, one without it with "method not found".
	// No retry: any JSON-RPC error other than a missing method, including
	// "transaction indexing is in progress" from a node that just started,
	// proves the API is there.
	var raw json.RawMessage
	err = c.call(ctx, &raw, "debug_traceTransaction", common.Hash{}, traceConfig)
	var re rpc.Error
	if err != nil && errors.As(err, &re) && !methodMissing(err) {
		err = nil
	}
	if caps.Debug, err = supported(err); err != nil {
		return Capabilities{}, fmt.Errorf("cannot probe node: %w", err)
	}

	if c.rpc.SupportsSubscriptions() {
		sctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		sub, err := c.rpc.EthSubscribe(sctx, make(chan json.RawMessage, 1), "newHeads")
		cancel()
		if err == nil {
			sub.Unsubscribe()
			caps.Subscriptions = true
		}
	}

	c.mu.Lock()
	c.caps = &caps
	c.mu.Unlock()
	c.opts.Logger.Info("probed node", "chainID", caps.ChainID, "blockReceipts", caps.BlockReceipts,
		"debug", caps.Debug, "subscriptions", caps.Subscriptions)
	return caps, nil
}

// supported turns the outcome of trying a method into yes, no, or an error
// when the node could not be asked at all.
func supported(err error) (bool, error) {
	var re rpc.Error
	switch {
	case err == nil:
		return true, nil
	case methodMissing(err), errors.As(err, &re), !retryable(err) && !errors.Is(err, context.Canceled):
		return false, nil
	}
	return false, err
}

// capabilities returns the probed capabilities, probing first if needed.
func (c *Client) capabilities(ctx context.Context) (Capabilities, error) {
	c.mu.Lock()
	caps := c.caps
	c.mu.Unlock()
	if caps != nil {
		return *caps, nil
	}
	return c.Probe(ctx)
}

func (c *Client) setBlockReceipts(ok bool) {
	c.mu.Lock()
	if c.caps != nil {
		c.caps.BlockReceipts = ok
	}
	c.mu.Unlock()
}
