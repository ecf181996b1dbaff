package sqlbuild

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Dialect is what differs between SQL backends. Methods that need values
// take arg, which binds a value and returns its placeholder; they never put
// a value into the SQL text.
type Dialect interface {
	// Param returns the placeholder of argument n, counting from 1.
	Param(n int) string
	// JSONNumber returns an expression of the attribute at path in the JSON
	// column col when it is a JSON number, else NULL. The attribute is at
	// the first candidate of path that the record has (see Path).
	JSONNumber(col string, path Path, arg func(any) string) string
	// JSONString returns an expression of the attribute at path when it is
	// a JSON string, else NULL.
	JSONString(col string, path Path, arg func(any) string) string
	// JSONBool returns 1 or 0 when the attribute at path is a JSON
	// boolean, else NULL.
	JSONBool(col string, path Path, arg func(any) string) string
	// JSONValue returns the attribute at path as an SQL value (number,
	// text, 1/0 for booleans, JSON text for objects and arrays), NULL when
	// missing: what grouping by an attribute shows.
	JSONValue(col string, path Path, arg func(any) string) string
	// JSONExists returns a condition that the attribute at path is present
	// and not null.
	JSONExists(col string, path Path, arg func(any) string) string
	// Pattern returns a condition that the text expression expr is
	// segs[0] + any text + segs[1] + … + segs[n-1], anchored at both ends;
	// ASCII case-insensitive when fold is set.
	Pattern(expr string, segs []string, fold bool, arg func(any) string) string
	// TextMatch returns a condition that the record whose id is the
	// expression id matches the full-text query t.
	TextMatch(id string, t *Text, arg func(any) string) string
	// TxHex returns a text expression of the first transaction hash in
	// the BLOB expression col, as lower-case 0x-hex, NULL when empty.
	TxHex(col string) string
}

// TextOp says what a Text node is.
type TextOp int

// Full-text query nodes.
const (
	TextTerm TextOp = iota // a word, phrase or prefix in one column or all
	TextAnd                // every term
	TextOr                 // any term
	TextNot                // Terms[0] and none of the others
)

// Text columns of the full-text index.
const (
	ColumnAny     = ""        // message, attribute text and links
	ColumnMessage = "message" // the message
	ColumnTx      = "tx"      // transaction hash links
	ColumnAddress = "address" // address links
)

// Text is a full-text query, translated by the Dialect into its
// full-text syntax (SQLite FTS5 MATCH, PostgreSQL tsquery).
type Text struct {
	Op TextOp
	// Column is one of the Column constants (TextTerm).
	Column string
	// Value is the text: its words are matched consecutively, in order
	// (TextTerm). When Prefix is set the last word matches as a prefix.
	Value  string
	Prefix bool
	Terms  []*Text
}

// Builder accumulates the values of one statement. Arg returns a marker
// rather than a placeholder, and Render numbers the markers in the order
// they appear in the final text: fragments can then be built in any order
// and nested anywhere, and "?" and "$n" placeholders both come out right.
// Backends build the rest of their statement with Arg too.
type Builder struct {
	d    Dialect
	vals []any
}

// New returns a builder for dialect d.
func New(d Dialect) *Builder { return &Builder{d: d} }

// Dialect returns the builder's dialect.
func (b *Builder) Dialect() Dialect { return b.d }

// marker delimits an argument marker. SQL text built here holds only
// fixed fragments, never user text, so it cannot contain one otherwise.
const marker = '\x00'

// Arg binds v and returns its marker.
func (b *Builder) Arg(v any) string {
	b.vals = append(b.vals, v)
	return string(marker) + strconv.Itoa(len(b.vals)-1) + string(marker)
}

