package query

import (
	"strconv"
	"time"
)

// Query is a parsed search: a filter over records, then pipes applied in
// order to the records that match.
type Query struct {
	// Filter selects records; nil matches every record (an empty query, "*",
	// or a query that is only pipes).
	Filter Expr
	// Pipes run in order on the matching records. The parser guarantees the
	// order rules documented in the package doc: at most one aggregating
	// pipe (Stats, Timechart, Top) and it comes first; at most one Fields,
	// one Sort and one Limit; Sort comes before Limit.
	Pipes []Pipe
}

// Expr is a node of the filter: *And, *Or, *Not, *Text, *Match, *Range or
// *Exists. Every node carries the byte offset in the query where it starts,
// and prints itself in canonical form, which parses back to an equal AST.
type Expr interface {
	// Pos is the byte offset in the query where the node starts.
	Pos() int
	// String is the canonical form of the node.
	String() string
	expr()
}

// And matches records matched by every term. Written as "a AND b" or with
// terms side by side ("a b", implicit AND). Nested Ands are flattened, so no
// term of an And is itself an *And; there are always at least two terms.
type And struct {
	Start int
	Terms []Expr
}

// Or matches records matched by any term. "a OR b". Nested Ors are
// flattened, so no term of an Or is itself an *Or; there are always at
// least two terms. AND binds tighter than OR: "a OR b c" is "a OR (b AND c)".
type Or struct {
	Start int
	Terms []Expr
}

// Not matches records that X does not match. Written "NOT x" or "-x".
type Not struct {
	Start int
	X     Expr
}

// Text is a free-text term: a word or a "quoted phrase" with no field. It
// matches records whose full text (message, and string attribute values
// where the store indexes them) contains it, case-insensitively, on word
// boundaries. A phrase matches its words consecutively and in order.
type Text struct {
	Start int
	// Value is the word or phrase, quotes removed and escapes resolved.
	Value string
	// Phrase is true when written in double quotes.
	Phrase bool
	// Prefix is true for an unquoted word ending in "*" ("liquid*"): it
	// matches any word starting with Value (Value excludes the "*").
	Prefix bool
}

// Op is the comparison of a Match.
type Op int

// Comparison operators of a Match.
const (
	// OpEq is field:value. On keyword, hash, address, number, time and bool
	// fields: equality. On text fields (message): the field contains the
	// word, or the phrase when the value is quoted, like Text. On attr.*:
	// see Value.
	OpEq Op = iota
	// OpLt, OpLe, OpGt, OpGe are field:<v, field:<=v, field:>v, field:>=v.
	// Allowed on number, time and level fields and on attr.* (numeric
	// comparison when the value is a number, else lexicographic). On
	// level, the order is the severity order of Levels.
	OpLt
	OpLe
	OpGt
	OpGe
	// OpPrefix is field:abc* — the field starts with Value.Raw (the "*"
	// is not part of Raw). On hash and address fields Raw is lowercase
	// hex with its "0x" (a partial hash).
	OpPrefix
	// OpSuffix is field:*abc — the field ends with Value.Raw.
	OpSuffix
	// OpContains is field:*abc* — the field contains Value.Raw.
	OpContains
	// OpGlob is any other pattern with unescaped "*" (ab*cd, a*b*c):
	// Value.Glob holds the literal segments between the stars; the field
	// matches when it is Glob[0] + any + Glob[1] + … + Glob[n-1], anchored
	// at both ends (a segment may be empty, at either end).
	OpGlob
)

// Match is a field term: field:value, field:>value, field:abc* and so on.
// Field is the canonical field name (see Fields table in the package doc),
// e.g. "gasUsed" or "attr.user.id". Value is typed by the field's type;
// the parser rejects values that do not fit the field (a word for a number
// field, a comparison on a keyword field, a wildcard on a number field).
//
// Special fields: "tx" matches the record's transaction hash and its tx
// links; "address" matches from, to, contract and the record's address
// links.
type Match struct {
	Start int
	Field string
	Op    Op
	Value Value
}

