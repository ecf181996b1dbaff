package vlogs

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the link index's file

	"github.com/blocktorch/blocktorch/internal/store/logsql"
)

// The link index tells, for every transaction hash that records link
// (the engine field tx, and those logsql.Encode left to the message:
// logsql.TxLinks reads both), the minutes (logsql.LinkBucket) that hold such
// records, so that a tx: lookup reads only those minutes' blocks
// (logsql.Searcher.Links). Addresses are not indexed (logsql.LinkBuckets
// says why): they were two thirds of its rows; rows of addresses written
// by earlier versions stay unused until retention prunes their minutes.
// It lives in DIR/links.db, a SQLite file of (key, bucket, source) rows:
// key is the first 8 bytes of the hash, so two links may share a key;
// that only widens a lookup to more minutes, which the query's own link
// filter then sorts out. source (a number of the sources table) is
// the source of the records: Retain deletes a source's rows of the
// minutes wholly older than its horizon with the records, so that the
// index does not outgrow them. Reorgs remove no rows: a stale bucket
// widens a lookup, it never hides a record. An index of the first
// format, without sources, is rebuilt from the records at Open.
//
// It is written before the rows reach the engine (a query never sees a
// record whose bucket the index lacks), without a sync of its own: the
// engine's write-ahead log covers it. Replay adds the links of every
// replayed row (those whose rows already reached the engine included),
// and a checkpoint makes the index durable before it removes the log
// segments that could rebuild it.
type linkIndex struct {
	db *sql.DB
	// mu serializes writers (SQLite takes one at a time) and guards
	// recent.
	mu sync.Mutex
	// recent holds rows written lately, so that a hot address is not
	// written again with every batch.
	recent map[linkBucket]struct{}
	// sources numbers the sources (the sources table).
	sources map[string]int64
}

type linkBucket struct{ key, bucket, source int64 }

// maxRecent bounds linkIndex.recent.
const maxRecent = 1 << 16

