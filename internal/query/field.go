package query

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// resolveField checks a field name written at pos and returns its
// canonical description, or an error with a "did you mean" suggestion.
func (p *parser) resolveField(name string, pos int) (Field, error) {
	if name == "" {
		return Field{}, p.errf(pos, "expected a field name before \":\"")
	}
	if !validIdent(name) {
		return Field{}, p.errf(pos, "%q is not a field name (letters, digits, _, . and -); to search for it, put it in quotes", name)
	}
	if f, ok := LookupField(name); ok {
		return f, nil
	}
	return Field{}, p.errf(pos, "unknown field %q%s", name, suggestField(name))
}

// suggestField proposes the closest known field, or attr.<name> when none
// is close: an unknown name is most often an attribute written bare.
func suggestField(name string) string {
	best, bestD := "", 1<<30
	lower := strings.ToLower(name)
	for _, f := range KnownFields {
		if d := EditDistance(lower, strings.ToLower(f.Name)); d < bestD {
			best, bestD = f.Name, d
		}
	}
	if likelyTypo(bestD, len(name)) {
		return ", did you mean " + strconv.Quote(best) + "?"
	}
	if strings.HasPrefix(lower, "attr") {
		return "; attributes are written attr.name"
	}
	return ", did you mean " + strconv.Quote(AttrPrefix+name) + " (an attribute)?"
}

// EditDistance is the optimal-string-alignment distance between a and b,
// in bytes: insertions, deletions, substitutions and transpositions of
// adjacent bytes ("levle" is 1 from "level"). It serves "did you mean"
// suggestions, where one side is a short known name, so the cost is bounded
// by the other's length.
func EditDistance(a, b string) int {
	pp := make([]int, len(b)+1) // row i-2
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		pp, prev, cur = prev, cur, pp
	}
	return prev[len(b)]
}

// likelyTypo reports whether a name at distance d from a known one of length
// n is likely a typo of it.
func likelyTypo(d, n int) bool { return d <= 2 && d <= n/3+1 }

// suggestEnum proposes the closest allowed value of an enum field.
func suggestEnum(f Field, v string) string {
	best, bestD := "", 1<<30
	for _, e := range f.Enum {
		if d := EditDistance(v, e); d < bestD {
			best, bestD = e, d
		}
	}
	s := ""
	if likelyTypo(bestD, len(v)) {
		s = ", did you mean " + strconv.Quote(best) + "?"
	}
	return s + " (one of " + strings.Join(f.Enum, ", ") + ")"
}

func ordered(f Field) bool {
	return f.Type == TypeNumber || f.Type == TypeTime || f.Type == TypeAttr || f.Name == "level"
}

// parseField parses what follows "name:"; p.pos is just after the ':'.
func (p *parser) parseField(name word) (Expr, error) {
	start := name.pos
	if name.hasStar() {
		return nil, p.errf(start, "wildcards are not allowed in field names")
	}
	f, err := p.resolveField(name.text(), start)
	if err != nil {
		return nil, err
	}
	after := p.q[start:p.pos]
	p.skipSpace()
	if p.atValueEnd() {
		return nil, p.errf(p.pos, "expected value after %q, found %s", after, p.found(p.pos))
	}
	switch c := p.peek(); {
	case c == '<' || c == '>':
		return p.parseCompare(f, start)
	case c == '[' || c == '{':
		return p.parseRange(f, start)
	case c == '(':
		return p.valueList(f, start)
	}
	return p.fieldValue(f, start)
}

// fieldValue parses an equality or pattern value at p.pos: a quoted string
// or a bare word, possibly with wildcards.
func (p *parser) fieldValue(f Field, start int) (Expr, error) {
	vpos := p.pos
	if p.peek() == '"' {
		s, err := p.scanQuoted()
		if err != nil {
			return nil, err
		}
		v, err := p.typedValue(f, s, true, vpos)
		if err != nil {
			return nil, err
		}
		return &Match{Start: start, Field: f.Name, Op: OpEq, Value: v}, nil
	}
	w, err := p.scanWord(stopValue)
	if err != nil {
		return nil, err
	}
	if !w.hasStar() {
		v, err := p.typedValue(f, w.text(), false, vpos)
		if err != nil {
			return nil, err
		}
		return &Match{Start: start, Field: f.Name, Op: OpEq, Value: v}, nil
	}
	return p.wildcard(f, start, w)
}

