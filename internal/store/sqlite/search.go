package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlbuild"
)

var (
	_ store.Searcher       = (*DB)(nil)
	_ store.RecordRetainer = (*DB)(nil)
)

// searchLimit applies the documented default and cap.
func searchLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("%w: negative limit %d", store.ErrInvalid, n)
	case n == 0:
		return store.DefaultSearchLimit, nil
	case n > query.MaxLimit:
		return query.MaxLimit, nil
	}
	return n, nil
}

// selection is the FROM and WHERE of a search: the records the request
// matches. When the filter has a full-text part, the scan is driven by the
// full-text index, which returns rowids in order, so that a newest-first
// page stops after its last record instead of sorting every match.
type selection struct {
	b *sqlbuild.Builder
	// from is the FROM clause; where the conditions (never empty).
	from, where string
	// id is the expression of the record id that orders the scan.
	id string
}

// timeNs returns t in unix nanoseconds, within the storable range.
func timeNs(t time.Time) int64 {
	switch {
	case t.Before(minRecordTime):
		return minRecordTime.UnixNano()
	case t.After(maxRecordTime):
		return maxRecordTime.UnixNano()
	}
	return t.UnixNano()
}

func (db *DB) selection(req store.SearchRequest) (*selection, error) {
	b := sqlbuild.New(dialect{})
	var cond sqlbuild.Cond
	if req.Query != nil {
		var err error
		if cond, err = b.Filter(req.Query.Filter); err != nil {
			return nil, err
		}
	}
	s := &selection{b: b, from: "records r", id: "r.id"}
	var where []string
	if cond.Text != nil {
		s.from, s.id = "records_fts f JOIN records r ON r.id = f.rowid", "f.rowid"
		where = append(where, "records_fts MATCH "+b.Arg(ftsQuery(cond.Text)))
	}
	if cond.SQL != "" {
		where = append(where, cond.SQL)
	}
	// id >= time and id < time + maxBump (see 0002_records.sql): the id
	// bounds let SQLite seek, the time bounds are exact.
	if !req.From.IsZero() {
		t := timeNs(req.From)
		where = append(where, s.id+" >= "+b.Arg(t), "r.time >= "+b.Arg(t))
	}
	if !req.To.IsZero() {
		t := timeNs(req.To)
		where = append(where, s.id+" < "+b.Arg(t+maxBump), "r.time < "+b.Arg(t))
	}
	if len(where) == 0 {
		where = append(where, "1=1")
	}
	s.where = strings.Join(where, " AND ")
	return s, nil
}

// Search streams the matching records to fn.
func (db *DB) Search(ctx context.Context, req store.SearchRequest, fn func(record.Record) error) (string, error) {
	next, err := db.search(ctx, req, fn)
	if err != nil {
		return "", fmt.Errorf("cannot search records: %w", err)
	}
	return next, nil
}

func (db *DB) search(ctx context.Context, req store.SearchRequest, fn func(record.Record) error) (string, error) {
	n, err := searchLimit(req.Limit)
	if err != nil {
		return "", err
	}
	if req.Order != store.NewestFirst && req.Order != store.OldestFirst {
		return "", fmt.Errorf("%w: unknown order %d", store.ErrInvalid, req.Order)
	}
	s, err := db.selection(req)
	if err != nil {
		return "", err
	}
	fp := sqlbuild.Fingerprint(req)
	dir, cmp := "DESC", "<"
	if req.Order == store.OldestFirst {
		dir, cmp = "ASC", ">"
	}
	where := s.where
	if req.Cursor != "" {
		after, err := sqlbuild.DecodeCursor(db.cursorKey, req.Cursor, fp)
		if err != nil {
			return "", err
		}
		where += " AND " + s.id + " " + cmp + " " + s.b.Arg(after)
	}
	q, args := s.b.Render(`SELECT ` + recordColumns + ` FROM ` + s.from + ` WHERE ` + where +
		` ORDER BY ` + s.id + ` ` + dir + ` LIMIT ` + s.b.Arg(n+1))
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return "", translate(err)
	}
	defer rows.Close()
	var last int64
	for i := 0; rows.Next(); i++ {
		if i == n {
			// One more record exists: the page ends at the previous one.
			return sqlbuild.EncodeCursor(db.cursorKey, last, fp), nil
		}
		r, err := scanRecord(rows)
		if err != nil {
			return "", err
		}
		last = r.ID
		if err := fn(r); err != nil {
			return "", err
		}
	}
	return "", translate(rows.Err())
}

