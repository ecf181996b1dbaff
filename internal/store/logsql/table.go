package logsql

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Limits of Table on this engine, beyond which a query is refused with a
// clear error rather than answered approximately.
const (
	// MaxSortRecords bounds the records a record table sorted by a field
	// other than time reads: the engine orders mixed types and text
	// differently from the language, so such a sort runs here.
	MaxSortRecords = 100_000
	// MaxQuantileValues bounds the values a query's percentiles read
	// (the engine's quantiles are sampled and ranked differently).
	MaxQuantileValues = 10_000_000
)

// defaultColumns are the columns of a record table without a fields pipe.
var defaultColumns = []string{"time", "source", "kind", "level", "service", "message"}

// Table runs the query's pipes over the matching records.
//
// stats, timechart and top run in the engine (stats by …), with the
// groups' values typed by their attrtype fields so that 42 and "42" stay
// apart; percentiles read the values and rank them here (nearest rank, as
// the SQLite store does); fields, sort and limit after an aggregation run
// here on its output. A record table runs in the engine when it is
// ordered by time, and is sorted here otherwise.
func (s *Searcher) Table(ctx context.Context, req store.SearchRequest) (store.Table, error) {
	t, err := s.table(ctx, req)
	if err != nil {
		return store.Table{}, fmt.Errorf("cannot run query pipes: %w", err)
	}
	return t, nil
}

func (s *Searcher) table(ctx context.Context, req store.SearchRequest) (store.Table, error) {
	var pipes []query.Pipe
	if req.Query != nil {
		pipes = req.Query.Pipes
	}
	if len(pipes) == 0 {
		return s.recordTable(ctx, req, nil)
	}
	var (
		t   store.Table
		err error
	)
	switch p := pipes[0].(type) {
	case *query.Stats:
		t, err = s.stats(ctx, req, p.Aggs, p.By, 0)
	case *query.Timechart:
		interval := p.Interval
		if interval == 0 {
			if interval, err = s.pickInterval(ctx, req); err != nil {
				return t, err
			}
		}
		t, err = s.stats(ctx, req, p.Aggs, p.By, interval)
	case *query.Top:
		t, err = s.top(ctx, req, p)
	default:
		return s.recordTable(ctx, req, pipes)
	}
	if err != nil {
		return t, err
	}
	return store.PostPipes(t, pipes[1:])
}

// row is a result row by field name.
type row map[string]string

func toRow(fields []Field) row {
	r := make(row, len(fields))
	for _, f := range fields {
		r[f.Name] = f.Value
	}
	return r
}

// column is how a field of the language is read from a row: the engine
// fields to fetch or group by, and the value they make.
type column struct {
	fields []string
	value  func(r row) (any, error)
	// isTime says the value is a time (min and max of it are times too).
	isTime bool
	// bucket is the width a timechart truncates the time to.
	bucket time.Duration
}

// firstTx is the field a pipe extracts with the first linked tx hash.
const firstTx = "tx_first"

// columnOf returns how to read the field named name, as the SQLite store
// shows it: service "" as no value, the first linked tx hash, attributes
// typed (bools as 1 and 0, integers beyond int64 as float64).
func columnOf(name string) (column, error) {
	f, err := lookup(name)
	if err != nil {
		return column{}, err
	}
	str := func(field string) column {
		return column{fields: []string{field}, value: func(r row) (any, error) { return r[field], nil }}
	}
	switch name {
	case "time":
		return column{fields: []string{FieldTime}, isTime: true, value: func(r row) (any, error) {
			if r[FieldTime] == "" {
				return nil, nil
			}
			return parseTimeValue(r[FieldTime])
		}}, nil
	case "source", "kind", "level":
		return str(f.name), nil
	case "service":
		return column{fields: []string{FieldService}, value: func(r row) (any, error) {
			if v := r[FieldService]; v != "" {
				return v, nil
			}
			return nil, nil
		}}, nil
	case "message":
		return column{fields: []string{FieldMsg, FieldNoMsg}, value: func(r row) (any, error) {
			if r[FieldNoMsg] != "" {
				return "", nil
			}
			return r[FieldMsg], nil
		}}, nil
	case "tx":
		return column{fields: []string{firstTx}, value: func(r row) (any, error) {
			if v := r[firstTx]; v != "" {
				return v, nil
			}
			return nil, nil
		}}, nil
	case "address":
		return column{}, invalid("address stands for several addresses of a record; use from, to or contract")
	case "block":
		return column{fields: []string{FieldBlock}, value: func(r row) (any, error) {
			if v := r[FieldBlock]; v != "" {
				return strconv.ParseInt(v, 10, 64)
			}
			return nil, nil
		}}, nil
	}
	val, typ := AttrPrefix+f.name, TypePrefix+f.name
	return column{fields: []string{val, typ}, value: func(r row) (any, error) {
		return leafTableValue(r[val], r[typ])
	}}, nil
}

