package logsql

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
)

// LogsQL text that matches every row, and none: no row is older than
// 1970 (the engine refuses them). (A row without an id field, which is
// most of them, has an empty id: id:"" matched them.)
const (
	matchAll  = "*"
	matchNone = `_time:<1970-01-01T00:00:00.000000000Z`
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", store.ErrInvalid, fmt.Sprintf(format, args...))
}

// quote returns s as a LogsQL string literal: every value and field name
// goes through it, so user text never becomes LogsQL syntax.
func quote(s string) string { return strconv.Quote(s) }

// Filter compiles a query filter (nil matches every record) and the time
// range [from, to) (a zero side is open) into a LogsQL filter. Errors wrap
// store.ErrInvalid and name what LogsQL cannot express.
func Filter(e query.Expr, from, to time.Time) (string, error) {
	f := matchAll
	if e != nil {
		var err error
		if f, err = expr(e); err != nil {
			return "", err
		}
	}
	var parts []string
	if !from.IsZero() {
		parts = append(parts, "_time:>="+formatTimeFilter(from))
	}
	if !to.IsZero() {
		parts = append(parts, "_time:<"+formatTimeFilter(to))
	}
	if len(parts) == 0 {
		return f, nil
	}
	if f != matchAll {
		parts = append(parts, f)
	}
	return strings.Join(parts, " AND "), nil
}

// formatTimeFilter is a time as a _time filter bound, with all nine
// digits of its fraction: the engine reads an inclusive upper bound
// (`]`, `<=`) written to the second, millisecond or microsecond as the
// end of that second, millisecond or microsecond.
func formatTimeFilter(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
}

func expr(e query.Expr) (string, error) {
	switch e := e.(type) {
	case *query.And:
		return join(e.Terms, " AND ")
	case *query.Or:
		return join(e.Terms, " OR ")
	case *query.Not:
		x, err := expr(e.X)
		if err != nil {
			return "", err
		}
		return "NOT (" + x + ")", nil
	case *query.Text:
		return text(e.Value, e.Prefix, textFields)
	case *query.Match:
		return match(e)
	case *query.Range:
		return rangeExpr(e)
	case *query.Exists:
		return exists(e.Field)
	case nil:
		return "", invalid("empty filter node")
	}
	return "", invalid("unsupported filter node %T", e)
}

func join(terms []query.Expr, sep string) (string, error) {
	parts := make([]string, len(terms))
	for i, t := range terms {
		p, err := expr(t)
		if err != nil {
			return "", err
		}
		parts[i] = p
	}
	return "(" + strings.Join(parts, sep) + ")", nil
}

// textFields are where free text looks: the message, every attribute
// leaf, and the links.
var textFields = []string{FieldMsg, AttrPrefix + "*", FieldTx, FieldAddress}

// maxPattern bounds the literal text of a pattern or phrase.
const maxPattern = 10_000

// isTokenRune is the engine's word character: a letter, a digit or "_".
func isTokenRune(c rune) bool {
	if c < utf8.RuneSelf {
		return asciiWord(byte(c))
	}
	return unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_'
}

// tokens splits s into the engine's words.
func tokens(s string) []string {
	return strings.FieldsFunc(s, func(c rune) bool { return !isTokenRune(c) })
}

// text compiles a word, phrase or prefix over fields. Its words (the
// engine's: letters, digits and "_") match case-insensitively, in order,
// separated by anything that is not a word character; with prefix the
// last word matches as a prefix. Text without a word character is a
// substring of the message, ignoring ASCII case.
func text(value string, prefix bool, fields []string) (string, error) {
	if len(value) > maxPattern {
		return "", invalid("text of %d bytes is longer than %d", len(value), maxPattern)
	}
	toks := tokens(value)
	if len(toks) == 0 {
		if value == "" {
			return matchAll, nil
		}
		if !slices.Contains(fields, FieldMsg) {
			return matchNone, nil
		}
		return "(" + msgFilter(FieldMsg+":~"+quote(foldASCII(regexpQuote(value)))) + ")", nil
	}
	var alts []string
	for _, field := range fields {
		if (field == FieldTx || field == FieldAddress) && !hexish(toks) {
			continue
		}
		var cond string
		if len(toks) == 1 {
			cond = word(field, toks[0], prefix)
		} else {
			// Several words: each is looked up as a word (bloom
			// filters), and a pattern checks that they follow each
			// other.
			ws := make([]string, len(toks))
			for i, t := range toks {
				ws[i] = word(field, t, prefix && i == len(toks)-1)
			}
			ws = append(ws, sequence(field, toks, prefix))
			cond = "(" + strings.Join(ws, " AND ") + ")"
		}
		if field == FieldMsg {
			cond = msgFilter(cond)
		}
		alts = append(alts, cond)
	}
	if len(alts) == 0 {
		return matchNone, nil
	}
	return "(" + strings.Join(alts, " OR ") + ")", nil
}