// openLinks opens (or creates) the index at path. created reports a new
// file, which an engine holding records must fill (backfill).
func openLinks(path string) (x *linkIndex, created bool, err error) {
	_, statErr := os.Stat(path)
	created = errors.Is(statErr, os.ErrNotExist)
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, false, fmt.Errorf("cannot open the link index: %w", err)
	}
	// The first format had no source column: drop it, to be rebuilt.
	var old int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('links') WHERE name = 'key'`).Scan(&old); err != nil {
		db.Close()
		return nil, false, fmt.Errorf("cannot read the link index: %w", err)
	}
	var withSource int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('links') WHERE name = 'source'`).Scan(&withSource); err != nil {
		db.Close()
		return nil, false, fmt.Errorf("cannot read the link index: %w", err)
	}
	if old > 0 && withSource == 0 {
		if _, err := db.Exec(`DROP TABLE links`); err != nil {
			db.Close()
			return nil, false, fmt.Errorf("cannot drop the link index of the first format: %w", err)
		}
		created = true
	}
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS links (key INTEGER NOT NULL, bucket INTEGER NOT NULL, source INTEGER NOT NULL, PRIMARY KEY (key, bucket, source)) WITHOUT ROWID`,
		`CREATE TABLE IF NOT EXISTS sources (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)`,
	} {
		if _, err := db.Exec(q); err != nil {
			db.Close()
			return nil, false, fmt.Errorf("cannot create the link index: %w", err)
		}
	}
	x = &linkIndex{db: db, recent: map[linkBucket]struct{}{}, sources: map[string]int64{}}
	rows, err := db.Query(`SELECT id, name FROM sources`)
	if err != nil {
		db.Close()
		return nil, false, fmt.Errorf("cannot read the link index's sources: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   int64
			name string
		)
		if err := rows.Scan(&id, &name); err != nil {
			db.Close()
			return nil, false, fmt.Errorf("cannot read the link index's sources: %w", err)
		}
		x.sources[name] = id
	}
	if err := rows.Err(); err != nil {
		db.Close()
		return nil, false, fmt.Errorf("cannot read the link index's sources: %w", err)
	}
	return x, created, nil
}

// sourceID returns the number of a source, adding it within tx when new.
func (x *linkIndex) sourceID(tx *sql.Tx, name string) (int64, error) {
	if id, ok := x.sources[name]; ok {
		return id, nil
	}
	var id int64
	switch err := tx.QueryRow(`SELECT id FROM sources WHERE name = ?`, name).Scan(&id); {
	case err == nil:
		x.sources[name] = id
		return id, nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, err
	}
	res, err := tx.Exec(`INSERT INTO sources (name) VALUES (?)`, name)
	if err != nil {
		return 0, err
	}
	id, err = res.LastInsertId()
	if err != nil {
		return 0, err
	}
	x.sources[name] = id
	return id, nil
}

// bucketOf is the link bucket of a row time (floor division).
func bucketOf(t int64) int64 {
	b := t / int64(logsql.LinkBucket)
	if t < 0 && t%int64(logsql.LinkBucket) != 0 {
		b--
	}
	return b
}

// retain deletes the rows of source whose minutes are wholly before
// olderThan (records of that source older than it were deleted).
func (x *linkIndex) retain(source string, olderThan time.Time) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	res, err := x.db.Exec(`DELETE FROM links WHERE source = (SELECT id FROM sources WHERE name = ?) AND bucket < ?`,
		source, bucketOf(olderThan.UnixNano()))
	if err != nil {
		return fmt.Errorf("cannot prune the link index: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		// What was deleted may be written again.
		clear(x.recent)
	}
	return nil
}

// linkKey is the index key of a hash or an address.
func linkKey(b []byte) int64 {
	var k [8]byte
	copy(k[:], b)
	return int64(binary.BigEndian.Uint64(k[:]))
}

// add writes the links of rows.
func (x *linkIndex) add(rows []walRow) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	var pairs []linkBucket
	seen := map[linkBucket]struct{}{}
	var tx *sql.Tx
	defer func() {
		if tx != nil {
			tx.Rollback()
			// Sources numbered in the transaction are not in the table.
			clear(x.sources)
		}
	}()
	var links []string
	for _, r := range rows {
		links = links[:0]
		logsql.TxLinks(r.Fields, func(h string) { links = append(links, h) })
		if len(links) == 0 {
			continue
		}
		bucket := bucketOf(r.Time)
		if tx == nil {
			var err error
			if tx, err = x.db.Begin(); err != nil {
				return fmt.Errorf("cannot write the link index: %w", err)
			}
		}
		source, err := x.sourceID(tx, rowSource(r))
		if err != nil {
			return fmt.Errorf("cannot write the link index: %w", err)
		}
		for _, w := range links {
			b, err := hex.DecodeString(strings.TrimPrefix(w, "0x"))
			if err != nil || len(b) == 0 {
				continue
			}
			p := linkBucket{linkKey(b), bucket, source}
			if _, ok := x.recent[p]; ok {
				continue
			}
			if _, ok := seen[p]; !ok {
				seen[p] = struct{}{}
				pairs = append(pairs, p)
			}
		}
	}
	if len(pairs) == 0 {
		if tx != nil {
			// New sources only.
			err := tx.Commit()
			tx = nil
			if err != nil {
				clear(x.sources)
				return fmt.Errorf("cannot write the link index: %w", err)
			}
		}
		return nil
	}
	// Many rows a statement: each statement costs more than its rows.
	const perStmt = 300
	args := make([]any, 0, 3*perStmt)
	for rest := pairs; len(rest) > 0; {
		n := min(len(rest), perStmt)
		args = args[:0]
		for _, p := range rest[:n] {
			args = append(args, p.key, p.bucket, p.source)
		}
		q := `INSERT OR IGNORE INTO links (key, bucket, source) VALUES (?, ?, ?)` + strings.Repeat(`, (?, ?, ?)`, n-1)
		if _, err := tx.Exec(q, args...); err != nil {
			return fmt.Errorf("cannot write the link index: %w", err)
		}
		rest = rest[n:]
	}
	err := tx.Commit()
	tx = nil
	if err != nil {
		// A source numbered in this transaction is not in the table.
		clear(x.sources)
		return fmt.Errorf("cannot write the link index: %w", err)
	}
	// Only what was committed may be skipped next time.
	for _, p := range pairs {
		x.remember(p)
	}
	return nil
}

// remember notes a pair as written, forgetting all once there are many.
func (x *linkIndex) remember(p linkBucket) {
	if len(x.recent) >= maxRecent {
		clear(x.recent)
	}
	x.recent[p] = struct{}{}
}

// buckets is the logsql.LinkBuckets of the index.
func (x *linkIndex) buckets(ctx context.Context, key []byte) ([]int64, error) {
	rows, err := x.db.QueryContext(ctx, `SELECT DISTINCT bucket FROM links WHERE key = ? ORDER BY bucket`, linkKey(key))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// sync makes every written link durable.
func (x *linkIndex) sync() error {
	if _, err := x.db.Exec(`PRAGMA wal_checkpoint(FULL)`); err != nil {
		return fmt.Errorf("cannot sync the link index: %w", err)
	}
	return nil
}

func (x *linkIndex) close() error { return x.db.Close() }

// rowSource is the source of a row ("" for none).
func rowSource(r walRow) string {
	for _, f := range r.Fields {
		if f.Name == logsql.FieldSource {
			return f.Value
		}
	}
	return ""
}

// backfillLinks fills a new link index from the records the engine holds
// (a records directory written before the index existed). If that fails,
// the index is dropped and lookups run without it: an index missing some
// buckets would hide records.
func (e *Engine) backfillLinks(ctx context.Context) {
	var batch []walRow
	n := 0
	flush := func() error {
		n += len(batch)
		err := e.links.add(batch)
		batch = batch[:0]
		return err
	}
	// Every row with a tx link: in the field, or left to the message.
	q := logsql.TxLinksFilter + " | fields _time, " + strings.Join([]string{logsql.FieldSource, logsql.FieldTx,
		logsql.FieldMsg, logsql.FieldMsgLinks, logsql.FieldLive}, ", ")
	err := e.RunQuery(ctx, q, func(row []logsql.Field) error {
		r := walRow{}
		for _, f := range row {
			if f.Name == "_time" {
				t, err := time.Parse(time.RFC3339Nano, f.Value)
				if err != nil {
					return fmt.Errorf("record time %q: %w", f.Value, err)
				}
				r.Time = t.UnixNano()
				continue
			}
			// The engine reuses its buffers after the callback: keep copies.
			r.Fields = append(r.Fields, logsql.Field{Name: strings.Clone(f.Name), Value: strings.Clone(f.Value)})
		}
		batch = append(batch, r)
		if len(batch) == 10_000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = e.links.sync()
	}
	if err != nil {
		e.log.Warn("records engine: cannot build the link index from the stored records; tx: lookups run without it", "err", err)
		e.links.close()
		e.links = nil
		os.Remove(filepath.Join(e.dir, "links.db"))
		return
	}
	if n > 0 {
		e.log.Info("records engine: built the link index from the stored records", "records", n)
	}
}
