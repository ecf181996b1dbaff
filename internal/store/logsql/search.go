package logsql

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlbuild"
)

// Runner runs LogsQL on an engine: the embedded storage or a VictoriaLogs
// server. It is what a backend provides; Searcher does the rest.
type Runner interface {
	// RunQuery runs the LogsQL q and calls fn with each result row, in
	// the order the query's pipes give, on the calling goroutine; fn
	// must not keep row after it returns. An error from fn stops the
	// query and is returned. A query the engine refuses returns an error
	// wrapping store.ErrInvalid; a result the engine could not complete
	// (a storage node down) returns an error wrapping ErrPartial.
	RunQuery(ctx context.Context, q string, fn func(row []Field) error) error
}

// ErrPartial says that the engine answered without some of its data, so
// that the result may miss records: a cluster storage node is down.
var ErrPartial = errors.New("partial result: a storage node did not answer")

// Searcher implements store.Searcher over a Runner with the compiler of
// this package. Safe for concurrent use when the Runner is.
type Searcher struct {
	Runner Runner
	// CursorKey signs the cursors of Search; every node that serves the
	// same records must have the same key.
	CursorKey []byte
	// Scope, when set, returns a LogsQL filter that every query of the
	// searcher is restricted to (a backend hides records with it, such
	// as chain records of orphaned blocks not yet deleted); "" for none.
	Scope func() string
	// Links, when set, narrows queries that require a transaction hash
	// or an address to the time buckets holding records that link it
	// (see narrow); nil searches without.
	Links LinkBuckets
	// Bounds, when set, returns the oldest and newest record time the
	// engine holds (unix nanoseconds, inclusive); ok is false when it
	// does not know. A page of Search then reads only the newest (or
	// oldest) stretch of time that holds enough matches (see window);
	// nil sorts every match. Bounds steer the search, they do not limit
	// it: a page is the same with any bounds, only slower with poor ones.
	Bounds func(ctx context.Context) (lo, hi int64, ok bool, err error)
	// Columns, when set, returns the names of the attribute columns
	// (AttrPrefix, LowerPrefix) of every record the engine holds,
	// possibly more, never fewer; ok is false when it does not know.
	// Free text then names them rather than asking the engine for every
	// column of that prefix (see expandColumns).
	Columns func() (names []string, ok bool)
}

var _ store.Searcher = (*Searcher)(nil)

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

func (s *Searcher) filterOf(ctx context.Context, req store.SearchRequest) (string, error) {
	var e query.Expr
	if req.Query != nil {
		e = req.Query.Filter
	}
	return s.filterFor(ctx, req, e)
}

// filterFor is the LogsQL filter of e over the request's time range,
// with everything every query adds.
func (s *Searcher) filterFor(ctx context.Context, req store.SearchRequest, e query.Expr) (string, error) {
	f, err := Filter(e, req.From, req.To)
	if err != nil {
		return "", err
	}
	if s.Columns != nil {
		if names, ok := s.Columns(); ok {
			f = expandColumns(f, names)
		}
	}
	// Rows a delete task has emptied keep their time and stream; every
	// record has an id.
	f = "(" + f + ") AND " + Live
	n, err := s.narrow(ctx, e)
	if err != nil {
		return "", err
	}
	if n != "" {
		f += " AND " + n
	}
	if s.Scope != nil {
		if scope := s.Scope(); scope != "" {
			f += " AND (" + scope + ")"
		}
	}
	return f, nil
}

// Live is the filter of rows that hold a record: the engine's delete
// tasks may leave a row's time and stream fields behind. Records written
// before FieldLive existed all have an id.
const Live = "(" + FieldLive + ":* OR " + FieldID + ":*)"

// searchQuery returns the LogsQL of one page of Search: at most n+1
// records, in order, after the cursor position when there is one.
func (s *Searcher) searchQuery(ctx context.Context, req store.SearchRequest, n int) (string, error) {
	p, err := s.page(ctx, req, n)
	if err != nil {
		return "", err
	}
	return p.filter + p.pipe, nil
}