// word matches t as a word of field (as a word prefix with prefix),
// ignoring case the way the engine's i() does, with exact word filters
// that the engine serves from its bloom filters (i() reads every value):
// the lower-cased word in the field itself, which finds the values that
// are their own lower case, or in the field's lower-cased copy, which
// Encode writes for every other value. tx and address are lower case.
func word(field, t string, prefix bool) string {
	w := quote(lower(t))
	if prefix {
		w += "*"
	}
	f := fieldName(field) + ":" + w
	switch field {
	case FieldMsg:
		return "(" + f + " OR " + quote(FieldMsgLower) + ":" + w + ")"
	case AttrPrefix + "*":
		return "(" + f + " OR " + fieldName(LowerPrefix+"*") + ":" + w + ")"
	}
	return f
}

// msgFilter guards a filter on _msg against rows with an empty message,
// whose _msg the engine may have filled with a text of its own.
func msgFilter(f string) string { return f + " AND " + FieldNoMsg + `:""` }

// hexish reports whether a word could be among the hex links.
func hexish(toks []string) bool {
	if len(toks) != 1 || len(toks[0]) < 3 {
		return false
	}
	t := toks[0]
	if t[0] != '0' || t[1] != 'x' && t[1] != 'X' {
		return false
	}
	for i := 2; i < len(t); i++ {
		if unhex(t[i]) < 0 {
			return false
		}
	}
	return true
}

// sequence matches the words of toks in order in field, ignoring case as
// word does: for _msg and attributes, a case-sensitive pattern of the
// lower-cased words on the field and on its lower-cased copy (a
// case-folding (?i) pattern cannot use the engine's literal prefilter and
// costs about ten times more per row); other fields, which have no copy,
// take the (?i) pattern.
func sequence(field string, toks []string, prefix bool) string {
	switch field {
	case FieldMsg:
		// FieldMsgLower holds words only: the message itself, where a
		// message with capitals (the only ones with that field) also
		// takes each lower-case letter's capitals.
		re := quote(sequenceRegexp(toks, prefix, false))
		return "(" + fieldName(field) + ":~" + re + " OR (" + quote(FieldMsgLower) + ":* AND " + fieldName(field) + ":~" +
			quote(sequenceRegexpUpper(toks, prefix)) + "))"
	case AttrPrefix + "*":
		re := quote(sequenceRegexp(toks, prefix, false))
		return "(" + fieldName(field) + ":~" + re + " OR " + fieldName(LowerPrefix+"*") + ":~" + re + ")"
	}
	return fieldName(field) + ":~" + quote(sequenceRegexp(toks, prefix, true))
}

// sequenceRegexp matches the words of toks in order, whole (the last
// one as a prefix with prefix), separated by non-word characters; with
// fold, ignoring case; without, the words lower-cased.
func sequenceRegexp(toks []string, prefix, fold bool) string {
	var b strings.Builder
	if fold {
		b.WriteString(`(?i)`)
	}
	b.WriteString(`(?:^|[^\pL\pN_])`)
	for i, t := range toks {
		if i > 0 {
			b.WriteString(`[^\pL\pN_]+`)
		}
		if !fold {
			t = lower(t)
		}
		b.WriteString(regexpQuote(t))
	}
	if !prefix {
		b.WriteString(`(?:[^\pL\pN_]|$)`)
	}
	return b.String()
}

// sequenceRegexpUpper is sequenceRegexp without fold, matching the
// text before lower-casing: each rune of a lower-cased word stands for
// itself and every rune that lower-cases to it (lower), so it matches a
// text exactly when sequenceRegexp matches the text lower-cased (lower
// keeps every rune a word character or not; TestLowerKeepsWordRunes).
func sequenceRegexpUpper(toks []string, prefix bool) string {
	var b strings.Builder
	b.WriteString(`(?:^|[^\pL\pN_])`)
	for i, t := range toks {
		if i > 0 {
			b.WriteString(`[^\pL\pN_]+`)
		}
		for _, c := range lower(t) {
			writeLowerClass(&b, c)
		}
	}
	if !prefix {
		b.WriteString(`(?:[^\pL\pN_]|$)`)
	}
	return b.String()
}

