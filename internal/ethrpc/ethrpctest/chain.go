package ethrpctest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
	"time"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// ChainConfig shapes a synthetic chain.
type ChainConfig struct {
	ChainID     int64 // default 1337
	Blocks      int   // blocks after genesis; the head is number Blocks
	TxsPerBlock int
	LogsPerTx   int
	// Every FailEvery-th transaction reverts (0: none), with revert data
	// Error("synthetic failure N").
	FailEvery int
	// Every DepositEvery-th transaction is an L2 deposit (type 0x7e) with
	// fields no L1 node has (0: none).
	DepositEvery int
	// Every CreateEvery-th transaction creates a contract (0: none).
	CreateEvery int
	Start       time.Time // time of genesis; default 2024-01-01 UTC
}

// Chain is a synthetic chain: the blocks as a client should return them,
// and the JSON answers a node would give for them.
type Chain struct {
	ChainID *big.Int
	Blocks  []chain.Block // Blocks[n] is block n
	// Reverts holds the revert data of each failed transaction.
	Reverts map[common.Hash][]byte
	cfg     ChainConfig
}

// NewChain builds a chain with consistent hashes, parents, counts and
// receipts. Equal configs give equal chains.
func NewChain(cfg ChainConfig) *Chain {
	if cfg.ChainID == 0 {
		cfg.ChainID = 1337
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	c := &Chain{ChainID: big.NewInt(cfg.ChainID), Reverts: make(map[common.Hash][]byte), cfg: cfg}
	var parent common.Hash
	txSeq := 0
	for n := 0; n <= cfg.Blocks; n++ {
		b := chain.Block{
			Number:     uint64(n),
			Hash:       hashOf("block", n, 0),
			ParentHash: parent,
			Time:       cfg.Start.Add(time.Duration(n) * 12 * time.Second).UTC(),
			Miner:      common.BytesToAddress(hashOf("miner", n, 0).Bytes()),
			GasLimit:   30_000_000,
			BaseFee:    big.NewInt(1_000_000_000 + int64(n)),
		}
		if n > 0 {
			b.Txs = make([]chain.Tx, cfg.TxsPerBlock)
		}
		var logIndex uint
		for i := range b.Txs {
			txSeq++
			h := hashOf("tx", n, i)
			to := common.BytesToAddress(hashOf("to", n, i).Bytes())
			tx := chain.Tx{
				Hash:              h,
				BlockNumber:       b.Number,
				BlockHash:         b.Hash,
				Index:             uint(i),
				Time:              b.Time,
				Type:              2,
				From:              common.BytesToAddress(hashOf("from", n, i).Bytes()),
				To:                &to,
				Value:             big.NewInt(int64(txSeq) * 1000),
				Nonce:             uint64(txSeq),
				Gas:               100_000 + uint64(i),
				Input:             append([]byte{0xa9, 0x05, 0x9c, 0xbb}, hashOf("input", n, i).Bytes()...),
				Status:            1,
				GasUsed:           21_000 + uint64(i)*100,
				EffectiveGasPrice: new(big.Int).Add(b.BaseFee, big.NewInt(int64(i))),
			}
			if every(cfg.DepositEvery, txSeq) {
				tx.Type = 0x7e
			}
			if every(cfg.CreateEvery, txSeq) {
				addr := common.BytesToAddress(hashOf("created", n, i).Bytes())
				tx.To, tx.ContractAddress = nil, &addr
			}
			if every(cfg.FailEvery, txSeq) {
				tx.Status = 0
				c.Reverts[h] = errorData(fmt.Sprintf("synthetic failure %d", txSeq))
			} else {
				for j := 0; j < cfg.LogsPerTx; j++ {
					tx.Logs = append(tx.Logs, chain.Log{
						Address:     to,
						Topics:      []common.Hash{hashOf("topic0", n, j), hashOf("topic1", n, i)},
						Data:        hashOf("data", n, i*1000+j).Bytes(),
						BlockNumber: b.Number,
						BlockHash:   b.Hash,
						TxHash:      h,
						TxIndex:     uint(i),
						Index:       logIndex,
					})
					logIndex++
				}
			}
			b.GasUsed += tx.GasUsed
			b.Txs[i] = tx
		}
		b.TxCount = len(b.Txs)
		c.Blocks = append(c.Blocks, b)
		parent = b.Hash
	}
	return c
}

func every(n, seq int) bool { return n > 0 && seq%n == 0 }

func hashOf(kind string, n, i int) common.Hash {
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(n))
	binary.BigEndian.PutUint64(buf[8:], uint64(i))
	return sha256.Sum256(append([]byte(kind), buf[:]...))
}

