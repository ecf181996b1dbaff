package vlogs

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"

	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/logsql"
)

// Options tune an Engine. The zero value is usable.
type Options struct {
	// CursorKey signs search cursors.
	CursorKey []byte
	// MemoryBytes bounds the engine's caches (VictoriaLogs'
	// -memory.allowedBytes); 0 means DefaultMemoryBytes. The setting is
	// the process's: the first Open in a process fixes it.
	MemoryBytes int64
	// CheckpointInterval is how often the engine's in-memory parts are
	// written to disk so that the write-ahead log can be dropped; 0
	// means 10 s.
	CheckpointInterval time.Duration
	// QueryTimeout bounds one query; a query that runs longer fails with
	// an error wrapping store.ErrInvalid that names the limit. 0 means
	// DefaultQueryTimeout.
	QueryTimeout time.Duration
	// FutureLimit is how far past now records may be; later ones are
	// refused, since the engine drops them. 0 means 48 hours.
	FutureLimit time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the engine's recoveries and failures; nil discards.
	Logger *slog.Logger
}

// DefaultQueryTimeout is the default bound of one query: long enough
// for an aggregation over the whole history of a small deployment, short
// enough that a runaway query does not hold the machine.
const DefaultQueryTimeout = 2 * time.Minute

// DefaultMemoryBytes is the default cap of the engine's caches: enough
// for the demo and a small deployment, far below the engine's default of
// 60% of the machine's memory.
const DefaultMemoryBytes = 256 << 20