// writeLowerClass writes a regexp of the runes r with lower(r) == c.
func writeLowerClass(b *strings.Builder, c rune) {
	from := lowerFrom()[c]
	self := unicode.ToLower(c) == c
	switch {
	case len(from) == 0 && self:
		b.WriteString(regexpQuote(string(c)))
		return
	case len(from) == 0:
		b.WriteString(`[^\x00-\x{10FFFF}]`) // no rune lower-cases to c
		return
	}
	b.WriteByte('[')
	if self {
		writeClassRune(b, c)
	}
	for _, r := range from {
		writeClassRune(b, r)
	}
	b.WriteByte(']')
}

func writeClassRune(b *strings.Builder, r rune) {
	if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') {
		b.WriteRune(r)
		return
	}
	fmt.Fprintf(b, `\x{%x}`, r)
}

// lowerFrom maps each rune to the other runes that lower-case to it.
var lowerFrom = sync.OnceValue(func() map[rune][]rune {
	m := map[rune][]rune{}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if l := unicode.ToLower(r); l != r {
			m[l] = append(m[l], r)
		}
	}
	return m
})

// regexpQuote escapes every regexp metacharacter of s.
func regexpQuote(s string) string {
	const special = `\.+*?()|[]{}^$`
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(special, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// foldASCII makes a quoted regexp match ASCII letters in either case, as
// SQL LIKE does (and nothing more, unlike (?i)).
func foldASCII(re string) string {
	var b strings.Builder
	escaped := false
	for _, c := range re {
		switch {
		case escaped:
			escaped = false
			b.WriteRune(c)
		case c == '\\':
			escaped = true
			b.WriteRune(c)
		case 'a' <= c && c <= 'z':
			b.WriteString("[" + string(c) + string(c-'a'+'A') + "]")
		case 'A' <= c && c <= 'Z':
			b.WriteString("[" + string(c-'A'+'a') + string(c) + "]")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// fieldName is a field name in LogsQL: quoted, or a quoted prefix and "*".
func fieldName(name string) string {
	if p, ok := strings.CutSuffix(name, "*"); ok {
		return quote(p) + "*"
	}
	return quote(name)
}

// fieldKind says where a field of the language is stored.
type fieldKind int

const (
	kindColumn fieldKind = iota // a field of its own (level, block, …)
	kindLink                    // tx, address: words of hex links
	kindAttr                    // an attribute leaf (chain fields and attr.*)
)

type fieldDef struct {
	kind fieldKind
	name string // the engine field, or for attributes the leaf name (no prefix)
	typ  query.FieldType
}

// fields maps every known field of the language to its storage.
var fields = map[string]fieldDef{
	"time":         {kindColumn, FieldTime, query.TypeTime},
	"source":       {kindColumn, FieldSource, query.TypeKeyword},
	"kind":         {kindColumn, FieldKind, query.TypeKeyword},
	"level":        {kindColumn, FieldLevel, query.TypeEnum},
	"service":      {kindColumn, FieldService, query.TypeKeyword},
	"message":      {kindColumn, FieldMsg, query.TypeText},
	"tx":           {kindLink, FieldTx, query.TypeHash},
	"address":      {kindLink, FieldAddress, query.TypeAddress},
	"block":        {kindColumn, FieldBlock, query.TypeNumber},
	"from":         {kindAttr, "from", query.TypeAddress},
	"to":           {kindAttr, "to", query.TypeAddress},
	"contract":     {kindAttr, "contract", query.TypeAddress},
	"event":        {kindAttr, "event", query.TypeKeyword},
	"method":       {kindAttr, "method", query.TypeKeyword},
	"status":       {kindAttr, "status", query.TypeEnum},
	"revertReason": {kindAttr, "revertReason", query.TypeKeyword},
	"revertKind":   {kindAttr, "revertKind", query.TypeEnum},
	"gasUsed":      {kindAttr, "gasUsed", query.TypeNumber},
	"value":        {kindAttr, "value", query.TypeNumber},
}

// lookup returns the storage of a field of the language: a known field or
// an attribute path (attr.a.b).
func lookup(name string) (fieldDef, error) {
	if f, ok := fields[name]; ok {
		return f, nil
	}
	if rest, ok := strings.CutPrefix(name, query.AttrPrefix); ok && rest != "" {
		for _, seg := range strings.Split(rest, ".") {
			if seg == "" || !validSegment(seg) {
				return fieldDef{}, invalid("%q is not an attribute path", name)
			}
		}
		return fieldDef{kind: kindAttr, name: rest, typ: query.TypeAttr}, nil
	}
	return fieldDef{}, invalid("unknown field %q", name)
}

func validSegment(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// attrValue and attrType are the engine fields of an attribute leaf.
func attrValue(name string) string { return quote(AttrPrefix + name) }
func attrType(name string) string  { return quote(TypePrefix + name) }

// Type guards of an attribute leaf.
func isString(name string) string { return attrType(name) + `:""` }
func isNumber(name string) string {
	return attrType(name) + ":in(" + quote(TypeInt) + "," + quote(TypeBig) + "," + quote(TypeFloat) + ")"
}
func isType(name, typ string) string { return attrType(name) + ":=" + quote(typ) }

func and(parts ...string) string { return "(" + strings.Join(parts, " AND ") + ")" }
func or(parts ...string) string  { return "(" + strings.Join(parts, " OR ") + ")" }

var opText = map[query.Op]string{query.OpLt: "<", query.OpLe: "<=", query.OpGt: ">", query.OpGe: ">="}

func isPattern(op query.Op) bool {
	return op == query.OpPrefix || op == query.OpSuffix || op == query.OpContains || op == query.OpGlob
}

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

// patternRegexp returns an anchored regexp of the segments: seg0, any
// text, seg1, …; ASCII case-insensitive with fold.
func patternRegexp(m *query.Match, fold bool) (string, error) {
	segs := patternSegs(m)
	if len(segs) < 2 {
		return "", invalid("malformed pattern on %s", m.Field)
	}
	n := 0
	for _, s := range segs {
		n += len(s)
	}
	if n > maxPattern {
		return "", invalid("pattern of %d bytes on %s is longer than %d", n, m.Field, maxPattern)
	}
	parts := make([]string, len(segs))
	for i, s := range segs {
		parts[i] = regexpQuote(s)
		if fold {
			parts[i] = foldASCII(parts[i])
		}
	}
	return "(?s)^" + strings.Join(parts, ".*") + "$", nil
}

// number is a number as a LogsQL numeric value.
func number(v query.Value) string {
	if v.Dec != "" {
		return v.Dec
	}
	return strconv.FormatFloat(v.Num, 'f', -1, 64)
}

// int64Value returns the value as an int64 when it is an integer that
// fits, for exact comparisons.
func int64Value(v query.Value) (int64, bool) {
	if v.Dec != "" && !strings.ContainsAny(v.Dec, ".eE") {
		if i, err := strconv.ParseInt(v.Dec, 10, 64); err == nil {
			return i, true
		}
	}
	return 0, false
}

func match(m *query.Match) (string, error) {
	f, err := lookup(m.Field)
	if err != nil {
		return "", err
	}
	op, ordered := opText[m.Op]
	switch m.Field {
	case "message":
		switch m.Op {
		case query.OpEq:
			return text(m.Value.Raw, false, []string{FieldMsg})
		case query.OpPrefix:
			return text(m.Value.Raw, true, []string{FieldMsg})
		}
		if isPattern(m.Op) {
			re, err := patternRegexp(m, true)
			if err != nil {
				return "", err
			}
			return "(" + msgFilter(FieldMsg+":~"+quote(re)) + ")", nil
		}
	case "tx", "address":
		switch m.Op {
		case query.OpEq:
			return linkEq(f.name, hexValue(m.Value)), nil
		case query.OpPrefix:
			return linkPrefix(f.name, strings.ToLower(m.Value.Raw)), nil
		}
		return "", invalid("operator %s is not allowed on %s", m.Op, m.Field)
	case "level":
		if ordered {
			return levels(func(i, v int) bool { return cmpOp(op, i, v) }, m.Value.Raw)
		}
	}
	if f.typ == query.TypeAttr {
		return attrMatch(f.name, m)
	}
	switch f.typ {
	case query.TypeAddress: // from, to, contract: attributes
		switch m.Op {
		case query.OpEq:
			h := hexValue(m.Value)
			return and(linkEq(FieldAddress, h), isString(f.name), attrValue(f.name)+":i("+quote(h)+")",
				attrValue(f.name)+":len_range("+strconv.Itoa(len(h))+","+strconv.Itoa(len(h))+")"), nil
		case query.OpPrefix:
			raw := strings.ToLower(m.Value.Raw)
			return and(linkPrefix(FieldAddress, raw), isString(f.name),
				attrValue(f.name)+":~"+quote("^"+foldASCII(regexpQuote(raw)))), nil
		}
	case query.TypeNumber:
		if m.Op == query.OpEq || ordered {
			return numberCmp(f, m.Op, m.Value)
		}
	case query.TypeTime:
		if m.Op == query.OpEq || ordered {
			if m.Value.Kind != query.KindTime {
				return "", invalid("%s needs a time", m.Field)
			}
			t := formatTimeFilter(m.Value.Time)
			if m.Op == query.OpEq {
				return "_time:[" + t + "," + t + "]", nil
			}
			return "_time:" + op + t, nil
		}
	case query.TypeKeyword, query.TypeEnum:
		if m.Op == query.OpEq {
			return keywordEq(f, m.Value.Raw), nil
		}
		if isPattern(m.Op) {
			re, err := patternRegexp(m, false)
			if err != nil {
				return "", err
			}
			c := fieldOf(f) + ":~" + quote(re)
			if m.Op == query.OpPrefix {
				c = fieldOf(f) + ":=" + quote(m.Value.Raw) + "*"
			}
			if f.kind == kindAttr {
				return and(isString(f.name), c), nil
			}
			return c, nil
		}
	}
	return "", invalid("operator %s is not allowed on %s", m.Op, m.Field)
}

// fieldOf is the engine field holding a column or an attribute's text.
func fieldOf(f fieldDef) string {
	if f.kind == kindAttr {
		return attrValue(f.name)
	}
	return quote(f.name)
}

// keywordEq is equality on a keyword or enum field.
func keywordEq(f fieldDef, v string) string {
	if f.kind == kindAttr {
		if v == "" {
			return isType(f.name, TypeEmpty)
		}
		return and(isString(f.name), attrValue(f.name)+":="+quote(v))
	}
	if v == "" {
		return quote(f.name) + `:""`
	}
	if f.name == FieldSource || f.name == FieldService {
		// Stream fields: the engine selects whole streams.
		return "{" + f.name + "=" + quote(v) + "}"
	}
	return quote(f.name) + ":=" + quote(v)
}

// numberCmp compares a number field (block, or a numeric attribute) with
// a number.
func numberCmp(f fieldDef, op query.Op, v query.Value) (string, error) {
	if v.Kind != query.KindNumber {
		return "", invalid("%s needs a number", f.name)
	}
	if f.kind == kindColumn {
		if op == query.OpEq {
			if i, ok := int64Value(v); ok {
				return quote(f.name) + ":=" + quote(strconv.FormatInt(i, 10)), nil
			}
			return quote(f.name) + ":range[" + number(v) + "," + number(v) + "]", nil
		}
		return quote(f.name) + ":" + opText[op] + number(v), nil
	}
	if op == query.OpEq {
		if i, ok := int64Value(v); ok {
			// An integer leaf is stored in canonical decimal: exact.
			return or(and(isType(f.name, TypeInt), attrValue(f.name)+":="+quote(strconv.FormatInt(i, 10))),
				and(attrType(f.name)+":in("+quote(TypeBig)+","+quote(TypeFloat)+")",
					attrValue(f.name)+":range["+number(v)+","+number(v)+"]")), nil
		}
		c := and(isNumber(f.name), attrValue(f.name)+":range["+number(v)+","+number(v)+"]")
		if isInteger(v.Dec) {
			// Beyond the engine's numbers: the canonical decimal text.
			c = or(c, and(isType(f.name, TypeBig), attrValue(f.name)+":="+quote(v.Dec)))
		}
		return c, nil
	}
	c := and(isNumber(f.name), attrValue(f.name)+":"+opText[op]+number(v))
	if big := bigCmp(f.name, op, v); big != "" {
		c = or(c, and(isNumber(f.name), big))
	}
	return c, nil
}

func isInteger(dec string) bool {
	d := strings.TrimPrefix(dec, "-")
	if d == "" {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// bigDigits is the number of digits from which the engine no longer
// reads a number (it reads up to 18446744073709551615, 20 digits): such
// leaves are integers written in full (TypeBig, and floats that large,
// written without exponent), compared here by length and text.
const bigDigits = 20

// bigCmp returns the filter of the numeric leaves of bigDigits digits or
// more (sign aside) that satisfy "leaf op v", or "" when none can.
func bigCmp(name string, op query.Op, v query.Value) string {
	t, ok := new(big.Rat).SetString(number(v))
	if !ok {
		return ""
	}
	// Every big positive value is at least 10^19, every big negative one
	// at most -10^19. For the positive ones: leaf > t ⇔ leaf ≥ k with k
	// the smallest integer above t (≥: at or above t); likewise below.
	floor, ceil := ratFloor(t), ratFloor(t)
	if !t.IsInt() {
		ceil = new(big.Int).Add(floor, big.NewInt(1))
	}
	var lo, hi *big.Int // the integers the leaf may be: [lo, hi], nil for open
	switch op {
	case query.OpGt:
		lo = new(big.Int).Add(floor, big.NewInt(1))
	case query.OpGe:
		lo = ceil
	case query.OpLt:
		hi = new(big.Int).Sub(ceil, big.NewInt(1))
	case query.OpLe:
		hi = floor
	default:
		return ""
	}
	var alts []string
	if c := bigRange(name, lo, hi, false); c != "" {
		alts = append(alts, c)
	}
	// Negative leaves: -u in [lo, hi] ⇔ u in [-hi, -lo].
	var nlo, nhi *big.Int
	if hi != nil {
		nlo = new(big.Int).Neg(hi)
	}
	if lo != nil {
		nhi = new(big.Int).Neg(lo)
	}
	if c := bigRange(name, nlo, nhi, true); c != "" {
		alts = append(alts, c)
	}
	switch len(alts) {
	case 0:
		return ""
	case 1:
		return alts[0]
	}
	return or(alts...)
}

func ratFloor(r *big.Rat) *big.Int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() < 0 {
		q.Sub(q, big.NewInt(1))
	}
	return q
}

// bigRange returns the filter of big leaves whose magnitude u (at least
// 10^19, bigDigits digits or more) is in [lo, hi] (nil: open), positive
// leaves or, with neg, negative ones ("-" and the digits).
func bigRange(name string, lo, hi *big.Int, neg bool) string {
	minBig := new(big.Int).Exp(big.NewInt(10), big.NewInt(bigDigits-1), nil)
	if lo == nil || lo.Cmp(minBig) < 0 {
		lo = minBig
	}
	if hi != nil && hi.Cmp(lo) < 0 {
		return ""
	}
	sign, sl := "", 0
	if neg {
		sign, sl = "-", 1
	}
	f := attrValue(name)
	conds := []string{}
	if neg {
		conds = append(conds, f+":="+quote("-")+"*")
	} else {
		conds = append(conds, "NOT "+f+":="+quote("-")+"*")
	}
	// u ≥ lo: longer, or as long and not smaller as text.
	ld := lo.String()
	conds = append(conds, or(f+":len_range("+strconv.Itoa(len(ld)+sl+1)+", inf)",
		and(f+":len_range("+strconv.Itoa(len(ld)+sl)+","+strconv.Itoa(len(ld)+sl)+")",
			f+":string_range("+quote(sign+ld)+","+quote(maxString)+")")))
	if hi != nil {
		hd := hi.String()
		conds = append(conds, or(f+":len_range(0,"+strconv.Itoa(len(hd)+sl-1)+")",
			and(f+":len_range("+strconv.Itoa(len(hd)+sl)+","+strconv.Itoa(len(hd)+sl)+")",
				f+":string_range(\"\","+quote(sign+hd+"\x00")+")")))
	}
	return and(conds...)
}

// linkSize is the size in bytes of the links of a link field.
func linkSize(field string) int {
	if field == FieldTx {
		return common.HashLength
	}
	return common.AddressLength
}

// linkInMsg is the filter of the records whose first links of a link
// field are their message's hex words of that size (FieldMsgLinks, or
// FieldLive in rows of an earlier form of the encoding: a constant "1"
// in every other row, which the engine checks once a block).
func linkInMsg(field string) string {
	flags := quote(MsgAddr) + "," + quote(MsgBoth)
	if field == FieldTx {
		flags = quote(MsgTx) + "," + quote(MsgBoth)
	}
	return "(" + quote(FieldMsgLinks) + ":in(" + flags + ") OR " + quote(FieldLive) + ":in(" + flags + "))"
}

// linkEq is the filter of the records linking h (lower-case 0x-hex) in a
// link field: in the field, or as a hex word of a message that holds
// every such word as a link (FieldMsgLinks). h of another size than the
// field's links is no link of any record, and only a word of the field
// can equal it (none does).
func linkEq(field, h string) string {
	c := quote(field) + ":" + quote(h)
	if len(h) != 2+2*linkSize(field) || h[:2] != "0x" || !lowerHex(h[2:]) {
		return c
	}
	return "(" + c + " OR (" + linkInMsg(field) + " AND " + quote(FieldMsg) + ":" + quote(h) + "))"
}

// linkPrefix is the filter of the records with a link in a link field
// that starts with p (lower case): a prefix of a word of the field, or of
// a hex word of a message of the link's exact length (a regexp of the
// engine's word boundaries, after a prefix filter that rules out most
// messages cheaply).
func linkPrefix(field, p string) string {
	c := quote(field) + ":" + quote(p) + "*"
	digits := 2 * linkSize(field)
	if len(p) < 2 || p[:2] != "0x" || len(p)-2 > digits || !lowerHex(p[2:]) {
		return c
	}
	re := msgWordStart + regexpQuote(p) + "[0-9a-f]{" + strconv.Itoa(digits-(len(p)-2)) + "}" + msgWordEnd
	return "(" + c + " OR (" + linkInMsg(field) + " AND " + quote(FieldMsg) + ":" + quote(p) + "* AND " +
		quote(FieldMsg) + ":~" + quote(re) + "))"
}

// The engine's word boundaries as regexps: a word starts and ends next
// to anything but a letter, a decimal digit, "_" or an invalid byte
// (which Go's regexps read as U+FFFD, as the engine does), or at an end.
const (
	msgWordStart = `(?:^|[^\p{L}\p{Nd}_\x{FFFD}])`
	msgWordEnd   = `(?:[^\p{L}\p{Nd}_\x{FFFD}]|$)`
)

// hexValue returns the lower-case 0x-hex of a hash or address value.
func hexValue(v query.Value) string {
	if v.Kind == query.KindHex {
		return joinHex(1, func(int) []byte { return v.Bytes })
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

// levels returns a filter that the level is one of those whose index in
// query.Levels satisfies keep(index, index of v).
func levels(keep func(i, v int) bool, v string) (string, error) {
	vi := slices.Index(query.Levels, v)
	if vi < 0 {
		return "", invalid("unknown level %q", v)
	}
	var in []string
	for i, l := range query.Levels {
		if keep(i, vi) {
			in = append(in, quote(l))
		}
	}
	if len(in) == 0 {
		return matchNone, nil
	}
	return quote(FieldLevel) + ":in(" + strings.Join(in, ",") + ")", nil
}

// String comparisons of attribute leaves: the engine's string_range is
// [lo, hi); the largest bound is above any UTF-8 text.
const maxString = "\xff\xff\xff\xff"

// stringCmp compares a string leaf with v lexicographically.
func stringCmp(name, op, v string) string {
	var lo, hi string
	var empty bool // whether "" satisfies the comparison
	switch op {
	case ">":
		lo, hi = v+"\x00", maxString
	case ">=":
		lo, hi, empty = v, maxString, v == ""
	case "<":
		lo, hi, empty = "", v, v != ""
	case "<=":
		lo, hi, empty = "", v+"\x00", true
	}
	c := and(isString(name), attrValue(name)+":string_range("+quote(lo)+","+quote(hi)+")")
	if empty {
		return or(c, isType(name, TypeEmpty))
	}
	return c
}

// attrMatch compiles a match on an attribute, typed by the value's look:
// a number matches the number or its text, a bool the bool or its text, a
// hex value its text in any case; comparisons are numeric for numbers and
// lexicographic on strings otherwise.
func attrMatch(name string, m *query.Match) (string, error) {
	if isPattern(m.Op) {
		re, err := patternRegexp(m, false)
		if err != nil {
			return "", err
		}
		c := and(isString(name), attrValue(name)+":~"+quote(re))
		if strings.Join(patternSegs(m), "") == "" {
			c = or(c, isType(name, TypeEmpty))
		}
		return c, nil
	}
	v := m.Value
	if m.Op != query.OpEq {
		op, ok := opText[m.Op]
		if !ok {
			return "", invalid("operator %s is not allowed on %s", m.Op, m.Field)
		}
		if v.Kind == query.KindNumber {
			return numberCmp(fieldDef{kind: kindAttr, name: name}, m.Op, v)
		}
		return stringCmp(name, op, v.Raw), nil
	}
	str := func(s string) string {
		if s == "" {
			return isType(name, TypeEmpty)
		}
		return and(isString(name), attrValue(name)+":="+quote(s))
	}
	switch v.Kind {
	case query.KindNumber:
		n, err := numberCmp(fieldDef{kind: kindAttr, name: name}, query.OpEq, v)
		if err != nil {
			return "", err
		}
		return or(n, str(v.Raw)), nil
	case query.KindBool:
		return or(and(isType(name, TypeBool), attrValue(name)+":="+quote(strconv.FormatBool(v.Bool))), str(v.Raw)), nil
	case query.KindHex:
		h := hexValue(v)
		return and(isString(name), attrValue(name)+":i("+quote(h)+")",
			attrValue(name)+":len_range("+strconv.Itoa(len(h))+","+strconv.Itoa(len(h))+")"), nil
	}
	return str(v.Raw), nil
}

func rangeExpr(r *query.Range) (string, error) {
	f, err := lookup(r.Field)
	if err != nil {
		return "", err
	}
	loOp, hiOp := query.OpGe, query.OpLe
	if r.LoExcl {
		loOp = query.OpGt
	}
	if r.HiExcl {
		hiOp = query.OpLt
	}
	if r.Field == "level" {
		lo, hi := 0, len(query.Levels)-1
		if !r.LoUnbound {
			if lo = slices.Index(query.Levels, r.Lo.Raw); lo < 0 {
				return "", invalid("unknown level %q", r.Lo.Raw)
			}
			if r.LoExcl {
				lo++
			}
		}
		if !r.HiUnbound {
			if hi = slices.Index(query.Levels, r.Hi.Raw); hi < 0 {
				return "", invalid("unknown level %q", r.Hi.Raw)
			}
			if r.HiExcl {
				hi--
			}
		}
		return levels(func(i, _ int) bool { return i >= lo && i <= hi }, query.Levels[0])
	}
	var conds []string
	bound := func(op query.Op, v query.Value) error {
		switch {
		case f.typ == query.TypeTime:
			if v.Kind != query.KindTime {
				return invalid("%s needs a time", r.Field)
			}
			conds = append(conds, "_time:"+opText[op]+formatTimeFilter(v.Time))
		case f.typ == query.TypeNumber || f.typ == query.TypeAttr && v.Kind == query.KindNumber:
			c, err := numberCmp(f, op, v)
			if err != nil {
				return err
			}
			conds = append(conds, c)
		case f.typ == query.TypeAttr:
			conds = append(conds, stringCmp(f.name, opText[op], v.Raw))
		default:
			return invalid("a range is not allowed on %s", r.Field)
		}
		return nil
	}
	if !r.LoUnbound {
		if err := bound(loOp, r.Lo); err != nil {
			return "", err
		}
	}
	if !r.HiUnbound {
		if err := bound(hiOp, r.Hi); err != nil {
			return "", err
		}
	}
	if len(conds) == 0 {
		return exists(r.Field)
	}
	return and(conds...), nil
}

func exists(name string) (string, error) {
	f, err := lookup(name)
	if err != nil {
		return "", err
	}
	switch name {
	case "time", "source", "kind", "level":
		return matchAll, nil
	case "message":
		return quote(FieldNoMsg) + `:""`, nil
	}
	if f.kind == kindLink {
		return "(" + quote(f.name) + ":* OR " + linkInMsg(f.name) + ")", nil
	}
	if f.kind != kindAttr {
		return quote(f.name) + ":*", nil
	}
	// A leaf of any type but null, or an object with leaves below.
	return or(attrValue(f.name)+":*", attrType(f.name)+":in("+quote(TypeEmpty)+","+quote(TypeObject)+")",
		quote(AttrPrefix+f.name+".")+"*:*", quote(TypePrefix+f.name+".")+"*:*"), nil
}
