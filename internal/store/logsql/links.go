package logsql

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
)

// LinkBucket is the span of time a link index tells apart: a minute, so
// that a transaction's records (its logs are written within seconds or
// minutes of it) narrow a lookup to a few minutes of blocks.
const LinkBucket = time.Minute

// LinkBuckets returns, for a link key (a transaction hash of 32 bytes),
// the buckets (Unix time / LinkBucket, in order) that hold records
// linking it: every such bucket, possibly more, never fewer. A backend
// with an exact side index of its links provides it; see Searcher.Links.
// Addresses are not asked for: their records are spread over the whole
// history, so the minutes narrow little, and the engines keep them in
// streams sharded by address (FieldAddrShard), whose bloom filters find
// them as fast without the index (3.3 ms of CPU at 1M lines either way).
type LinkBuckets func(ctx context.Context, key []byte) ([]int64, error)

// TxLinksFilter is the LogsQL filter of the rows that link a transaction
// (TxLinks yields their links).
var TxLinksFilter = "(" + quote(FieldTx) + ":* OR " + linkInMsg(FieldTx) + ")"

// MaxNarrowBuckets caps the buckets a narrowed query lists: a link seen
// in more is searched without narrowing (its records are everywhere, and
// the engine's bloom filters do as well).
const MaxNarrowBuckets = 512

// narrow returns a LogsQL time filter that every record the query
// matches satisfies, from the buckets of the transactions the query
// requires (a tx: equality that must hold for every match: a term of the
// top-level AND). "" when the query requires none, or they spread over
// too many buckets to help.
//
// Why: a tx: lookup is the commonest selective search, and the engine
// would otherwise read the bloom filter of every block in the range. A
// transaction's records are written within minutes; with those buckets
// known, the engine skips every block (and partition) outside them by
// the block's time bounds alone.
func (s *Searcher) narrow(ctx context.Context, e query.Expr) (string, error) {
	if s.Links == nil || e == nil {
		return "", nil
	}
	keys := requiredLinks(e, nil)
	if len(keys) == 0 {
		return "", nil
	}
	var buckets []int64
	for i, k := range keys {
		h, err := s.Links(ctx, k)
		if err != nil {
			return "", fmt.Errorf("cannot read the link index: %w", err)
		}
		if i == 0 {
			buckets = h
		} else {
			buckets = intersectSorted(buckets, h)
		}
		if len(buckets) == 0 {
			break
		}
	}
	if len(buckets) > MaxNarrowBuckets {
		return "", nil
	}
	return bucketsFilter(buckets), nil
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
		if f, ok := fields[e.Field]; ok && f.typ == query.TypeHash && len(e.Value.Bytes) == 32 {
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

// bucketsFilter is a LogsQL filter of the given sorted buckets: their
// overall bounds (which the engine selects partitions by) and each run of
// consecutive buckets (which it skips blocks by). No buckets: a filter no
// record of the index can match (an index that knows no bucket for a key
// has seen no record linking it, so the epoch's first instant, which
// would have been indexed as bucket 0, holds none either).
func bucketsFilter(buckets []int64) string {
	if len(buckets) == 0 {
		t := formatTimeFilter(time.Unix(0, 0))
		return "_time:[" + t + "," + t + "]"
	}
	buckets = slices.Compact(buckets)
	at := func(h int64) string { return formatTimeFilter(bucketStart(h)) }
	var runs []string
	for i := 0; i < len(buckets); {
		j := i
		for j+1 < len(buckets) && buckets[j+1] == buckets[j]+1 {
			j++
		}
		runs = append(runs, "_time:>="+at(buckets[i])+" AND _time:<"+at(buckets[j]+1))
		i = j + 1
	}
	bounds := "_time:>=" + at(buckets[0]) + " AND _time:<" + at(buckets[len(buckets)-1]+1)
	if len(runs) == 1 {
		return bounds
	}
	return bounds + " AND ((" + strings.Join(runs, ") OR (") + "))"
}

// bucketStart is the start of a LinkBucket counted from the epoch.
func bucketStart(b int64) time.Time { return time.Unix(0, b*int64(LinkBucket)).UTC() }
