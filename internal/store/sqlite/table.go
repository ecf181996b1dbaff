package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Table runs the query's pipes.
//
// Aggregations run in SQL (GROUP BY with COUNT, SUM, AVG, MIN, MAX), except
// percentiles: SQLite has no percentile function, so the values of each
// percentile's field are streamed in group and value order and the
// nearest-rank percentile (the smallest value with at least N% of the
// values at or below it) is picked in Go, one group in memory at a time,
// at most maxQuantileValues values per query. The pipes after an
// aggregation (fields, sort, limit) run in Go on its output, which is
// small; on records they become the SELECT list, ORDER BY and LIMIT.
func (db *DB) Table(ctx context.Context, req store.SearchRequest) (store.Table, error) {
	t, err := db.table(ctx, req)
	if err != nil {
		return store.Table{}, fmt.Errorf("cannot run query pipes: %w", err)
	}
	return t, nil
}

// maxQuantileValues bounds the values a query's percentiles read.
const maxQuantileValues = 10_000_000

func (db *DB) table(ctx context.Context, req store.SearchRequest) (store.Table, error) {
	var pipes []query.Pipe
	if req.Query != nil {
		pipes = req.Query.Pipes
	}
	rtx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Table{}, translate(err)
	}
	defer rtx.Rollback()
	var t store.Table
	if len(pipes) > 0 {
		switch p := pipes[0].(type) {
		case *query.Stats:
			t, err = db.stats(ctx, rtx, req, p.Aggs, p.By, 0)
		case *query.Timechart:
			interval := p.Interval
			if interval == 0 {
				if interval, err = db.pickInterval(ctx, rtx, req); err != nil {
					return t, err
				}
			}
			t, err = db.stats(ctx, rtx, req, p.Aggs, p.By, interval)
		case *query.Top:
			t, err = db.top(ctx, rtx, req, p)
		default:
			return db.recordTable(ctx, rtx, req, pipes)
		}
		if err != nil {
			return t, err
		}
		return store.PostPipes(t, pipes[1:])
	}
	return db.recordTable(ctx, rtx, req, nil)
}

// defaultColumns are the columns of a record table without a fields pipe.
var defaultColumns = []string{"time", "source", "kind", "level", "service", "message"}

// recordTable returns matching records as rows, with the pipes fields,
// sort and limit done in SQL.
func (db *DB) recordTable(ctx context.Context, rtx *sql.Tx, req store.SearchRequest, pipes []query.Pipe) (store.Table, error) {
	n, err := searchLimit(req.Limit)
	if err != nil {
		return store.Table{}, err
	}
	s, err := db.selection(req)
	if err != nil {
		return store.Table{}, err
	}
	cols := defaultColumns
	var sortKeys []query.SortKey
	for _, p := range pipes {
		switch p := p.(type) {
		case *query.FieldsPipe:
			cols = p.Fields
		case *query.Sort:
			sortKeys = p.Keys
		case *query.Limit:
			n = p.N
		default:
			return store.Table{}, fmt.Errorf("%w: pipe %s must come first", store.ErrInvalid, p.String())
		}
	}
	exprs := make([]string, len(cols))
	isTime := make([]bool, len(cols))
	for i, c := range cols {
		if exprs[i], isTime[i], err = s.b.Value(c); err != nil {
			return store.Table{}, err
		}
	}
	var order []string
	for _, k := range sortKeys {
		e, _, err := s.b.Value(k.Field)
		if err != nil {
			return store.Table{}, err
		}
		if k.Desc {
			e += " DESC"
		}
		order = append(order, e)
	}
	dir := " DESC"
	if req.Order == store.OldestFirst {
		dir = " ASC"
	}
	order = append(order, s.id+dir)
	q, args := s.b.Render(`SELECT ` + strings.Join(exprs, ", ") + ` FROM ` + s.from + ` WHERE ` + s.where +
		` ORDER BY ` + strings.Join(order, ", ") + ` LIMIT ` + s.b.Arg(n))
	rows, err := readRows(ctx, rtx, q, args, isTime)
	if err != nil {
		return store.Table{}, err
	}
	return store.Table{Columns: slices.Clone(cols), Rows: rows}, nil
}

