package query

import (
	"strconv"
	"strings"
	"time"
)

// parsePipes parses "| pipe" stages until the end of the query and checks
// their order and their references.
func (p *parser) parsePipes() ([]Pipe, error) {
	var pipes []Pipe
	var agg Pipe      // the aggregating pipe, if any
	var cols []string // its output columns
	seen := map[string]int{}
	for !p.eof() {
		// p.peek() is '|'.
		p.pos++
		name, pos := p.scanIdent()
		if name == "" {
			return nil, p.errf(pos, "expected a pipe (stats, timechart, top, fields, sort, limit, head) after \"|\", found %s", p.found(pos))
		}
		lname := strings.ToLower(name)
		if lname == "head" {
			lname = "limit"
		}
		var pipe Pipe
		var err error
		switch lname {
		case "stats", "timechart", "top":
			if agg != nil {
				return nil, p.errf(pos, "only one of stats, timechart and top per query (found %s after %s)", lname, pipeName(agg))
			}
			for _, other := range []string{"fields", "sort", "limit"} {
				if _, ok := seen[other]; ok {
					return nil, p.errf(pos, "%s must come before %s", lname, other)
				}
			}
			switch lname {
			case "stats":
				pipe, err = p.parseStats(pos)
			case "timechart":
				pipe, err = p.parseTimechart(pos)
			default:
				pipe, err = p.parseTop(pos)
			}
			if err == nil {
				agg, cols = pipe, outputColumns(pipe)
			}
		case "fields":
			pipe, err = p.parseFieldsPipe(pos, cols, agg)
		case "sort":
			if _, ok := seen["limit"]; ok {
				return nil, p.errf(pos, "sort must come before limit")
			}
			pipe, err = p.parseSort(pos, cols, agg)
		case "limit":
			n, err2 := p.scanInt("a row count after "+strconv.Quote(name), 1, MaxLimit)
			pipe, err = &Limit{Start: pos, N: n}, err2
		default:
			return nil, p.errf(pos, "unknown pipe %q%s", name, suggestPipe(lname))
		}
		if err != nil {
			return nil, err
		}
		if _, dup := seen[lname]; dup && lname != "stats" && lname != "timechart" && lname != "top" {
			return nil, p.errf(pos, "only one %s per query", lname)
		}
		seen[lname] = pos
		p.skipSpace()
		if !p.eof() && p.peek() != '|' {
			return nil, p.errf(p.pos, "unexpected %s after %s; pipes are separated by \"|\"", p.found(p.pos), lname)
		}
		pipes = append(pipes, pipe)
	}
	return pipes, nil
}

var pipeNames = []string{"stats", "timechart", "top", "fields", "sort", "limit", "head"}