// Render replaces the markers in sql with the dialect's placeholders,
// numbered in order of appearance, and returns the arguments in that
// order. A marker that appears twice binds its value twice.
func (b *Builder) Render(sql string) (string, []any) {
	var (
		out  strings.Builder
		args []any
	)
	for {
		i := strings.IndexByte(sql, marker)
		if i < 0 {
			out.WriteString(sql)
			return out.String(), args
		}
		j := strings.IndexByte(sql[i+1:], marker)
		if j < 0 {
			panic("BUG: unterminated argument marker in built SQL")
		}
		n, err := strconv.Atoi(sql[i+1 : i+1+j])
		if err != nil || n < 0 || n >= len(b.vals) {
			panic("BUG: bad argument marker in built SQL")
		}
		out.WriteString(sql[:i])
		args = append(args, b.vals[n])
		out.WriteString(b.d.Param(len(args)))
		sql = sql[i+1+j+1:]
	}
}

// Cond is a translated filter: a record matches when it matches Text
// (unless nil) and SQL (unless empty). Backends drive the scan from their
// full-text index when Text is set, and from the records table otherwise.
type Cond struct {
	SQL  string
	Text *Text
}

// Where returns the whole condition as SQL over records aliased r: SQL
// and a match of Text; "1=1" when there is none.
func (c Cond) Where(b *Builder) string {
	return b.full(part{sql: c.SQL, text: c.Text})
}

// Filter translates e (nil matches every record) into a condition over
// the records table aliased r. Errors wrap store.ErrInvalid.
func (b *Builder) Filter(e query.Expr) (Cond, error) {
	if e == nil {
		return Cond{}, nil
	}
	p, err := b.expr(e)
	if err != nil {
		return Cond{}, err
	}
	if p.not != nil {
		return Cond{SQL: b.full(p)}, nil
	}
	return Cond{SQL: p.sql, Text: p.text}, nil
}

// part is a translated node: it matches when text matches (unless nil),
// sql holds (unless empty), and not does not match (unless nil; then
// text and sql are empty). Keeping text apart lets an AND of text terms
// become one full-text query.
type part struct {
	text *Text
	sql  string
	not  *Text
}

// full returns p as one SQL condition.
func (b *Builder) full(p part) string {
	var conds []string
	if p.sql != "" {
		conds = append(conds, p.sql)
	}
	if p.text != nil {
		conds = append(conds, b.d.TextMatch("r.id", p.text, b.Arg))
	}
	if p.not != nil {
		conds = append(conds, "NOT "+b.d.TextMatch("r.id", p.not, b.Arg))
	}
	switch len(conds) {
	case 0:
		return "1=1"
	case 1:
		return conds[0]
	}
	return "(" + strings.Join(conds, " AND ") + ")"
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", store.ErrInvalid, fmt.Sprintf(format, args...))
}

func (b *Builder) expr(e query.Expr) (part, error) {
	switch e := e.(type) {
	case *query.And:
		return b.and(e.Terms)
	case *query.Or:
		return b.or(e.Terms)
	case *query.Not:
		p, err := b.expr(e.X)
		if err != nil {
			return part{}, err
		}
		if p.sql == "" && p.not == nil && p.text != nil {
			return part{not: p.text}, nil
		}
		return part{sql: "NOT " + b.full(p)}, nil
	case *query.Text:
		return b.text(ColumnAny, e.Value, e.Prefix)
	case *query.Match:
		return b.match(e)
	case *query.Range:
		return b.rangeExpr(e)
	case *query.Exists:
		return b.exists(e.Field)
	case nil:
		return part{}, invalid("empty filter node")
	}
	return part{}, invalid("unsupported filter node %T", e)
}

