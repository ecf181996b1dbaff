package debugger

import (
	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// Replay modes, as Result.Mode names them.
const (
	ModeNode       = "node"       // the node's debug_traceTransaction
	ModeLocal      = "local"      // local re-execution on lazily fetched state
	ModeSimulation = "simulation" // a simulated call or transaction
)

// Result is what a replay learned about one transaction. Both replay paths
// fill it the same way; steps live in the trace file, not here.
type Result struct {
	TxHash      common.Hash    `json:"txHash"`
	BlockNumber uint64         `json:"blockNumber"`
	BlockHash   common.Hash    `json:"blockHash"`
	TxIndex     int            `json:"txIndex"`
	Mode        string         `json:"mode"`
	From        common.Address `json:"from"`
	// Status is 1 when the transaction succeeded, 0 when it failed.
	Status  uint64 `json:"status"`
	GasUsed uint64 `json:"gasUsed"`
	// Root is the top call frame; its Calls hold the tree.
	Root *Frame `json:"root"`
	// Events are the logs in the order they were emitted, including those
	// of reverted frames (Reverted set), each tied to its frame.
	Events []Event `json:"events"`
	// State lists every account the transaction changed or whose storage
	// it read, sorted by address.
	State []AccountDiff `json:"state"`
	// Failure says where the transaction's failure originated, or is nil.
	Failure *Failure `json:"failure,omitempty"`
	// Steps is how many EVM steps the trace file holds.
	Steps int `json:"steps"`
	// Gas is the gas profile.
	Gas GasProfile `json:"gas"`
	// Assertions are the checked expectations of a simulation.
	Assertions []AssertionResult `json:"assertions,omitempty"`
	// StateBlock is the block whose state a simulation ran on, and
	// BlockTime the simulated block's time (BlockNumber is its number).
	StateBlock uint64 `json:"stateBlock,omitempty"`
	BlockTime  uint64 `json:"blockTime,omitempty"`
	// BalanceChanges are a simulation's ether and ERC-20 balance changes
	// per account (see BalanceChanges).
	BalanceChanges []BalanceChange `json:"balanceChanges,omitempty"`
}

// Frame is one call frame: a CALL, DELEGATECALL, STATICCALL, CALLCODE,
// CREATE, CREATE2 or SELFDESTRUCT.
type Frame struct {
	ID    int            `json:"id"` // pre-order index, 0 for the top frame
	Depth int            `json:"depth"`
	Type  string         `json:"type"`
	From  common.Address `json:"from"`
	// To is the callee as the EVM names it: for DELEGATECALL and CALLCODE
	// it is the code's address; for a failed CREATE it is nil.
	To *common.Address `json:"to,omitempty"`
	// Address is whose storage and balance the frame works on (the proxy,
	// under DELEGATECALL); CodeAddress is whose code runs.
	Address     common.Address `json:"address"`
	CodeAddress common.Address `json:"codeAddress"`
	Value       *hexutil.Big   `json:"value,omitempty"`
	Input       hexutil.Bytes  `json:"input"`
	Output      hexutil.Bytes  `json:"output,omitempty"`
	Gas         uint64         `json:"gas"`
	GasUsed     uint64         `json:"gasUsed"`
	// Error is the EVM's error ("execution reverted", "out of gas", …).
	Error string `json:"error,omitempty"`
	// RevertReason is the Error(string) message, as callTracer gives it.
	RevertReason string `json:"revertReason,omitempty"`
	// Reverted reports that the frame's state changes were undone, by its
	// own failure or an ancestor's.
	Reverted bool `json:"reverted,omitempty"`
	// Failed is set when the frame itself failed (Error is set and its
	// snapshot was reverted).
	Failed  bool          `json:"failed,omitempty"`
	Call    *chain.Call   `json:"call,omitempty"`
	Returns []chain.Arg   `json:"returns,omitempty"`
	Revert  *chain.Revert `json:"revert,omitempty"`
	// Contract is the name of the code's contract, when known.
	Contract string `json:"contract,omitempty"`
	// FirstStep and LastStep bound the frame's own steps in the trace
	// (-1 when the frame ran no code, as for precompiles and plain
	// transfers).
	FirstStep int      `json:"firstStep"`
	LastStep  int      `json:"lastStep"`
	Calls     []*Frame `json:"calls,omitempty"`

	parent *Frame
}

// Walk calls fn on f and every frame under it, in pre-order.
func (f *Frame) Walk(fn func(*Frame)) {
	fn(f)
	for _, c := range f.Calls {
		c.Walk(fn)
	}
}

// Event is a log emitted during the transaction.
type Event struct {
	Index   int `json:"index"` // order among the transaction's logs, reverted ones included
	FrameID int `json:"frame"`
	// Position is how many calls the frame had made before the log, which
	// places the log among the frame's calls.
	Position int `json:"position"`
	Step     int `json:"step"` // the LOG step, or -1 when unknown
	// LogIndex is the log's index among the transaction's surviving logs
	// at the time it was emitted, as the EVM numbers it.
	LogIndex int            `json:"logIndex"`
	Address  common.Address `json:"address"`
	Topics   []common.Hash  `json:"topics"`
	Data     hexutil.Bytes  `json:"data"`
	Reverted bool           `json:"reverted,omitempty"`
	Decoded  *chain.Event   `json:"decoded,omitempty"`
}

// AccountDiff is what the transaction did to one account.
type AccountDiff struct {
	Address  common.Address `json:"address"`
	Contract string         `json:"contract,omitempty"`
	Balance  *BalanceDiff   `json:"balance,omitempty"`
	Nonce    *NonceDiff     `json:"nonce,omitempty"`
	// CodeChanged is set when the transaction deployed or destroyed code.
	CodeChanged bool       `json:"codeChanged,omitempty"`
	Storage     []SlotDiff `json:"storage,omitempty"`
}

// BalanceDiff is a balance before and after, in wei.
type BalanceDiff struct {
	Before *hexutil.Big `json:"before"`
	After  *hexutil.Big `json:"after"`
}

// NonceDiff is a nonce before and after.
type NonceDiff struct {
	Before uint64 `json:"before"`
	After  uint64 `json:"after"`
}

// SlotDiff is one storage slot the transaction read or wrote.
type SlotDiff struct {
	Slot   common.Hash `json:"slot"`
	Before common.Hash `json:"before"`
	After  common.Hash `json:"after"`
	// Written is false for a slot that was only read.
	Written bool `json:"written"`
	// FrameID is the frame that last wrote the slot, or first read it.
	FrameID int `json:"frame"`
	// Label names the variable by the solc storage layout, when known.
	Label string `json:"label,omitempty"`
	Type  string `json:"type,omitempty"`
}

// Changed reports whether the slot's value differs after the transaction.
func (s SlotDiff) Changed() bool { return s.Before != s.After }

// Failure is where a failed transaction's failure originated: the step in
// the deepest frame whose failure every frame above only re-raised.
type Failure struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Approximate is set when the line is inferred rather than known: no
	// statement the frame ran could be matched with the failure (its
	// message, custom error or panic code), or the frame ran out of gas in
	// optimised code. FromLine-ToLine then holds the candidate lines.
	Approximate bool `json:"approximate"`
	// FromLine and ToLine bound the candidate lines of File when the line
	// is approximate: the origin lies somewhere in that range.
	FromLine int `json:"fromLine,omitempty"`
	ToLine   int `json:"toLine,omitempty"`
	// Reason is the decoded revert reason or the EVM error.
	Reason string        `json:"reason"`
	Revert *chain.Revert `json:"revert,omitempty"`
	Error  string        `json:"error,omitempty"`
	Step   int           `json:"step"`
	// Address is the contract whose code failed; Frame its frame.
	Address common.Address `json:"address"`
	FrameID int            `json:"frame"`
	// Caught lists failures in the transaction that were handled (a
	// try/catch or a low-level call whose false was checked) and so are
	// not its origin.
	Caught []int `json:"caught,omitempty"`
}

// GasProfile is where the gas went.
type GasProfile struct {
	// Calls is the gas of every frame, in frame order.
	Calls []CallGas `json:"calls"`
	// Flame is the gas by function, as folded stacks
	// ("Router.deposit;LendingVault.depositFor") of self gas, for a flame
	// chart; sorted by stack.
	Flame []FlameEntry `json:"flame"`
}

// CallGas is one frame's gas: all of it, and what its own code spent.
type CallGas struct {
	FrameID int    `json:"frame"`
	Name    string `json:"name"`
	Gas     uint64 `json:"gasUsed"`
	Self    uint64 `json:"self"`
}

// FlameEntry is the self gas of one call stack.
type FlameEntry struct {
	Stack string `json:"stack"`
	Gas   uint64 `json:"gas"`
}