// errorData encodes Error(string) revert data.
func errorData(msg string) []byte {
	out := []byte{0x08, 0xc3, 0x79, 0xa0}
	out = append(out, common.LeftPadBytes([]byte{0x20}, 32)...)
	out = append(out, common.LeftPadBytes(big.NewInt(int64(len(msg))).Bytes(), 32)...)
	padded := make([]byte, (len(msg)+31)/32*32)
	copy(padded, msg)
	return append(out, padded...)
}

// Head returns the number of the last block.
func (c *Chain) Head() uint64 { return uint64(len(c.Blocks) - 1) }

// BlockJSON is block n as eth_getBlockByNumber(n, full) answers it, with the
// fields a client does not read included, as a real node sends them.
func (c *Chain) BlockJSON(n uint64, full bool) map[string]any {
	b := &c.Blocks[n]
	txs := make([]any, len(b.Txs))
	for i := range b.Txs {
		if full {
			txs[i] = txJSON(&b.Txs[i], c.ChainID)
		} else {
			txs[i] = b.Txs[i].Hash
		}
	}
	return map[string]any{
		"number":           hexutil.Uint64(b.Number),
		"hash":             b.Hash,
		"parentHash":       b.ParentHash,
		"timestamp":        hexutil.Uint64(b.Time.Unix()),
		"miner":            b.Miner,
		"gasUsed":          hexutil.Uint64(b.GasUsed),
		"gasLimit":         hexutil.Uint64(b.GasLimit),
		"baseFeePerGas":    (*hexutil.Big)(b.BaseFee),
		"transactions":     txs,
		"difficulty":       "0x0",
		"extraData":        "0x",
		"logsBloom":        hexutil.Bytes(make([]byte, 256)),
		"mixHash":          hashOf("mix", int(n), 0),
		"nonce":            "0x0000000000000000",
		"receiptsRoot":     hashOf("receipts", int(n), 0),
		"sha3Uncles":       hashOf("uncles", int(n), 0),
		"size":             "0x400",
		"stateRoot":        hashOf("state", int(n), 0),
		"transactionsRoot": hashOf("txroot", int(n), 0),
		"uncles":           []any{},
		"withdrawals":      []any{},
	}
}

func txJSON(tx *chain.Tx, chainID *big.Int) map[string]any {
	m := map[string]any{
		"hash":             tx.Hash,
		"blockHash":        tx.BlockHash,
		"blockNumber":      hexutil.Uint64(tx.BlockNumber),
		"transactionIndex": hexutil.Uint64(tx.Index),
		"type":             hexutil.Uint64(tx.Type),
		"from":             tx.From,
		"to":               tx.To,
		"value":            (*hexutil.Big)(tx.Value),
		"nonce":            hexutil.Uint64(tx.Nonce),
		"gas":              hexutil.Uint64(tx.Gas),
		"gasPrice":         (*hexutil.Big)(tx.EffectiveGasPrice),
		"input":            hexutil.Bytes(tx.Input),
		"chainId":          (*hexutil.Big)(chainID),
		"v":                "0x1",
		"r":                hashOf("r", int(tx.BlockNumber), int(tx.Index)),
		"s":                hashOf("s", int(tx.BlockNumber), int(tx.Index)),
	}
	if tx.Type == 0x7e {
		// An OP-stack deposit: fields no L1 node has.
		m["sourceHash"] = hashOf("source", int(tx.BlockNumber), int(tx.Index))
		m["mint"] = "0x0"
		m["isSystemTx"] = false
		m["depositReceiptVersion"] = "0x1"
	} else {
		m["maxFeePerGas"] = (*hexutil.Big)(tx.EffectiveGasPrice)
		m["maxPriorityFeePerGas"] = "0x1"
		m["accessList"] = []any{}
		m["yParity"] = "0x1"
	}
	return m
}