func (b *Builder) and(terms []query.Expr) (part, error) {
	var (
		texts, nots []*Text
		sqls        []string
	)
	for _, t := range terms {
		p, err := b.expr(t)
		if err != nil {
			return part{}, err
		}
		if p.text != nil {
			texts = append(texts, p.text)
		}
		if p.sql != "" {
			sqls = append(sqls, p.sql)
		}
		if p.not != nil {
			nots = append(nots, p.not)
		}
	}
	var out part
	switch len(texts) {
	case 0:
	case 1:
		out.text = texts[0]
	default:
		out.text = &Text{Op: TextAnd, Terms: texts}
	}
	if len(nots) > 0 {
		if out.text != nil {
			// FTS5 and tsquery both have a binary NOT: a NOT b.
			out.text = &Text{Op: TextNot, Terms: append([]*Text{out.text}, nots...)}
		} else {
			for _, n := range nots {
				sqls = append(sqls, "NOT "+b.d.TextMatch("r.id", n, b.Arg))
			}
		}
	}
	switch len(sqls) {
	case 0:
	case 1:
		out.sql = sqls[0]
	default:
		out.sql = "(" + strings.Join(sqls, " AND ") + ")"
	}
	if out.text == nil && out.sql == "" {
		out.sql = "1=1"
	}
	return out, nil
}

func (b *Builder) or(terms []query.Expr) (part, error) {
	parts := make([]part, len(terms))
	allText := true
	for i, t := range terms {
		p, err := b.expr(t)
		if err != nil {
			return part{}, err
		}
		parts[i] = p
		if p.sql != "" || p.not != nil || p.text == nil {
			allText = false
		}
	}
	if allText {
		t := &Text{Op: TextOr}
		for _, p := range parts {
			t.Terms = append(t.Terms, p.text)
		}
		return part{text: t}, nil
	}
	sqls := make([]string, len(parts))
	for i, p := range parts {
		sqls[i] = b.full(p)
	}
	return part{sql: "(" + strings.Join(sqls, " OR ") + ")"}, nil
}

// maxPattern bounds the literal text of a pattern, below the backends'
// own limits (SQLite refuses LIKE patterns over 50,000 bytes).
const maxPattern = 10_000

// text translates a word, phrase or prefix in column. Text without a
// single letter or digit has no words to look up, so it is matched as a
// substring of the message instead.
func (b *Builder) text(column, value string, prefix bool) (part, error) {
	if !hasWord(value) {
		if value == "" {
			return part{sql: "1=1"}, nil
		}
		if len(value) > maxPattern {
			return part{}, invalid("text of %d bytes is longer than %d", len(value), maxPattern)
		}
		if column == ColumnTx || column == ColumnAddress {
			return part{sql: "1=0"}, nil
		}
		return part{sql: b.d.Pattern("r.message", []string{"", value, ""}, true, b.Arg)}, nil
	}
	return part{text: &Text{Op: TextTerm, Column: column, Value: value, Prefix: prefix}}, nil
}