// pageQuery is one page of Search: its filter, the pipe that orders and
// cuts it, and the time range its records may have (unix nanoseconds,
// inclusive) as far as the request and cursor say.
type pageQuery struct {
	filter, pipe string
	// probe, when set, is a filter that matches every record filter
	// matches and costs the engine less to parse (see relaxed): window
	// counts with it.
	probe  string
	asc    bool
	want   int
	lo, hi int64
}

func (s *Searcher) page(ctx context.Context, req store.SearchRequest, n int) (pageQuery, error) {
	if req.Order != store.NewestFirst && req.Order != store.OldestFirst {
		return pageQuery{}, fmt.Errorf("%w: unknown order %d", store.ErrInvalid, req.Order)
	}
	f, err := s.filterOf(ctx, req)
	if err != nil {
		return pageQuery{}, err
	}
	p := pageQuery{asc: req.Order == store.OldestFirst, want: n + 1, lo: math.MinInt64, hi: math.MaxInt64}
	if req.Query != nil {
		if e, ok := relaxed(req.Query.Filter, false); ok {
			if p.probe, err = s.filterFor(ctx, req, e); err != nil {
				return pageQuery{}, err
			}
		}
	}
	if !req.From.IsZero() {
		p.lo = req.From.UnixNano()
	}
	if !req.To.IsZero() {
		p.hi = req.To.UnixNano()
	}
	if req.Cursor != "" {
		c, err := decodeCursor(s.CursorKey, req.Cursor, sqlbuild.Fingerprint(req))
		if err != nil {
			return pageQuery{}, err
		}
		f = "(" + f + ") AND " + c.after(p.asc)
		if p.probe != "" {
			p.probe = "(" + p.probe + ") AND " + c.after(p.asc)
		}
		if p.asc {
			p.lo = max(p.lo, c.time)
		} else {
			p.hi = min(p.hi, c.time)
		}
	}
	dir := " desc"
	if p.asc {
		dir = ""
	}
	p.filter = f
	p.pipe = " | sort by (_time" + dir + ", " + FieldID + dir + ") limit " + strconv.Itoa(n+1)
	return p, nil
}

// maxWindowRows bounds the pages that window narrows: past it, sorting
// every match costs no more than the probes.
const maxWindowRows = 10_000

// maxRangeSort is how many matches a page bounded in time on both sides
// may sort without narrowing: their keys are cheap to sort, cheaper than
// the probes of a window, which each read every block of the range (a
// minute of a busy store holds thousands).
const maxRangeSort = 10_000

// keysPipe keeps a page's keys: the engine then reads only the _time and
// id columns of the rows it sorts, and the stream of their blocks (see
// fetch).
const keysPipe = " | fields _time, " + FieldID + ", _stream_id"

