package sqlite

import (
	"strings"

	"github.com/blocktorch/blocktorch/internal/store/sqlbuild"
)

// dialect is SQLite's side of sqlbuild: "?" placeholders, json_extract
// with a bound path, GLOB and LIKE patterns, and FTS5 over records_fts
// (see migrations/0002_records.sql).
type dialect struct{}

var _ sqlbuild.Dialect = dialect{}

func (dialect) Param(int) string { return "?" }

// jsonPath returns the SQLite JSON path of a key sequence. The keys hold
// only letters, digits, "_", "-" and "." (sqlbuild checks), so quoting
// each one is enough; the path is bound, not written into the SQL.
func jsonPath(keys []string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, s := range keys {
		b.WriteString(`."` + s + `"`)
	}
	return b.String()
}

// pathExpr returns an expression of the JSON path of the attribute at
// path in col: the first candidate that col has, NULL when it has none
// (json_type and json_extract are NULL for a NULL path). A single
// candidate is bound as it is.
func pathExpr(col string, path sqlbuild.Path, arg func(any) string) string {
	if len(path) == 1 {
		return arg(jsonPath(path[0]))
	}
	var b strings.Builder
	b.WriteString("(CASE")
	for _, keys := range path {
		p := arg(jsonPath(keys))
		b.WriteString(" WHEN json_type(" + col + ", " + p + ") IS NOT NULL THEN " + p)
	}
	b.WriteString(" END)")
	return b.String()
}

func (dialect) JSONNumber(col string, path sqlbuild.Path, arg func(any) string) string {
	p := pathExpr(col, path, arg)
	return "(CASE WHEN json_type(" + col + ", " + p + ") IN ('integer', 'real') THEN json_extract(" + col + ", " + p + ") END)"
}

func (dialect) JSONString(col string, path sqlbuild.Path, arg func(any) string) string {
	p := pathExpr(col, path, arg)
	return "(CASE WHEN json_type(" + col + ", " + p + ") = 'text' THEN json_extract(" + col + ", " + p + ") END)"
}

func (dialect) JSONBool(col string, path sqlbuild.Path, arg func(any) string) string {
	return "(CASE json_type(" + col + ", " + pathExpr(col, path, arg) + ") WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)"
}

func (dialect) JSONValue(col string, path sqlbuild.Path, arg func(any) string) string {
	return "json_extract(" + col + ", " + pathExpr(col, path, arg) + ")"
}

func (dialect) JSONExists(col string, path sqlbuild.Path, arg func(any) string) string {
	return "COALESCE(json_type(" + col + ", " + pathExpr(col, path, arg) + "), 'null') <> 'null'"
}

// Pattern uses GLOB, which is case-sensitive, with the literal text's
// metacharacters put in brackets; and LIKE, which folds ASCII case, with
// "\" as its escape.
func (dialect) Pattern(expr string, segs []string, fold bool, arg func(any) string) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			if fold {
				b.WriteByte('%')
			} else {
				b.WriteByte('*')
			}
		}
		for _, c := range []byte(s) {
			switch {
			case fold && (c == '%' || c == '_' || c == '\\'):
				b.WriteByte('\\')
				b.WriteByte(c)
			case !fold && (c == '*' || c == '?' || c == '['):
				b.WriteByte('[')
				b.WriteByte(c)
				b.WriteByte(']')
			default:
				b.WriteByte(c)
			}
		}
	}
	if fold {
		return expr + " LIKE " + arg(b.String()) + ` ESCAPE '\'`
	}
	return expr + " GLOB " + arg(b.String())
}

func (dialect) TextMatch(id string, t *sqlbuild.Text, arg func(any) string) string {
	return id + " IN (SELECT rowid FROM records_fts WHERE records_fts MATCH " + arg(ftsQuery(t)) + ")"
}

func (dialect) TxHex(col string) string {
	return "(CASE WHEN " + col + " IS NULL THEN NULL ELSE '0x' || lower(hex(substr(" + col + ", 1, 32))) END)"
}

// ftsColumns maps sqlbuild's text columns to records_fts columns.
var ftsColumns = map[string]string{
	sqlbuild.ColumnMessage: "message",
	sqlbuild.ColumnTx:      "txs",
	sqlbuild.ColumnAddress: "addrs",
}

// ftsQuery renders t in FTS5 query syntax. Every value becomes an FTS5
// string ("…" with quotes doubled), which FTS5 tokenises like the indexed
// text, so no character of it is FTS5 syntax: a word is a one-word
// phrase, and a phrase matches its words in order.
func ftsQuery(t *sqlbuild.Text) string {
	var b strings.Builder
	writeFTS(&b, t)
	return b.String()
}

func writeFTS(b *strings.Builder, t *sqlbuild.Text) {
	switch t.Op {
	case sqlbuild.TextTerm:
		if col, ok := ftsColumns[t.Column]; ok {
			b.WriteString(col + " : ")
		}
		// FTS5 reads its query as a C string: a NUL would end it inside
		// the quotes. NUL separates words like a space.
		v := strings.ReplaceAll(t.Value, "\x00", " ")
		b.WriteString(`"` + strings.ReplaceAll(v, `"`, `""`) + `"`)
		if t.Prefix {
			b.WriteString(" *")
		}
		return
	}
	sep := " AND "
	switch t.Op {
	case sqlbuild.TextOr:
		sep = " OR "
	case sqlbuild.TextNot:
		sep = " NOT "
	}
	b.WriteByte('(')
	for i, x := range t.Terms {
		if i > 0 {
			b.WriteString(sep)
		}
		writeFTS(b, x)
	}
	b.WriteByte(')')
}