// hasWord reports whether s has a letter or digit: a word the full-text
// index could hold.
func hasWord(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// fieldDef says where a known field is stored.
type fieldDef struct {
	col  string // a records column, or
	path Path   // an attribute of chain records, or an attr.* path
	typ  query.FieldType
}

// fields maps every known field of the language to its storage. It is the
// only source of column names in the SQL built here.
var fields = map[string]fieldDef{
	"time":         {col: "r.time", typ: query.TypeTime},
	"source":       {col: "r.source", typ: query.TypeKeyword},
	"kind":         {col: "r.kind", typ: query.TypeKeyword},
	"level":        {col: "r.level", typ: query.TypeEnum},
	"service":      {col: "r.service", typ: query.TypeKeyword},
	"message":      {col: "r.message", typ: query.TypeText},
	"tx":           {col: "r.tx_hashes", typ: query.TypeHash},
	"address":      {col: "r.addresses", typ: query.TypeAddress},
	"block":        {col: "r.block", typ: query.TypeNumber},
	"from":         {path: Path{{"from"}}, typ: query.TypeAddress},
	"to":           {path: Path{{"to"}}, typ: query.TypeAddress},
	"contract":     {path: Path{{"contract"}}, typ: query.TypeAddress},
	"event":        {path: Path{{"event"}}, typ: query.TypeKeyword},
	"method":       {path: Path{{"method"}}, typ: query.TypeKeyword},
	"status":       {path: Path{{"status"}}, typ: query.TypeEnum},
	"revertReason": {path: Path{{"revertReason"}}, typ: query.TypeKeyword},
	"revertKind":   {path: Path{{"revertKind"}}, typ: query.TypeEnum},
	"gasUsed":      {path: Path{{"gasUsed"}}, typ: query.TypeNumber},
	"value":        {path: Path{{"value"}}, typ: query.TypeNumber},
}

// field returns the storage of the field named name: a known field or an
// attribute path (attr.a.b).
func field(name string) (fieldDef, error) {
	if f, ok := fields[name]; ok {
		return f, nil
	}
	if rest, ok := strings.CutPrefix(name, query.AttrPrefix); ok && rest != "" {
		path := strings.Split(rest, ".")
		for _, seg := range path {
			if seg == "" || !validSegment(seg) {
				return fieldDef{}, invalid("%q is not an attribute path", name)
			}
		}
		return fieldDef{path: attrPath(path), typ: query.TypeAttr}, nil
	}
	return fieldDef{}, invalid("unknown field %q", name)
}

// validSegment reports whether an attribute path segment has only the
// characters the query language allows in names, so that every backend
// can address it.
func validSegment(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// numArg returns a number value as int64 when it is an integer that fits,
// so that comparisons with integers stay exact, else as float64.
func numArg(v query.Value) any {
	if v.Dec != "" && !strings.ContainsAny(v.Dec, ".eE") {
		if i, err := strconv.ParseInt(v.Dec, 10, 64); err == nil {
			return i
		}
	}
	return v.Num
}

var opSQL = map[query.Op]string{query.OpEq: "=", query.OpLt: "<", query.OpLe: "<=", query.OpGt: ">", query.OpGe: ">="}

// patternSegs returns the anchored segments of a wildcard match.
func patternSegs(m *query.Match) []string {
	switch m.Op {
	case query.OpPrefix:
		return []string{m.Value.Raw, ""}
	case query.OpSuffix:
		return []string{"", m.Value.Raw}
	case query.OpContains:
		return []string{"", m.Value.Raw, ""}
	}
	return m.Value.Glob
}

func isPattern(op query.Op) bool {
	return op == query.OpPrefix || op == query.OpSuffix || op == query.OpContains || op == query.OpGlob
}

func (b *Builder) pattern(expr string, m *query.Match, fold bool) (part, error) {
	segs := patternSegs(m)
	n := 0
	for _, s := range segs {
		n += len(s)
	}
	if len(segs) < 2 {
		return part{}, invalid("malformed pattern on %s", m.Field)
	}
	if n > maxPattern {
		return part{}, invalid("pattern of %d bytes on %s is longer than %d", n, m.Field, maxPattern)
	}
	return part{sql: b.d.Pattern(expr, segs, fold, b.Arg)}, nil
}

func (b *Builder) match(m *query.Match) (part, error) {
	f, err := field(m.Field)
	if err != nil {
		return part{}, err
	}
	op, ordered := opSQL[m.Op]
	ordered = ordered && m.Op != query.OpEq
	switch m.Field {
	case "message":
		switch m.Op {
		case query.OpEq:
			return b.text(ColumnMessage, m.Value.Raw, false)
		case query.OpPrefix:
			return b.text(ColumnMessage, m.Value.Raw, true)
		}
		if isPattern(m.Op) {
			return b.pattern("r.message", m, true)
		}
	case "tx", "address":
		col := ColumnTx
		if m.Field == "address" {
			col = ColumnAddress
		}
		switch m.Op {
		case query.OpEq:
			return b.text(col, hexValue(m.Value), false)
		case query.OpPrefix:
			return b.text(col, strings.ToLower(m.Value.Raw), true)
		}
	case "level":
		if ordered {
			return b.levels(func(i, v int) bool { return cmpOp(op, i, v) }, m.Value.Raw)
		}
	}
	if f.typ == query.TypeAttr {
		return b.attrMatch(f.path, m)
	}
	var expr string
	switch {
	case f.col != "":
		expr = f.col
	case f.typ == query.TypeNumber:
		expr = b.d.JSONNumber("r.attrs", f.path, b.Arg)
	default:
		expr = b.d.JSONString("r.attrs", f.path, b.Arg)
	}
	switch f.typ {
	case query.TypeAddress: // from, to, contract
		// The address is among the record's address links: the full-text
		// index finds the candidates, the attribute check is exact.
		var link part
		var cond string
		switch m.Op {
		case query.OpEq:
			h := hexValue(m.Value)
			link, _ = b.text(ColumnAddress, h, false)
			cond = "lower(" + expr + ") = " + b.Arg(h)
		case query.OpPrefix:
			raw := strings.ToLower(m.Value.Raw)
			link, _ = b.text(ColumnAddress, raw, true)
			cond = b.d.Pattern("lower("+expr+")", []string{raw, ""}, false, b.Arg)
		default:
			return part{}, invalid("operator %s is not allowed on %s", m.Op, m.Field)
		}
		link.sql = cond
		return link, nil
	case query.TypeNumber:
		if m.Op == query.OpEq || ordered {
			return part{sql: expr + " " + op + " " + b.Arg(numArg(m.Value))}, nil
		}
	case query.TypeTime:
		if m.Op == query.OpEq || ordered {
			if m.Value.Kind != query.KindTime {
				return part{}, invalid("%s needs a time", m.Field)
			}
			return part{sql: expr + " " + op + " " + b.Arg(m.Value.Time.UnixNano())}, nil
		}
	case query.TypeKeyword, query.TypeEnum:
		if m.Op == query.OpEq {
			return part{sql: expr + " = " + b.Arg(m.Value.Raw)}, nil
		}
		if isPattern(m.Op) {
			return b.pattern(expr, m, false)
		}
	}
	return part{}, invalid("operator %s is not allowed on %s", m.Op, m.Field)
}

// hexValue returns the lower-case 0x-hex of a hash or address value.
func hexValue(v query.Value) string {
	if v.Kind == query.KindHex {
		const digits = "0123456789abcdef"
		out := make([]byte, 2, 2+2*len(v.Bytes))
		out[0], out[1] = '0', 'x'
		for _, c := range v.Bytes {
			out = append(out, digits[c>>4], digits[c&15])
		}
		return string(out)
	}
	return strings.ToLower(v.Raw)
}

func cmpOp(op string, a, b int) bool {
	switch op {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	}
	return a == b
}

// levels returns a condition that the level is one of those whose index
// in query.Levels satisfies keep(index, index of v).
func (b *Builder) levels(keep func(i, v int) bool, v string) (part, error) {
	vi := slices.Index(query.Levels, v)
	if vi < 0 {
		return part{}, invalid("unknown level %q", v)
	}
	var in []string
	for i, l := range query.Levels {
		if keep(i, vi) {
			in = append(in, b.Arg(l))
		}
	}
	if len(in) == 0 {
		return part{sql: "1=0"}, nil
	}
	return part{sql: "r.level IN (" + strings.Join(in, ", ") + ")"}, nil
}

// attrMatch translates a match on an attribute, typed by the value's look:
// a number matches the number or its text, a bool the bool or its text, a
// hex value its text in any case; comparisons are numeric for numbers and
// lexicographic otherwise.
func (b *Builder) attrMatch(path Path, m *query.Match) (part, error) {
	str := func() string { return b.d.JSONString("r.attrs", path, b.Arg) }
	if isPattern(m.Op) {
		return b.pattern(str(), m, false)
	}
	op, ok := opSQL[m.Op]
	if !ok {
		return part{}, invalid("operator %s is not allowed on %s", m.Op, m.Field)
	}
	v := m.Value
	if m.Op != query.OpEq {
		if v.Kind == query.KindNumber {
			return part{sql: b.d.JSONNumber("r.attrs", path, b.Arg) + " " + op + " " + b.Arg(numArg(v))}, nil
		}
		return part{sql: str() + " " + op + " " + b.Arg(v.Raw)}, nil
	}
	switch v.Kind {
	case query.KindNumber:
		return part{sql: "(" + b.d.JSONNumber("r.attrs", path, b.Arg) + " = " + b.Arg(numArg(v)) +
			" OR " + str() + " = " + b.Arg(v.Raw) + ")"}, nil
	case query.KindBool:
		bit := 0
		if v.Bool {
			bit = 1
		}
		return part{sql: "(" + b.d.JSONBool("r.attrs", path, b.Arg) + " = " + b.Arg(bit) +
			" OR " + str() + " = " + b.Arg(v.Raw) + ")"}, nil
	case query.KindHex:
		return part{sql: "lower(" + str() + ") = " + b.Arg(hexValue(v))}, nil
	}
	return part{sql: str() + " = " + b.Arg(v.Raw)}, nil
}

func (b *Builder) rangeExpr(r *query.Range) (part, error) {
	f, err := field(r.Field)
	if err != nil {
		return part{}, err
	}
	loOp, hiOp := ">=", "<="
	if r.LoExcl {
		loOp = ">"
	}
	if r.HiExcl {
		hiOp = "<"
	}
	if r.Field == "level" {
		lo, hi := 0, len(query.Levels)-1
		var err error
		if !r.LoUnbound {
			if lo, err = levelIndex(r.Lo.Raw); err != nil {
				return part{}, err
			}
			if r.LoExcl {
				lo++
			}
		}
		if !r.HiUnbound {
			if hi, err = levelIndex(r.Hi.Raw); err != nil {
				return part{}, err
			}
			if r.HiExcl {
				hi--
			}
		}
		return b.levels(func(i, _ int) bool { return i >= lo && i <= hi }, query.Levels[0])
	}
	var conds []string
	bound := func(op string, v query.Value) error {
		var expr string
		var arg any
		switch {
		case f.typ == query.TypeTime:
			if v.Kind != query.KindTime {
				return invalid("%s needs a time", r.Field)
			}
			expr, arg = f.col, v.Time.UnixNano()
		case f.typ == query.TypeNumber && f.col != "":
			expr, arg = f.col, numArg(v)
		case f.typ == query.TypeNumber || f.typ == query.TypeAttr && v.Kind == query.KindNumber:
			expr, arg = b.d.JSONNumber("r.attrs", f.path, b.Arg), numArg(v)
		case f.typ == query.TypeAttr:
			expr, arg = b.d.JSONString("r.attrs", f.path, b.Arg), v.Raw
		default:
			return invalid("a range is not allowed on %s", r.Field)
		}
		conds = append(conds, expr+" "+op+" "+b.Arg(arg))
		return nil
	}
	if !r.LoUnbound {
		if err := bound(loOp, r.Lo); err != nil {
			return part{}, err
		}
	}
	if !r.HiUnbound {
		if err := bound(hiOp, r.Hi); err != nil {
			return part{}, err
		}
	}
	if len(conds) == 0 {
		return b.exists(r.Field)
	}
	return part{sql: "(" + strings.Join(conds, " AND ") + ")"}, nil
}

func levelIndex(v string) (int, error) {
	i := slices.Index(query.Levels, v)
	if i < 0 {
		return 0, invalid("unknown level %q", v)
	}
	return i, nil
}

func (b *Builder) exists(name string) (part, error) {
	f, err := field(name)
	if err != nil {
		return part{}, err
	}
	switch name {
	case "time", "source", "kind", "level":
		return part{sql: "1=1"}, nil
	case "service", "message":
		return part{sql: f.col + " <> ''"}, nil
	}
	if f.col != "" {
		return part{sql: f.col + " IS NOT NULL"}, nil
	}
	return part{sql: b.d.JSONExists("r.attrs", f.path, b.Arg)}, nil
}
