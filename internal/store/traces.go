package store

import (
	"context"
	"io"

	"github.com/ethereum/go-ethereum/common"
)

// TraceStore keeps the debugger's recorded traces. A trace is a few named
// parts per transaction ("steps", "blob", "json": the debugger's format,
// which the store keeps as bytes); the large parts are read at random
// offsets, a step at a time, so a part is opened rather than returned whole.
// Traces are a cache: the debugger replays a transaction whose trace is
// missing.
//
// Every method takes the caller's ctx for the call itself (not for the life
// of the returned part). Safe for concurrent use; one TracePart or writer
// is used by one goroutine at a time.
type TraceStore interface {
	// CreateTracePart starts writing a part of tx's trace. What is written
	// becomes visible, replacing any earlier version of the part at once,
	// when Close returns nil; a part whose writer failed or was aborted is
	// not stored. Readers that opened the earlier version keep reading it.
	// A part name other than lower-case letters is ErrInvalid.
	CreateTracePart(ctx context.Context, tx common.Hash, part string) (TraceWriter, error)
	// OpenTracePart opens a stored part for reading, or returns
	// ErrNotFound when tx has no such part.
	OpenTracePart(ctx context.Context, tx common.Hash, part string) (TracePart, error)
}

// TracePart is one stored part of a trace, open for reading.
type TracePart interface {
	io.ReaderAt
	io.Closer
	// Size is the part's length in bytes.
	Size() int64
}

// TraceWriter writes one part of a trace. Close publishes the part (and
// reports any write error); Abort discards it. Abort after Close, or twice,
// is a no-op; Close after Abort returns an error and stores nothing.
type TraceWriter interface {
	io.Writer
	Close() error
	Abort()
}