// readRows runs q and returns its rows, converting BLOB and TEXT to
// string and the columns marked isTime from nanoseconds to time.Time.
func readRows(ctx context.Context, rtx *sql.Tx, q string, args []any, isTime []bool) ([][]any, error) {
	rows, err := rtx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := [][]any{}
	for rows.Next() {
		row, err := scanRow(rows, isTime)
		if err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, translate(rows.Err())
}

func scanRow(rows *sql.Rows, isTime []bool) ([]any, error) {
	vals := make([]any, len(isTime))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, translate(err)
	}
	for i, v := range vals {
		switch x := v.(type) {
		case []byte:
			vals[i] = string(x)
		case int64:
			if isTime[i] {
				vals[i] = time.Unix(0, x).UTC()
			}
		case float64:
			if isTime[i] {
				vals[i] = time.Unix(0, int64(x)).UTC()
			}
		}
	}
	return vals, nil
}

// stats runs stats, or timechart when interval > 0.
func (db *DB) stats(ctx context.Context, rtx *sql.Tx, req store.SearchRequest, aggs []query.Agg, by []string, interval time.Duration) (store.Table, error) {
	s, err := db.selection(req)
	if err != nil {
		return store.Table{}, err
	}
	b := s.b
	var (
		cols     []string
		groups   []string // shown
		groupBys []string // grouped by
		isTime   []bool
	)
	if interval > 0 {
		step := b.Arg(int64(interval))
		// Buckets are aligned to the epoch, so that equal intervals give
		// the same buckets whatever the range.
		groups = append(groups, "(r.time / "+step+") * "+step)
		groupBys = append(groupBys, "1")
		cols = append(cols, "time")
		isTime = append(isTime, true)
	}
	for _, f := range by {
		e, t, err := b.Value(f)
		if err != nil {
			return store.Table{}, err
		}
		g, err := b.Group(f)
		if err != nil {
			return store.Table{}, err
		}
		groups = append(groups, e)
		groupBys = append(groupBys, g)
		cols = append(cols, f)
		isTime = append(isTime, t)
	}
	selects := slices.Clone(groups)
	type quantile struct {
		col   int
		q     float64
		field string
	}
	var quantiles []quantile
	for _, a := range aggs {
		var e string
		var t bool
		switch a.Func {
		case "count":
			e = "COUNT(*)"
			if a.Field != "" {
				v, _, err := b.Value(a.Field)
				if err != nil {
					return store.Table{}, err
				}
				e = "COUNT(" + v + ")"
			}
		case "count_distinct":
			v, _, err := b.Value(a.Field)
			if err != nil {
				return store.Table{}, err
			}
			e = "COUNT(DISTINCT " + v + ")"
		case "sum", "avg", "min", "max":
			v, vt, err := b.Number(a.Field)
			if err != nil {
				return store.Table{}, err
			}
			e, t = strings.ToUpper(a.Func)+"("+v+")", vt && (a.Func == "min" || a.Func == "max")
		default:
			q, ok := a.Quantile()
			if !ok || q <= 0 || q >= 1 {
				return store.Table{}, fmt.Errorf("%w: unknown aggregation %s", store.ErrInvalid, a.Func)
			}
			quantiles = append(quantiles, quantile{col: len(selects), q: q, field: a.Field})
			// An aggregate, so that a query of percentiles only is still
			// one row per group; the value is filled in below.
			e = "MIN(NULL)"
		}
		selects = append(selects, e)
		cols = append(cols, a.Name())
		isTime = append(isTime, t)
	}
	q := `SELECT ` + strings.Join(selects, ", ") + ` FROM ` + s.from + ` WHERE ` + s.where
	if len(groups) > 0 {
		ord := make([]string, len(groups))
		for i := range ord {
			ord[i] = strconv.Itoa(i + 1)
		}
		q += ` GROUP BY ` + strings.Join(groupBys, ", ") + ` ORDER BY ` + strings.Join(ord, ", ")
	}
	sqlText, args := b.Render(q)
	rows, err := readRows(ctx, rtx, sqlText, args, isTime)
	if err != nil {
		return store.Table{}, err
	}
	if len(quantiles) > 0 {
		index := make(map[string]int, len(rows))
		for i, r := range rows {
			index[groupKey(r[:len(groups)])] = i
		}
		budget := maxQuantileValues
		for _, qa := range quantiles {
			vals, err := db.groupValues(ctx, rtx, s, groups, isTime[:len(groups)], qa.field, &budget)
			if err != nil {
				return store.Table{}, err
			}
			for key, vs := range vals {
				if i, ok := index[key]; ok {
					rows[i][qa.col] = nearestRank(vs, qa.q)
				}
			}
		}
	}
	return store.Table{Columns: cols, Rows: rows}, nil
}

