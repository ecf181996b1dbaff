package query

import (
	"strconv"
	"strings"
)

// The lexer is driven by the parser: what a character means depends on
// where it is (":" ends a field name in a term but is part of a time value
// after it), so the parser asks for the kind of token it expects next.

// word is an unquoted run of characters with escapes resolved. Unescaped
// "*" split it into segs; a word without any has one seg.
type word struct {
	pos, end int
	segs     []string
	escaped  bool // some character was written with "\"
	stop     byte // the character that ended it, 0 at end of query
}

// text is the word with its stars dropped; for a word without stars, the
// word itself.
func (w word) text() string { return strings.Join(w.segs, "") }

func (w word) hasStar() bool { return len(w.segs) > 1 }

// raw is the word as written in q.
func (w word) raw(q string) string { return q[w.pos:w.end] }

// skipSpace moves past whitespace.
func (p *parser) skipSpace() {
	for p.pos < len(p.q) && isSpace(p.q[p.pos]) {
		p.pos++
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.q) {
		return p.q[p.pos]
	}
	return 0
}

func (p *parser) eof() bool { return p.pos >= len(p.q) }

// scanWord reads an unquoted word from p.pos, stopping before an
// unescaped byte for which stop returns true. A "\" makes the next
// character literal; a "\" at the end of the query is an error.
func (p *parser) scanWord(stop func(byte) bool) (word, error) {
	w := word{pos: p.pos}
	var b strings.Builder
	for p.pos < len(p.q) {
		c := p.q[p.pos]
		if c == '\\' {
			if p.pos+1 >= len(p.q) {
				return w, p.errf(p.pos, "nothing to escape after \"\\\" at end of query")
			}
			// Copy the whole escaped character, multi-byte ones too.
			n := 1
			for p.pos+1+n < len(p.q) && p.q[p.pos+1+n]&0xC0 == 0x80 {
				n++
			}
			b.WriteString(p.q[p.pos+1 : p.pos+1+n])
			p.pos += 1 + n
			w.escaped = true
			continue
		}
		if stop(c) {
			w.stop = c
			break
		}
		if c == '*' {
			w.segs = append(w.segs, b.String())
			b.Reset()
		} else {
			b.WriteByte(c)
		}
		p.pos++
	}
	w.segs = append(w.segs, b.String())
	w.end = p.pos
	return w, nil
}

// scanQuoted reads a double-quoted string at p.pos (which holds '"'),
// resolving "\" escapes.
func (p *parser) scanQuoted() (string, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < len(p.q) {
		c := p.q[p.pos]
		switch c {
		case '"':
			p.pos++
			return b.String(), nil
		case '\\':
			if p.pos+1 >= len(p.q) {
				return "", p.errf(start, "unterminated quoted string")
			}
			b.WriteByte(p.q[p.pos+1])
			p.pos += 2
			continue
		}
		b.WriteByte(c)
		p.pos++
	}
	return "", p.errf(start, "unterminated quoted string")
}

// Stop sets of the lexer's modes.
func stopTerm(c byte) bool {
	return isSpace(c) || c == '(' || c == ')' || c == '"' || c == '|' || c == ':'
}

func stopValue(c byte) bool {
	return isSpace(c) || c == '(' || c == ')' || c == '"' || c == '|'
}

func stopRangeValue(c byte) bool { return stopValue(c) || c == ']' || c == '}' }

// isIdentStart and isIdent define field and function names: a letter or
// "_", then letters, digits, "_", "." and "-".
func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdent(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '.' || c == '-'
}

func validIdent(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdent(s[i]) {
			return false
		}
	}
	return true
}

// scanIdent reads a name in a pipe; it returns "" when there is none.
func (p *parser) scanIdent() (string, int) {
	p.skipSpace()
	start := p.pos
	if p.pos < len(p.q) && isIdentStart(p.q[p.pos]) {
		p.pos++
		for p.pos < len(p.q) && isIdent(p.q[p.pos]) {
			p.pos++
		}
	}
	return p.q[start:p.pos], start
}

// scanInt reads a decimal integer in a pipe, between lo and hi inclusive.
func (p *parser) scanInt(what string, lo, hi int) (int, error) {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.q) && p.q[p.pos] >= '0' && p.q[p.pos] <= '9' {
		p.pos++
	}
	if start == p.pos {
		return 0, p.errf(start, "expected %s, found %s", what, p.found(start))
	}
	n, err := strconv.Atoi(p.q[start:p.pos])
	if err != nil || n < lo || n > hi {
		return 0, p.errf(start, "%s must be between %d and %d, not %s", what, lo, hi, p.q[start:p.pos])
	}
	return n, nil
}

// found describes what is at pos, for "expected X, found Y" messages.
func (p *parser) found(pos int) string {
	if pos >= len(p.q) {
		return "end of query"
	}
	end := pos
	for end < len(p.q) && !isSpace(p.q[end]) && end-pos < 30 {
		if c := p.q[end]; c == '(' || c == ')' || c == ',' || c == '|' || c == '"' {
			if end == pos {
				end++
			}
			break
		}
		end++
	}
	if end == pos {
		end++
	}
	return strconv.Quote(p.q[pos:end])
}
