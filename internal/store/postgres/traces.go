package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5"

	"github.com/blocktorch/blocktorch/internal/store"
)

var _ store.TraceStore = (*DB)(nil)

// traceChunk is the size of one stored piece of a trace part: a step read
// fetches one chunk (or two across a boundary), not the part.
const traceChunk = 64 << 10

// Versions no reader should still need: a replaced version is kept this
// long for the readers that opened it, an unpublished one (its writer
// died) this long after it started.
const (
	traceKeepOld     = 10 * time.Minute
	traceKeepWriting = time.Hour
)

// traceLock is the first key of the transaction advisory lock that
// serialises publishing one part ("bttr").
const traceLock int32 = 0x62747472

func tracePartName(part string) error {
	if part == "" || strings.IndexFunc(part, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0 {
		return fmt.Errorf("trace part %q: %w", part, store.ErrInvalid)
	}
	return nil
}

// CreateTracePart starts a new version of a part. Its chunks are stored as
// they fill; Close makes the version the live one in one transaction.
func (db *DB) CreateTracePart(ctx context.Context, tx common.Hash, part string) (store.TraceWriter, error) {
	if err := tracePartName(part); err != nil {
		return nil, err
	}
	var v int64
	if err := db.pool.QueryRow(ctx, `INSERT INTO trace_versions (version, tx, part, state, since)
		VALUES (nextval('trace_version_seq'), $1, $2, 'writing', $3) RETURNING version`,
		tx[:], part, time.Now().UnixMicro()).Scan(&v); err != nil {
		return nil, fmt.Errorf("cannot start trace part %s of %s: %w", part, tx, translate(err))
	}
	return &traceWriter{db: db, tx: tx, part: part, version: v, buf: make([]byte, 0, traceFlush+traceChunk)}, nil
}

// traceWriter writes one version of a part. A trace is written under
// context.Background by the debugger (a half-written one is discarded), so
// its statements are bounded by a timeout of their own.
type traceWriter struct {
	db      *DB
	tx      common.Hash
	part    string
	version int64
	buf     []byte
	seq     int32
	size    int64
	err     error
	done    bool
}

const traceWriteTimeout = 30 * time.Second

func (w *traceWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("write to a closed trace part")
	}
	if w.err != nil {
		return 0, w.err
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= traceFlush {
		if err := w.flush(false); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// traceFlush is how much a writer buffers before storing its full chunks,
// in one COPY.
const traceFlush = 16 * traceChunk

// flush stores the buffered full chunks, and the last partial one when
// last is set, in one transaction that does not wait for the disk: a
// trace is a cache, and one lost in a crash is replayed.
func (w *traceWriter) flush(last bool) error {
	var rows [][]any
	for len(w.buf) >= traceChunk || (last && len(w.buf) > 0) {
		k := min(len(w.buf), traceChunk)
		rows = append(rows, []any{w.version, w.seq + int32(len(rows)), w.buf[:k:k]})
		w.buf = w.buf[k:]
	}
	if len(rows) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), traceWriteTimeout)
	defer cancel()
	err := w.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"trace_chunks"}, []string{"version", "seq", "data"}, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		w.err = fmt.Errorf("cannot write trace part %s of %s: %w", w.part, w.tx, translate(err))
		return w.err
	}
	for _, r := range rows {
		w.size += int64(len(r[2].([]byte)))
	}
	w.seq += int32(len(rows))
	w.buf = append(make([]byte, 0, traceFlush+traceChunk), w.buf...)
	return nil
}

