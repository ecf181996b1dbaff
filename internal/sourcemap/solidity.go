package sourcemap

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Text is a Solidity source prepared for reading the statements around a
// source map range. Optimised and via-IR code maps many instructions to a
// whole contract or function, or to one expression of a statement: Text
// tells such ranges apart and widens an expression to its statement. It
// reads the text only (no AST), so it works for any verified source; it is
// immutable and safe for concurrent use.
type Text struct {
	src string
	// masked is src with comments and the contents of string literals
	// replaced by spaces (line breaks kept), so that punctuation found in
	// it is code.
	masked     string
	lineStarts []int
}

// NewText prepares src.
func NewText(src string) *Text {
	return &Text{src: src, masked: maskSolidity(src), lineStarts: lineStarts(src)}
}

// Source returns the text as given.
func (t *Text) Source() string { return t.src }

// Masked returns the text with comments and string contents blanked out;
// offsets are those of Source.
func (t *Text) Masked() string { return t.masked }

// Line returns the 1-based line of byte offset off (clamped to the text).
func (t *Text) Line(off int) int {
	off = min(max(off, 0), len(t.src))
	return sort.Search(len(t.lineStarts), func(i int) bool { return t.lineStarts[i] > off })
}

// Column returns the 1-based column of off in characters, as
// Location.Column counts it.
func (t *Text) Column(off int) int {
	off = min(max(off, 0), len(t.src))
	return utf8.RuneCountInString(t.src[t.lineStarts[t.Line(off)-1]:off]) + 1
}

// valid reports whether [off, off+n) lies in the text.
func (t *Text) valid(off, n int) bool {
	return off >= 0 && n >= 0 && off <= len(t.src) && n <= len(t.src)-off
}

// definitionWords open a definition; the first four a contract-like one.
var definitionWords = []string{"contract", "abstract", "library", "interface", "function", "modifier",
	"constructor", "receive", "fallback"}

// Broad reports whether [off, off+n) is a definition (a contract, a
// function, a modifier…) or a block, rather than a statement or an
// expression: a range that says where code belongs, not what it does. An
// invalid range is broad.
func (t *Text) Broad(off, n int) bool {
	if !t.valid(off, n) {
		return true
	}
	s := strings.TrimLeft(t.masked[off:off+n], " \t\r\n")
	if strings.HasPrefix(s, "{") {
		return true
	}
	for _, w := range definitionWords {
		if strings.HasPrefix(s, w) && (len(s) == len(w) || !isIdentByte(s[len(w)])) {
			return true
		}
	}
	return false
}

// Contract reports whether [off, off+n) is a whole contract, library or
// interface: a range that says only which contract the code belongs to,
// as via-IR code maps most of its instructions.
func (t *Text) Contract(off, n int) bool {
	if !t.valid(off, n) {
		return false
	}
	s := strings.TrimLeft(t.masked[off:off+n], " \t\r\n")
	for _, w := range definitionWords[:4] {
		if strings.HasPrefix(s, w) && (len(s) == len(w) || !isIdentByte(s[len(w)])) {
			return true
		}
	}
	return false
}

// Statement returns the statement around [off, off+n): from the first
// character of code after the last ';', '{' or '}' before off to the
// first of them at or after off+n, a ';' included. For an if, for or
// while header the end is the '{' of its body (not included). A range
// that already holds a ';' or a brace is returned as it is. It returns
// false for an invalid range.
func (t *Text) Statement(off, n int) (start, end int, ok bool) {
	if !t.valid(off, n) {
		return 0, 0, false
	}
	if strings.ContainsAny(t.masked[off:off+n], ";{}") {
		return t.codeStart(off, off+n), off + n, true
	}
	start = strings.LastIndexAny(t.masked[:off], ";{}") + 1
	end = len(t.masked)
	if i := strings.IndexAny(t.masked[off+n:], ";{}"); i >= 0 {
		end = off + n + i
		if t.masked[end] == ';' {
			end++
		}
	}
	return t.codeStart(start, end), end, true
}

// codeStart skips white space from start (up to end).
func (t *Text) codeStart(start, end int) int {
	for start < end && strings.IndexByte(" \t\r\n", t.masked[start]) >= 0 {
		start++
	}
	return start
}

// Block returns the end (just past the '}') of the block opened by the
// '{' at off, or false when off is not an opening brace or it is never
// closed.
func (t *Text) Block(off int) (int, bool) {
	if off < 0 || off >= len(t.masked) || t.masked[off] != '{' {
		return 0, false
	}
	depth := 0
	for i := off; i < len(t.masked); i++ {
		switch t.masked[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
	}
	return 0, false
}

// Enclosing returns the innermost block ('{' to '}') holding off, or the
// innermost function-like definition (function, modifier, constructor,
// receive, fallback: from its keyword to its closing brace) when
// function is set. It returns false when there is none.
func (t *Text) Enclosing(off int, function bool) (start, end int, ok bool) {
	if off < 0 || off > len(t.masked) {
		return 0, 0, false
	}
	// Walk back counting braces to each '{' that opens a block holding off.
	depth := 0
	for i := min(off, len(t.masked)) - 1; i >= 0; i-- {
		switch t.masked[i] {
		case '}':
			depth++
		case '{':
			if depth > 0 {
				depth--
				continue
			}
			close, closed := t.Block(i)
			if !closed {
				close = len(t.masked)
			}
			if !function {
				return i, close, true
			}
			if kw, isFunc := t.definitionBefore(i); isFunc {
				return kw, close, true
			}
		}
	}
	return 0, 0, false
}

// definitionBefore finds the header of the block opened at brace: the
// keyword after the previous ';', '{' or '}', and whether it defines a
// function-like unit.
func (t *Text) definitionBefore(brace int) (int, bool) {
	start := t.codeStart(strings.LastIndexAny(t.masked[:brace], ";{}")+1, brace)
	head := t.masked[start:brace]
	for _, w := range []string{"function", "modifier", "constructor", "receive", "fallback"} {
		if strings.HasPrefix(head, w) && (len(head) == len(w) || !isIdentByte(head[len(w)])) {
			return start, true
		}
	}
	return 0, false
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// maskSolidity blanks out comments and the contents of string literals
// (quotes kept), keeping every byte offset and line break.
func maskSolidity(src string) string {
	b := []byte(src)
	blank := func(i int) {
		if b[i] != '\n' && b[i] != '\r' {
			b[i] = ' '
		}
	}
	for i := 0; i < len(b); {
		switch {
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '/':
			for ; i < len(b) && b[i] != '\n'; i++ {
				blank(i)
			}
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '*':
			blank(i)
			blank(i + 1)
			i += 2
			for ; i < len(b); i++ {
				if b[i] == '*' && i+1 < len(b) && b[i+1] == '/' {
					blank(i)
					blank(i + 1)
					i += 2
					break
				}
				blank(i)
			}
		case b[i] == '"' || b[i] == '\'':
			quote := b[i]
			i++
			for ; i < len(b) && b[i] != quote && b[i] != '\n'; i++ {
				if b[i] == '\\' && i+1 < len(b) && b[i+1] != '\n' {
					blank(i)
					i++
				}
				blank(i)
			}
			i++ // the closing quote (or the line break of an unterminated literal)
		default:
			i++
		}
	}
	return string(b)
}