func suggestPipe(name string) string {
	best, bestD := "", 1<<30
	for _, n := range pipeNames {
		if d := EditDistance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	if likelyTypo(bestD, len(name)) {
		return ", did you mean " + strconv.Quote(best) + "?"
	}
	return " (one of " + strings.Join(pipeNames, ", ") + ")"
}

func pipeName(p Pipe) string {
	switch p.(type) {
	case *Stats:
		return "stats"
	case *Timechart:
		return "timechart"
	case *Top:
		return "top"
	}
	return ""
}

// outputColumns lists the columns an aggregating pipe produces.
func outputColumns(p Pipe) []string {
	var cols []string
	switch x := p.(type) {
	case *Stats:
		cols = append(cols, x.By...)
		for _, a := range x.Aggs {
			cols = append(cols, a.Name())
		}
	case *Timechart:
		cols = append(cols, "time")
		cols = append(cols, x.By...)
		for _, a := range x.Aggs {
			cols = append(cols, a.Name())
		}
	case *Top:
		cols = append(cols, x.Field, "count")
	}
	return cols
}

// pipeField reads a record field name in a pipe.
func (p *parser) pipeField(what string) (string, int, error) {
	name, pos := p.scanIdent()
	if name == "" {
		return "", pos, p.errf(pos, "expected %s, found %s", what, p.found(pos))
	}
	f, err := p.resolveField(name, pos)
	if err != nil {
		return "", pos, err
	}
	return f.Name, pos, nil
}

// comma consumes a "," if one is next.
func (p *parser) comma() bool {
	p.skipSpace()
	if p.peek() == ',' {
		p.pos++
		return true
	}
	return false
}

// keyword consumes the word kw (any case) if it is next.
func (p *parser) keyword(kw string) bool {
	p.skipSpace()
	end := p.pos + len(kw)
	if end <= len(p.q) && strings.EqualFold(p.q[p.pos:end], kw) && (end == len(p.q) || !isIdent(p.q[end])) {
		p.pos = end
		return true
	}
	return false
}

var aggFuncs = []string{"count", "count_distinct", "sum", "avg", "min", "max", "p50", "p90", "p95", "p99"}

// validAggFunc reports whether name is an aggregation function: one of
// aggFuncs or pN with 1 ≤ N ≤ 99 written without leading zero.
func validAggFunc(name string) bool {
	for _, f := range aggFuncs {
		if name == f {
			return true
		}
	}
	if len(name) >= 2 && len(name) <= 3 && name[0] == 'p' && name[1] >= '1' && name[1] <= '9' {
		return len(name) == 2 || name[2] >= '0' && name[2] <= '9'
	}
	return false
}

// parseAgg parses func(field?) [as name].
func (p *parser) parseAgg() (Agg, error) {
	name, pos := p.scanIdent()
	if name == "" {
		return Agg{}, p.errf(pos, "expected an aggregation such as count() or avg(gasUsed), found %s", p.found(pos))
	}
	a := Agg{Start: pos, Func: strings.ToLower(name)}
	if !validAggFunc(a.Func) {
		return a, p.errf(pos, "unknown aggregation %q (one of %s, or pN for a percentile)", name, strings.Join(aggFuncs, ", "))
	}
	p.skipSpace()
	if p.peek() != '(' {
		return a, p.errf(p.pos, "expected \"(\" after %s, found %s", a.Func, p.found(p.pos))
	}
	p.pos++
	p.skipSpace()
	if p.peek() != ')' {
		field, fpos, err := p.pipeField("a field")
		if err != nil {
			return a, err
		}
		a.Field = field
		f, _ := LookupField(field)
		if err := checkAggArg(a.Func, f); err != "" {
			return a, p.errf(fpos, "%s", err)
		}
		p.skipSpace()
	}
	if p.peek() != ')' {
		return a, p.errf(p.pos, "expected \")\" after the argument of %s, found %s", a.Func, p.found(p.pos))
	}
	p.pos++
	if a.Field == "" && a.Func != "count" {
		return a, p.errf(pos, "%s needs a field, e.g. %s(gasUsed)", a.Func, a.Func)
	}
	if p.keyword("as") {
		as, apos := p.scanIdent()
		if as == "" {
			return a, p.errf(apos, "expected a column name after \"as\", found %s", p.found(apos))
		}
		a.As = as
	}
	return a, nil
}

// checkAggArg says why field f cannot be the argument of fn, or "".
func checkAggArg(fn string, f Field) string {
	switch fn {
	case "count", "count_distinct":
		return ""
	case "min", "max":
		if f.Type == TypeNumber || f.Type == TypeTime || f.Type == TypeAttr {
			return ""
		}
		return fn + " needs a number or time field, and " + f.Name + " is " + article(f.Type.String()) + " field"
	}
	if f.Type == TypeNumber || f.Type == TypeAttr {
		return ""
	}
	return fn + " needs a number field (block, gasUsed, value or attr.*), and " + f.Name + " is " + article(f.Type.String()) + " field"
}

func (p *parser) parseAggs() ([]Agg, error) {
	var aggs []Agg
	for {
		a, err := p.parseAgg()
		if err != nil {
			return nil, err
		}
		for _, b := range aggs {
			if b.Name() == a.Name() {
				return nil, p.errf(a.Start, "column %q appears twice; name one with \"as\"", a.Name())
			}
		}
		aggs = append(aggs, a)
		if !p.comma() {
			return aggs, nil
		}
	}
}

func (p *parser) parseBy(maxFields int, pipe string) ([]string, error) {
	if !p.keyword("by") {
		return nil, nil
	}
	var by []string
	for {
		f, pos, err := p.pipeField("a field after \"by\"")
		if err != nil {
			return nil, err
		}
		if len(by) == maxFields {
			return nil, p.errf(pos, "%s groups by %s at most", pipe, plural(maxFields, "field"))
		}
		by = append(by, f)
		if !p.comma() {
			return by, nil
		}
	}
}

// maxBy bounds the group-by fields of stats.
const maxBy = 10

func (p *parser) parseStats(pos int) (Pipe, error) {
	aggs, err := p.parseAggs()
	if err != nil {
		return nil, err
	}
	by, err := p.parseBy(maxBy, "stats")
	if err != nil {
		return nil, err
	}
	return &Stats{Start: pos, Aggs: aggs, By: by}, nil
}

func (p *parser) parseTimechart(pos int) (Pipe, error) {
	t := &Timechart{Start: pos}
	p.skipSpace()
	if c := p.peek(); c >= '0' && c <= '9' {
		ipos := p.pos
		for p.pos < len(p.q) && isIdent(p.q[p.pos]) {
			p.pos++
		}
		d, err := ParseInterval(p.q[ipos:p.pos])
		if err != nil {
			return nil, p.errf(ipos, "%s", strings.TrimPrefix(err.Error(), "query: "))
		}
		t.Interval = d
	}
	p.skipSpace()
	if name, _ := p.peekIdent(); name != "" && !strings.EqualFold(name, "by") {
		aggs, err := p.parseAggs()
		if err != nil {
			return nil, err
		}
		t.Aggs = aggs
	} else {
		// timechart without aggregation counts records.
		t.Aggs = []Agg{{Start: p.pos, Func: "count"}}
	}
	by, err := p.parseBy(1, "timechart")
	if err != nil {
		return nil, err
	}
	t.By = by
	return t, nil
}

// peekIdent returns the name at p.pos without consuming it.
func (p *parser) peekIdent() (string, int) {
	save := p.pos
	name, pos := p.scanIdent()
	p.pos = save
	return name, pos
}

func (p *parser) parseTop(pos int) (Pipe, error) {
	t := &Top{Start: pos, N: 10}
	p.skipSpace()
	if c := p.peek(); c >= '0' && c <= '9' {
		n, err := p.scanInt("a count after top", 1, MaxLimit)
		if err != nil {
			return nil, err
		}
		t.N = n
	}
	f, _, err := p.pipeField("a field after top")
	if err != nil {
		return nil, err
	}
	t.Field = f
	return t, nil
}

// columnRef reads a column name in fields or sort: a record field, or
// after an aggregating pipe one of its output columns (an "as" name, a by
// field, or an aggregation's call text such as count()).
func (p *parser) columnRef(what string, cols []string, agg Pipe) (string, error) {
	name, pos := p.scanIdent()
	if name == "" {
		return "", p.errf(pos, "expected %s, found %s", what, p.found(pos))
	}
	p.skipSpace()
	if p.peek() == '(' {
		// An aggregation's call text: reparse it as one to canonicalize.
		p.pos = pos
		a, err := p.parseAgg()
		if err != nil {
			return "", err
		}
		if a.As != "" {
			return "", p.errf(pos, "unexpected \"as\" in %s", what)
		}
		name = a.call()
	}
	if agg == nil {
		if strings.HasSuffix(name, ")") {
			return "", p.errf(pos, "%s is an aggregation; it names a column only after stats, timechart or top", name)
		}
		f, err := p.resolveField(name, pos)
		if err != nil {
			return "", err
		}
		return f.Name, nil
	}
	for _, c := range cols {
		if c == name {
			return c, nil
		}
	}
	if f, ok := LookupField(name); ok {
		for _, c := range cols {
			if c == f.Name {
				return c, nil
			}
		}
	}
	return "", p.errf(pos, "%q is not a column of %s; its columns are %s", name, pipeName(agg), strings.Join(cols, ", "))
}

func (p *parser) parseFieldsPipe(pos int, cols []string, agg Pipe) (Pipe, error) {
	f := &FieldsPipe{Start: pos}
	for {
		name, err := p.columnRef("a field name", cols, agg)
		if err != nil {
			return nil, err
		}
		f.Fields = append(f.Fields, name)
		if !p.comma() {
			return f, nil
		}
	}
}

func (p *parser) parseSort(pos int, cols []string, agg Pipe) (Pipe, error) {
	s := &Sort{Start: pos}
	for {
		p.skipSpace()
		desc := false
		if c := p.peek(); c == '-' || c == '+' {
			desc = c == '-'
			p.pos++
		}
		name, err := p.columnRef("a sort key", cols, agg)
		if err != nil {
			return nil, err
		}
		s.Keys = append(s.Keys, SortKey{Field: name, Desc: desc})
		if !p.comma() {
			return s, nil
		}
	}
}

// Interval bounds accepted by ParseInterval.
const (
	MinInterval = time.Second
	MaxInterval = 366 * 24 * time.Hour
)

// MaxDuration bounds ParseDuration: about 200 years, past every searchable
// time and well inside time.Duration.
const MaxDuration = 73000 * 24 * time.Hour

// ParseDuration parses the one duration syntax of blocktorch: a positive
// integer and a unit, s, m, h or d (30s, 15m, 24h, 3650d), up to
// MaxDuration. Relative times (from=now-3650d), timechart intervals and
// share expiries all use it.
func ParseDuration(s string) (time.Duration, error) {
	if len(s) < 2 || len(s) > 12 {
		return 0, &durationError{s}
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 's':
		unit = time.Second
	case 'm':
		unit = time.Minute
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	default:
		return 0, &durationError{s}
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n <= 0 || s[0] == '+' || n > int64(MaxDuration/unit) {
		return 0, &durationError{s}
	}
	return time.Duration(n) * unit, nil
}

type durationError struct{ s string }

func (e *durationError) Error() string {
	return "invalid duration " + strconv.Quote(e.s) + ": want a whole number of s, m, h or d (30s, 15m, 24h, 3650d)"
}

// ParseInterval parses a bucket interval: a duration (ParseDuration)
// between MinInterval and MaxInterval.
func ParseInterval(s string) (time.Duration, error) {
	d, err := ParseDuration(s)
	if err != nil || d < MinInterval || d > MaxInterval {
		return 0, &intervalError{s}
	}
	return d, nil
}

type intervalError struct{ s string }

func (e *intervalError) Error() string {
	return "query: invalid interval " + strconv.Quote(e.s) +
		": want a whole number of s, m, h or d (10s, 1m, 5m, 1h, 1d) from 1s to 366d"
}

func plural(n int, what string) string {
	if n == 1 {
		return "one " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func article(w string) string {
	if w != "" && strings.ContainsRune("aeiou", rune(w[0])) {
		return "an " + w
	}
	return "a " + w
}