// groupValues returns the numeric values of field per group, each sorted.
func (db *DB) groupValues(ctx context.Context, rtx *sql.Tx, s *selection, groups []string, isTime []bool,
	field string, budget *int) (map[string][]float64, error) {
	v, _, err := s.b.Number(field)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + strings.Join(append(slices.Clone(groups), v), ", ") + ` FROM ` + s.from + ` WHERE ` + s.where +
		` AND ` + v + ` IS NOT NULL ORDER BY ` + strconv.Itoa(len(groups)+1)
	sqlText, args := s.b.Render(q)
	rows, err := rtx.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := map[string][]float64{}
	types := append(slices.Clone(isTime), false)
	for rows.Next() {
		row, err := scanRow(rows, types)
		if err != nil {
			return nil, err
		}
		if *budget--; *budget < 0 {
			return nil, fmt.Errorf("%w: percentiles over more than %d values; narrow the query or its range", store.ErrInvalid, maxQuantileValues)
		}
		var f float64
		switch x := row[len(groups)].(type) {
		case int64:
			f = float64(x)
		case float64:
			f = x
		case time.Time:
			f = float64(x.UnixNano())
		default:
			continue
		}
		key := groupKey(row[:len(groups)])
		out[key] = append(out[key], f) // rows come in value order
	}
	return out, translate(rows.Err())
}

// nearestRank returns the q-quantile of sorted values: the smallest value
// with at least q of the values at or below it.
func nearestRank(sorted []float64, q float64) any {
	if len(sorted) == 0 {
		return nil
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// groupKey identifies a group by its values and their types.
func groupKey(vals []any) string {
	var b strings.Builder
	for _, v := range vals {
		fmt.Fprintf(&b, "%T:%v\x00", v, v)
	}
	return b.String()
}

func (db *DB) top(ctx context.Context, rtx *sql.Tx, req store.SearchRequest, p *query.Top) (store.Table, error) {
	s, err := db.selection(req)
	if err != nil {
		return store.Table{}, err
	}
	v, isTime, err := s.b.Value(p.Field)
	if err != nil {
		return store.Table{}, err
	}
	g, err := s.b.Group(p.Field)
	if err != nil {
		return store.Table{}, err
	}
	present, err := s.b.Present(p.Field)
	if err != nil {
		return store.Table{}, err
	}
	q, args := s.b.Render(`SELECT ` + v + `, COUNT(*) FROM ` + s.from + ` WHERE ` + s.where + ` AND ` + present +
		` AND ` + v + ` IS NOT NULL GROUP BY ` + g + ` ORDER BY 2 DESC, 1 LIMIT ` + s.b.Arg(p.N))
	rows, err := readRows(ctx, rtx, q, args, []bool{isTime, false})
	if err != nil {
		return store.Table{}, err
	}
	return store.Table{Columns: []string{p.Field, "count"}, Rows: rows}, nil
}

// intervals are the timechart intervals picked when none is given.
var intervals = []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour,
	6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

// pickInterval returns the smallest interval giving at most 100 buckets
// over the request's range.
func (db *DB) pickInterval(ctx context.Context, rtx *sql.Tx, req store.SearchRequest) (time.Duration, error) {
	from, to, ok, err := db.span(ctx, rtx, req)
	if err != nil || !ok {
		return time.Minute, err
	}
	for _, d := range intervals {
		if (to-from)/int64(d) < 100 {
			return d, nil
		}
	}
	return intervals[len(intervals)-1], nil
}
