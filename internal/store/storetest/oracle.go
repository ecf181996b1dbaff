package storetest

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
)

// The oracle is a second, deliberately naive implementation of search: it
// walks the records in plain Go and evaluates the part of the query
// language it can express (words and phrases of the message, exact fields,
// numeric comparisons and ranges on gasUsed and block, AND/OR/NOT). The
// script's answers for those queries must agree with it, so a wrong
// expectation accepted with -update-search cannot hide there.

// OracleSearch returns the records of recs matching q, newest first
// (oldest first with asc), by a plain walk over them; false when q uses
// something the oracle does not implement (pipes, globs, attributes beyond
// the chain fields, …). Fuzz tests compare a store's answers with it.
func OracleSearch(recs []record.Record, q *query.Query, asc bool) ([]record.Record, bool) {
	if len(q.Pipes) > 0 {
		return nil, false
	}
	var hits []record.Record
	for _, r := range recs {
		ok, known := oracleMatch(r, q.Filter)
		if !known {
			return nil, false
		}
		if ok {
			hits = append(hits, r)
		}
	}
	slices.SortFunc(hits, func(a, b record.Record) int {
		c := cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.ID, b.ID))
		if asc {
			return c
		}
		return -c
	})
	return hits, true
}

// oracleSearch is OracleSearch rendered as the script's record names.
func oracleSearch(recs []record.Record, names map[int64]string, q *query.Query, asc bool) ([]string, bool) {
	hits, ok := OracleSearch(recs, q, asc)
	if !ok {
		return nil, false
	}
	out := make([]string, len(hits))
	for i, r := range hits {
		out[i] = names[r.ID]
	}
	return out, true
}

// oracleMatch says whether r matches e; known is false when e holds a node
// the oracle does not implement.
func oracleMatch(r record.Record, e query.Expr) (match, implemented bool) {
	switch e := e.(type) {
	case nil:
		return true, true
	case *query.And:
		all := true
		for _, x := range e.Terms {
			m, k := oracleMatch(r, x)
			if !k {
				return false, false
			}
			all = all && m
		}
		return all, true
	case *query.Or:
		any := false
		for _, x := range e.Terms {
			m, k := oracleMatch(r, x)
			if !k {
				return false, false
			}
			any = any || m
		}
		return any, true
	case *query.Not:
		m, k := oracleMatch(r, e.X)
		return !m, k
	case *query.Text:
		// Free text reads the message, the string attributes (depth
		// first, in key order) and the linked hashes and addresses, each
		// on its own: a phrase does not run from one into the next.
		var m bool
		txs, addrs := links(r)
		for _, doc := range []string{r.Message, attrStrings(r.Attrs), txs, addrs} {
			hit, ok := textMatch(doc, e.Value, e.Phrase, e.Prefix)
			if !ok {
				return false, false
			}
			m = m || hit
		}
		return m, true
	case *query.Match:
		return fieldMatch(r, e)
	case *query.Range:
		v, ok := numericField(r, e.Field)
		if !numeric(e.Field) {
			return false, false
		}
		if !ok {
			return false, true
		}
		if !e.LoUnbound && (e.Lo.Kind != query.KindNumber || v < e.Lo.Num || e.LoExcl && v == e.Lo.Num) {
			return false, e.Lo.Kind == query.KindNumber
		}
		if !e.HiUnbound && (e.Hi.Kind != query.KindNumber || v > e.Hi.Num || e.HiExcl && v == e.Hi.Num) {
			return false, e.Hi.Kind == query.KindNumber
		}
		return true, true
	}
	return false, false
}

func attrStrings(v any) string {
	switch v := v.(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		var parts []string
		for _, k := range keys {
			if s := attrStrings(v[k]); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, " ")
	case []any:
		var parts []string
		for _, e := range v {
			if s := attrStrings(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, " ")
	case string:
		return v
	}
	return ""
}

// links renders the linked transaction hashes and addresses.
func links(r record.Record) (txs, addrs string) {
	var t, a []string
	for _, h := range r.TxHashes {
		t = append(t, h.Hex())
	}
	for _, x := range r.Addresses {
		a = append(a, x.Hex())
	}
	return strings.Join(t, " "), strings.Join(a, " ")
}

// words splits text into lower-case runs of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) })
}

func textMatch(msg, value string, phrase, prefix bool) (bool, bool) {
	for _, c := range value {
		if c >= utf8.RuneSelf {
			return false, false // the store folds diacritics; the oracle does not
		}
	}
	want := words(value)
	if len(want) == 0 || (!phrase && (len(want) != 1 || want[0] != strings.ToLower(value))) {
		return false, false
	}
	have := words(msg)
	for i := 0; i+len(want) <= len(have); i++ {
		ok := true
		for j, w := range want {
			h := have[i+j]
			if prefix && j == len(want)-1 {
				ok = ok && strings.HasPrefix(h, w)
			} else {
				ok = ok && h == w
			}
		}
		if ok {
			return true, true
		}
	}
	return false, true
}

// stringFields are compared exactly; chainAttrs are attributes of chain
// records, compared ignoring case (addresses).
var (
	stringFields = map[string]func(record.Record) string{
		"level":   func(r record.Record) string { return r.Level },
		"source":  func(r record.Record) string { return r.Source },
		"kind":    func(r record.Record) string { return r.Kind },
		"service": func(r record.Record) string { return r.Service },
	}
	chainAttrs = map[string]bool{"status": true, "method": true, "event": true, "revertReason": true,
		"revertKind": true, "from": true, "to": true, "contract": true}
)

func numeric(field string) bool { return field == "gasUsed" || field == "block" }

func numericField(r record.Record, field string) (float64, bool) {
	switch field {
	case "block":
		if r.Block == nil {
			return 0, false
		}
		return float64(*r.Block), true
	case "gasUsed":
		switch v := r.Attrs["gasUsed"].(type) {
		case int64:
			return float64(v), true
		case float64:
			return v, true
		case string:
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		case nil:
			return 0, false
		default:
			panic(fmt.Sprintf("gasUsed of type %T", v))
		}
	}
	return 0, false
}

func fieldMatch(r record.Record, m *query.Match) (bool, bool) {
	if get, ok := stringFields[m.Field]; ok {
		if m.Op != query.OpEq || m.Value.Kind != query.KindString {
			return false, false
		}
		return get(r) == m.Value.Raw, true
	}
	if chainAttrs[m.Field] {
		if m.Op != query.OpEq || (m.Value.Kind != query.KindString && m.Value.Kind != query.KindHex) {
			return false, false
		}
		s, ok := r.Attrs[m.Field].(string)
		return ok && strings.EqualFold(s, m.Value.Raw), true
	}
	if numeric(m.Field) {
		if m.Value.Kind != query.KindNumber {
			return false, false
		}
		v, ok := numericField(r, m.Field)
		if !ok {
			return false, true
		}
		switch m.Op {
		case query.OpEq:
			return v == m.Value.Num, true
		case query.OpLt:
			return v < m.Value.Num, true
		case query.OpLe:
			return v <= m.Value.Num, true
		case query.OpGt:
			return v > m.Value.Num, true
		case query.OpGe:
			return v >= m.Value.Num, true
		}
	}
	return false, false
}
