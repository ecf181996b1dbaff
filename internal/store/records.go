package store

import (
	"context"
	"time"

	"github.com/blocktorch/blocktorch/internal/record"
)

// RecordWriter appends off-chain records (application, security and system
// logs). Chain records are derived from the blocks ChainWriter stores, in
// the same transaction, and rolled back with them. Safe for concurrent use.
type RecordWriter interface {
	// AppendRecords stores every record or none; it assigns their IDs.
	AppendRecords(ctx context.Context, recs []record.Record) error
}

// RecordRetainer deletes old records, for retention per source. Safe for
// concurrent use with searches and writes.
type RecordRetainer interface {
	// Retain deletes the records of source with a time before olderThan
	// and returns how many it deleted; none is not an error.
	Retain(ctx context.Context, source string, olderThan time.Time) (deleted int64, err error)
}