// maxBuckets bounds a histogram.
const maxBuckets = 1000

// Histogram counts the matching records in buckets of equal width.
func (db *DB) Histogram(ctx context.Context, req store.SearchRequest, buckets int) ([]store.Bucket, error) {
	bs, err := db.histogram(ctx, req, buckets)
	if err != nil {
		return nil, fmt.Errorf("cannot count records over time: %w", err)
	}
	return bs, nil
}

func (db *DB) histogram(ctx context.Context, req store.SearchRequest, buckets int) ([]store.Bucket, error) {
	if buckets < 1 || buckets > maxBuckets {
		return nil, fmt.Errorf("%w: %d buckets, want 1 to %d", store.ErrInvalid, buckets, maxBuckets)
	}
	// One read transaction, so that the range and the counts come from
	// the same snapshot.
	rtx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, translate(err)
	}
	defer rtx.Rollback()
	from, to, ok, err := db.span(ctx, rtx, req)
	if err != nil || !ok {
		return []store.Bucket{}, err
	}
	// A range wider than int64 nanoseconds hold (~292 years) would wrap
	// around below; say so instead.
	if span := to - from; span <= 0 || span > math.MaxInt64-int64(buckets) {
		return nil, fmt.Errorf("%w: a histogram spans at most 292 years, got %s to %s", store.ErrInvalid,
			time.Unix(0, from).UTC().Format(time.RFC3339), time.Unix(0, to).UTC().Format(time.RFC3339))
	}
	width := (to - from + int64(buckets) - 1) / int64(buckets)
	width = max(width, 1)
	s, err := db.selection(req)
	if err != nil {
		return nil, err
	}
	q, args := s.b.Render(`SELECT (r.time - ` + s.b.Arg(from) + `) / ` + s.b.Arg(width) + `, r.level, COUNT(*) FROM ` + s.from +
		` WHERE ` + s.where + ` AND r.time >= ` + s.b.Arg(from) + ` AND r.time < ` + s.b.Arg(to) + ` GROUP BY 1, 2`)
	rows, err := rtx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	n := int((to - from) / width)
	if (to-from)%width != 0 {
		n++
	}
	out := make([]store.Bucket, n)
	for i := range out {
		out[i].Start = time.Unix(0, from+int64(i)*width).UTC()
	}
	for rows.Next() {
		var (
			i     int64
			level string
			count int64
		)
		if err := rows.Scan(&i, &level, &count); err != nil {
			return nil, translate(err)
		}
		if i < 0 || i >= int64(n) {
			return nil, fmt.Errorf("BUG: histogram bucket %d of %d", i, n)
		}
		b := &out[i]
		b.Count += count
		if b.ByLevel == nil {
			b.ByLevel = map[string]int64{}
		}
		b.ByLevel[level] += count
	}
	return out, translate(rows.Err())
}

// span returns the time range [from, to) of a request in unix
// nanoseconds, closing open sides at the oldest and just after the newest
// match; ok is false when the range is empty.
func (db *DB) span(ctx context.Context, rtx *sql.Tx, req store.SearchRequest) (from, to int64, ok bool, err error) {
	if !req.From.IsZero() && !req.To.IsZero() {
		from, to = timeNs(req.From), timeNs(req.To)
		return from, to, from < to, nil
	}
	s, err := db.selection(req)
	if err != nil {
		return 0, 0, false, err
	}
	q, args := s.b.Render(`SELECT MIN(r.time), MAX(r.time) FROM ` + s.from + ` WHERE ` + s.where)
	var lo, hi sql.NullInt64
	if err := rtx.QueryRowContext(ctx, q, args...).Scan(&lo, &hi); err != nil {
		return 0, 0, false, translate(err)
	}
	if !lo.Valid {
		return 0, 0, false, nil
	}
	from, to = lo.Int64, hi.Int64+1
	if !req.From.IsZero() {
		from = timeNs(req.From)
	}
	if !req.To.IsZero() {
		to = timeNs(req.To)
	}
	return from, to, from < to, nil
}
