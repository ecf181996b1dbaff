package store

import (
	"context"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
)

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
