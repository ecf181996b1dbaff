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

// Dashboard is a saved dashboard. Spec is its layout and panels as JSON,
// which the dashboard package defines and validates; the store keeps it
// as it is.
type Dashboard struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	Spec    json.RawMessage `json:"spec"`
	Created time.Time       `json:"created"`
	Updated time.Time       `json:"updated"`
}

// SavedSearch is a named query with its time range (relative, such as
// "now-1h", or absolute RFC 3339; empty leaves that side open).
type SavedSearch struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Query   string    `json:"query"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// DashboardStore keeps dashboards and saved searches. Safe for concurrent
// use. Lookups and deletes of an unknown ID return ErrNotFound.
type DashboardStore interface {
	// PutDashboard inserts the dashboard, or replaces the one with its ID.
	PutDashboard(ctx context.Context, d Dashboard) error
	Dashboard(ctx context.Context, id string) (Dashboard, error)
	// Dashboards returns every dashboard ordered by name, then ID.
	Dashboards(ctx context.Context) ([]Dashboard, error)
	DeleteDashboard(ctx context.Context, id string) error

	// PutSavedSearch inserts the saved search, or replaces the one with
	// its ID.
	PutSavedSearch(ctx context.Context, s SavedSearch) error
	SavedSearch(ctx context.Context, id string) (SavedSearch, error)
	// SavedSearches returns every saved search ordered by name, then ID.
	SavedSearches(ctx context.Context) ([]SavedSearch, error)
	DeleteSavedSearch(ctx context.Context, id string) error
}

// Share kinds: what a share link opens.
const (
	ShareDashboard = "dashboard"
	ShareSearch    = "search"
	// ShareSnapshot opens the records a search returned when the link was
	// made, copied into the share, so it outlives retention.
	ShareSnapshot = "snapshot"
)

// Share is a read-only link to one dashboard, saved search or snapshot.
// The link's token is never stored: only its SHA-256 hash.
type Share struct {
	ID        string `json:"id"`
	TokenHash []byte `json:"-"`
	Kind      string `json:"kind"`
	// Target is the ID of the shared dashboard or saved search.
	Target string `json:"target"`
	Title  string `json:"title"`
	// From and To, when set, freeze the time range the link shows.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Expires is when the link stops working; zero never (left out of
	// JSON).
	Expires time.Time `json:"expires,omitzero"`
	Created time.Time `json:"created"`
	// Revoked is when the link was revoked; zero while it works (left out
	// of JSON).
	Revoked time.Time `json:"revoked,omitzero"`
	// Snapshot holds a snapshot share's frozen results as JSON.
	Snapshot json.RawMessage `json:"-"`
}

// ShareEvent is one line of the share audit log.
type ShareEvent struct {
	Time    time.Time `json:"time"`
	ShareID string    `json:"shareId"`
	// Action is "create", "use", "refuse" or "revoke".
	Action string `json:"action"`
	Detail string `json:"detail,omitempty"`
}

// ShareStore keeps share links and their audit log. Safe for concurrent
// use.
type ShareStore interface {
	// CreateShare stores a new share; a share with the same ID or token
	// hash returns ErrConflict.
	CreateShare(ctx context.Context, s Share) error
	// ShareByTokenHash returns the share whose token hashes to hash,
	// revoked or expired ones included, or ErrNotFound.
	ShareByTokenHash(ctx context.Context, hash []byte) (Share, error)
	// Shares returns every share, newest first, without snapshots.
	Shares(ctx context.Context) ([]Share, error)
	// RevokeShare marks the share revoked at the given time; revoking a
	// revoked share keeps its first time. Unknown IDs return ErrNotFound.
	RevokeShare(ctx context.Context, id string, at time.Time) error
	// LogShareEvent appends to the audit log.
	LogShareEvent(ctx context.Context, e ShareEvent) error
	// ShareEvents returns the newest limit events, newest first.
	ShareEvents(ctx context.Context, limit int) ([]ShareEvent, error)
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

// MonitorDef is a stored monitor definition. The definition itself is the
// monitor package's JSON; the store keeps it opaque.
type MonitorDef struct {
	ID   string          `json:"id"`
	Spec json.RawMessage `json:"spec"`
	// Origin says who manages it: "api" (created in the UI or API),
	// "code" (monitors applied from a file), "builtin".
	Origin  string    `json:"origin"`
	Updated time.Time `json:"updated"`
}

// ChannelDef is a stored notification channel. Spec holds secrets (URLs
// with tokens, keys): callers must redact it before showing it.
type ChannelDef struct {
	Name    string          `json:"name"`
	Spec    json.RawMessage `json:"spec"`
	Origin  string          `json:"origin"`
	Updated time.Time       `json:"updated"`
}

// MonitorSet is a whole set of definitions of one origin, replaced at once.
type MonitorSet struct {
	Origin   string
	Monitors []MonitorDef
	Channels []ChannelDef
}

// AlertState is the persisted state of one alert instance (a monitor and a
// group of labels), so that a restart resumes its state machine. State is
// the monitor package's JSON.
type AlertState struct {
	MonitorID string          `json:"monitorId"`
	Key       string          `json:"key"`
	State     json.RawMessage `json:"state"`
}

// AlertEvent is one transition of an alert, kept as its history.
type AlertEvent struct {
	ID        int64           `json:"id"`
	MonitorID string          `json:"monitorId"`
	Key       string          `json:"key"`
	Status    string          `json:"status"`
	Time      time.Time       `json:"time"`
	Block     uint64          `json:"block,omitempty"`
	Detail    json.RawMessage `json:"detail"`
}

// AlertQuery selects alert history, newest first. Zero fields do not
// filter; Limit 0 means 100, capped at 1000.
type AlertQuery struct {
	MonitorID string
	Limit     int
	// Before, when non-zero, returns only events with an ID below it.
	Before int64
}

// Silence mutes notifications of the alerts it matches until it ends.
type Silence struct {
	ID        string          `json:"id"`
	Matchers  json.RawMessage `json:"matchers"`
	Comment   string          `json:"comment,omitempty"`
	CreatedBy string          `json:"createdBy,omitempty"`
	Starts    time.Time       `json:"starts"`
	Ends      time.Time       `json:"ends"`
}

// SeriesPoint is one value a state-watch monitor read at a block.
type SeriesPoint struct {
	MonitorID string    `json:"monitorId"`
	Block     uint64    `json:"block"`
	Time      time.Time `json:"time"`
	Value     string    `json:"value"`
}

// MonitorStore keeps monitors, channels, alert state and history,
// silences and state-watch series. Safe for concurrent use. Lookups of
// one missing item return ErrNotFound.
type MonitorStore interface {
	// ReplaceMonitorSet makes set the whole of its origin's monitors and
	// channels, atomically: definitions of that origin absent from set are
	// deleted. A monitor or channel ID already held by another origin is
	// ErrConflict, and nothing changes.
	ReplaceMonitorSet(ctx context.Context, set MonitorSet) error
	// PutMonitor inserts or replaces one monitor.
	PutMonitor(ctx context.Context, m MonitorDef) error
	// DeleteMonitor deletes a monitor with its alert state and series.
	DeleteMonitor(ctx context.Context, id string) error
	MonitorDefs(ctx context.Context) ([]MonitorDef, error)
	ChannelDefs(ctx context.Context) ([]ChannelDef, error)

	// SaveAlerts stores alert states (upserts; a nil State deletes) and
	// appends events, in one transaction.
	SaveAlerts(ctx context.Context, states []AlertState, events []AlertEvent) error
	AlertStates(ctx context.Context) ([]AlertState, error)
	AlertEvents(ctx context.Context, q AlertQuery) ([]AlertEvent, error)

	PutSilence(ctx context.Context, s Silence) error
	DeleteSilence(ctx context.Context, id string) error
	// Silences returns the silences that end after now.
	Silences(ctx context.Context, now time.Time) ([]Silence, error)

	AppendSeries(ctx context.Context, pts []SeriesPoint) error
	// Series returns a monitor's points with a block in [from, to], oldest
	// first, at most limit (0: 1000).
	Series(ctx context.Context, monitorID string, from, to uint64, limit int) ([]SeriesPoint, error)
	// DeleteSeriesAbove deletes every point above block n (a reorg).
	DeleteSeriesAbove(ctx context.Context, n uint64) error
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// Delivery is one notification to one channel, in the outbox.
type Delivery struct {
	ID int64 `json:"id"`
	// Key is unique: enqueuing a key already present is a no-op, so one
	// alert transition is delivered once per channel.
	Key         string          `json:"key"`
	Channel     string          `json:"channel"`
	Payload     json.RawMessage `json:"payload"`
	State       string          `json:"state"`
	Attempts    int             `json:"attempts"`
	Created     time.Time       `json:"created"`
	NextAttempt time.Time       `json:"nextAttempt"`
	LastError   string          `json:"lastError,omitempty"`
	Done        time.Time       `json:"done,omitempty"`
}

// Outbox is the persisted queue of notifications. Safe for concurrent
// use.
type Outbox interface {
	// Enqueue adds deliveries in one transaction and returns how many were
	// new (keys already present are skipped).
	Enqueue(ctx context.Context, ds []Delivery) (added int, err error)
	// Due returns pending deliveries whose NextAttempt is at or before now,
	// oldest first, at most limit.
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// NextDue returns the earliest NextAttempt of a pending delivery, or
	// ErrNotFound when none is pending.
	NextDue(ctx context.Context) (time.Time, error)
	// Settle records an attempt's outcome: d.State, d.Attempts,
	// d.NextAttempt, d.LastError and d.Done are written.
	Settle(ctx context.Context, d Delivery) error
	// Deliveries lists deliveries in a state, newest first, at most limit.
	Deliveries(ctx context.Context, state string, limit int) ([]Delivery, error)
	// Requeue makes a dead delivery pending again, due at now.
	Requeue(ctx context.Context, id int64, now time.Time) error
}
