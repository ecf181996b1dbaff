package web

import (
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/blocktorch/blocktorch/internal/chain"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// The API's JSON shapes. Big integers are decimal strings (JavaScript
// numbers lose precision above 2^53); bytes are 0x-hex.

type blockJSON struct {
	Number     uint64         `json:"number"`
	Hash       common.Hash    `json:"hash"`
	ParentHash common.Hash    `json:"parentHash"`
	Time       time.Time      `json:"time"`
	TxCount    int            `json:"txCount"`
	GasUsed    uint64         `json:"gasUsed"`
	GasLimit   uint64         `json:"gasLimit"`
	BaseFee    string         `json:"baseFee,omitempty"`
	Miner      common.Address `json:"miner"`
}

func toBlockJSON(b chain.Block) blockJSON {
	return blockJSON{
		Number: b.Number, Hash: b.Hash, ParentHash: b.ParentHash, Time: b.Time.UTC(),
		TxCount: b.TxCount, GasUsed: b.GasUsed, GasLimit: b.GasLimit, BaseFee: decimal(b.BaseFee), Miner: b.Miner,
	}
}

type txJSON struct {
	Hash              common.Hash     `json:"hash"`
	BlockNumber       uint64          `json:"blockNumber"`
	BlockHash         common.Hash     `json:"blockHash"`
	Index             uint            `json:"index"`
	Time              time.Time       `json:"time"`
	Type              uint8           `json:"type"`
	From              common.Address  `json:"from"`
	To                *common.Address `json:"to"`
	ContractAddress   *common.Address `json:"contractAddress,omitempty"`
	Value             string          `json:"value"`
	Nonce             uint64          `json:"nonce"`
	Gas               uint64          `json:"gas"`
	GasUsed           uint64          `json:"gasUsed"`
	EffectiveGasPrice string          `json:"effectiveGasPrice"`
	Fee               string          `json:"fee"`
	Status            string          `json:"status"` // "success" or "failed"
	Selector          string          `json:"selector,omitempty"`
	Input             hexutil.Bytes   `json:"input,omitempty"`
	Call              *chain.Call     `json:"call"`
	Revert            *revertJSON     `json:"revert,omitempty"`
	Events            []logJSON       `json:"events,omitempty"`
}

// revertJSON is a failed transaction's revert: the raw data, and what the
// decoder made of it (nil when the node gave no data).
type revertJSON struct {
	Data   hexutil.Bytes `json:"data"`
	Reason *chain.Revert `json:"reason"`
}

type logJSON struct {
	Address     common.Address `json:"address"`
	BlockNumber uint64         `json:"blockNumber"`
	TxHash      common.Hash    `json:"txHash"`
	LogIndex    uint           `json:"logIndex"`
	Topics      []common.Hash  `json:"topics"`
	Data        hexutil.Bytes  `json:"data"`
	Event       *chain.Event   `json:"event"`
}

func toLogJSON(l chain.Log) logJSON {
	topics := l.Topics
	if topics == nil {
		topics = []common.Hash{}
	}
	return logJSON{Address: l.Address, BlockNumber: l.BlockNumber, TxHash: l.TxHash, LogIndex: l.Index, Topics: topics, Data: l.Data, Event: l.Event}
}

func toTxJSON(t chain.Tx, withInput bool) txJSON {
	j := txJSON{
		Hash: t.Hash, BlockNumber: t.BlockNumber, BlockHash: t.BlockHash, Index: t.Index, Time: t.Time.UTC(), Type: t.Type,
		From: t.From, To: t.To, ContractAddress: t.ContractAddress, Value: decimal(t.Value), Nonce: t.Nonce, Gas: t.Gas,
		GasUsed: t.GasUsed, EffectiveGasPrice: decimal(t.EffectiveGasPrice), Fee: t.Fee().String(),
		Status: "success", Call: t.Call,
	}
	if sel := t.Selector(); sel != nil {
		j.Selector = hexutil.Encode(sel)
	}
	if withInput {
		j.Input = t.Input
	}
	if t.Failed() {
		j.Status = "failed"
		j.Revert = &revertJSON{Data: t.RevertData, Reason: t.Revert}
		if j.Revert.Data == nil {
			j.Revert.Data = hexutil.Bytes{}
		}
	}
	for _, l := range t.Logs {
		j.Events = append(j.Events, toLogJSON(l))
	}
	return j
}

func decimal(v *big.Int) string {
	if v == nil {
		return "0"
	}
	return v.String()
}
