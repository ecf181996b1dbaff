package chain

import (
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// BlockRef identifies a block by number and hash, with the parent hash that
// reorg detection compares.
type BlockRef struct {
	Number     uint64      `json:"number"`
	Hash       common.Hash `json:"hash"`
	ParentHash common.Hash `json:"parentHash"`
}

// Block is a block with its transactions and their receipts.
type Block struct {
	Number     uint64         `json:"number"`
	Hash       common.Hash    `json:"hash"`
	ParentHash common.Hash    `json:"parentHash"`
	Time       time.Time      `json:"time"`
	Miner      common.Address `json:"miner"`
	GasUsed    uint64         `json:"gasUsed"`
	GasLimit   uint64         `json:"gasLimit"`
	BaseFee    *big.Int       `json:"baseFee,omitempty"`
	TxCount    int            `json:"txCount"`
	Txs        []Tx           `json:"txs,omitempty"`
}

// Ref returns the block's reference.
func (b *Block) Ref() BlockRef {
	return BlockRef{Number: b.Number, Hash: b.Hash, ParentHash: b.ParentHash}
}

// Tx is a transaction joined with its receipt and, when its contract's ABI
// is known, its decoded call and revert.
type Tx struct {
	Hash        common.Hash     `json:"hash"`
	BlockNumber uint64          `json:"blockNumber"`
	BlockHash   common.Hash     `json:"blockHash"`
	Index       uint            `json:"index"`
	Time        time.Time       `json:"time"`
	Type        uint8           `json:"type"`
	From        common.Address  `json:"from"`
	To          *common.Address `json:"to,omitempty"` // nil for contract creation
	Value       *big.Int        `json:"value"`
	Nonce       uint64          `json:"nonce"`
	Gas         uint64          `json:"gas"`
	Input       []byte          `json:"input"`

	// From the receipt.
	Status            uint64          `json:"status"` // 1 success, 0 failure
	GasUsed           uint64          `json:"gasUsed"`
	EffectiveGasPrice *big.Int        `json:"effectiveGasPrice"`
	ContractAddress   *common.Address `json:"contractAddress,omitempty"`
	Logs              []Log           `json:"logs,omitempty"`

	// RevertData is the raw return data of a failed transaction, when the
	// node could give it (receipts do not carry it).
	RevertData []byte  `json:"revertData,omitempty"`
	Call       *Call   `json:"call,omitempty"`
	Revert     *Revert `json:"revert,omitempty"`
}

// Failed reports whether the transaction reverted.
func (t *Tx) Failed() bool { return t.Status == 0 }

// Selector returns the first four bytes of the input, or nil when the input
// is shorter (a plain transfer).
func (t *Tx) Selector() []byte {
	if len(t.Input) < 4 {
		return nil
	}
	return t.Input[:4]
}

// Fee returns gasUsed × effectiveGasPrice in wei.
func (t *Tx) Fee() *big.Int {
	if t.EffectiveGasPrice == nil {
		return new(big.Int)
	}
	return new(big.Int).Mul(new(big.Int).SetUint64(t.GasUsed), t.EffectiveGasPrice)
}

// Log is an event log emitted by a transaction.
type Log struct {
	Address     common.Address `json:"address"`
	Topics      []common.Hash  `json:"topics"`
	Data        []byte         `json:"data"`
	BlockNumber uint64         `json:"blockNumber"`
	BlockHash   common.Hash    `json:"blockHash"`
	TxHash      common.Hash    `json:"txHash"`
	TxIndex     uint           `json:"txIndex"`
	Index       uint           `json:"logIndex"`
	Event       *Event         `json:"event,omitempty"`
}

// Arg is one decoded argument. Value is rendered as text so that every ABI
// type (big integers, bytes, tuples) survives JSON and storage unchanged:
// integers in decimal, addresses and bytes as 0x-hex, bools as true/false,
// arrays and tuples as JSON.
type Arg struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Call is a decoded function call.
type Call struct {
	Contract  string `json:"contract,omitempty"` // contract name, when known
	Method    string `json:"method"`
	Signature string `json:"signature"` // e.g. "transfer(address,uint256)"
	Args      []Arg  `json:"args"`
}

// Event is a decoded event log.
type Event struct {
	Contract  string `json:"contract,omitempty"`
	Name      string `json:"name"`
	Signature string `json:"signature"` // e.g. "Transfer(address,address,uint256)"
	Args      []Arg  `json:"args"`
}

// Revert kinds.
const (
	RevertError   = "error"   // Error(string), from require/revert with a message
	RevertPanic   = "panic"   // Panic(uint256), from assert, overflow, division by zero, …
	RevertCustom  = "custom"  // a custom error declared in an ABI
	RevertEmpty   = "empty"   // reverted with no data (revert(), out of gas, invalid opcode)
	RevertUnknown = "unknown" // data that matches no known error
)

// Revert is a decoded revert reason.
type Revert struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`                // "Error", "Panic", or the custom error's name
	Signature string `json:"signature,omitempty"` // e.g. "InsufficientCollateral(address,uint256,uint256)"
	Message   string `json:"message"`             // human-readable one-liner
	Args      []Arg  `json:"args,omitempty"`
	Contract  string `json:"contract,omitempty"` // contract whose ABI declared the custom error
	// PanicCode is set for Kind == RevertPanic, e.g. 0x11.
	PanicCode uint64 `json:"panicCode,omitempty"`
}
