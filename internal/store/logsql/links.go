package logsql

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
)

// LinkHours returns, for a link key (a transaction hash of 32 bytes or an
// address of 20), the hours (Unix seconds / 3600) that hold records
// linking it: every such hour, possibly more, never fewer. A backend with
// an exact side index of its links provides it; see Searcher.Links.
type LinkHours func(ctx context.Context, key []byte) ([]int64, error)

// MaxNarrowHours caps the hours a narrowed query lists: a link seen in
// more hours is searched without narrowing (its records are everywhere,
// and the engine's bloom filters do as well).
const MaxNarrowHours = 512

// narrow returns a LogsQL time filter that every record the query
// matches satisfies, from the hours of the links the query requires (a
// tx:, address:, from:, to: or contract: equality that must hold for
// every match: a term of the top-level AND). "" when the query requires
// no link, or its links spread over too many hours to help.
//
// Why: a tx: or address: lookup is the commonest selective search, and
// the engine would otherwise read the bloom filter of every block in the
// range. With the hours known, it skips every block (and partition)
// outside them by the block's time bounds alone.
func (s *Searcher) narrow(ctx context.Context, e query.Expr) (string, error) {
	if s.Links == nil || e == nil {
		return "", nil
	}
	keys := requiredLinks(e, nil)
	if len(keys) == 0 {
		return "", nil
	}
	var hours []int64
	for i, k := range keys {
		h, err := s.Links(ctx, k)
		if err != nil {
			return "", fmt.Errorf("cannot read the link index: %w", err)
		}
		if i == 0 {
			hours = h
		} else {
			hours = intersectSorted(hours, h)
		}
		if len(hours) == 0 {
			break
		}
	}
	if len(hours) > MaxNarrowHours {
		return "", nil
	}
	return hoursFilter(hours), nil
}

// requiredLinks appends the link keys that every match of e must carry.
func requiredLinks(e query.Expr, dst [][]byte) [][]byte {
	switch e := e.(type) {
	case *query.And:
		for _, t := range e.Terms {
			dst = requiredLinks(t, dst)
		}
	case *query.Match:
		if e.Op != query.OpEq || e.Value.Kind != query.KindHex {
			return dst
		}
		f, ok := fields[e.Field]
		if !ok || f.typ != query.TypeHash && f.typ != query.TypeAddress {
			return dst
		}
		if n := len(e.Value.Bytes); n == 32 && f.typ == query.TypeHash || n == 20 && f.typ == query.TypeAddress {
			dst = append(dst, e.Value.Bytes)
		}
	}
	return dst
}

// intersectSorted returns the values in both sorted slices.
func intersectSorted(a, b []int64) []int64 {
	var out []int64
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// hoursFilter is a LogsQL filter of the given sorted hours: their overall
// bounds (which the engine selects partitions by) and each run of
// consecutive hours (which it skips blocks by). No hours: a filter no
// record of the index can match (an index that knows no hour for a key
// has seen no record linking it, so the epoch's first instant, which
// would have been indexed as hour 0, holds none either).
func hoursFilter(hours []int64) string {
	if len(hours) == 0 {
		t := formatTimeFilter(time.Unix(0, 0))
		return "_time:[" + t + "," + t + "]"
	}
	hours = slices.Compact(hours)
	at := func(h int64) string { return formatTimeFilter(unixHour(h)) }
	var runs []string
	for i := 0; i < len(hours); {
		j := i
		for j+1 < len(hours) && hours[j+1] == hours[j]+1 {
			j++
		}
		runs = append(runs, "_time:>="+at(hours[i])+" AND _time:<"+at(hours[j]+1))
		i = j + 1
	}
	bounds := "_time:>=" + at(hours[0]) + " AND _time:<" + at(hours[len(hours)-1]+1)
	if len(runs) == 1 {
		return bounds
	}
	return bounds + " AND ((" + strings.Join(runs, ") OR (") + "))"
}

// unixHour is the start of an hour counted from the epoch.
func unixHour(h int64) time.Time { return time.Unix(h*3600, 0).UTC() }