// window returns a filter that keeps a page's answer while leaving out
// older (newer, for OldestFirst) matches, or "" when it finds none
// worth adding. A page wants the want newest matches; sorting every
// match by time to find them reads every matching row, which for a
// common word is most of the store. So, as VictoriaLogs' own server does
// for its last-N queries, it bisects on the start of a time range that
// ends at the newest time a record may have: a probe counts the matches
// in [start, hi], stopping at 2×want, and once a range holds at least
// want matches, the want newest of all are among them (matches past hi,
// if any, are newer still), so `_time:>=start` leaves the page unchanged.
// The ranges the probes read shrink towards the newest matches.
//
// The first probe reads the keys of the matches, up to 2×want, or up to
// maxRangeSort for a page bounded in time on both sides (a range, or a
// range's side and a cursor): when they are fewer than that, they are
// every match, and window returns them (all, done, in the page's order)
// for the page, so that a selective search, or a minute's range, sorts
// nothing more in the engine.
//
// With a probe filter (p.probe), the probes count its matches instead,
// a superset of the page's: a range holding want of them may hold fewer
// matches, which the caller sees as a short page and answers again
// without the window. The first probe then only counts.
func (s *Searcher) window(ctx context.Context, p pageQuery) (w string, all []key, done bool, err error) {
	if s.Bounds == nil || p.want > maxWindowRows {
		return "", nil, false, nil
	}
	filter := p.filter
	if p.probe != "" {
		filter = p.probe
	}
	// count returns the matches of filter in [a, b] (no bound with
	// a > b), up to limit.
	count := func(a, b int64, limit int) (int, error) {
		q := "(" + filter + ")"
		if a <= b {
			q += " AND _time:[" + formatTimeFilter(time.Unix(0, a)) + ", " + formatTimeFilter(time.Unix(0, b)) + "]"
		}
		q += " | limit " + strconv.Itoa(limit) + " | stats count() as n"
		n := 0
		err := s.Runner.RunQuery(ctx, q, func(row []Field) error {
			for _, f := range row {
				if f.Name == "n" {
					v, err := strconv.Atoi(f.Value)
					n = v
					return err
				}
			}
			return nil
		})
		return n, err
	}
	bounded := p.lo != math.MinInt64 && p.hi != math.MaxInt64
	var n int
	if p.probe != "" {
		if n, err = count(1, 0, 2*p.want); err != nil || n < 2*p.want {
			// Few candidates: the page reads them all.
			return "", nil, false, err
		}
	} else {
		// A page bounded on both sides reads up to maxRangeSort keys
		// here, and sorts them itself when they are every match.
		limit := 2 * p.want
		if bounded {
			limit = max(limit, maxRangeSort+1)
		}
		first, err := s.keys(ctx, "("+p.filter+") | limit "+strconv.Itoa(limit)+keysPipe)
		if err != nil {
			return "", nil, false, err
		}
		if len(first) < limit {
			slices.SortFunc(first, func(a, b key) int { return a.compare(b, p.asc) })
			return "", first, true, nil
		}
		n = 2 * p.want
	}
	if bounded && p.probe != "" {
		if m, err := count(1, 0, maxRangeSort+1); err != nil || m <= maxRangeSort {
			// Few enough to sort: no window.
			return "", nil, false, err
		}
	}
	blo, bhi, ok, err := s.Bounds(ctx)
	if err != nil || !ok {
		return "", nil, false, err
	}
	lo, hi := max(p.lo, blo), min(p.hi, bhi)
	if hi <= lo || hi/2-lo/2 < int64(time.Second)/2 || hi == math.MaxInt64 || lo == math.MinInt64 {
		return "", nil, false, nil
	}
	// inner is the edge of the range that stays fixed (hi for the newest
	// first); outer moves. Invariants: the range from good to inner holds
	// at least want matches, the one from bad to inner fewer.
	inner, good, bad := hi, lo, hi+1
	if p.asc {
		inner, good, bad = lo, hi, lo-1
	}
	probe := func(edge int64) (int, error) {
		if p.asc {
			return count(inner, edge, 2*p.want)
		}
		return count(edge, inner, 2*p.want)
	}
	for n >= 2*p.want {
		// Half the distance, rounded towards good so that mid never
		// reaches bad; the distance fits uint64 where int64 overflows.
		var mid int64
		if p.asc {
			d := uint64(good-bad) / 2
			if d == 0 {
				break
			}
			mid = good - int64(d)
		} else {
			d := uint64(bad-good) / 2
			if d == 0 {
				break
			}
			mid = good + int64(d)
		}
		if n, err = probe(mid); err != nil {
			return "", nil, false, err
		}
		if n >= p.want {
			good = mid
		} else {
			bad = mid
			n = 2 * p.want // good's count is still at least that
		}
	}
	if good == lo || good == hi {
		// No probe showed that enough matches lie past good (the first
		// counted matches outside the bounds too).
		return "", nil, false, nil
	}
	if p.asc {
		return "_time:<=" + formatTimeFilter(time.Unix(0, good)), nil, false, nil
	}
	return "_time:>=" + formatTimeFilter(time.Unix(0, good)), nil, false, nil
}