// Close stores the last chunk and makes this version the live one; the
// version it replaces is kept for its readers a while (traceKeepOld).
func (w *traceWriter) Close() error {
	if w.done {
		if w.err != nil {
			return w.err
		}
		return errors.New("trace part already closed or aborted")
	}
	w.done = true
	if w.err == nil {
		w.err = w.flush(true)
	}
	if w.err != nil {
		w.discard()
		return w.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), traceWriteTimeout)
	defer cancel()
	now := time.Now().UnixMicro()
	err := w.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(encode($2, 'hex') || $3))`, traceLock, w.tx[:], w.part); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE trace_versions SET state = 'old', since = $3
			WHERE tx = $1 AND part = $2 AND state = 'live'`, w.tx[:], w.part, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE trace_versions SET state = 'live', size = $2, since = $3 WHERE version = $1`,
			w.version, w.size, now)
		return err
	})
	if err != nil {
		w.err = fmt.Errorf("cannot publish trace part %s of %s: %w", w.part, w.tx, translate(err))
		w.discard()
		return w.err
	}
	w.db.pruneTraces(ctx)
	return nil
}

// Abort discards what was written.
func (w *traceWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.err = errors.New("trace part aborted")
	w.discard()
}

// discard deletes this version's rows; what a failure leaves behind the
// pruning of unpublished versions removes later.
func (w *traceWriter) discard() {
	ctx, cancel := context.WithTimeout(context.Background(), traceWriteTimeout)
	defer cancel()
	w.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM trace_chunks WHERE version = $1`, w.version); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM trace_versions WHERE version = $1 AND state = 'writing'`, w.version)
		return err
	})
}

// pruneTraces deletes the versions no reader needs any more: replaced
// ones after traceKeepOld, unpublished ones after traceKeepWriting. A
// failure is left for the next publish.
func (db *DB) pruneTraces(ctx context.Context) {
	now := time.Now()
	db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `DELETE FROM trace_versions
			WHERE (state = 'old' AND since < $1) OR (state = 'writing' AND since < $2) RETURNING version`,
			now.Add(-traceKeepOld).UnixMicro(), now.Add(-traceKeepWriting).UnixMicro())
		if err != nil {
			return err
		}
		vs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(vs) == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM trace_chunks WHERE version = ANY($1)`, vs)
		return err
	})
}

// OpenTracePart opens the live version of a part.
func (db *DB) OpenTracePart(ctx context.Context, tx common.Hash, part string) (store.TracePart, error) {
	if err := tracePartName(part); err != nil {
		return nil, err
	}
	p := &tracePart{db: db, tx: tx, part: part, cached: -1}
	err := db.pool.QueryRow(ctx, `SELECT version, size FROM trace_versions WHERE tx = $1 AND part = $2 AND state = 'live'`,
		tx[:], part).Scan(&p.version, &p.size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("trace part %s of %s: %w", part, tx, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open trace part %s of %s: %w", part, tx, translate(err))
	}
	return p, nil
}

// tracePart reads one version of a part, a chunk or a few at a time; it
// keeps the last chunk read, since steps are read one after another.
type tracePart struct {
	db      *DB
	tx      common.Hash
	part    string
	version int64
	size    int64

	mu     sync.Mutex
	cached int64 // seq of chunk, or -1
	chunk  []byte
}

func (p *tracePart) Size() int64  { return p.size }
func (p *tracePart) Close() error { return nil }

// ReadAt reads len(b) bytes at off, fetching only the chunks they span.
func (p *tracePart) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("trace part %s of %s: negative offset", p.part, p.tx)
	}
	if off >= p.size {
		return 0, io.EOF
	}
	want := b
	if rest := p.size - off; int64(len(want)) > rest {
		want = want[:rest]
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	first, last := off/traceChunk, (off+int64(len(want))-1)/traceChunk
	n := 0
	if first == p.cached {
		n = copy(want, p.chunk[off-first*traceChunk:])
		first++
	}
	if n < len(want) {
		ctx, cancel := context.WithTimeout(context.Background(), traceWriteTimeout)
		defer cancel()
		rows, err := p.db.pool.Query(ctx, `SELECT seq, data FROM trace_chunks WHERE version = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`,
			p.version, first, last)
		if err != nil {
			return n, fmt.Errorf("cannot read trace part %s of %s: %w", p.part, p.tx, translate(err))
		}
		defer rows.Close()
		next := first
		for rows.Next() {
			var seq int64
			var data []byte
			if err := rows.Scan(&seq, &data); err != nil {
				return n, fmt.Errorf("cannot read trace part %s of %s: %w", p.part, p.tx, translate(err))
			}
			if seq != next {
				break
			}
			start := int64(0)
			if seq*traceChunk < off {
				start = off - seq*traceChunk
			}
			if start > int64(len(data)) {
				break
			}
			n += copy(want[n:], data[start:])
			p.cached, p.chunk = seq, data
			next++
		}
		if err := rows.Err(); err != nil {
			return n, fmt.Errorf("cannot read trace part %s of %s: %w", p.part, p.tx, translate(err))
		}
		if n < len(want) {
			// Pruned under a reader that stayed open past traceKeepOld.
			return n, fmt.Errorf("trace part %s of %s: this version was replaced and is gone: open it again", p.part, p.tx)
		}
	}
	if len(want) < len(b) {
		return n, io.EOF
	}
	return n, nil
}
