package store

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
)

// PostPipes runs fields, sort and limit on an aggregation's output, the
// same way for every records engine.
func PostPipes(t Table, pipes []query.Pipe) (Table, error) {
	for _, p := range pipes {
		switch p := p.(type) {
		case *query.FieldsPipe:
			idx := make([]int, len(p.Fields))
			for i, f := range p.Fields {
				if idx[i] = slices.Index(t.Columns, f); idx[i] < 0 {
					return t, fmt.Errorf("%w: no column %q (have %s)", ErrInvalid, f, strings.Join(t.Columns, ", "))
				}
			}
			for r, row := range t.Rows {
				out := make([]any, len(idx))
				for i, j := range idx {
					out[i] = row[j]
				}
				t.Rows[r] = out
			}
			t.Columns = slices.Clone(p.Fields)
		case *query.Sort:
			keys := make([]int, len(p.Keys))
			for i, k := range p.Keys {
				if keys[i] = slices.Index(t.Columns, k.Field); keys[i] < 0 {
					return t, fmt.Errorf("%w: cannot sort by %q: no such column (have %s)", ErrInvalid, k.Field, strings.Join(t.Columns, ", "))
				}
			}
			slices.SortStableFunc(t.Rows, func(a, b []any) int {
				for i, k := range p.Keys {
					c := CompareValues(a[keys[i]], b[keys[i]])
					if k.Desc {
						c = -c
					}
					if c != 0 {
						return c
					}
				}
				return 0
			})
		case *query.Limit:
			if len(t.Rows) > p.N {
				t.Rows = t.Rows[:p.N]
			}
		default:
			return t, fmt.Errorf("%w: pipe %s after an aggregation", ErrInvalid, p.String())
		}
	}
	return t, nil
}

// CompareValues orders table values as SQL does: nil, then numbers, then
// strings (bytewise), then times.
func CompareValues(a, b any) int {
	rank := func(v any) (int, float64, string, time.Time) {
		switch x := v.(type) {
		case int64:
			return 1, float64(x), "", time.Time{}
		case float64:
			return 1, x, "", time.Time{}
		case string:
			return 2, 0, x, time.Time{}
		case time.Time:
			return 3, 0, "", x
		}
		return 0, 0, "", time.Time{}
	}
	ra, fa, sa, ta := rank(a)
	rb, fb, sb, tb := rank(b)
	if c := cmp.Compare(ra, rb); c != 0 {
		return c
	}
	if c := cmp.Compare(fa, fb); c != 0 {
		return c
	}
	if c := strings.Compare(sa, sb); c != 0 {
		return c
	}
	return ta.Compare(tb)
}