// leafTableValue is an attribute leaf as a table shows it.
func leafTableValue(text, typ string) (any, error) {
	switch typ {
	case TypeString:
		if text == "" {
			return nil, nil
		}
		return text, nil
	case TypeEmpty:
		return "", nil
	case TypeInt:
		return strconv.ParseInt(text, 10, 64)
	case TypeBig, TypeFloat:
		return strconv.ParseFloat(text, 64)
	case TypeBool:
		if text == "true" {
			return int64(1), nil
		}
		return int64(0), nil
	case TypeNull:
		return nil, nil
	case TypeObject:
		return "{}", nil
	case TypeArray:
		return text, nil
	}
	return nil, fmt.Errorf("unknown attribute type %q", typ)
}

// extractFirstTx is the pipes that put the first linked tx hash in
// firstTx: the first word of FieldTx, or the message's first hash word
// when the message holds the first links (FieldMsgLinks; the same words as
// MsgHexWords, whose first is the leftmost).
var extractFirstTx = ` | extract_regexp "^(?P<` + firstTx + `>0x[0-9a-f]+)" from ` + FieldTx +
	` | extract_regexp if (` + linkInMsg(FieldTx) + `) ` +
	quote(msgWordStart+`(?P<`+firstTx+`>0x[0-9a-f]{64})`+msgWordEnd) + ` from ` + FieldMsg

func needsTx(cols []column) bool {
	for _, c := range cols {
		if slices.Contains(c.fields, firstTx) {
			return true
		}
	}
	return false
}