// Engine is VictoriaLogs' storage in process under one directory, with a
// write-ahead log that makes every acknowledged append durable. It
// implements store.RecordWriter, store.RecordRetainer, store.Searcher
// (through logsql.Searcher) and logsql.Runner. Safe for concurrent use.
type Engine struct {
	dir  string
	opts Options
	log  *slog.Logger
	s    *logstorage.Storage
	ids  logsql.IDs
	// links is the link index (links.go); nil when it could not be
	// built, and then lookups run without it.
	links *linkIndex
	*logsql.Searcher

	// mu orders appends: a batch is in the log before the engine has it
	// (and synced before it is acknowledged), and a checkpoint's
	// rotation sees whole batches.
	mu  sync.Mutex
	wal *wal
	// ckpt serializes checkpoints.
	ckpt sync.Mutex
	// hide is a LogsQL filter of records every query leaves out (the
	// chain records of blocks being rolled back); "" for none.
	hide atomic.Pointer[string]

	// dirty says rows were added since the last flush of the engine's
	// buffers.
	dirty atomic.Bool

	// spanMu guards spanLo and spanHi: the oldest and newest time of the
	// rows added since Open, widened by every add and never narrowed
	// (deleted rows leave them wider than the rows held, which Bounds
	// allows).
	spanMu         sync.Mutex
	spanLo, spanHi int64
	// spanKnown says the span of the rows stored before Open was read.
	spanKnown bool
	// cols are the attribute columns of the rows (columns.go).
	cols columns

	// inUse counts the calls using the storage; Close waits for them,
	// since the storage must not be in use when it closes (a query or
	// append racing its close reads parts being torn down). closing,
	// under inUseMu, refuses new calls once Close began.
	inUseMu sync.Mutex
	closing bool
	inUse   sync.WaitGroup

	tasks     atomic.Uint64
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var (
	_ store.RecordWriter   = (*Engine)(nil)
	_ store.RecordRetainer = (*Engine)(nil)
	_ store.Searcher       = (*Engine)(nil)
	_ logsql.Runner        = (*Engine)(nil)
)

// span is how far back and forward the engine keeps rows: records are
// deleted by Retain, never by the engine's own retention.
const span = 100 * 365 * 24 * time.Hour

var flagsOnce sync.Once

// setFlags sets the VictoriaMetrics libraries' process-wide flags that
// the storage reads (they register on flag.CommandLine; blocktorch's CLI
// uses flag sets of its own, so the global set is parsed here, empty).
func setFlags(memory int64) {
	flagsOnce.Do(func() {
		flag.Set("memory.allowedBytes", strconv.FormatInt(memory, 10))
		flag.Set("loggerLevel", "ERROR")
		if !flag.Parsed() {
			flag.CommandLine.Parse(nil)
		}
	})
}

// Open opens (or creates) the engine in dir, replays the write-ahead log
// of a previous run that did not close, and waits for delete tasks a
// previous run left unfinished, so that it starts exact.
func Open(ctx context.Context, dir string, opts Options) (*Engine, error) {
	if opts.MemoryBytes == 0 {
		opts.MemoryBytes = DefaultMemoryBytes
	}
	if opts.CheckpointInterval == 0 {
		opts.CheckpointInterval = 10 * time.Second
	}
	if opts.FutureLimit == 0 {
		opts.FutureLimit = 48 * time.Hour
	}
	if opts.QueryTimeout == 0 {
		opts.QueryTimeout = DefaultQueryTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	walDir := filepath.Join(dir, "wal")
	if err := os.MkdirAll(walDir, 0o750); err != nil {
		return nil, fmt.Errorf("cannot create the records engine's directory: %w", err)
	}
	setFlags(opts.MemoryBytes)
	e := &Engine{dir: dir, opts: opts, log: opts.Logger, stop: make(chan struct{}), done: make(chan struct{}),
		spanLo: math.MaxInt64, spanHi: math.MinInt64}
	e.s = logstorage.MustOpenStorage(filepath.Join(dir, "data"), &logstorage.StorageConfig{
		Retention:       span,
		MaxBackfillAge:  span,
		FutureRetention: opts.FutureLimit + time.Hour,
		FlushInterval:   time.Second,
	})
	e.Searcher = &logsql.Searcher{Runner: e, CursorKey: opts.CursorKey, Scope: e.scope, Bounds: e.bounds}
	ok := false
	defer func() {
		if !ok {
			e.s.MustClose()
		}
	}()
	links, created, err := openLinks(filepath.Join(dir, "links.db"))
	if err != nil {
		return nil, err
	}
	e.links = links
	defer func() {
		if !ok && e.links != nil {
			e.links.close()
		}
	}()
	seqs, err := segments(walDir)
	if err != nil {
		return nil, fmt.Errorf("cannot read the records engine's log: %w", err)
	}
	if err := e.waitTasks(ctx); err != nil {
		return nil, err
	}
	if err := e.replay(ctx, walDir, seqs); err != nil {
		return nil, err
	}
	if created {
		e.backfillLinks(ctx)
	}
	if err := e.storedSpan(ctx); err != nil {
		// Searches then sort every match, as they did before the span.
		e.log.Warn("records engine: searches read every match", "err", err)
	}
	if err := e.cols.readStored(ctx, e.RunQuery); err != nil {
		// Free text then asks the engine for every attribute column.
		e.log.Warn("records engine: free text reads every column header", "err", err)
	}
	e.Searcher.Columns = e.cols.get
	if e.links != nil {
		e.Searcher.Links = e.links.buckets
	}
	last := uint64(0)
	if len(seqs) > 0 {
		last = seqs[len(seqs)-1]
	}
	if e.wal, err = openWAL(walDir, last); err != nil {
		return nil, fmt.Errorf("cannot start the records engine's log: %w", err)
	}
	if len(seqs) > 0 {
		// What was replayed is in the engine: put it on disk and drop
		// the old segments.
		if err := e.Checkpoint(); err != nil {
			e.wal.close()
			return nil, err
		}
	}
	ok = true
	go e.checkpoints()
	return e, nil
}

// replay adds the rows of the log's segments that the engine does not
// hold: those acknowledged after the engine last wrote its parts to disk.
func (e *Engine) replay(ctx context.Context, walDir string, seqs []uint64) error {
	added, frames := 0, 0
	for _, seq := range seqs {
		err := readSegment(filepath.Join(walDir, segmentName(seq)), func(rows []walRow) error {
			frames++
			if e.links != nil {
				if err := e.links.add(rows); err != nil {
					return err
				}
			}
			missing, err := e.missing(ctx, rows)
			if err != nil {
				return err
			}
			e.add(missing)
			added += len(missing)
			return nil
		})
		if err != nil {
			return fmt.Errorf("cannot replay the records engine's log: %w", err)
		}
	}
	if frames > 0 {
		e.log.Info("records engine: replayed its log", "batches", frames, "recordsRestored", added)
	}
	return nil
}

// missing returns the rows whose record the engine does not hold: a row
// is known by its time and record ID (its id field, or its time when it
// has none).
func (e *Engine) missing(ctx context.Context, rows []walRow) ([]walRow, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	minT, maxT := rows[0].Time, rows[0].Time
	for _, r := range rows {
		minT, maxT = min(minT, r.Time), max(maxT, r.Time)
	}
	type key struct {
		time int64
		id   string
	}
	have := map[key]bool{}
	q := fmt.Sprintf("_time:[%s, %s] AND %s | fields _time, %s", logsql.FormatTime(time.Unix(0, minT)),
		logsql.FormatTime(time.Unix(0, maxT)), logsql.Live, logsql.FieldID)
	err := e.RunQuery(ctx, q, func(row []logsql.Field) error {
		var k key
		for _, f := range row {
			switch f.Name {
			case "_time":
				t, err := time.Parse(time.RFC3339Nano, f.Value)
				if err != nil {
					return fmt.Errorf("record time %q: %w", f.Value, err)
				}
				k.time = t.UnixNano()
			case logsql.FieldID:
				k.id = strings.Clone(f.Value)
			}
		}
		have[k] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []walRow
	for _, r := range rows {
		k := key{r.Time, rowID(r)}
		if !have[k] {
			out = append(out, r)
		}
	}
	return out, nil
}

// rowID is the text of a row's id field, "" when it has none.
func rowID(r walRow) string {
	for _, f := range r.Fields {
		if f.Name == logsql.FieldID {
			return f.Value
		}
	}
	return ""
}

// add hands rows to the engine and makes them searchable.
func (e *Engine) add(rows []walRow) {
	if len(rows) == 0 {
		return
	}
	// The columns first: a query must never see a row whose attribute
	// columns it does not name.
	e.cols.add(rows)
	lr := logstorage.GetLogRows(nil, nil, nil, nil, "")
	defer logstorage.PutLogRows(lr)
	for _, r := range rows {
		lr.MustAdd(logstorage.TenantID{}, r.Time, r.Fields, r.Streams)
	}
	e.s.MustAddRows(lr)
	lo, hi := rows[0].Time, rows[0].Time
	for _, r := range rows[1:] {
		lo, hi = min(lo, r.Time), max(hi, r.Time)
	}
	e.spanMu.Lock()
	e.spanLo, e.spanHi = min(e.spanLo, lo), max(e.spanHi, hi)
	e.spanMu.Unlock()
	// Searchable from the next query on: it flushes the engine's buffers
	// first (a flush per append would cut ingest into tiny parts).
	e.dirty.Store(true)
}

// storedSpan widens the span of added rows to the times of the rows the
// engine held at Open, read once.
func (e *Engine) storedSpan(ctx context.Context) error {
	var lo, hi string
	err := e.RunQuery(ctx, "* | stats min(_time) as lo, max(_time) as hi", func(row []logsql.Field) error {
		for _, f := range row {
			switch f.Name {
			case "lo":
				lo = f.Value
			case "hi":
				hi = f.Value
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot read the time span of the stored records: %w", err)
	}
	if lo == "" || hi == "" {
		e.spanMu.Lock()
		e.spanKnown = true
		e.spanMu.Unlock()
		return nil
	}
	tlo, err1 := time.Parse(time.RFC3339Nano, lo)
	thi, err2 := time.Parse(time.RFC3339Nano, hi)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("cannot read the time span of the stored records: %w", err)
	}
	e.spanMu.Lock()
	e.spanLo, e.spanHi = min(e.spanLo, tlo.UnixNano()), max(e.spanHi, thi.UnixNano())
	e.spanKnown = true
	e.spanMu.Unlock()
	return nil
}

// bounds is the Searcher's Bounds: the span of the rows added since Open
// and of those stored before.
func (e *Engine) bounds(context.Context) (lo, hi int64, ok bool, err error) {
	e.spanMu.Lock()
	defer e.spanMu.Unlock()
	return e.spanLo, e.spanHi, e.spanKnown && e.spanLo <= e.spanHi, nil
}

// checkpoints runs Checkpoint every CheckpointInterval until Close.
func (e *Engine) checkpoints() {
	defer close(e.done)
	t := time.NewTicker(e.opts.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			if err := e.Checkpoint(); err != nil {
				e.log.Error("records engine: checkpoint failed; its log keeps growing", "err", err)
			}
		}
	}
}

// Checkpoint writes every row the engine holds to its files and drops
// the write-ahead log segments they came from. The engine writes its
// in-memory parts on its own within a few seconds; a partition snapshot
// is the one API that writes them at once, so a checkpoint takes one and
// deletes it.
func (e *Engine) Checkpoint() error {
	e.ckpt.Lock()
	defer e.ckpt.Unlock()
	e.mu.Lock()
	upTo := e.wal.seq
	err := e.wal.next()
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("cannot start a new log segment: %w", err)
	}
	e.s.DebugFlush()
	for _, p := range e.s.PartitionSnapshotMustCreate("") {
		if err := e.s.PartitionSnapshotDelete(p); err != nil {
			return fmt.Errorf("cannot delete the checkpoint's snapshot: %w", err)
		}
	}
	if e.links != nil {
		// The segments about to go could rebuild the index; it must
		// be on disk first.
		if err := e.links.sync(); err != nil {
			return err
		}
	}
	seqs, err := segments(e.wal.dir)
	if err != nil {
		return err
	}
	for _, seq := range seqs {
		if seq <= upTo {
			if err := os.Remove(filepath.Join(e.wal.dir, segmentName(seq))); err != nil {
				return err
			}
		}
	}
	return syncDir(e.wal.dir)
}

// ErrClosed is the error of a call made once Close began.
var ErrClosed = errors.New("the records engine is closed")

// enter counts a call using the storage, or refuses it with ErrClosed
// once Close began; the caller calls e.inUse.Done when it is done.
func (e *Engine) enter() error {
	e.inUseMu.Lock()
	defer e.inUseMu.Unlock()
	if e.closing {
		return ErrClosed
	}
	e.inUse.Add(1)
	return nil
}

// Close writes everything to disk and closes the engine; the log is then
// empty. It waits for the calls in progress and refuses later ones. It is
// safe to call more than once.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.inUseMu.Lock()
		e.closing = true
		e.inUseMu.Unlock()
		e.inUse.Wait()
		close(e.stop)
		<-e.done
		err := e.Checkpoint()
		e.mu.Lock()
		werr := e.wal.close()
		e.mu.Unlock()
		e.s.MustClose()
		var lerr error
		if e.links != nil {
			lerr = e.links.close()
		}
		e.closeErr = errors.Join(err, werr, lerr)
	})
	return e.closeErr
}

// minTime is the oldest time the engine stores.
var minTime = time.Unix(0, 0)

// AppendRecords stores every record or none, durably: when it returns
// nil, the records survive a crash of the process. It assigns their IDs.
func (e *Engine) AppendRecords(ctx context.Context, recs []record.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer e.inUse.Done()
	if err := e.append(recs); err != nil {
		return fmt.Errorf("cannot append %d records: %w", len(recs), err)
	}
	return nil
}

// TimeRange is the range of record times the engine stores.
func (e *Engine) TimeRange() (time.Time, time.Time) {
	return minTime, e.opts.Now().Add(e.opts.FutureLimit)
}

func (e *Engine) append(recs []record.Record) error {
	_, maxTime := e.TimeRange()
	for i := range recs {
		t := recs[i].Time
		if t.Before(minTime) || t.After(maxTime) {
			return fmt.Errorf("%w: record %d has time %s, outside what the records engine stores (1970 to now+%s)",
				store.ErrInvalid, i, t.UTC().Format(time.RFC3339Nano), e.opts.FutureLimit)
		}
	}
	// IDs in time order, so that records of equal time keep the order
	// they came in.
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	sortStableByTime(order, recs)
	ids := make([]int64, len(recs))
	for _, i := range order {
		var err error
		if ids[i], err = e.ids.For(recs[i].Time); err != nil {
			return err
		}
	}
	rows := make([]walRow, len(recs))
	// The rows' fields share one backing array, cut as they are encoded:
	// one allocation a batch rather than a few a record.
	var (
		enc    logsql.Encoder
		fields []logsql.Field
	)
	for i := range recs {
		r := recs[i]
		r.ID = ids[i]
		if cap(fields)-len(fields) < 32 {
			fields = make([]logsql.Field, 0, max(1024, 24*(len(recs)-i)))
		}
		start := len(fields)
		var (
			streams int
			err     error
		)
		fields, streams, err = enc.Encode(fields, &r)
		if err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		rows[i] = walRow{Time: r.Time.UnixNano(), Streams: streams, Fields: fields[start:len(fields):len(fields)]}
	}
	// The links first: a query must never see a record whose bucket the
	// link index lacks.
	if e.links != nil {
		if err := e.links.add(rows); err != nil {
			return err
		}
	}
	// The frame is written and the rows added under the lock, in the
	// same order; the fsync is outside it, so that concurrent appends
	// share one. A crash before the sync loses rows nobody was told
	// were stored.
	e.mu.Lock()
	seg, err := e.wal.write(rows)
	if err == nil {
		e.add(rows)
	}
	e.mu.Unlock()
	if err == nil {
		err = seg.sync()
	}
	if err != nil {
		return fmt.Errorf("cannot write the records engine's log: %w", err)
	}
	for i := range recs {
		recs[i].ID = ids[i]
	}
	return nil
}

func sortStableByTime(order []int, recs []record.Record) {
	slices.SortStableFunc(order, func(a, b int) int { return recs[a].Time.Compare(recs[b].Time) })
}

// RunQuery runs a LogsQL query on the engine and streams its rows to fn
// on the calling goroutine's behalf (the engine calls back from its own
// workers; calls are serialized). The row slice is reused between calls,
// but its names and values are fn's to keep: the engine reuses the
// buffers of a data block once its callback returns, so they are copied
// (a query without a sort streams rows straight from the stored blocks).
func (e *Engine) RunQuery(ctx context.Context, text string, fn func(row []logsql.Field) error) error {
	q, err := logstorage.ParseQuery(text)
	if err != nil {
		return fmt.Errorf("%w: the records engine refuses the query: %v", store.ErrInvalid, err)
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer e.inUse.Done()
	if e.dirty.Swap(false) {
		// Every row acknowledged before this query is in its answer.
		e.s.DebugFlush()
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, e.opts.QueryTimeout)
	defer cancel()
	var (
		mu   sync.Mutex
		ferr error
		row  []logsql.Field
	)
	qctx := logstorage.NewQueryContext(ctx, &logstorage.QueryStats{}, []logstorage.TenantID{{}}, q, false, nil)
	err = e.s.RunQuery(qctx, func(_ uint, db *logstorage.DataBlock) {
		mu.Lock()
		defer mu.Unlock()
		if ferr != nil {
			return
		}
		cols := db.GetColumns(false)
		for i := range db.RowsCount() {
			row = row[:0]
			for _, c := range cols {
				if v := c.Values[i]; v != "" {
					row = append(row, logsql.Field{Name: strings.Clone(c.Name), Value: strings.Clone(v)})
				}
			}
			if err := fn(row); err != nil {
				ferr = err
				cancel()
				return
			}
		}
	})
	if ferr != nil {
		return ferr
	}
	if ctx.Err() != nil && parent.Err() == nil {
		return fmt.Errorf("%w: the query ran longer than the records engine's limit of %s: narrow its time range or filter",
			store.ErrInvalid, e.opts.QueryTimeout)
	}
	if err != nil {
		if cerr := parent.Err(); cerr != nil {
			return cerr
		}
		return fmt.Errorf("the records engine failed the query: %w", err)
	}
	return parent.Err()
}

// scope is the Searcher's scope: what queries leave out.
func (e *Engine) scope() string {
	if p := e.hide.Load(); p != nil {
		return "NOT (" + *p + ")"
	}
	return ""
}

// Retain deletes the records of source older than olderThan and waits
// until they are gone.
func (e *Engine) Retain(ctx context.Context, source string, olderThan time.Time) (int64, error) {
	if err := e.enter(); err != nil {
		return 0, err
	}
	defer e.inUse.Done()
	f := "{" + logsql.FieldSource + "=" + strconv.Quote(source) + "}"
	n, err := e.deleteWhere(ctx, f, olderThan.Add(-time.Nanosecond))
	if err == nil && e.links != nil {
		err = e.links.retain(source, olderThan)
	}
	if err != nil {
		return n, fmt.Errorf("cannot delete %s records older than %s: %w", source, olderThan.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}

// deleteWhere deletes the records of filter with a time up to until with
// a delete task, and waits until it is done; it returns how many there
// were. The log is checkpointed first, so that no replay brings back a
// row deleted here.
func (e *Engine) deleteWhere(ctx context.Context, filter string, until time.Time) (int64, error) {
	timed := "(" + filter + ") AND _time:<=" + logsql.FormatTime(until)
	count := func() (int64, error) {
		var n int64
		err := e.RunQuery(ctx, timed+" AND "+logsql.Live+" | stats count() as n", func(row []logsql.Field) error {
			for _, f := range row {
				if f.Name == "n" {
					var err error
					n, err = strconv.ParseInt(f.Value, 10, 64)
					return err
				}
			}
			return nil
		})
		return n, err
	}
	n, err := count()
	if err != nil || n == 0 {
		return 0, err
	}
	if err := e.Checkpoint(); err != nil {
		return 0, err
	}
	f, err := logstorage.ParseFilter(filter)
	if err != nil {
		return 0, fmt.Errorf("BUG: delete filter %q: %v", filter, err)
	}
	id := fmt.Sprintf("blocktorch-%d-%d", time.Now().UnixNano(), e.tasks.Add(1))
	if err := e.s.DeleteRunTask(ctx, id, until.UnixNano(), []logstorage.TenantID{{}}, f); err != nil {
		return 0, err
	}
	if err := e.waitTasks(ctx); err != nil {
		return 0, err
	}
	if left, err := count(); err != nil {
		return 0, err
	} else if left != 0 {
		return 0, fmt.Errorf("the records engine still holds %d of the %d records to delete", left, n)
	}
	return n, nil
}

// waitTasks waits until the engine has no delete task left (it runs them
// in the background, one a second at most).
func (e *Engine) waitTasks(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		ts, err := e.s.DeleteActiveTasks(ctx)
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the records engine's %d delete tasks are not done after 5 minutes", len(ts))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
