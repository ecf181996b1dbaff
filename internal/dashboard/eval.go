package dashboard

import (
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

// maxPoints bounds the buckets of a timechart panel.
const maxPoints = 1000

// Result kinds: how a panel's output is shaped.
const (
	ResultTime       = "time"       // series over Times
	ResultCategories = "categories" // series over Categories
	ResultTable      = "table"      // Columns and Rows only
)

// Series is one line, or one colour of bars.
type Series struct {
	Name string `json:"name"`
	// Query is the Explore query of the records behind the series: the
	// panel's filter and the series' own (status:"failed").
	Query string `json:"query"`
	// Values has one entry per time or category; nil where none.
	Values []*float64 `json:"values"`
}

// Result is a panel's output, shaped for a chart, with the Explore query
// of every point.
type Result struct {
	Kind string `json:"kind"`
	// Query is the canonical query that ran (with the interval filled in
	// for a timechart); Filter the part before the pipes.
	Query  string    `json:"query"`
	Filter string    `json:"filter"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	// IntervalMs is the bucket width of a time result.
	IntervalMs int64 `json:"intervalMs,omitempty"`
	// Times are the bucket starts in unix milliseconds.
	Times      []int64  `json:"times,omitempty"`
	Categories []string `json:"categories,omitempty"`
	// CategoryQueries are the Explore queries of each category.
	CategoryQueries []string `json:"categoryQueries,omitempty"`
	Series          []Series `json:"series"`
	// Columns and Rows are the query's output as a table; RowQueries the
	// Explore query of each row.
	Columns    []string `json:"columns"`
	Rows       [][]any  `json:"rows"`
	RowQueries []string `json:"rowQueries"`
	TookMs     float64  `json:"tookMs"`
}

// intervals are the bucket widths a timechart without one picks from.
var intervals = []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour,
	6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

// PickInterval returns the smallest interval giving at most want buckets
// over [from, to).
func PickInterval(from, to time.Time, want int) time.Duration {
	span := to.Sub(from)
	for _, d := range intervals {
		if span/d <= time.Duration(want) {
			return d
		}
	}
	return intervals[len(intervals)-1]
}

// Evaluate runs a query over [from, to) and shapes its output.
func Evaluate(ctx context.Context, s store.Searcher, text string, from, to time.Time) (Result, error) {
	start := time.Now()
	q, err := query.Parse(text)
	if err != nil {
		return Result{}, err
	}
	if !from.Before(to) {
		return Result{}, fmt.Errorf("%w: the range is empty (from %s to %s)", store.ErrInvalid, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	var tc *query.Timechart
	if len(q.Pipes) > 0 {
		tc, _ = q.Pipes[0].(*query.Timechart)
	}
	if tc != nil && tc.Interval == 0 {
		tc.Interval = PickInterval(from, to, 60)
	}
	if tc != nil && to.Sub(from)/tc.Interval > maxPoints {
		return Result{}, fmt.Errorf("%w: timechart %s over this range makes over %d buckets; use a wider interval or leave it out", store.ErrInvalid, tc.Interval, maxPoints)
	}
	t, err := s.Table(ctx, store.SearchRequest{Query: q, From: from, To: to})
	if err != nil {
		return Result{}, err
	}
	r := Result{Query: q.String(), From: from.UTC(), To: to.UTC(), Columns: t.Columns, Rows: t.Rows}
	if r.Rows == nil {
		r.Rows = [][]any{}
	}
	if q.Filter != nil {
		r.Filter = q.Filter.String()
	}
	var groupBy []string
	switch p := firstPipe(q).(type) {
	case *query.Timechart:
		r.shapeTime(t, p, from, to)
		groupBy = append([]string{"time"}, p.By...)
	case *query.Stats:
		r.shapeCategories(t, len(p.By), p.By)
		groupBy = p.By
	case *query.Top:
		r.shapeCategories(t, 1, []string{p.Field})
		groupBy = []string{p.Field}
	default:
		r.Kind = ResultTable
	}
	r.RowQueries = make([]string, len(r.Rows))
	for i, row := range r.Rows {
		var terms []string
		for _, g := range groupBy {
			if c := slices.Index(t.Columns, g); c >= 0 && g != "time" {
				terms = append(terms, Term(g, row[c]))
			}
		}
		r.RowQueries[i] = Combine(r.Filter, terms...)
	}
	r.TookMs = float64(time.Since(start).Microseconds()) / 1000
	return r, nil
}

func firstPipe(q *query.Query) query.Pipe {
	if len(q.Pipes) == 0 {
		return nil
	}
	return q.Pipes[0]
}

// shapeTime pivots a timechart's rows (time, [by], aggs…) into series
// over every bucket of the range.
func (r *Result) shapeTime(t store.Table, p *query.Timechart, from, to time.Time) {
	r.Kind = ResultTime
	step := p.Interval
	r.IntervalMs = step.Milliseconds()
	// Buckets are aligned to the epoch, like the store's.
	first := from.Truncate(step)
	index := map[int64]int{}
	for b := first; b.Before(to); b = b.Add(step) {
		index[b.UnixMilli()] = len(r.Times)
		r.Times = append(r.Times, b.UnixMilli())
	}
	nBy := len(p.By)
	aggCols := t.Columns[1+nBy:]
	type key struct {
		group string
		agg   int
	}
	series := map[key]int{}
	var seriesAgg []int
	for _, row := range t.Rows {
		tm, ok := row[0].(time.Time)
		if !ok {
			continue
		}
		i, ok := index[tm.UnixMilli()]
		if !ok {
			continue
		}
		group, filter := "", ""
		if nBy > 0 {
			group = display(row[1])
			filter = Term(p.By[0], row[1])
		}
		for a := range aggCols {
			k := key{group, a}
			si, ok := series[k]
			if !ok {
				name := aggCols[a]
				switch {
				case nBy > 0 && len(aggCols) == 1:
					name = group
				case nBy > 0:
					name = group + " " + aggCols[a]
				}
				si = len(r.Series)
				series[k] = si
				seriesAgg = append(seriesAgg, a)
				r.Series = append(r.Series, Series{Name: name, Query: Combine(r.Filter, filter), Values: make([]*float64, len(r.Times))})
			}
			if v, ok := number(row[1+nBy+a]); ok {
				r.Series[si].Values[i] = &v
			}
		}
	}
	// Counts are zero, not missing, in empty buckets.
	for i := range r.Series {
		if !strings.HasPrefix(aggCols[seriesAgg[i]], "count") {
			continue
		}
		for j, v := range r.Series[i].Values {
			if v == nil {
				zero := 0.0
				r.Series[i].Values[j] = &zero
			}
		}
	}
	if r.Series == nil {
		r.Series = []Series{}
	}
}

// shapeCategories turns grouped rows (by fields, then aggregations) into
// one category per row and one series per aggregation.
func (r *Result) shapeCategories(t store.Table, nBy int, by []string) {
	r.Kind = ResultCategories
	r.Series = []Series{}
	aggCols := t.Columns[min(nBy, len(t.Columns)):]
	for a := range aggCols {
		r.Series = append(r.Series, Series{Name: aggCols[a], Query: r.Filter, Values: make([]*float64, len(t.Rows))})
	}
	for i, row := range t.Rows {
		var names, terms []string
		for g := 0; g < nBy && g < len(row); g++ {
			names = append(names, display(row[g]))
			terms = append(terms, Term(by[g], row[g]))
		}
		name := strings.Join(names, " · ")
		if nBy == 0 {
			name = "all"
		}
		r.Categories = append(r.Categories, name)
		r.CategoryQueries = append(r.CategoryQueries, Combine(r.Filter, terms...))
		for a := range aggCols {
			if v, ok := number(row[nBy+a]); ok {
				r.Series[a].Values[i] = &v
			}
		}
	}
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		return x, true
	case time.Time:
		return float64(x.UnixMilli()), true
	}
	return 0, false
}

func display(v any) string {
	switch x := v.(type) {
	case nil:
		return "(none)"
	case string:
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// Term is the filter that selects records whose field has value v: a
// quoted literal for strings, "-field:*" for a missing value.
func Term(field string, v any) string {
	switch x := v.(type) {
	case nil:
		return "-" + field + ":*"
	case string:
		return field + ":" + Quote(x)
	case time.Time:
		return field + ":" + x.UTC().Format(time.RFC3339Nano)
	}
	return field + ":" + display(v)
}

// Quote writes s as a query phrase, escaping quotes and backslashes.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// Combine ANDs a filter with more terms, bracketing the filter when it is
// an OR so that the terms bind to all of it.
func Combine(filter string, terms ...string) string {
	var parts []string
	if filter != "" {
		if q, err := query.Parse(filter); err == nil {
			if _, isOr := q.Filter.(*query.Or); isOr {
				filter = "(" + filter + ")"
			}
		}
		parts = append(parts, filter)
	}
	for _, t := range terms {
		if t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, " ")
}