// key is where a record stands in the order of pages: its time (unix
// nanoseconds) and the text of its id field, "" when it has none; and
// the engine's stream of it (_stream_id), "" when unknown.
type key struct {
	time   int64
	id     string
	stream string
}

// compare orders keys as the engine's `sort by (_time, id)` does: ids
// are zero-padded to one length, so their text compares as their number,
// and a missing id ("") comes first.
func (k key) compare(o key, asc bool) int {
	c := cmp.Or(cmp.Compare(k.time, o.time), strings.Compare(k.id, o.id))
	if !asc {
		c = -c
	}
	return c
}

// at is a key without its stream: what tells records apart.
type at struct {
	time int64
	id   string
}

// filter is the LogsQL filter of the record at k: its stream first,
// which rules out other streams' blocks from their headers, then its time,
// which rules out the stream's other blocks before their timestamps are
// read.
func (k key) filter() string {
	t := formatTimeFilter(time.Unix(0, k.time))
	f := "_time:[" + t + "," + t + "] AND " + quote(FieldID) + ":=" + quote(k.id)
	if k.stream != "" {
		f = "_stream_id:" + quote(k.stream) + " AND " + f
	}
	return "(" + f + ")"
}

// keyOf reads the key of a result row.
func keyOf(row []Field) (key, error) {
	var k key
	seen := false
	for _, f := range row {
		switch f.Name {
		case FieldTime:
			t, err := parseTimeValue(f.Value)
			if err != nil {
				return key{}, err
			}
			k.time, seen = t.UnixNano(), true
		case FieldID:
			k.id = f.Value
		case "_stream_id":
			k.stream = f.Value
		}
	}
	if !seen {
		return key{}, fmt.Errorf("BUG: a result row without %s: %v", FieldTime, row)
	}
	return k, nil
}

// keys runs q, whose rows are keys (keysPipe), and returns them in order.
func (s *Searcher) keys(ctx context.Context, q string) ([]key, error) {
	var out []key
	err := s.Runner.RunQuery(ctx, q, func(row []Field) error {
		k, err := keyOf(row)
		out = append(out, k)
		return err
	})
	return out, err
}

// maxFetchKeys bounds the records fetch reads by their keys: past it, a
// filter naming each costs the engine more to parse and test than
// sorting the page whole.
const maxFetchKeys = 1000

// errFetch stops a fetch that met a record it did not ask for.
var errFetch = errors.New("fetch: unexpected record")

// fetch reads the records at keys, in their order; ok is false when it
// could not tell them apart (two live records at one key, which only two
// writers of one nanosecond make, or a record deleted since its key was
// read): the caller then reads the page whole.
//
// Why: a page sorted whole reads every column of every block holding a
// match in its window, to keep the few rows that make the page; the
// engine keeps a block per stream, and records that link an address
// spread over many streams (FieldAddrShard), so a second of a busy store
// spans a hundred blocks. Sorting keys only (keysPipe) reads two
// columns, and fetching the page by its keys reads only the blocks that
// hold its records: the time filters rule out the others from their
// headers.
func (s *Searcher) fetch(ctx context.Context, keys []key) (recs []record.Record, ok bool, err error) {
	if len(keys) == 0 {
		return nil, true, nil
	}
	if len(keys) > maxFetchKeys {
		return nil, false, nil
	}
	lo, hi := keys[0].time, keys[0].time
	index := make(map[at]int, len(keys))
	streams := map[string]bool{}
	var b strings.Builder
	for i, k := range keys {
		lo, hi = min(lo, k.time), max(hi, k.time)
		if _, dup := index[at{k.time, k.id}]; dup {
			return nil, false, nil
		}
		index[at{k.time, k.id}] = i
		streams[k.stream] = true
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString(k.filter())
	}
	q := "_time:[" + formatTimeFilter(time.Unix(0, lo)) + "," + formatTimeFilter(time.Unix(0, hi)) + "] AND (" +
		b.String() + ") AND " + Live
	if !streams[""] {
		// The streams as a filter of their own, which the engine
		// looks up in its index: it then reads only their blocks'
		// headers.
		ids := slices.Sorted(maps.Keys(streams))
		for i, id := range ids {
			ids[i] = quote(id)
		}
		q = "_stream_id:in(" + strings.Join(ids, ",") + ") AND " + q
	}
	if s.Scope != nil {
		if scope := s.Scope(); scope != "" {
			q += " AND (" + scope + ")"
		}
	}
	recs = make([]record.Record, len(keys))
	got := make([]bool, len(keys))
	err = s.Runner.RunQuery(ctx, q, func(row []Field) error {
		k, err := keyOf(row)
		if err != nil {
			return err
		}
		i, known := index[at{k.time, k.id}]
		if !known || got[i] {
			return errFetch
		}
		if recs[i], err = Decode(row); err != nil {
			return err
		}
		got[i] = true
		return nil
	})
	if errors.Is(err, errFetch) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if slices.Contains(got, false) {
		return nil, false, nil
	}
	return recs, true, nil
}

