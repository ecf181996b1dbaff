package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/query"
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

// Order is the order of search results.
type Order int

// Orders. Records are ordered by time, and records that share a time by
// ID (the order they were stored in).
const (
	NewestFirst Order = iota
	OldestFirst
)

// Search limits: Limit 0 means DefaultSearchLimit; larger limits are cut
// to query.MaxLimit.
const DefaultSearchLimit = 100

// SearchRequest selects records: those the query's filter matches, with a
// time in [From, To). A zero From or To leaves that side open. The query's
// pipes are ignored by Search and Histogram and run by Table.
type SearchRequest struct {
	// Query is the parsed query; nil matches every record.
	Query *query.Query
	From  time.Time
	To    time.Time
	// Limit is the page size of Search and the row bound of Table's
	// record output (before a pipe's own limit).
	Limit int
	// Cursor continues a Search where the page that returned it ended;
	// it is valid only with the same query, range and order.
	Cursor string
	Order  Order
}

// Bucket is one bar of a histogram: the records with a time in [Start,
// Start + width).
type Bucket struct {
	Start time.Time `json:"start"`
	Count int64     `json:"count"`
	// ByLevel counts the bucket's records per level (levels with no
	// record are absent).
	ByLevel map[string]int64 `json:"byLevel,omitempty"`
}

// Table is the result of a query's pipes: named columns and rows of
// values (string, int64, float64, time.Time, or nil where a row has no
// value).
type Table struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// Searcher runs queries over records. Safe for concurrent use; each call
// reads one consistent snapshot. Errors wrap ErrInvalid for requests the
// store refuses: a query it cannot run, a negative limit, a cursor that
// is malformed, tampered with or from another request. Matching nothing is
// not an error.
type Searcher interface {
	// Search calls fn with each matching record, in req.Order, at most
	// req.Limit of them, on the calling goroutine; fn may keep the
	// record. An error from fn stops the search and is returned. The
	// returned cursor continues after the last record given to fn; it is
	// "" when no record follows. Records appended after the first page
	// appear in a later page when the order reaches them, and never
	// shift or repeat the records of a page already read.
	Search(ctx context.Context, req SearchRequest, fn func(record.Record) error) (nextCursor string, err error)

	// Histogram counts the matching records of the whole range (not a
	// page: Limit and Cursor are ignored) in buckets of equal width,
	// oldest first, every bucket present. When From or To is zero, the
	// range closes at the oldest or just after the newest match. It
	// returns no bucket when the range is empty. 1 ≤ buckets ≤ 1000.
	Histogram(ctx context.Context, req SearchRequest, buckets int) ([]Bucket, error)

	// Table runs the query's pipes over the matching records and returns
	// their output. Without an aggregating pipe (stats, timechart, top)
	// the rows are records, with the columns of a fields pipe or time,
	// source, kind, level, service and message. A timechart without an
	// interval picks one from the range.
	Table(ctx context.Context, req SearchRequest) (Table, error)
}

// RecordRetainer deletes old records, for retention per source. Safe for
// concurrent use with searches and writes.
type RecordRetainer interface {
	// Retain deletes the records of source with a time before olderThan
	// and returns how many it deleted; none is not an error.
	Retain(ctx context.Context, source string, olderThan time.Time) (deleted int64, err error)
}

// Store is everything a backend provides.
type Store interface {
	ChainWriter
	ChainReader
	ContractStore
	Close() error
}
