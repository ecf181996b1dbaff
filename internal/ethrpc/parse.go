package ethrpc

import (
	"bytes"
	"encoding/json"
	"math/big"
	"time"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// The structs below decode only the fields the chain types need. Pointers
// mark fields whose absence must be told apart from zero. Unknown fields and
// transaction types (L2 deposits, system transactions) are ignored.

type rpcHeader struct {
	Number     *hexutil.Uint64 `json:"number"`
	Hash       *common.Hash    `json:"hash"`
	ParentHash common.Hash     `json:"parentHash"`
}

type rpcBlock struct {
	rpcHeader
	Timestamp    hexutil.Uint64 `json:"timestamp"`
	Miner        common.Address `json:"miner"`
	GasUsed      hexutil.Uint64 `json:"gasUsed"`
	GasLimit     hexutil.Uint64 `json:"gasLimit"`
	BaseFee      *hexutil.Big   `json:"baseFeePerGas"`
	Transactions []rpcTx        `json:"transactions"`
}

type rpcTx struct {
	Hash             *common.Hash    `json:"hash"`
	BlockHash        *common.Hash    `json:"blockHash"`
	BlockNumber      *hexutil.Uint64 `json:"blockNumber"`
	TransactionIndex *hexutil.Uint64 `json:"transactionIndex"`
	Type             hexutil.Uint64  `json:"type"`
	From             common.Address  `json:"from"`
	To               *common.Address `json:"to"`
	Value            *hexutil.Big    `json:"value"`
	Nonce            hexutil.Uint64  `json:"nonce"`
	Gas              hexutil.Uint64  `json:"gas"`
	GasPrice         *hexutil.Big    `json:"gasPrice"`
	Input            hexutil.Bytes   `json:"input"`
}

type rpcReceipt struct {
	TransactionHash   *common.Hash    `json:"transactionHash"`
	TransactionIndex  *hexutil.Uint64 `json:"transactionIndex"`
	BlockHash         *common.Hash    `json:"blockHash"`
	BlockNumber       *hexutil.Uint64 `json:"blockNumber"`
	Status            *hexutil.Uint64 `json:"status"`
	GasUsed           hexutil.Uint64  `json:"gasUsed"`
	EffectiveGasPrice *hexutil.Big    `json:"effectiveGasPrice"`
	ContractAddress   *common.Address `json:"contractAddress"`
	Logs              []rpcLog        `json:"logs"`
}

type rpcLog struct {
	Address         common.Address  `json:"address"`
	Topics          []common.Hash   `json:"topics"`
	Data            hexutil.Bytes   `json:"data"`
	BlockNumber     *hexutil.Uint64 `json:"blockNumber"`
	BlockHash       *common.Hash    `json:"blockHash"`
	TransactionHash *common.Hash    `json:"transactionHash"`
	LogIndex        *hexutil.Uint64 `json:"logIndex"`
	Removed         bool            `json:"removed"`
}

// maxTimestamp is the end of year 9999: later block times are garbage.
const maxTimestamp = 253402300799

var null = []byte("null")

func isNull(data []byte) bool {
	return len(bytes.TrimSpace(data)) == 0 || bytes.Equal(bytes.TrimSpace(data), null)
}

// parseHeader decodes an eth_getBlockByNumber answer into a BlockRef and
// checks it is block want.
func parseHeader(data []byte, want uint64) (chain.BlockRef, error) {
	if isNull(data) {
		return chain.BlockRef{}, notAvailable("block %d", want)
	}
	var h rpcHeader
	if err := json.Unmarshal(data, &h); err != nil {
		return chain.BlockRef{}, malformed("block %d: %v", want, err)
	}
	if err := h.check(want); err != nil {
		return chain.BlockRef{}, err
	}
	return chain.BlockRef{Number: uint64(*h.Number), Hash: *h.Hash, ParentHash: h.ParentHash}, nil
}

func (h *rpcHeader) check(want uint64) error {
	switch {
	case h.Number == nil:
		return malformed("block %d: no number", want)
	case uint64(*h.Number) != want:
		return malformed("block number %d != requested %d", uint64(*h.Number), want)
	case h.Hash == nil:
		return malformed("block %d: no hash", want)
	}
	return nil
}

// parseBlock decodes a full eth_getBlockByNumber(n, true) answer and checks
// that it is block want and that its transactions belong to it. Receipt
// fields are left for the receipt parsers, except EffectiveGasPrice, which
// starts as the transaction's gasPrice for nodes whose receipts lack it.
func parseBlock(data []byte, want uint64) (chain.Block, error) {
	if isNull(data) {
		return chain.Block{}, notAvailable("block %d", want)
	}
	var rb rpcBlock
	if err := json.Unmarshal(data, &rb); err != nil {
		return chain.Block{}, malformed("block %d: %v", want, err)
	}
	if err := rb.check(want); err != nil {
		return chain.Block{}, err
	}
	if rb.Timestamp > maxTimestamp {
		return chain.Block{}, malformed("block %d: timestamp %d out of range", want, uint64(rb.Timestamp))
	}
	b := chain.Block{
		Number:     want,
		Hash:       *rb.Hash,
		ParentHash: rb.ParentHash,
		Time:       time.Unix(int64(rb.Timestamp), 0).UTC(),
		Miner:      rb.Miner,
		GasUsed:    uint64(rb.GasUsed),
		GasLimit:   uint64(rb.GasLimit),
		BaseFee:    (*big.Int)(rb.BaseFee),
		TxCount:    len(rb.Transactions),
	}
	if len(rb.Transactions) > 0 {
		b.Txs = make([]chain.Tx, len(rb.Transactions))
	}
	for i := range rb.Transactions {
		rt := &rb.Transactions[i]
		switch {
		case rt.Hash == nil:
			return chain.Block{}, malformed("tx %d of block %d: no hash", i, want)
		case rt.TransactionIndex != nil && uint64(*rt.TransactionIndex) != uint64(i):
			return chain.Block{}, malformed("tx %d of block %d: transactionIndex %d", i, want, uint64(*rt.TransactionIndex))
		case rt.BlockHash != nil && *rt.BlockHash != b.Hash:
			return chain.Block{}, malformed("tx %d of block %d: blockHash %s != block hash %s", i, want, rt.BlockHash, b.Hash)
		case rt.BlockNumber != nil && uint64(*rt.BlockNumber) != want:
			return chain.Block{}, malformed("tx %d of block %d: blockNumber %d", i, want, uint64(*rt.BlockNumber))
		case rt.Type > 0xff:
			return chain.Block{}, malformed("tx %d of block %d: type %d", i, want, uint64(rt.Type))
		}
		value := new(big.Int)
		if rt.Value != nil {
			value = (*big.Int)(rt.Value)
		}
		b.Txs[i] = chain.Tx{
			Hash:              *rt.Hash,
			BlockNumber:       want,
			BlockHash:         b.Hash,
			Index:             uint(i),
			Time:              b.Time,
			Type:              uint8(rt.Type),
			From:              rt.From,
			To:                rt.To,
			Value:             value,
			Nonce:             uint64(rt.Nonce),
			Gas:               uint64(rt.Gas),
			Input:             nonEmpty(rt.Input),
			EffectiveGasPrice: (*big.Int)(rt.GasPrice),
		}
	}
	return b, nil
}

// parseBlockReceipts decodes an eth_getBlockReceipts answer into b's
// transactions, checking that it holds one receipt per transaction, in order.
func parseBlockReceipts(data []byte, b *chain.Block) error {
	if isNull(data) {
		return notAvailable("receipts of block %d", b.Number)
	}
	var rs []rpcReceipt
	if err := json.Unmarshal(data, &rs); err != nil {
		return malformed("receipts of block %d: %v", b.Number, err)
	}
	if len(rs) != len(b.Txs) {
		return malformed("receipt count %d != tx count %d for block %d", len(rs), len(b.Txs), b.Number)
	}
	for i := range rs {
		if err := applyReceipt(&rs[i], b, i); err != nil {
			return err
		}
	}
	return nil
}

// parseReceipt decodes an eth_getTransactionReceipt answer into tx i of b.
func parseReceipt(data []byte, b *chain.Block, i int) error {
	if isNull(data) {
		return notAvailable("receipt of tx %s", b.Txs[i].Hash)
	}
	var r rpcReceipt
	if err := json.Unmarshal(data, &r); err != nil {
		return malformed("receipt of tx %s: %v", b.Txs[i].Hash, err)
	}
	return applyReceipt(&r, b, i)
}

func applyReceipt(r *rpcReceipt, b *chain.Block, i int) error {
	tx := &b.Txs[i]
	switch {
	case r.TransactionHash == nil || *r.TransactionHash != tx.Hash:
		return malformed("receipt %d of block %d: transactionHash %v != tx hash %s", i, b.Number, r.TransactionHash, tx.Hash)
	case r.BlockHash == nil || *r.BlockHash != b.Hash:
		// Also what a reorg between the block and its receipts looks like.
		return malformed("receipt %d of block %d: blockHash %v != block hash %s", i, b.Number, r.BlockHash, b.Hash)
	case r.BlockNumber != nil && uint64(*r.BlockNumber) != b.Number:
		return malformed("receipt %d of block %d: blockNumber %d", i, b.Number, uint64(*r.BlockNumber))
	case r.TransactionIndex != nil && uint64(*r.TransactionIndex) != uint64(i):
		return malformed("receipt %d of block %d: transactionIndex %d", i, b.Number, uint64(*r.TransactionIndex))
	case r.Status != nil && *r.Status > 1:
		return malformed("receipt %d of block %d: status %d", i, b.Number, uint64(*r.Status))
	}
	// Receipts before Byzantium carry a state root instead of a status; such
	// transactions count as successful.
	tx.Status = 1
	if r.Status != nil {
		tx.Status = uint64(*r.Status)
	}
	tx.GasUsed = uint64(r.GasUsed)
	if r.EffectiveGasPrice != nil {
		tx.EffectiveGasPrice = (*big.Int)(r.EffectiveGasPrice)
	}
	tx.ContractAddress = r.ContractAddress
	tx.Logs = nil
	if len(r.Logs) > 0 {
		tx.Logs = make([]chain.Log, len(r.Logs))
	}
	for j := range r.Logs {
		l := &r.Logs[j]
		switch {
		case l.BlockHash == nil || *l.BlockHash != b.Hash:
			return malformed("log %d of tx %s: blockHash %v != block hash %s", j, tx.Hash, l.BlockHash, b.Hash)
		case l.TransactionHash != nil && *l.TransactionHash != tx.Hash:
			return malformed("log %d of tx %s: transactionHash %s", j, tx.Hash, l.TransactionHash)
		case l.BlockNumber != nil && uint64(*l.BlockNumber) != b.Number:
			return malformed("log %d of tx %s: blockNumber %d != %d", j, tx.Hash, uint64(*l.BlockNumber), b.Number)
		case l.LogIndex == nil:
			return malformed("log %d of tx %s: no logIndex", j, tx.Hash)
		case l.Removed:
			return malformed("log %d of tx %s: removed log in a receipt", j, tx.Hash)
		}
		tx.Logs[j] = chain.Log{
			Address:     l.Address,
			Topics:      nonEmptyTopics(l.Topics),
			Data:        nonEmpty(l.Data),
			BlockNumber: b.Number,
			BlockHash:   b.Hash,
			TxHash:      tx.Hash,
			TxIndex:     tx.Index,
			Index:       uint(*l.LogIndex),
		}
	}
	return nil
}

func notAvailable(format string, args ...any) error {
	return fmtWrap(ErrNotAvailable, format, args...)
}

// nonEmpty returns nil for empty data so that "0x" and an absent field read
// the same.
func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func nonEmptyTopics(t []common.Hash) []common.Hash {
	if len(t) == 0 {
		return nil
	}
	return t
}
