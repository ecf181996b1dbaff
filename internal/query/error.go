package query

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a syntax or validation error in a query, at a byte offset.
type Error struct {
	// Pos is the byte offset in the query where the problem is.
	Pos int
	// Msg says what is wrong, without the position.
	Msg string
	// Line and Col are Pos as 1-based line and column (in characters).
	Line, Col int
}

// Error is one line: "line:col: message".
func (e *Error) Error() string {
	return strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ": " + e.Msg
}

// caretWindow is how many bytes of a long line Caret shows on each side of
// the error, so that a 64 KiB one-line query does not become a 64 KiB
// message.
const caretWindow = 60

// Caret renders the line of query that holds the error and, under it, a
// "^" at the error's column. Tabs are kept in the padding so the caret
// lines up in a terminal; a long line is cut around the error with "…".
func (e *Error) Caret(query string) string {
	pos := min(max(e.Pos, 0), len(query))
	start := strings.LastIndexByte(query[:pos], '\n') + 1
	end := len(query)
	if i := strings.IndexByte(query[pos:], '\n'); i >= 0 {
		end = pos + i
	}
	prefix, suffix := "", ""
	if pos-start > caretWindow {
		start = runeStart(query, pos-caretWindow, start)
		prefix = "…"
	}
	if end-pos > caretWindow {
		end = runeStart(query, pos+caretWindow, pos)
		suffix = "…"
	}
	line := strings.TrimSuffix(query[start:end], "\r")
	var pad strings.Builder
	if prefix != "" {
		pad.WriteByte(' ')
	}
	for _, r := range query[start:pos] {
		if r == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	return prefix + line + suffix + "\n" + pad.String() + "^"
}

// runeStart moves i back to the start of the UTF-8 sequence it is in, but
// not below lo (the query may be any bytes when Caret is called).
func runeStart(s string, i, lo int) int {
	for i > lo && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// newError builds an Error at pos in q, computing its line and column.
func newError(q string, pos int, msg string) *Error {
	pos = min(max(pos, 0), len(q))
	line := 1 + strings.Count(q[:pos], "\n")
	start := strings.LastIndexByte(q[:pos], '\n') + 1
	col := 1 + utf8.RuneCountInString(q[start:pos])
	return &Error{Pos: pos, Msg: msg, Line: line, Col: col}
}