// ReceiptJSON is the receipt of tx i of block n as a node answers it.
func (c *Chain) ReceiptJSON(n uint64, i int) map[string]any {
	b := &c.Blocks[n]
	tx := &b.Txs[i]
	logs := make([]any, len(tx.Logs))
	for j, l := range tx.Logs {
		topics := l.Topics
		if topics == nil {
			topics = []common.Hash{}
		}
		logs[j] = map[string]any{
			"address":          l.Address,
			"topics":           topics,
			"data":             hexutil.Bytes(l.Data),
			"blockNumber":      hexutil.Uint64(l.BlockNumber),
			"blockHash":        l.BlockHash,
			"transactionHash":  l.TxHash,
			"transactionIndex": hexutil.Uint64(l.TxIndex),
			"logIndex":         hexutil.Uint64(l.Index),
			"removed":          false,
			"blockTimestamp":   hexutil.Uint64(b.Time.Unix()),
		}
	}
	var cumulative uint64
	for k := 0; k <= i; k++ {
		cumulative += b.Txs[k].GasUsed
	}
	return map[string]any{
		"transactionHash":   tx.Hash,
		"transactionIndex":  hexutil.Uint64(tx.Index),
		"blockHash":         b.Hash,
		"blockNumber":       hexutil.Uint64(b.Number),
		"from":              tx.From,
		"to":                tx.To,
		"status":            hexutil.Uint64(tx.Status),
		"gasUsed":           hexutil.Uint64(tx.GasUsed),
		"cumulativeGasUsed": hexutil.Uint64(cumulative),
		"effectiveGasPrice": (*hexutil.Big)(tx.EffectiveGasPrice),
		"contractAddress":   tx.ContractAddress,
		"logs":              logs,
		"logsBloom":         hexutil.Bytes(make([]byte, 256)),
		"type":              hexutil.Uint64(tx.Type),
	}
}

// ReceiptsJSON is eth_getBlockReceipts(n).
func (c *Chain) ReceiptsJSON(n uint64) []any {
	out := make([]any, len(c.Blocks[n].Txs))
	for i := range out {
		out[i] = c.ReceiptJSON(n, i)
	}
	return out
}

// TraceConfig is the tracer configuration under which Recording records
// debug_traceTransaction answers.
var TraceConfig = map[string]any{"tracer": "callTracer", "tracerConfig": map[string]any{"onlyTopCall": true}}

// Recording returns the answers of a node holding this chain: eth_chainId,
// eth_blockNumber, eth_getBlockByNumber (both forms; null past the head),
// eth_getBlockReceipts and eth_getTransactionReceipt when blockReceipts (else
// eth_getBlockReceipts is "method not found"), and, when debug,
// debug_traceTransaction under TraceConfig.
func (c *Chain) Recording(blockReceipts, debug bool) *Recording {
	r := NewRecording()
	r.Set("eth_chainId", nil, (*hexutil.Big)(c.ChainID))
	r.Set("eth_blockNumber", nil, hexutil.Uint64(c.Head()))
	r.SetDefault("eth_getBlockByNumber", nil)
	r.SetDefault("eth_getTransactionReceipt", nil)
	if blockReceipts {
		r.SetDefault("eth_getBlockReceipts", nil)
	}
	if debug {
		r.SetDefault("debug_traceTransaction", &RPCError{Code: -32000, Message: "transaction not found"})
	}
	for n := range c.Blocks {
		num := uint64(n)
		r.Set("eth_getBlockByNumber", []any{hexutil.Uint64(num), false}, c.BlockJSON(num, false))
		r.Set("eth_getBlockByNumber", []any{hexutil.Uint64(num), true}, c.BlockJSON(num, true))
		if blockReceipts {
			r.Set("eth_getBlockReceipts", []any{hexutil.Uint64(num)}, c.ReceiptsJSON(num))
		}
		for i, tx := range c.Blocks[n].Txs {
			r.Set("eth_getTransactionReceipt", []any{tx.Hash}, c.ReceiptJSON(num, i))
			if debug {
				trace := map[string]any{"type": "CALL", "from": tx.From, "to": tx.To, "gas": hexutil.Uint64(tx.Gas),
					"gasUsed": hexutil.Uint64(tx.GasUsed), "input": hexutil.Bytes(tx.Input), "value": (*hexutil.Big)(tx.Value)}
				if data, ok := c.Reverts[tx.Hash]; ok {
					trace["output"] = hexutil.Bytes(data)
					trace["error"] = "execution reverted"
				}
				r.Set("debug_traceTransaction", []any{tx.Hash, TraceConfig}, trace)
			}
		}
	}
	return r
}
