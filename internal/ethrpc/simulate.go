package ethrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/chain"
)

// RevertDataBlocks returns the revert data of the failed transactions of
// blocks, by hash; those the node could not explain are absent.
//
// With the debug API each failed transaction is traced. Without it, the
// block's transactions up to the last failed one are re-run in order on the
// parent's state with eth_simulateV1, which sees what earlier transactions
// of the same block changed; a node without eth_simulateV1 gets the
// per-transaction eth_call replay of RevertDataBatch, which does not.
func (c *Client) RevertDataBlocks(ctx context.Context, blocks []chain.Block) (map[common.Hash][]byte, error) {
	var failed []chain.Tx
	for _, b := range blocks {
		for _, tx := range b.Txs {
			if tx.Failed() {
				failed = append(failed, tx)
			}
		}
	}
	if len(failed) == 0 {
		return map[common.Hash][]byte{}, nil
	}
	caps, err := c.capabilities(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot get revert data: %w", err)
	}
	if caps.Debug || c.noSimulate.Load() {
		return c.RevertDataBatch(ctx, failed)
	}
	got, err := c.simulateBlocks(ctx, blocks)
	if errors.Is(err, errNoSimulate) {
		c.opts.Logger.Info("node has no eth_simulateV1; replaying failed transactions with eth_call (ignores earlier transactions of the same block)")
		c.noSimulate.Store(true)
		return c.RevertDataBatch(ctx, failed)
	}
	return got, err
}

var errNoSimulate = errors.New("node has no eth_simulateV1")

// simulateMissing reports whether the node does not offer eth_simulateV1;
// unlike methodMissing it does not take "state is not available" for a
// missing method.
func simulateMissing(err error) bool {
	var re rpc.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := strings.ToLower(re.Error())
	return re.ErrorCode() == -32601 || strings.Contains(msg, "does not exist") || strings.Contains(msg, "method not found") ||
		strings.Contains(msg, "not supported") || strings.Contains(msg, "unsupported method")
}

type simCall struct {
	From  common.Address  `json:"from"`
	To    *common.Address `json:"to,omitempty"`
	Input hexutil.Bytes   `json:"input"`
	Value *hexutil.Big    `json:"value"`
	Gas   hexutil.Uint64  `json:"gas"`
	Nonce hexutil.Uint64  `json:"nonce"`
}

type simBlockOverrides struct {
	Number       *hexutil.Big   `json:"number"`
	Time         hexutil.Uint64 `json:"time"`
	GasLimit     hexutil.Uint64 `json:"gasLimit"`
	FeeRecipient common.Address `json:"feeRecipient"`
	BaseFee      *hexutil.Big   `json:"baseFeePerGas,omitempty"`
}

type simBlock struct {
	BlockOverrides simBlockOverrides `json:"blockOverrides"`
	Calls          []simCall         `json:"calls"`
}

type simResult []struct {
	Calls []struct {
		ReturnData hexutil.Bytes  `json:"returnData"`
		Status     hexutil.Uint64 `json:"status"`
		Error      *struct {
			Message string `json:"message"`
			Data    string `json:"data"`
		} `json:"error"`
	} `json:"calls"`
}

func (c *Client) simulateBlocks(ctx context.Context, blocks []chain.Block) (map[common.Hash][]byte, error) {
	got := map[common.Hash][]byte{}
	type job struct {
		block *chain.Block
		last  int // index of the last failed tx
	}
	var jobs []job
	for i := range blocks {
		last := -1
		for j, tx := range blocks[i].Txs {
			if tx.Failed() {
				last = j
			}
		}
		if last >= 0 {
			jobs = append(jobs, job{&blocks[i], last})
		}
	}
	what := fmt.Sprintf("simulate %d blocks for revert data", len(jobs))
	err := c.retry(ctx, what, "eth_simulateV1", func(ctx context.Context) error {
		elems := make([]rpc.BatchElem, len(jobs))
		for i, j := range jobs {
			b := j.block
			sb := simBlock{BlockOverrides: simBlockOverrides{
				Number: (*hexutil.Big)(new(big.Int).SetUint64(b.Number)), Time: hexutil.Uint64(b.Time.Unix()),
				GasLimit: hexutil.Uint64(b.GasLimit), FeeRecipient: b.Miner,
			}}
			for _, tx := range b.Txs[:j.last+1] {
				v := tx.Value
				if v == nil {
					v = new(big.Int)
				}
				sb.Calls = append(sb.Calls, simCall{From: tx.From, To: tx.To, Input: tx.Input, Value: (*hexutil.Big)(v), Gas: hexutil.Uint64(tx.Gas), Nonce: hexutil.Uint64(tx.Nonce)})
			}
			opts := map[string]any{"blockStateCalls": []simBlock{sb}, "validation": false}
			elems[i] = rpc.BatchElem{Method: "eth_simulateV1", Args: []any{opts, hexutil.Uint64(b.Number - 1)}, Result: new(json.RawMessage)}
		}
		if err := c.batch(ctx, elems); err != nil {
			return err
		}
		var again []job
		var lastErr error
		for i, j := range jobs {
			e := elems[i]
			if e.Error != nil {
				err := classify("eth_simulateV1", e.Error)
				switch {
				case simulateMissing(e.Error):
					return errNoSimulate
				case retryable(err):
					again, lastErr = append(again, j), err
				default:
					// Typically "historical state is not available" on a
					// pruned node: this block's failures stay without data.
					c.opts.Logger.Warn("cannot simulate block for revert data", "block", j.block.Number, "err", err)
				}
				continue
			}
			var res simResult
			if err := json.Unmarshal(*e.Result.(*json.RawMessage), &res); err != nil || len(res) != 1 || len(res[0].Calls) != j.last+1 {
				return malformed("eth_simulateV1 answer for block %d: %v", j.block.Number, err)
			}
			for k, tx := range j.block.Txs[:j.last+1] {
				call := res[0].Calls[k]
				if !tx.Failed() {
					continue
				}
				if call.Status != 0 {
					// The simulation did not reproduce the failure (block
					// context the override cannot set): no data rather than
					// wrong data.
					c.opts.Logger.Warn("simulation did not reproduce a failed transaction", "tx", tx.Hash)
					continue
				}
				data := []byte(call.ReturnData)
				if call.Error != nil && call.Error.Data != "" {
					d, err := hexutil.Decode(call.Error.Data)
					if err != nil {
						return malformed("eth_simulateV1 revert data %q: %v", call.Error.Data, err)
					}
					data = d
				}
				if data == nil {
					data = []byte{}
				}
				got[tx.Hash] = data
			}
		}
		jobs = again
		return lastErr
	})
	if err != nil {
		return nil, err
	}
	return got, nil
}
