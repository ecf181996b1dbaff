package store

import (
	"context"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
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

// BlockRangeReader reads whole stored blocks, for evaluating monitors over
// past data. Safe for concurrent use.
type BlockRangeReader interface {
	// BlockRange returns the stored blocks numbered from..to inclusive, in
	// ascending order, each with its transactions (decoded call and revert
	// included) and their logs (decoded events included). Numbers with no
	// stored block are skipped; an empty range is not an error.
	BlockRange(ctx context.Context, from, to uint64) ([]chain.Block, error)
	// BlockAt returns the newest stored block with a time at or before t,
	// or ErrNotFound when every stored block is newer.
	BlockAt(ctx context.Context, t time.Time) (chain.BlockRef, error)
}