// Range is field:[lo TO hi] (inclusive) or field:{lo TO hi} (exclusive);
// the brackets may be mixed ("[1 TO 5}"). Lo and Hi are typed like a Match
// value on that field. "*" as a bound means unbounded on that side; then
// that bound's Value has Kind KindAny. Allowed on the same fields as OpLt.
type Range struct {
	Start     int
	Field     string
	Lo, Hi    Value
	LoExcl    bool // "{": lo itself excluded
	HiExcl    bool // "}": hi itself excluded
	LoUnbound bool // lo written as "*"
	HiUnbound bool // hi written as "*"
}

// Exists is field:* — the record has the field (non-null; for tx and
// address: at least one link).
type Exists struct {
	Start int
	Field string
}

// ValueKind says which typed form of a Value is set.
type ValueKind int

// Value kinds.
const (
	// KindString: only Raw is meaningful.
	KindString ValueKind = iota
	// KindNumber: Num and Dec are set.
	KindNumber
	// KindHex: Bytes is set (a full 32-byte hash on tx, a 20-byte address
	// on address fields, or either length on attr.*).
	KindHex
	// KindTime: Time is set (RFC 3339 on the time field).
	KindTime
	// KindBool: Bool is set (true/false on attr.*).
	KindBool
	// KindAny: an unbounded range side ("*"); nothing else is set.
	KindAny
)

// Value is a field value with its text and its typed form.
//
// On attr.* fields an unquoted value is typed by its look: a number, true or
// false, 0x followed by 40 or 64 hex digits, else a string; a quoted value is
// always a string. The executor then matches an attribute whose stored value
// equals the typed form, or whose string form equals Raw (so attr.user.id:42
// matches both 42 and "42").
type Value struct {
	// Raw is the value as written, quotes removed and escapes resolved,
	// with one normalisation: values of enumerated fields (level, status)
	// are lowercased, and hex of hash/address prefixes is lowercased.
	Raw string
	// Quoted is true when the value was written in double quotes: a "*"
	// inside is literal, and on attr.* the value is a string.
	Quoted bool
	Kind   ValueKind
	// Num is the number as float64 (KindNumber).
	Num float64
	// Dec is the exact decimal form of a number (KindNumber), without
	// exponent, leading zeros or trailing fractional zeros, e.g.
	// "1000000000000000000" for 1e18, "-0.5" for -.50. Use it where float64
	// loses precision (wei values).
	Dec string
	// Bytes is the decoded hex (KindHex).
	Bytes []byte
	// Time is the instant (KindTime), in UTC.
	Time time.Time
	// Bool is the boolean (KindBool).
	Bool bool
	// Glob holds the literal segments of an OpGlob pattern.
	Glob []string
}

// Pipe is a stage after "|": *Stats, *Timechart, *Top, *FieldsPipe, *Sort
// or *Limit.
type Pipe interface {
	// Pos is the byte offset of the pipe's name in the query.
	Pos() int
	// String is the canonical form of the pipe, without the leading "|".
	String() string
	pipe()
}

// Agg is one aggregation in stats or timechart: count(), count(field),
// count_distinct(field), sum/avg/min/max(field), p50/p90/p95/p99(field)
// (any pN with 1 ≤ N ≤ 99), optionally "as name".
//
// count() counts records; count(field) counts records that have the field.
// sum, avg and pN need a number field (or attr.*); min and max a number or
// time field (or attr.*); count_distinct any field.
type Agg struct {
	Start int
	// Func is the lowercase function name: "count", "count_distinct",
	// "sum", "avg", "min", "max", "p95"…
	Func string
	// Field is the argument; empty only for count().
	Field string
	// As is the output column name given with "as"; empty when none.
	As string
}

// Stats aggregates the matching records, grouped by the By fields (none:
// one row). Output columns: the By fields, then one per Agg named by
// Agg.Name().
type Stats struct {
	Start int
	Aggs  []Agg
	By    []string
}

