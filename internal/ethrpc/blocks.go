package ethrpc

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// BlockNumber returns the number of the node's latest block.
func (c *Client) BlockNumber(ctx context.Context) (uint64, error) {
	var n uint64
	err := c.retry(ctx, "get the latest block number", "eth_blockNumber", func(ctx context.Context) error {
		var raw json.RawMessage
		if err := c.call(ctx, &raw, "eth_blockNumber"); err != nil {
			return err
		}
		var h hexutil.Uint64
		if err := json.Unmarshal(raw, &h); err != nil {
			return malformed("eth_blockNumber: %v", err)
		}
		n = uint64(h)
		return nil
	})
	return n, err
}

// BlockRef returns the header reference of block number.
func (c *Client) BlockRef(ctx context.Context, number uint64) (chain.BlockRef, error) {
	refs, err := c.BlockRefs(ctx, []uint64{number})
	if err != nil {
		return chain.BlockRef{}, err
	}
	return refs[0], nil
}

// BlockRefs returns the header references of the given blocks, in the same
// order, fetched in batches. It returns all of them or an error.
func (c *Client) BlockRefs(ctx context.Context, numbers []uint64) ([]chain.BlockRef, error) {
	out := make([]chain.BlockRef, len(numbers))
	for start := 0; start < len(numbers); start += c.opts.BatchSize {
		part := numbers[start:min(len(numbers), start+c.opts.BatchSize)]
		what := fmt.Sprintf("fetch block headers %s", describe(numbers))
		err := c.retry(ctx, what, "eth_getBlockByNumber", func(ctx context.Context) error {
			elems := make([]rpc.BatchElem, len(part))
			raws := make([]json.RawMessage, len(part))
			for i, n := range part {
				elems[i] = rpc.BatchElem{Method: "eth_getBlockByNumber", Args: []any{hexutil.Uint64(n), false}, Result: &raws[i]}
			}
			if err := c.batch(ctx, elems); err != nil {
				return err
			}
			for i, n := range part {
				if err := elemErr(elems[i], "block %d", n); err != nil {
					return err
				}
				ref, err := parseHeader(raws[i], n)
				if err != nil {
					return err
				}
				out[start+i] = ref
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func describe(numbers []uint64) string {
	switch len(numbers) {
	case 0:
		return "(none)"
	case 1:
		return fmt.Sprint(numbers[0])
	}
	return fmt.Sprintf("%d…%d (%d blocks)", numbers[0], numbers[len(numbers)-1], len(numbers))
}

// elemErr turns the error of one batch element into this package's errors.
func elemErr(e rpc.BatchElem, format string, args ...any) error {
	if e.Error == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), classify(e.Method, e.Error))
}

// maxPrealloc bounds what a huge requested range may allocate up front.
const maxPrealloc = 1 << 14

// Blocks returns the full blocks from..to (inclusive), each transaction
// joined with its receipt and logs. Blocks are fetched BatchSize at a time in
// JSON-RPC batches: the blocks, then eth_getBlockReceipts per block when the
// node supports it, otherwise eth_getTransactionReceipt per transaction.
// Every answer is checked against what was asked; a group that fails is
// fetched again, blocks and receipts together, with backoff. Blocks returns
// the whole range or an error, never part of it.
func (c *Client) Blocks(ctx context.Context, from, to uint64) ([]chain.Block, error) {
	what := fmt.Sprintf("fetch blocks %d-%d", from, to)
	if to < from {
		return nil, fmt.Errorf("cannot %s: empty range", what)
	}
	caps, err := c.capabilities(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot %s: %w", what, err)
	}
	out := make([]chain.Block, 0, min(to-from, maxPrealloc)+1)
	step := uint64(c.opts.BatchSize - 1)
	for start := from; ; {
		end := start + min(to-start, step)
		var part []chain.Block
		err := c.retry(ctx, what, "eth_getBlockByNumber", func(ctx context.Context) error {
			var err error
			part, err = c.fetchBlocks(ctx, start, end, caps.BlockReceipts)
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
		if end == to {
			return out, nil
		}
		start = end + 1
	}
}

// fetchBlocks makes one attempt at blocks start..end (at most BatchSize).
func (c *Client) fetchBlocks(ctx context.Context, start, end uint64, blockReceipts bool) ([]chain.Block, error) {
	n := int(end - start + 1)
	elems := make([]rpc.BatchElem, n)
	raws := make([]json.RawMessage, n)
	for i := range elems {
		elems[i] = rpc.BatchElem{Method: "eth_getBlockByNumber", Args: []any{hexutil.Uint64(start + uint64(i)), true}, Result: &raws[i]}
	}
	if err := c.batch(ctx, elems); err != nil {
		return nil, err
	}
	blocks := make([]chain.Block, n)
	for i := range blocks {
		num := start + uint64(i)
		if err := elemErr(elems[i], "block %d", num); err != nil {
			return nil, err
		}
		b, err := parseBlock(raws[i], num)
		if err != nil {
			return nil, err
		}
		blocks[i] = b
	}
	if blockReceipts {
		err := c.fetchBlockReceipts(ctx, blocks)
		if err == nil || !methodMissing(err) {
			return blocks, err
		}
		// A node behind a load balancer may lack the method on some
		// backends: fall back for good.
		c.opts.Logger.Warn("node stopped answering eth_getBlockReceipts, fetching receipts per transaction", "err", err)
		c.setBlockReceipts(false)
	}
	return blocks, c.fetchTxReceipts(ctx, blocks)
}

func (c *Client) fetchBlockReceipts(ctx context.Context, blocks []chain.Block) error {
	var (
		elems []rpc.BatchElem
		which []int
	)
	for i := range blocks {
		if len(blocks[i].Txs) == 0 {
			continue
		}
		elems = append(elems, rpc.BatchElem{Method: "eth_getBlockReceipts", Args: []any{hexutil.Uint64(blocks[i].Number)}, Result: new(json.RawMessage)})
		which = append(which, i)
	}
	if len(elems) == 0 {
		return nil
	}
	if err := c.batch(ctx, elems); err != nil {
		return err
	}
	for k, e := range elems {
		b := &blocks[which[k]]
		if err := elemErr(e, "receipts of block %d", b.Number); err != nil {
			return err
		}
		if err := parseBlockReceipts(*e.Result.(*json.RawMessage), b); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) fetchTxReceipts(ctx context.Context, blocks []chain.Block) error {
	type ref struct{ block, tx int }
	var (
		elems []rpc.BatchElem
		refs  []ref
	)
	for i := range blocks {
		for j := range blocks[i].Txs {
			elems = append(elems, rpc.BatchElem{Method: "eth_getTransactionReceipt", Args: []any{blocks[i].Txs[j].Hash}, Result: new(json.RawMessage)})
			refs = append(refs, ref{i, j})
		}
	}
	if len(elems) == 0 {
		return nil
	}
	if err := c.batch(ctx, elems); err != nil {
		return err
	}
	for k, e := range elems {
		b := &blocks[refs[k].block]
		if err := elemErr(e, "receipt of tx %s", b.Txs[refs[k].tx].Hash); err != nil {
			return err
		}
		if err := parseReceipt(*e.Result.(*json.RawMessage), b, refs[k].tx); err != nil {
			return err
		}
	}
	return nil
}
