package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/record"
)

// Domain errors. Backends translate driver errors into these, wrapped with
// what was being done; callers test with errors.Is.
var (
	// ErrNotFound is returned when the requested row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a write would break an invariant, such as
	// writing a block number that is already stored, or a block whose parent
	// is not the stored head.
	ErrConflict = errors.New("conflict")
	// ErrInvalid is returned for arguments a backend refuses (a negative
	// limit, an unknown status filter, …).
	ErrInvalid = errors.New("invalid argument")
)

// ChainWriter stores indexed blocks. The head block stored is the indexer's
// checkpoint: each call is one transaction, so a crash leaves either all of a
// call's blocks or none.
//
// Implementations are safe for concurrent use, but the indexer is the only
// writer by design.
type ChainWriter interface {
	// WriteBlocks stores blocks with their transactions, logs and decoded
	// data, atomically. Blocks must be in ascending, contiguous order; the
	// first one must extend the stored head (its number is head+1 and its
	// parent hash the head's hash) unless the store is empty. Otherwise it
	// returns ErrConflict and stores nothing.
	WriteBlocks(ctx context.Context, blocks []chain.Block) error

	// RollbackTo deletes every block numbered above n, and every row derived
	// from those blocks, atomically. Rolling back above the head is a no-op.
	RollbackTo(ctx context.Context, n uint64) error
}

// ChainReader reads indexed chain data. Safe for concurrent use.
type ChainReader interface {
	// Head returns the newest stored block, or ErrNotFound when the store
	// holds no block.
	Head(ctx context.Context) (chain.BlockRef, error)
	// Tail returns the oldest stored block, or ErrNotFound.
	Tail(ctx context.Context) (chain.BlockRef, error)
	// BlockRef returns the stored block with that number, or ErrNotFound.
	BlockRef(ctx context.Context, number uint64) (chain.BlockRef, error)
	// Blocks returns blocks newest first, without transactions (TxCount is
	// set).
	Blocks(ctx context.Context, q BlockQuery) ([]chain.Block, error)
	// Txs returns transactions newest first (by block, then index
	// descending), without their logs.
	Txs(ctx context.Context, q TxQuery) ([]chain.Tx, error)
	// Tx returns one transaction with its logs in log-index order, or
	// ErrNotFound.
	Tx(ctx context.Context, hash common.Hash) (chain.Tx, error)
	// Logs returns logs newest first.
	Logs(ctx context.Context, q LogQuery) ([]chain.Log, error)
	// Counts returns how many blocks, transactions and logs are stored.
	Counts(ctx context.Context) (Counts, error)
}

// BlockQuery selects blocks. Limit 0 means the backend's default (50); the
// backend caps it at 1000.
type BlockQuery struct {
	Limit int
	// Before, when non-zero, returns only blocks numbered below it (keyset
	// pagination).
	Before uint64
}

// TxQuery selects transactions. Zero fields do not filter.
type TxQuery struct {
	Limit int
	// Status is "", "success" or "failed".
	Status string
	// Address matches the sender, the recipient, or the created contract.
	Address *common.Address
	// Block, when non-nil, returns only the transactions of that block.
	Block *uint64
}

// LogQuery selects logs. Zero fields do not filter.
type LogQuery struct {
	Limit   int
	Address *common.Address
	// Topic0 filters by event signature hash.
	Topic0 *common.Hash
	// Event filters by decoded event name.
	Event string
}

// Counts is the size of the stored chain data.
type Counts struct {
	Blocks int64 `json:"blocks"`
	Txs    int64 `json:"txs"`
	Logs   int64 `json:"logs"`
}

// Contract is a contract whose ABI is known, so its calls, events and
// reverts are decoded.
type Contract struct {
	Address common.Address  `json:"address"`
	Name    string          `json:"name"`
	ABI     json.RawMessage `json:"abi"`
	// Origin says where the ABI came from: "demo", "user", …
	Origin string    `json:"origin"`
	Added  time.Time `json:"added"`
}

// ContractStore keeps the registry of known contracts. Safe for concurrent
// use.
type ContractStore interface {
	// PutContract inserts or replaces the contract at c.Address.
	PutContract(ctx context.Context, c Contract) error
	// Contract returns the contract at addr, or ErrNotFound.
	Contract(ctx context.Context, addr common.Address) (Contract, error)
	// Contracts returns every known contract, ordered by address.
	Contracts(ctx context.Context) ([]Contract, error)
}

// RecordWriter appends off-chain records (application, security and system
// logs). Chain records are derived from the blocks ChainWriter stores, in
// the same transaction, and rolled back with them. Safe for concurrent use.
type RecordWriter interface {
	// AppendRecords stores every record or none; it assigns their IDs.
	AppendRecords(ctx context.Context, recs []record.Record) error
}

// Store is everything a backend provides.
type Store interface {
	ChainWriter
	ChainReader
	ContractStore
	Close() error
}
