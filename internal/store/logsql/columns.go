package logsql

import "strings"

// maxExpandColumns bounds the columns a wildcard is expanded into: past
// it, the engine's own enumeration costs no more than the list.
const maxExpandColumns = 64

// expandColumns rewrites the compiler's word and prefix filters over
// every attribute leaf (`"attr."*:"w"`, `"attrlc."*:"w"*`) into an OR of
// the same filter on each such column the store holds (names, from
// Searcher.Columns): a wildcard makes the engine unmarshal the header of
// every column of every block it reads, to find the names, where a named
// column is looked up in the block's header index, and skipped from the
// part's list of names when the part lacks it. A rare word over the
// bench's million lines spent about a seventh of its time there.
//
// names must hold every such column of the store: the filter of a
// prefix that none has matches nothing, as the wildcard finds nothing.
// Regexps are left as they are (a regexp that matches ""
// would match the rows that lack a named column, where the wildcard
// skips them), and so is everything when names are unknown or too many.
// User text cannot take the wildcard's shape: every string the compiler
// writes is quoted, its quotes escaped.
func expandColumns(f string, names []string) string {
	byPrefix := map[string][]string{}
	for _, p := range []string{AttrPrefix, LowerPrefix} {
		cols := []string{}
		for _, n := range names {
			if strings.HasPrefix(n, p) {
				cols = append(cols, n)
			}
		}
		if len(cols) <= maxExpandColumns {
			byPrefix[quote(p)] = cols
		}
	}
	var b strings.Builder
	for i := 0; i < len(f); {
		if f[i] != '"' {
			b.WriteByte(f[i])
			i++
			continue
		}
		tok := quotedAt(f, i)
		i += len(tok)
		cols, wild := byPrefix[tok]
		if !wild || !strings.HasPrefix(f[i:], "*:\"") {
			b.WriteString(tok)
			continue
		}
		value := quotedAt(f, i+2)
		end := i + 2 + len(value)
		if strings.HasPrefix(f[end:], "*") {
			value += "*"
			end++
		}
		if len(cols) == 0 {
			// None in the store: as the wildcard, which finds none.
			b.WriteString(matchNone)
			i = end
			continue
		}
		b.WriteByte('(')
		for k, c := range cols {
			if k > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString(quote(c) + ":" + value)
		}
		b.WriteByte(')')
		i = end
	}
	return b.String()
}

// quotedAt returns the double-quoted string that starts at f[i], its
// quotes included (the rest of f when it is not closed).
func quotedAt(f string, i int) string {
	for j := i + 1; j < len(f); j++ {
		switch f[j] {
		case '\\':
			j++
		case '"':
			return f[i : j+1]
		}
	}
	return f[i:]
}