// Search streams the matching records to fn, a page at a time.
func (s *Searcher) Search(ctx context.Context, req store.SearchRequest, fn func(record.Record) error) (string, error) {
	next, err := s.search(ctx, req, fn)
	if err != nil {
		return "", fmt.Errorf("cannot search records: %w", err)
	}
	return next, nil
}

// errStop ends a query early.
var errStop = errors.New("stop")

func (s *Searcher) search(ctx context.Context, req store.SearchRequest, fn func(record.Record) error) (string, error) {
	n, err := searchLimit(req.Limit)
	if err != nil {
		return "", err
	}
	p, err := s.page(ctx, req, n)
	if err != nil {
		return "", err
	}
	w, keys, done, err := s.window(ctx, p)
	if err != nil {
		return "", err
	}
	filter := p.filter
	if w != "" {
		filter = "(" + p.filter + ") AND " + w
	}
	if !done {
		// The page's keys first, then its records (see fetch).
		if keys, err = s.keys(ctx, filter+p.pipe+keysPipe); err != nil {
			return "", err
		}
		if w != "" && p.probe != "" && len(keys) <= n {
			// The window held enough candidates but not enough
			// matches: every match is needed.
			filter = p.filter
			if keys, err = s.keys(ctx, filter+p.pipe+keysPipe); err != nil {
				return "", err
			}
		}
	}
	keys = keys[:min(len(keys), n+1)]
	page, ok, err := s.fetch(ctx, keys)
	if err != nil {
		return "", err
	}
	if !ok {
		// The page whole, as one query. It is read whole, then handed
		// to fn on this goroutine: the engine may call back on
		// goroutines of its own.
		page = page[:0]
		err := s.Runner.RunQuery(ctx, filter+p.pipe, func(row []Field) error {
			r, err := Decode(row)
			if err != nil {
				return err
			}
			page = append(page, r)
			if len(page) > n {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return "", err
		}
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var next string
	if len(page) > n {
		last := page[n-1]
		page = page[:n]
		next = encodeCursor(s.CursorKey, position{time: last.Time.UnixNano(), id: last.ID}, sqlbuild.Fingerprint(req))
	}
	for _, r := range page {
		if err := fn(r); err != nil {
			return "", err
		}
	}
	return next, nil
}

// maxBuckets bounds a histogram.
const maxBuckets = 1000

// Histogram counts the matching records in buckets of equal width.
func (s *Searcher) Histogram(ctx context.Context, req store.SearchRequest, buckets int) ([]store.Bucket, error) {
	bs, err := s.histogram(ctx, req, buckets)
	if err != nil {
		return nil, fmt.Errorf("cannot count records over time: %w", err)
	}
	return bs, nil
}

func (s *Searcher) histogram(ctx context.Context, req store.SearchRequest, buckets int) ([]store.Bucket, error) {
	if buckets < 1 || buckets > maxBuckets {
		return nil, fmt.Errorf("%w: %d buckets, want 1 to %d", store.ErrInvalid, buckets, maxBuckets)
	}
	from, to, ok, err := s.span(ctx, req)
	if err != nil || !ok {
		return []store.Bucket{}, err
	}
	if span := to - from; span <= 0 || span > math.MaxInt64-int64(buckets) {
		return nil, fmt.Errorf("%w: a histogram spans at most 292 years, got %s to %s", store.ErrInvalid,
			FormatTime(time.Unix(0, from)), FormatTime(time.Unix(0, to)))
	}
	width := max((to-from+int64(buckets)-1)/int64(buckets), 1)
	n := int((to - from) / width)
	if (to-from)%width != 0 {
		n++
	}
	r := req
	r.From, r.To = time.Unix(0, from), time.Unix(0, to)
	f, err := s.filterOf(ctx, r)
	if err != nil {
		return nil, err
	}
	out := make([]store.Bucket, n)
	for i := range out {
		out[i].Start = time.Unix(0, from+int64(i)*width).UTC()
	}
	q := f + " | stats by (" + timeBuckets(width, from) + ", " + FieldLevel + ") count() as n"
	err = s.Runner.RunQuery(ctx, q, func(row []Field) error {
		var (
			start time.Time
			level string
			count int64
		)
		for _, f := range row {
			var err error
			switch f.Name {
			case FieldTime:
				start, err = time.Parse(time.RFC3339Nano, f.Value)
			case FieldLevel:
				level = f.Value
			case "n":
				count, err = strconv.ParseInt(f.Value, 10, 64)
			}
			if err != nil {
				return fmt.Errorf("histogram row %v: %w", row, err)
			}
		}
		i := (start.UnixNano() - from) / width
		if i < 0 || i >= int64(n) {
			return fmt.Errorf("BUG: histogram bucket %d of %d (%s)", i, n, FormatTime(start))
		}
		b := &out[i]
		b.Count += count
		if b.ByLevel == nil {
			b.ByLevel = map[string]int64{}
		}
		b.ByLevel[level] += count
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// timeBuckets groups _time into buckets of width nanoseconds starting at
// from: the engine's buckets start at multiples of the width minus the
// offset.
func timeBuckets(width, from int64) string {
	off := (-from) % width
	if off < 0 {
		off += width
	}
	s := "_time:" + strconv.FormatInt(width, 10) + "ns"
	if off != 0 {
		s += " offset " + strconv.FormatInt(off, 10) + "ns"
	}
	return s
}

// span returns the time range [from, to) of a request in unix
// nanoseconds, closing open sides at the oldest and just after the newest
// match; ok is false when the range is empty.
func (s *Searcher) span(ctx context.Context, req store.SearchRequest) (from, to int64, ok bool, err error) {
	if !req.From.IsZero() && !req.To.IsZero() {
		from, to = req.From.UnixNano(), req.To.UnixNano()
		return from, to, from < to, nil
	}
	f, err := s.filterOf(ctx, req)
	if err != nil {
		return 0, 0, false, err
	}
	var lo, hi string
	err = s.Runner.RunQuery(ctx, f+" | stats min(_time) as lo, max(_time) as hi", func(row []Field) error {
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
		return 0, 0, false, err
	}
	if lo == "" || hi == "" {
		return 0, 0, false, nil
	}
	tlo, err := parseTimeValue(lo)
	if err != nil {
		return 0, 0, false, err
	}
	thi, err := parseTimeValue(hi)
	if err != nil {
		return 0, 0, false, err
	}
	from, to = tlo.UnixNano(), thi.UnixNano()+1
	if !req.From.IsZero() {
		from = req.From.UnixNano()
	}
	if !req.To.IsZero() {
		to = req.To.UnixNano()
	}
	return from, to, from < to, nil
}

// parseTimeValue reads a time the engine returns: RFC 3339.
func parseTimeValue(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("engine time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// IDs assigns record IDs as the SQLite store does: a record's ID is its
// time in unix nanoseconds, bumped past the IDs this process already gave
// (records of equal time are then ordered as they were stored), so that
// ID order follows time order. IDs are unique within a process; two
// processes writing records of the very same nanosecond may give one ID
// twice (the order of those two is then unstable). Safe for concurrent
// use.
type IDs struct {
	mu   sync.Mutex
	used map[int64]struct{}
}

// maxUsedIDs bounds the IDs remembered; past it the oldest are forgotten.
const maxUsedIDs = 1 << 20

// For returns the ID of a record at time t; calls for equal times return
// increasing IDs. It fails when a second past t is taken.
func (g *IDs) For(t time.Time) (int64, error) {
	ns := max(t.UnixNano(), 0)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.used == nil || len(g.used) >= maxUsedIDs {
		g.used = map[int64]struct{}{}
	}
	id := ns
	for {
		if _, taken := g.used[id]; !taken {
			break
		}
		id++
		if id-ns >= int64(time.Second) {
			return 0, fmt.Errorf("%w: more than %d records within a second of %s", store.ErrConflict, time.Second,
				FormatTime(t))
		}
	}
	g.used[id] = struct{}{}
	return id, nil
}

// formatID is the text of an ID in FieldID: non-negative IDs are padded
// to 19 digits, so that their text compares as their number.
func formatID(id int64) string {
	if id < 0 {
		return strconv.FormatInt(id, 10)
	}
	s := strconv.FormatInt(id, 10)
	return strings.Repeat("0", 19-len(s)) + s
}

// relaxed returns e with every phrase that is not under a NOT (free text
// or message:"…") replaced by the AND of its words, and whether there was
// one: it matches every record e matches, and more (the words in another
// order or another field). The exact filter of a phrase holds regexps of
// Unicode classes (sequenceRegexp) that the engine compiles each time it
// parses a query, about ten milliseconds a phrase, so the probes of a page
// count with the relaxed filter and only the page reads with the exact
// one. neg says e is under a NOT (an odd number of them), where a looser
// filter would be a stricter one.
func relaxed(e query.Expr, neg bool) (query.Expr, bool) {
	terms := func(ts []query.Expr) ([]query.Expr, bool) {
		var out []query.Expr
		for i, t := range ts {
			r, ok := relaxed(t, neg)
			if ok && out == nil {
				out = slices.Clone(ts[:i:i])
			}
			if out != nil {
				out = append(out, r)
			}
		}
		return out, out != nil
	}
	switch e := e.(type) {
	case *query.And:
		if ts, ok := terms(e.Terms); ok {
			return &query.And{Start: e.Start, Terms: ts}, true
		}
	case *query.Or:
		if ts, ok := terms(e.Terms); ok {
			return &query.Or{Start: e.Start, Terms: ts}, true
		}
	case *query.Not:
		if x, ok := relaxed(e.X, !neg); ok {
			return &query.Not{Start: e.Start, X: x}, true
		}
	case *query.Text:
		if toks := tokens(e.Value); !neg && len(toks) > 1 {
			ws := make([]query.Expr, len(toks))
			for i, t := range toks {
				ws[i] = &query.Text{Start: e.Start, Value: t, Prefix: e.Prefix && i == len(toks)-1}
			}
			return &query.And{Start: e.Start, Terms: ws}, true
		}
	case *query.Match:
		if toks := tokens(e.Value.Raw); !neg && e.Field == "message" && (e.Op == query.OpEq || e.Op == query.OpPrefix) &&
			len(toks) > 1 {
			ws := make([]query.Expr, len(toks))
			for i, t := range toks {
				op := query.OpEq
				if e.Op == query.OpPrefix && i == len(toks)-1 {
					op = query.OpPrefix
				}
				ws[i] = &query.Match{Start: e.Start, Field: e.Field, Op: op, Value: query.Value{Raw: t, Quoted: true, Kind: e.Value.Kind}}
			}
			return &query.And{Start: e.Start, Terms: ws}, true
		}
	}
	return e, false
}