// Timechart aggregates the matching records into time buckets of Interval,
// grouped by the By field (at most one), for a chart. Interval 0 means not
// given: the executor picks one from the time range. Output columns:
// "time" (bucket start), the By field, then the aggregations.
type Timechart struct {
	Start    int
	Interval time.Duration
	Aggs     []Agg
	By       []string
}

// Top returns the N most frequent values of Field with their counts, most
// frequent first. Output columns: Field and "count".
type Top struct {
	Start int
	// N is 10 when not written; 1 ≤ N ≤ MaxLimit.
	N     int
	Field string
}

// FieldsPipe keeps only the listed fields (columns) in the output. After an
// aggregating pipe, the names are its output columns.
type FieldsPipe struct {
	Start  int
	Fields []string
}

// SortKey is one key of a sort: a field, or after an aggregating pipe an
// output column name (an "as" name or the canonical aggregation text such
// as "count()").
type SortKey struct {
	Field string
	Desc  bool // written with a leading "-"
}

// Sort orders the output by the keys, first key first.
type Sort struct {
	Start int
	Keys  []SortKey
}

// Limit keeps the first N rows; 1 ≤ N ≤ MaxLimit. "head N" is the same.
type Limit struct {
	Start int
	N     int
}

// Limits against hostile input, enforced by Parse.
const (
	// MaxQueryLen is the longest query accepted, in bytes.
	MaxQueryLen = 64 << 10
	// MaxDepth bounds nesting of parentheses and NOT.
	MaxDepth = 100
	// MaxTerms bounds the number of terms (leaves) in the filter.
	MaxTerms = 1000
	// MaxLimit bounds limit, head and top N.
	MaxLimit = 10000
)

func (e *And) Pos() int    { return e.Start }
func (e *Or) Pos() int     { return e.Start }
func (e *Not) Pos() int    { return e.Start }
func (e *Text) Pos() int   { return e.Start }
func (e *Match) Pos() int  { return e.Start }
func (e *Range) Pos() int  { return e.Start }
func (e *Exists) Pos() int { return e.Start }

func (*And) expr()    {}
func (*Or) expr()     {}
func (*Not) expr()    {}
func (*Text) expr()   {}
func (*Match) expr()  {}
func (*Range) expr()  {}
func (*Exists) expr() {}

func (p *Stats) Pos() int      { return p.Start }
func (p *Timechart) Pos() int  { return p.Start }
func (p *Top) Pos() int        { return p.Start }
func (p *FieldsPipe) Pos() int { return p.Start }
func (p *Sort) Pos() int       { return p.Start }
func (p *Limit) Pos() int      { return p.Start }

func (*Stats) pipe()      {}
func (*Timechart) pipe()  {}
func (*Top) pipe()        {}
func (*FieldsPipe) pipe() {}
func (*Sort) pipe()       {}
func (*Limit) pipe()      {}

// Name is the output column name of the aggregation: As when given, else
// the canonical call text, e.g. "avg(gasUsed)" or "count()".
func (a Agg) Name() string {
	if a.As != "" {
		return a.As
	}
	return a.call()
}

func (a Agg) call() string { return a.Func + "(" + a.Field + ")" }

// Quantile returns q in (0,1) for a pN aggregation (p95 → 0.95), and false
// for the other functions.
func (a Agg) Quantile() (float64, bool) {
	if len(a.Func) < 2 || a.Func[0] != 'p' {
		return 0, false
	}
	n := 0
	for _, c := range a.Func[1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return float64(n) / 100, true
}

var opNames = [...]string{OpEq: "eq", OpLt: "lt", OpLe: "le", OpGt: "gt", OpGe: "ge",
	OpPrefix: "prefix", OpSuffix: "suffix", OpContains: "contains", OpGlob: "glob"}

// String names the operator: "eq", "lt", "le", "gt", "ge", "prefix",
// "suffix", "contains", "glob".
func (o Op) String() string {
	if o >= 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

var kindNames = [...]string{KindString: "string", KindNumber: "number", KindHex: "hex",
	KindTime: "time", KindBool: "bool", KindAny: "any"}

// String names the kind: "string", "number", "hex", "time", "bool", "any".
func (k ValueKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}