// valueList parses field:(a OR b OR c), KQL's shorthand for
// (field:a OR field:b OR field:c), into that Or. Each value starts its
// own term, so positions point at the values.
func (p *parser) valueList(f Field, start int) (Expr, error) {
	open := p.pos
	p.pos++
	var terms []Expr
	for {
		p.skipSpace()
		if p.atValueEnd() || p.keywordAt() != "" {
			return nil, p.errf(p.pos, "expected a value in the list, found %s", p.found(p.pos))
		}
		if len(terms) > 0 {
			// The first term is counted by parsePrimary.
			if err := p.countTerm(p.pos); err != nil {
				return nil, err
			}
		}
		x, err := p.fieldValue(f, p.pos)
		if err != nil {
			return nil, err
		}
		terms = append(terms, x)
		p.skipSpace()
		if p.peek() == ')' {
			p.pos++
			break
		}
		if p.keywordAt() != "OR" {
			return nil, p.errf(p.pos, "expected OR or \")\" in the list of values that starts at column %d, found %s",
				newError(p.q, open, "").Col, p.found(p.pos))
		}
		p.pos += 2
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &Or{Start: start, Terms: terms}, nil
}

// atValueEnd reports whether no value starts at p.pos.
func (p *parser) atValueEnd() bool {
	return p.eof() || p.peek() == ')' || p.peek() == '|'
}

// wildcard builds the match for a value with unescaped stars.
func (p *parser) wildcard(f Field, start int, w word) (Expr, error) {
	// Consecutive stars are one star: drop empty interior segments.
	segs := []string{w.segs[0]}
	for _, s := range w.segs[1 : len(w.segs)-1] {
		if s != "" {
			segs = append(segs, s)
		}
	}
	segs = append(segs, w.segs[len(w.segs)-1])
	if strings.Join(segs, "") == "" {
		return &Exists{Start: start, Field: f.Name}, nil
	}
	switch f.Type {
	case TypeNumber, TypeTime:
		return nil, p.errf(w.pos, "wildcards are not allowed on %s field %s; use a range such as %s:[a TO b]", f.Type, f.Name, f.Name)
	case TypeHash, TypeAddress:
		lit := strings.ToLower(segs[0])
		if len(segs) != 2 || segs[1] != "" || !isHexPrefix(lit, f.Type) {
			return nil, p.errf(w.pos, "on %s field %s only a hex prefix is allowed, like %s:0xabc*", f.Type, f.Name, f.Name)
		}
		return &Match{Start: start, Field: f.Name, Op: OpPrefix, Value: Value{Raw: lit}}, nil
	case TypeEnum:
		for i := range segs {
			segs[i] = strings.ToLower(segs[i])
		}
	}
	m := &Match{Start: start, Field: f.Name}
	switch {
	case len(segs) == 2 && segs[1] == "":
		m.Op, m.Value.Raw = OpPrefix, segs[0]
	case len(segs) == 2 && segs[0] == "":
		m.Op, m.Value.Raw = OpSuffix, segs[1]
	case len(segs) == 3 && segs[0] == "" && segs[2] == "":
		m.Op, m.Value.Raw = OpContains, segs[1]
	default:
		m.Op, m.Value.Raw, m.Value.Glob = OpGlob, strings.Join(segs, "*"), segs
	}
	return m, nil
}

// isHexPrefix reports whether s is "0x" and 1 to full-length hex digits.
func isHexPrefix(s string, t FieldType) bool {
	n := 64
	if t == TypeAddress {
		n = 40
	}
	if len(s) < 3 || len(s) > 2+n || s[:2] != "0x" {
		return false
	}
	for i := 2; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (p *parser) parseCompare(f Field, start int) (Expr, error) {
	opPos := p.pos
	var op Op
	switch {
	case strings.HasPrefix(p.q[p.pos:], "<="):
		op, p.pos = OpLe, p.pos+2
	case strings.HasPrefix(p.q[p.pos:], ">="):
		op, p.pos = OpGe, p.pos+2
	case p.peek() == '<':
		op, p.pos = OpLt, p.pos+1
	default:
		op, p.pos = OpGt, p.pos+1
	}
	if !ordered(f) {
		return nil, p.errf(opPos, "comparisons are not allowed on %s field %s", f.Type, f.Name)
	}
	p.skipSpace()
	if p.atValueEnd() {
		return nil, p.errf(p.pos, "expected value after %q, found %s", p.q[start:opPos]+opText[op], p.found(p.pos))
	}
	vpos := p.pos
	var s string
	quoted := p.peek() == '"'
	if quoted {
		var err error
		if s, err = p.scanQuoted(); err != nil {
			return nil, err
		}
	} else {
		w, err := p.scanWord(stopValue)
		if err != nil {
			return nil, err
		}
		if w.hasStar() {
			return nil, p.errf(vpos, "wildcards are not allowed in a comparison")
		}
		s = w.text()
	}
	v, err := p.typedValue(f, s, quoted, vpos)
	if err != nil {
		return nil, err
	}
	return &Match{Start: start, Field: f.Name, Op: op, Value: v}, nil
}

func (p *parser) parseRange(f Field, start int) (Expr, error) {
	open := p.pos
	r := &Range{Start: start, Field: f.Name, LoExcl: p.peek() == '{'}
	if !ordered(f) {
		return nil, p.errf(open, "ranges are not allowed on %s field %s", f.Type, f.Name)
	}
	p.pos++
	var err error
	if r.Lo, r.LoUnbound, err = p.rangeBound(f); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos+2 > len(p.q) || !strings.EqualFold(p.q[p.pos:p.pos+2], "TO") ||
		p.pos+2 < len(p.q) && !isSpace(p.q[p.pos+2]) {
		return nil, p.errf(p.pos, "expected TO in the range, found %s", p.found(p.pos))
	}
	p.pos += 2
	if r.Hi, r.HiUnbound, err = p.rangeBound(f); err != nil {
		return nil, err
	}
	p.skipSpace()
	switch p.peek() {
	case ']':
	case '}':
		r.HiExcl = true
	default:
		return nil, p.errf(p.pos, "expected \"]\" or \"}\" to close the range, found %s", p.found(p.pos))
	}
	p.pos++
	if !r.LoUnbound && !r.HiUnbound {
		if c, ok := compareValues(r.Lo, r.Hi); ok && c > 0 {
			return nil, p.errf(open, "empty range: %q is after %q", r.Lo.Raw, r.Hi.Raw)
		}
	}
	return r, nil
}

// rangeBound parses one side of a range: a value or "*".
func (p *parser) rangeBound(f Field) (Value, bool, error) {
	p.skipSpace()
	vpos := p.pos
	if p.eof() || p.peek() == ']' || p.peek() == '}' || p.peek() == ')' || p.peek() == '|' {
		return Value{}, false, p.errf(p.pos, "expected a range bound, found %s", p.found(p.pos))
	}
	if p.peek() == '"' {
		s, err := p.scanQuoted()
		if err != nil {
			return Value{}, false, err
		}
		v, err := p.typedValue(f, s, true, vpos)
		return v, false, err
	}
	w, err := p.scanWord(stopRangeValue)
	if err != nil {
		return Value{}, false, err
	}
	if w.hasStar() {
		if w.text() == "" && len(w.segs) == 2 {
			return Value{Kind: KindAny}, true, nil
		}
		return Value{}, false, p.errf(vpos, "wildcards are not allowed in a range; \"*\" alone means unbounded")
	}
	if w.text() == "" {
		return Value{}, false, p.errf(vpos, "expected a range bound, found %s", p.found(vpos))
	}
	if !w.escaped && strings.EqualFold(w.text(), "TO") {
		return Value{}, false, p.errf(vpos, "expected a range bound before TO")
	}
	v, err := p.typedValue(f, w.text(), false, vpos)
	return v, false, err
}

// compareValues orders two range bounds of the same kind; ok is false when
// they cannot be compared at parse time.
func compareValues(a, b Value) (int, bool) {
	if a.Kind != b.Kind {
		return 0, false
	}
	switch a.Kind {
	case KindNumber:
		switch {
		case a.Num < b.Num:
			return -1, true
		case a.Num > b.Num:
			return 1, true
		}
		return 0, true
	case KindTime:
		return a.Time.Compare(b.Time), true
	}
	return 0, false
}

// typedValue types s, the value of field f written at pos, or says why it
// does not fit the field.
func (p *parser) typedValue(f Field, s string, quoted bool, pos int) (Value, error) {
	v := Value{Raw: s, Quoted: quoted}
	switch f.Type {
	case TypeKeyword, TypeText:
	case TypeEnum:
		v.Raw = strings.ToLower(s)
		found := false
		for _, e := range f.Enum {
			found = found || e == v.Raw
		}
		if !found {
			return v, p.errf(pos, "unknown %s %q%s", f.Name, s, suggestEnum(f, v.Raw))
		}
	case TypeNumber:
		num, dec, ok := parseNumber(s)
		if !ok {
			return v, p.errf(pos, "expected a number for %s, found %q", f.Name, s)
		}
		v.Kind, v.Num, v.Dec = KindNumber, num, dec
	case TypeTime:
		t, ok := parseTime(s)
		if !ok {
			return v, p.errf(pos, "expected an RFC 3339 time for %s (2026-01-02T15:04:05Z or 2026-01-02), found %q", f.Name, s)
		}
		v.Kind, v.Time = KindTime, t
	case TypeHash, TypeAddress:
		n := 32
		what := "a 32-byte hash, 0x and 64 hex digits,"
		if f.Type == TypeAddress {
			n, what = 20, "a 20-byte address, 0x and 40 hex digits,"
		}
		b, ok := parseHex(s)
		if !ok || len(b) != n {
			return v, p.errf(pos, "expected %s for %s, found %q (for a partial one write %s:0xabc*)", what, f.Name, s, f.Name)
		}
		v.Kind, v.Bytes = KindHex, b
	case TypeAttr:
		if quoted {
			break
		}
		if num, dec, ok := parseNumber(s); ok {
			v.Kind, v.Num, v.Dec = KindNumber, num, dec
		} else if s == "true" || s == "false" {
			v.Kind, v.Bool = KindBool, s == "true"
		} else if b, ok := parseHex(s); ok && (len(b) == 20 || len(b) == 32) {
			v.Kind, v.Bytes = KindHex, b
		}
	}
	return v, nil
}

// parseHex decodes "0x" followed by an even number of hex digits.
func parseHex(s string) ([]byte, bool) {
	if len(s) < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return nil, false
	}
	b, err := hex.DecodeString(s[2:])
	return b, err == nil
}

// parseTime accepts RFC 3339 (with optional fractional seconds) and a bare
// date, which means midnight UTC.
func parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// maxExponent bounds a number's exponent so that its exact decimal form
// stays small (1e-99999999 would otherwise be a 100 MB string).
const maxExponent = 400

// parseNumber parses -?(d+(.d*)?|.d+)([eE][+-]?d+)? into its float64 and
// its exact decimal form (see Value.Dec).
func parseNumber(s string) (float64, string, bool) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[intStart:i]
	fracPart := ""
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		fracPart = s[fs:i]
	}
	if intPart == "" && fracPart == "" {
		return 0, "", false
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			eneg = s[i] == '-'
			i++
		}
		es := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if exp = exp*10 + int(s[i]-'0'); exp > maxExponent {
				return 0, "", false
			}
			i++
		}
		if es == i {
			return 0, "", false
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(s) {
		return 0, "", false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, "", false
	}
	// Exact decimal: all digits, with the point moved by exp.
	digits := intPart + fracPart
	point := len(intPart) + exp
	if point < 0 {
		digits = strings.Repeat("0", -point) + digits
		point = 0
	}
	if point > len(digits) {
		digits += strings.Repeat("0", point-len(digits))
	}
	ip := strings.TrimLeft(digits[:point], "0")
	fp := strings.TrimRight(digits[point:], "0")
	if ip == "" {
		ip = "0"
	}
	dec := ip
	if fp != "" {
		dec += "." + fp
	}
	if neg && dec != "0" {
		dec = "-" + dec
	}
	return f, dec, true
}