func (s *Searcher) recordTable(ctx context.Context, req store.SearchRequest, pipes []query.Pipe) (store.Table, error) {
	n, err := searchLimit(req.Limit)
	if err != nil {
		return store.Table{}, err
	}
	names := defaultColumns
	var keys []query.SortKey
	for _, p := range pipes {
		switch p := p.(type) {
		case *query.FieldsPipe:
			names = p.Fields
		case *query.Sort:
			keys = p.Keys
		case *query.Limit:
			n = p.N
		default:
			return store.Table{}, fmt.Errorf("%w: pipe %s must come first", store.ErrInvalid, p.String())
		}
	}
	cols := make([]column, len(names))
	for i, name := range names {
		if cols[i], err = columnOf(name); err != nil {
			return store.Table{}, err
		}
	}
	sortCols := make([]column, len(keys))
	byTime := true
	for i, k := range keys {
		if sortCols[i], err = columnOf(k.Field); err != nil {
			return store.Table{}, err
		}
		byTime = byTime && k.Field == "time"
	}
	f, err := s.filterOf(ctx, req)
	if err != nil {
		return store.Table{}, err
	}
	asc := req.Order == store.OldestFirst
	dir := func(desc bool) string {
		if desc {
			return " desc"
		}
		return ""
	}
	q := f
	if needsTx(append(slices.Clone(cols), sortCols...)) {
		q += extractFirstTx
	}
	limit := n
	if byTime {
		var by []string
		for _, k := range keys {
			by = append(by, "_time"+dir(k.Desc))
		}
		by = append(by, "_time"+dir(!asc), FieldID+dir(!asc))
		q += " | sort by (" + strings.Join(by, ", ") + ") limit " + strconv.Itoa(n)
	} else {
		limit = MaxSortRecords
		q += " | limit " + strconv.Itoa(MaxSortRecords+1)
	}
	type item struct {
		vals, sortVals []any
		time, id       int64
	}
	var items []item
	err = s.Runner.RunQuery(ctx, q, func(fields []Field) error {
		if len(items) == limit {
			return invalid("sorting by %s reads more than %d records on this engine; narrow the query or its range",
				keys[0].Field, MaxSortRecords)
		}
		r := toRow(fields)
		it := item{vals: make([]any, len(cols)), sortVals: make([]any, len(sortCols))}
		for i, c := range cols {
			var err error
			if it.vals[i], err = c.value(r); err != nil {
				return err
			}
		}
		for i, c := range sortCols {
			var err error
			if it.sortVals[i], err = c.value(r); err != nil {
				return err
			}
		}
		if !byTime {
			t, err := parseTimeValue(r[FieldTime])
			if err != nil {
				return err
			}
			it.time = t.UnixNano()
			it.id = it.time // no id field: the time is the ID
			if v, ok := r[FieldID]; ok {
				if it.id, err = strconv.ParseInt(v, 10, 64); err != nil {
					return fmt.Errorf("row id %q: %w", v, err)
				}
			}
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return store.Table{}, err
	}
	if !byTime {
		slices.SortStableFunc(items, func(a, b item) int {
			for i, k := range keys {
				c := store.CompareValues(a.sortVals[i], b.sortVals[i])
				if k.Desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			c := cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.id, b.id))
			if !asc {
				c = -c
			}
			return c
		})
		if len(items) > n {
			items = items[:n]
		}
	}
	rows := make([][]any, len(items))
	for i, it := range items {
		rows[i] = it.vals
	}
	return store.Table{Columns: slices.Clone(names), Rows: rows}, nil
}

// stats runs stats, or timechart when interval > 0.
func (s *Searcher) stats(ctx context.Context, req store.SearchRequest, aggs []query.Agg, by []string, interval time.Duration) (store.Table, error) {
	f, err := s.filterOf(ctx, req)
	if err != nil {
		return store.Table{}, err
	}
	var (
		cols     []string
		groups   []column
		groupBys []string
	)
	if interval > 0 {
		cols = append(cols, "time")
		groups = append(groups, column{fields: []string{FieldTime}, isTime: true, bucket: interval, value: func(r row) (any, error) {
			return parseTimeValue(r[FieldTime])
		}})
		groupBys = append(groupBys, "_time:"+strconv.FormatInt(int64(interval), 10)+"ns")
	}
	for _, name := range by {
		c, err := columnOf(name)
		if err != nil {
			return store.Table{}, err
		}
		cols = append(cols, name)
		groups = append(groups, c)
		groupBys = append(groupBys, c.fields...)
	}
	type quantile struct {
		col   int
		q     float64
		field string
	}
	var (
		funcs     []string
		outs      []func(string) (any, error)
		quantiles []quantile
	)
	for i, a := range aggs {
		alias := "a" + strconv.Itoa(i)
		fn, out, err := statsFunc(a)
		if err != nil {
			return store.Table{}, err
		}
		if fn == "" {
			q, ok := a.Quantile()
			if !ok || q <= 0 || q >= 1 {
				return store.Table{}, invalid("unknown aggregation %s", a.Func)
			}
			quantiles = append(quantiles, quantile{col: len(cols), q: q, field: a.Field})
			fn = "count()" // keeps the groups of a query of percentiles only
			out = func(string) (any, error) { return nil, nil }
		}
		funcs = append(funcs, fn+" as "+alias)
		outs = append(outs, out)
		cols = append(cols, a.Name())
	}
	q := f
	if needsTx(groups) {
		q += extractFirstTx
	}
	q += " | stats "
	if len(groupBys) > 0 {
		q += "by (" + strings.Join(groupBys, ", ") + ") "
	}
	q += strings.Join(funcs, ", ")
	var rows [][]any
	err = s.Runner.RunQuery(ctx, q, func(fields []Field) error {
		r := toRow(fields)
		out := make([]any, 0, len(cols))
		for _, g := range groups {
			v, err := g.value(r)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		for i, o := range outs {
			v, err := o(r["a"+strconv.Itoa(i)])
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		rows = append(rows, out)
		return nil
	})
	if err != nil {
		return store.Table{}, err
	}
	if len(groups) == 0 && len(rows) == 0 {
		// One row over no record, as SQL gives.
		out := make([]any, len(cols))
		for i, a := range aggs {
			if a.Func == "count" || a.Func == "count_distinct" {
				out[i] = int64(0)
			}
		}
		rows = append(rows, out)
	}
	slices.SortFunc(rows, func(a, b []any) int {
		for i := range groups {
			if c := store.CompareValues(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	if len(quantiles) > 0 {
		index := make(map[string]int, len(rows))
		for i, r := range rows {
			index[groupKey(r[:len(groups)])] = i
		}
		budget := MaxQuantileValues
		for _, qa := range quantiles {
			vals, err := s.groupValues(ctx, req, groups, qa.field, &budget)
			if err != nil {
				return store.Table{}, err
			}
			for key, vs := range vals {
				if i, ok := index[key]; ok {
					slices.Sort(vs)
					rows[i][qa.col] = nearestRank(vs, qa.q)
				}
			}
		}
	}
	if rows == nil {
		rows = [][]any{}
	}
	return store.Table{Columns: cols, Rows: rows}, nil
}

// statsFunc returns the engine's stats function of an aggregation and how
// to read its result; "" for percentiles, which run here.
func statsFunc(a query.Agg) (string, func(string) (any, error), error) {
	count := func(s string) (any, error) {
		if s == "" {
			return int64(0), nil
		}
		return strconv.ParseInt(s, 10, 64)
	}
	switch a.Func {
	case "count":
		if a.Field == "" {
			return "count()", count, nil
		}
		if _, err := columnOf(a.Field); err != nil {
			return "", nil, err
		}
		switch a.Field {
		case "time", "source", "kind", "level", "message":
			return "count()", count, nil
		}
		e, err := exists(a.Field)
		if err != nil {
			return "", nil, err
		}
		return "count() if (" + e + ")", count, nil
	case "count_distinct":
		c, err := columnOf(a.Field)
		if err != nil {
			return "", nil, err
		}
		fn := "count_uniq(" + strings.Join(quoteAll(c.fields), ", ") + ")"
		if f, _ := lookup(a.Field); f.kind == kindAttr {
			e, err := exists(a.Field)
			if err != nil {
				return "", nil, err
			}
			fn += " if (" + e + ")"
		}
		return fn, count, nil
	case "sum", "avg", "min", "max":
		f, err := lookup(a.Field)
		if err != nil {
			return "", nil, err
		}
		switch {
		case f.typ == query.TypeTime:
			if a.Func == "sum" || a.Func == "avg" {
				return "", nil, invalid("%s(%s) is not supported on this engine", a.Func, a.Field)
			}
			return a.Func + "(_time)", func(s string) (any, error) {
				if s == "" {
					return nil, nil
				}
				return parseTimeValue(s)
			}, nil
		}
		out := numberValue
		if a.Func == "avg" {
			out = floatValue
		}
		switch {
		case f.kind == kindColumn && f.typ == query.TypeNumber:
			return a.Func + "(" + quote(f.name) + ")", out, nil
		case f.typ == query.TypeNumber || f.typ == query.TypeAttr:
			return a.Func + "(" + attrValue(f.name) + ") if (" + isNumber(f.name) + ")", out, nil
		}
		return "", nil, invalid("%s is not a number field", a.Field)
	}
	if _, ok := a.Quantile(); ok {
		f, err := lookup(a.Field)
		if err != nil {
			return "", nil, err
		}
		if !(f.typ == query.TypeNumber || f.typ == query.TypeAttr || f.typ == query.TypeTime) {
			return "", nil, invalid("%s is not a number field", a.Field)
		}
		return "", nil, nil
	}
	return "", nil, invalid("unknown aggregation %s", a.Func)
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = quote(n)
	}
	return out
}

// numberValue reads a numeric stats result: int64 when it is an integer,
// float64 otherwise, nil when there was no value.
func numberValue(s string) (any, error) {
	switch s {
	case "", "NaN", "nan":
		return nil, nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("engine number %q: %w", s, err)
	}
	return f, nil
}

// floatValue reads an average: float64, nil when there was no value.
func floatValue(s string) (any, error) {
	v, err := numberValue(s)
	if i, ok := v.(int64); ok {
		return float64(i), err
	}
	return v, err
}

// groupValues returns the numeric values of field per group.
func (s *Searcher) groupValues(ctx context.Context, req store.SearchRequest, groups []column, field string, budget *int) (map[string][]float64, error) {
	f, err := lookup(field)
	if err != nil {
		return nil, err
	}
	var (
		guard string
		value func(r row) (float64, bool, error)
		need  []string
	)
	switch {
	case f.typ == query.TypeTime:
		need = []string{FieldTime}
		value = func(r row) (float64, bool, error) {
			t, err := parseTimeValue(r[FieldTime])
			return float64(t.UnixNano()), err == nil, err
		}
	case f.kind == kindColumn:
		guard, need = quote(f.name)+":*", []string{f.name}
		value = func(r row) (float64, bool, error) {
			v, err := strconv.ParseFloat(r[f.name], 64)
			return v, err == nil, err
		}
	default:
		guard, need = isNumber(f.name), []string{AttrPrefix + f.name}
		value = func(r row) (float64, bool, error) {
			v, err := strconv.ParseFloat(r[AttrPrefix+f.name], 64)
			return v, err == nil, err
		}
	}
	base, err := s.filterOf(ctx, req)
	if err != nil {
		return nil, err
	}
	q := base
	if guard != "" {
		q = "(" + base + ") AND " + guard
	}
	for _, g := range groups {
		need = append(need, g.fields...)
	}
	if needsTx(groups) {
		q += extractFirstTx
	}
	q += " | fields " + strings.Join(quoteAll(need), ", ")
	out := map[string][]float64{}
	err = s.Runner.RunQuery(ctx, q, func(fields []Field) error {
		if *budget--; *budget < 0 {
			return invalid("percentiles over more than %d values; narrow the query or its range", MaxQuantileValues)
		}
		r := toRow(fields)
		v, ok, err := value(r)
		if err != nil || !ok {
			return err
		}
		key := make([]any, len(groups))
		for i, g := range groups {
			if key[i], err = g.value(r); err != nil {
				return err
			}
			if t, ok := key[i].(time.Time); ok && g.bucket > 0 {
				// A timechart bucket, as the engine truncates _time.
				ns := t.UnixNano()
				r := ns % int64(g.bucket)
				if r < 0 {
					r += int64(g.bucket)
				}
				key[i] = time.Unix(0, ns-r).UTC()
			}
		}
		k := groupKey(key)
		out[k] = append(out[k], v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
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
		if t, ok := v.(time.Time); ok {
			v = t.UnixNano()
		}
		fmt.Fprintf(&b, "%T:%v\x00", v, v)
	}
	return b.String()
}

func (s *Searcher) top(ctx context.Context, req store.SearchRequest, p *query.Top) (store.Table, error) {
	c, err := columnOf(p.Field)
	if err != nil {
		return store.Table{}, err
	}
	f, err := s.filterOf(ctx, req)
	if err != nil {
		return store.Table{}, err
	}
	present, err := exists(p.Field)
	if err != nil {
		return store.Table{}, err
	}
	q := "(" + f + ") AND " + present
	if needsTx([]column{c}) {
		q += extractFirstTx
	}
	q += " | stats by (" + strings.Join(quoteAll(c.fields), ", ") + ") count() as n"
	type group struct {
		v any
		n int64
	}
	var gs []group
	order := func(a, b group) int { return cmp.Or(cmp.Compare(b.n, a.n), store.CompareValues(a.v, b.v)) }
	err = s.Runner.RunQuery(ctx, q, func(fields []Field) error {
		r := toRow(fields)
		v, err := c.value(r)
		if err != nil || v == nil {
			return err
		}
		n, err := strconv.ParseInt(r["n"], 10, 64)
		if err != nil {
			return fmt.Errorf("engine count %q: %w", r["n"], err)
		}
		gs = append(gs, group{v, n})
		if len(gs) >= 2*p.N+1024 {
			slices.SortFunc(gs, order)
			gs = gs[:p.N]
		}
		return nil
	})
	if err != nil {
		return store.Table{}, err
	}
	slices.SortFunc(gs, order)
	if len(gs) > p.N {
		gs = gs[:p.N]
	}
	rows := make([][]any, len(gs))
	for i, g := range gs {
		rows[i] = []any{g.v, g.n}
	}
	return store.Table{Columns: []string{p.Field, "count"}, Rows: rows}, nil
}

// intervals are the timechart intervals picked when none is given.
var intervals = []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour,
	6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

// pickInterval returns the smallest interval giving at most 100 buckets
// over the request's range.
func (s *Searcher) pickInterval(ctx context.Context, req store.SearchRequest) (time.Duration, error) {
	from, to, ok, err := s.span(ctx, req)
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
