package response

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Node is what the package reads from and sends to the chain.
// *ethclient.Client satisfies it. It must be safe for concurrent use.
type Node interface {
	ChainID(ctx context.Context) (*big.Int, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	CallContract(ctx context.Context, call ethereum.CallMsg, blockNumber *big.Int) ([]byte, error)
	FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	BalanceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (*big.Int, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	SendTransaction(ctx context.Context, tx *types.Transaction) error
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
	TransactionByHash(ctx context.Context, hash common.Hash) (tx *types.Transaction, isPending bool, err error)
}

// Contract is a watched contract whose emergency functions are looked for.
type Contract struct {
	Address common.Address  `json:"address"`
	Name    string          `json:"name"`
	ABI     json.RawMessage `json:"abi"`
	// Emergency lists functions a user marked as emergency actions, by
	// signature ("setMaxPriceAge(uint256)") or unique name.
	Emergency []string `json:"emergency,omitempty"`
}

// Action kinds.
const (
	KindPause     = "pause"
	KindUnpause   = "unpause"
	KindRevoke    = "revoke-role"
	KindBlockList = "block-list"
	KindMarked    = "marked"
)

// Who may call an action, as Role.Kind names it.
const (
	RoleAccess  = "role"    // an AccessControl role
	RoleOwner   = "owner"   // Ownable's owner()
	RoleAnyone  = "anyone"  // the probe call from a stranger succeeded
	RoleUnknown = "unknown" // the probe reverted for another reason
)

// Role is who may call an action and who that is now.
type Role struct {
	Kind string `json:"kind"`
	// Name is the role's constant name ("PAUSER_ROLE",
	// "DEFAULT_ADMIN_ROLE") or "owner"; a role whose constant the ABI does
	// not name is its id in hex.
	Name string `json:"name"`
	// ID is the AccessControl role id (Kind "role").
	ID *common.Hash `json:"id,omitempty"`
	// Holders are the accounts that hold it at the head block.
	Holders []common.Address `json:"holders"`
	// Reason says how the role was learnt, or why it is unknown.
	Reason string `json:"reason,omitempty"`
}

// Input is one argument an action takes.
type Input struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Action is one emergency call of a contract. An action whose Inputs are
// not all given in Args is a template: Prepare takes the arguments.
type Action struct {
	// ID names the action: "<address>:<signature>" and, for a role
	// revocation, ":<role>:<account>".
	ID           string         `json:"id"`
	Kind         string         `json:"kind"`
	Contract     common.Address `json:"contract"`
	ContractName string         `json:"contractName"`
	// Function is the signature called ("pause()").
	Function string  `json:"function"`
	Inputs   []Input `json:"inputs"`
	// Args are the arguments, as text, when the action fixes them.
	Args []string `json:"args,omitempty"`
	Role Role     `json:"role"`
	// Summary says what the action does, in a line.
	Summary string `json:"summary"`
	// State is what the contract reports now that bears on the action
	// ("paused: false"), when it reports it.
	State string `json:"state,omitempty"`
}

// Call is a call to simulate: from an account, to a contract, with data.
type Call struct {
	From  common.Address
	To    common.Address
	Data  []byte
	Value *big.Int
	// Pending simulates on the pending state instead of the head's.
	Pending bool
}

// Simulation is what a call would do on the head state.
type Simulation struct {
	Reverted bool `json:"reverted"`
	// Reason is the decoded revert, when it reverted.
	Reason  string `json:"reason,omitempty"`
	GasUsed uint64 `json:"gasUsed"`
	// Block is the block whose state it ran on.
	Block uint64 `json:"block"`
	// CheckedBlock, when set, is a later block on whose state the call
	// was run again without reverting, just before it was sent (a send
	// made ready on each block: Service.Arm); the events, changes and
	// trace are Block's.
	CheckedBlock uint64        `json:"checkedBlock,omitempty"`
	Events       []SimEvent    `json:"events"`
	Changes      []StateChange `json:"changes"`
	// TraceID is the simulation's trace in the debugger (/debug/{id}).
	TraceID common.Hash `json:"traceId"`
}

// SimEvent is an event the simulated call emitted.
type SimEvent struct {
	Address common.Address `json:"address"`
	Name    string         `json:"name"`
	Args    []chain.Arg    `json:"args,omitempty"`
	// Reverted is set for an event of a frame whose changes were undone.
	Reverted bool `json:"reverted,omitempty"`
}

// StateChange is a storage slot the simulated call wrote.
type StateChange struct {
	Address common.Address `json:"address"`
	Label   string         `json:"label,omitempty"`
	Slot    common.Hash    `json:"slot"`
	Before  common.Hash    `json:"before"`
	After   common.Hash    `json:"after"`
}

// SimulateFunc runs a call and reports its effect. It must be safe for
// concurrent use.
type SimulateFunc func(ctx context.Context, call Call) (*Simulation, error)

// Errors of the package; each is wrapped with what was being done. Each
// is also one of the store's kinds (errors.Is), which the web layer maps
// to its answer: not found, a bad request or a conflict with the chain's
// state.
var (
	// ErrNotFound is an action or scenario that does not exist.
	ErrNotFound = store.Sentinel("not found", store.ErrNotFound)
	// ErrInvalid is a request that cannot be served as given.
	ErrInvalid = store.Sentinel("invalid request", store.ErrInvalid)
	// ErrWouldRevert is a send refused because its simulation reverted.
	ErrWouldRevert = store.Sentinel("the simulation reverts", store.ErrConflict)
	// ErrNoSigner is a send or signature asked for with no signer set.
	ErrNoSigner = store.Sentinel("no signer is configured", store.ErrConflict)
	// ErrInsufficientFunds is a signer that cannot pay for the gas.
	ErrInsufficientFunds = store.Sentinel("the signer's balance does not cover the gas", store.ErrConflict)
	// ErrDropped is a transaction the node no longer knows and never mined.
	ErrDropped = errors.New("the node dropped the transaction")
	// ErrKeyFile is a key or password file refused for its permissions.
	ErrKeyFile = errors.New("key file refused")
)

// hexData is calldata for JSON answers.
type hexData = hexutil.Bytes
