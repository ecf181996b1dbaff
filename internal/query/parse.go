package query

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Parse parses a query. Errors are *Error, with the byte offset of the
// problem. Parse never panics, and bounds its work by MaxQueryLen,
// MaxDepth and MaxTerms.
func Parse(q string) (*Query, error) {
	if len(q) > MaxQueryLen {
		return nil, &Error{Pos: 0, Line: 1, Col: 1,
			Msg: fmt.Sprintf("query is %d bytes long; the limit is %d", len(q), MaxQueryLen)}
	}
	if !utf8.ValidString(q) {
		i := 0
		for i < len(q) {
			r, n := utf8.DecodeRuneInString(q[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return nil, newError(q, i, "invalid UTF-8 in query")
	}
	p := &parser{q: q}
	return p.parseQuery()
}

type parser struct {
	q     string
	pos   int
	depth int
	terms int
}

func (p *parser) errf(pos int, format string, args ...any) *Error {
	return newError(p.q, pos, fmt.Sprintf(format, args...))
}

func (p *parser) parseQuery() (*Query, error) {
	query := &Query{}
	p.skipSpace()
	if p.peek() == '*' && (p.pos+1 == len(p.q) || isSpace(p.q[p.pos+1]) || p.q[p.pos+1] == '|') {
		// A lone "*" is the whole filter: match all.
		p.pos++
		p.skipSpace()
	} else if !p.eof() && p.peek() != '|' {
		f, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		query.Filter = f
		p.skipSpace()
	}
	if !p.eof() && p.peek() != '|' {
		if p.peek() == ')' {
			return nil, p.errf(p.pos, "unexpected \")\" without a matching \"(\"")
		}
		return nil, p.errf(p.pos, "unexpected %s", p.found(p.pos))
	}
	pipes, err := p.parsePipes()
	if err != nil {
		return nil, err
	}
	query.Pipes = pipes
	return query, nil
}

// keywordAt reports which keyword (AND, OR, NOT, in any case, unescaped)
// starts at p.pos as a whole word, or "".
func (p *parser) keywordAt() string {
	for _, kw := range [...]string{"AND", "OR", "NOT"} {
		end := p.pos + len(kw)
		if end <= len(p.q) && strings.EqualFold(p.q[p.pos:end], kw) &&
			(end == len(p.q) || isSpace(p.q[end]) || p.q[end] == '(' || p.q[end] == ')' || p.q[end] == '"') {
			return kw
		}
	}
	return ""
}

// atTermEnd reports whether the filter ends at p.pos (after spaces).
func (p *parser) atTermEnd() bool {
	p.skipSpace()
	return p.eof() || p.peek() == ')' || p.peek() == '|'
}

func (p *parser) parseOr() (Expr, error) {
	start := p.pos
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	terms := appendFlat[*Or](nil, first)
	for {
		p.skipSpace()
		if p.keywordAt() != "OR" {
			break
		}
		p.pos += 2
		if p.atTermEnd() {
			return nil, p.errf(p.pos, "expected a term after OR, found %s", p.found(p.pos))
		}
		if kw := p.keywordAt(); kw == "AND" || kw == "OR" {
			return nil, p.errf(p.pos, "expected a term after OR, found %s", kw)
		}
		t, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		terms = appendFlat[*Or](terms, t)
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &Or{Start: start, Terms: terms}, nil
}

// appendFlat appends t to terms, or its terms when t is a T (an And in an
// And, an Or in an Or), which keeps the tree canonical.
func appendFlat[T interface {
	*And | *Or
	Expr
}](terms []Expr, t Expr) []Expr {
	switch x := t.(type) {
	case *And:
		if _, ok := any(T(nil)).(*And); ok {
			return append(terms, x.Terms...)
		}
	case *Or:
		if _, ok := any(T(nil)).(*Or); ok {
			return append(terms, x.Terms...)
		}
	}
	return append(terms, t)
}

func (p *parser) parseAnd() (Expr, error) {
	p.skipSpace()
	start := p.pos
	if kw := p.keywordAt(); kw == "AND" || kw == "OR" {
		return nil, p.errf(p.pos, "expected a term before %s", kw)
	}
	first, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	terms := appendFlat[*And](nil, first)
	for {
		if p.atTermEnd() {
			break
		}
		kw := p.keywordAt()
		if kw == "OR" {
			break
		}
		if kw == "AND" {
			p.pos += 3
			if p.atTermEnd() {
				return nil, p.errf(p.pos, "expected a term after AND, found %s", p.found(p.pos))
			}
			if kw := p.keywordAt(); kw == "AND" || kw == "OR" {
				return nil, p.errf(p.pos, "expected a term after AND, found %s", kw)
			}
		}
		t, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		terms = appendFlat[*And](terms, t)
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &And{Start: start, Terms: terms}, nil
}

// parseUnary parses NOT x, -x, (expr) and primaries. It is the only place
// the parser recurses into a nested expression, so the depth bound here
// bounds the recursion.
func (p *parser) parseUnary() (Expr, error) {
	p.skipSpace()
	start := p.pos
	neg := false
	if p.keywordAt() == "NOT" {
		p.pos += 3
		neg = true
	} else if p.peek() == '-' {
		// "-x" is NOT x. To search for a word starting with "-", escape it.
		p.pos++
		neg = true
	}
	if neg || p.peek() == '(' {
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > MaxDepth {
			return nil, p.errf(start, "query nests deeper than %d levels of parentheses and NOT", MaxDepth)
		}
	}
	if neg {
		if p.atTermEnd() {
			return nil, p.errf(p.pos, "expected a term after %q, found %s", p.q[start:p.pos], p.found(p.pos))
		}
		if kw := p.keywordAt(); kw == "AND" || kw == "OR" {
			return nil, p.errf(p.pos, "expected a term after %q, found %s", p.q[start:p.pos], kw)
		}
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &Not{Start: start, X: x}, nil
	}
	if p.peek() == '(' {
		p.pos++
		if p.atTermEnd() {
			if p.peek() == ')' {
				return nil, p.errf(p.pos, "empty parentheses")
			}
			return nil, p.errf(p.pos, "expected a term after \"(\", found %s", p.found(p.pos))
		}
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.peek() != ')' {
			return nil, p.errf(p.pos, "expected \")\" to close the \"(\" at column %d, found %s",
				newError(p.q, start, "").Col, p.found(p.pos))
		}
		p.pos++
		return x, nil
	}
	return p.parsePrimary()
}

// countTerm enforces MaxTerms.
func (p *parser) countTerm(pos int) error {
	p.terms++
	if p.terms > MaxTerms {
		return p.errf(pos, "query has more than %d terms", MaxTerms)
	}
	return nil
}

func (p *parser) parsePrimary() (Expr, error) {
	start := p.pos
	if err := p.countTerm(start); err != nil {
		return nil, err
	}
	if p.peek() == '"' {
		s, err := p.scanQuoted()
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(s) == "" {
			return nil, p.errf(start, "empty phrase")
		}
		return &Text{Start: start, Value: s, Phrase: true}, nil
	}
	w, err := p.scanWord(stopTerm)
	if err != nil {
		return nil, err
	}
	if w.stop == ':' {
		p.pos++ // the ':'
		return p.parseField(w)
	}
	if w.end == w.pos {
		return nil, p.errf(start, "unexpected %s", p.found(start))
	}
	if !w.hasStar() {
		return &Text{Start: start, Value: w.text()}, nil
	}
	if len(w.segs) == 2 && w.segs[0] != "" && w.segs[1] == "" {
		return &Text{Start: start, Value: w.segs[0], Prefix: true}, nil
	}
	if w.text() == "" {
		return nil, p.errf(start, "\"*\" alone matches everything: use it as the whole query, or field:* for \"has field\"")
	}
	return nil, p.errf(start, "free-text wildcards go only at the end of a word (liquid*); for other patterns use a field, e.g. %q", "message:*"+escapeValue(w.text())+"*")
}
