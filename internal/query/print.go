package query

import (
	"strconv"
	"strings"
	"time"
)

// String is the canonical form of the query: "*" for no filter, then each
// pipe after " | ". Parsing it gives an equal query, and it is a fixed
// point of parse → String.
func (q *Query) String() string {
	var b strings.Builder
	if q.Filter == nil {
		b.WriteString("*")
	} else {
		b.WriteString(q.Filter.String())
	}
	for _, p := range q.Pipes {
		b.WriteString(" | ")
		b.WriteString(p.String())
	}
	return b.String()
}

func (e *And) String() string { return joinTerms(e.Terms, " AND ", isOr) }
func (e *Or) String() string  { return joinTerms(e.Terms, " OR ", isAnd) }

func isOr(x Expr) bool  { _, ok := x.(*Or); return ok }
func isAnd(x Expr) bool { _, ok := x.(*And); return ok }

// joinTerms prints terms with sep, wrapping those for which paren says so.
// And inside Or is wrapped too, although AND binds tighter, so that a
// reader need not know the precedence.
func joinTerms(terms []Expr, sep string, paren func(Expr) bool) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(sep)
		}
		if paren(t) {
			b.WriteString("(" + t.String() + ")")
		} else {
			b.WriteString(t.String())
		}
	}
	return b.String()
}

func (e *Not) String() string {
	switch e.X.(type) {
	case *And, *Or:
		return "NOT (" + e.X.String() + ")"
	}
	return "NOT " + e.X.String()
}

func (e *Text) String() string {
	if e.Phrase {
		return quote(e.Value)
	}
	s := escapeWord(e.Value)
	if e.Prefix {
		s += "*"
	}
	return s
}

var opText = [...]string{OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">="}

func (e *Match) String() string {
	v := e.Value
	s := e.Field + ":"
	switch e.Op {
	case OpEq:
		return s + valueText(v)
	case OpLt, OpLe, OpGt, OpGe:
		return s + opText[e.Op] + valueText(v)
	case OpPrefix:
		return s + escapeValue(v.Raw) + "*"
	case OpSuffix:
		return s + "*" + escapeValue(v.Raw)
	case OpContains:
		return s + "*" + escapeValue(v.Raw) + "*"
	case OpGlob:
		parts := make([]string, len(v.Glob))
		for i, g := range v.Glob {
			parts[i] = escapeValue(g)
		}
		return s + strings.Join(parts, "*")
	}
	return s + valueText(v)
}

func (e *Range) String() string {
	var b strings.Builder
	b.WriteString(e.Field)
	b.WriteString(":")
	if e.LoExcl {
		b.WriteString("{")
	} else {
		b.WriteString("[")
	}
	if e.LoUnbound {
		b.WriteString("*")
	} else {
		b.WriteString(valueText(e.Lo))
	}
	b.WriteString(" TO ")
	if e.HiUnbound {
		b.WriteString("*")
	} else {
		b.WriteString(valueText(e.Hi))
	}
	if e.HiExcl {
		b.WriteString("}")
	} else {
		b.WriteString("]")
	}
	return b.String()
}

func (e *Exists) String() string { return e.Field + ":*" }

// valueText prints an exact value: quoted when it was written quoted or
// when it is empty, else with the specials escaped.
func valueText(v Value) string {
	if v.Quoted || v.Raw == "" {
		return quote(v.Raw)
	}
	return escapeValue(v.Raw)
}

// quote prints s in double quotes, escaping '"' and '\'.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// escapeWord escapes a free-text word so that it lexes back as the same
// single word and not as a keyword, field, negation or wildcard.
func escapeWord(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isSpace(c) || c == '\\' || c == '(' || c == ')' || c == '"' || c == '|' || c == ':' || c == '*' ||
			(i == 0 && c == '-') {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	out := b.String()
	if isKeyword(out) {
		// A keyword written with an escape is a word.
		out = "\\" + out
	}
	return out
}

// escapeValue escapes a bare field value so that it lexes back as the same
// value: not as a wildcard, comparison, range or end of value.
func escapeValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isSpace(c) || c == '\\' || c == '(' || c == ')' || c == '"' || c == '|' || c == '*' ||
			c == '[' || c == ']' || c == '{' || c == '}' || (i == 0 && (c == '<' || c == '>')) {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	out := b.String()
	if strings.EqualFold(out, "TO") {
		out = "\\" + out
	}
	return out
}

func isKeyword(s string) bool {
	return strings.EqualFold(s, "AND") || strings.EqualFold(s, "OR") || strings.EqualFold(s, "NOT")
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (a Agg) String() string {
	if a.As != "" {
		return a.call() + " as " + a.As
	}
	return a.call()
}

func aggList(aggs []Agg) string {
	parts := make([]string, len(aggs))
	for i, a := range aggs {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

func byList(by []string) string {
	if len(by) == 0 {
		return ""
	}
	return " by " + strings.Join(by, ", ")
}

func (p *Stats) String() string { return "stats " + aggList(p.Aggs) + byList(p.By) }

func (p *Timechart) String() string {
	s := "timechart "
	if p.Interval > 0 {
		s += FormatInterval(p.Interval) + " "
	}
	return s + aggList(p.Aggs) + byList(p.By)
}

func (p *Top) String() string { return "top " + strconv.Itoa(p.N) + " " + p.Field }

func (p *FieldsPipe) String() string { return "fields " + strings.Join(p.Fields, ", ") }

func (p *Sort) String() string {
	parts := make([]string, len(p.Keys))
	for i, k := range p.Keys {
		if k.Desc {
			parts[i] = "-" + k.Field
		} else {
			parts[i] = k.Field
		}
	}
	return "sort " + strings.Join(parts, ", ")
}

func (p *Limit) String() string { return "limit " + strconv.Itoa(p.N) }

// FormatInterval prints d in the largest unit of ParseInterval that divides
// it exactly: 90s → "90s", 5m → "5m", 48h → "2d".
func FormatInterval(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}
