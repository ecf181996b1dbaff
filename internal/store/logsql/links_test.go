package logsql

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/query"
)

func TestNarrow(t *testing.T) {
	tx := "0x" + strings.Repeat("ab", 32)
	addr := "0x" + strings.Repeat("cd", 20)
	other := "0x" + strings.Repeat("ef", 20)
	other2 := "0x" + strings.Repeat("ef", 32)
	buckets := map[string][]int64{
		tx[2:]:     {10, 11, 12, 20},
		addr[2:]:   {11, 20, 30},
		other[2:]:  {},
		other2[2:]: {},
	}
	idx := func(_ context.Context, key []byte) ([]int64, error) {
		h, ok := buckets[strings.TrimPrefix(hexValue(query.Value{Kind: query.KindHex, Bytes: key}), "0x")]
		if !ok {
			return nil, errors.New("asked for a key the test does not know")
		}
		return h, nil
	}
	s := &Searcher{Links: idx}
	at := func(h int64) string { return formatTimeFilter(bucketStart(h)) }
	tests := []struct {
		q, want string
	}{
		{"level:error", ""},
		{"tx:" + tx, "_time:>=" + at(10) + " AND _time:<" + at(21) + " AND ((_time:>=" + at(10) + " AND _time:<" + at(13) + ") OR (_time:>=" + at(20) + " AND _time:<" + at(21) + "))"},
		// Addresses are not narrowed (their streams are sharded).
		{"tx:" + tx + " address:" + addr, "_time:>=" + at(10) + " AND _time:<" + at(21) + " AND ((_time:>=" + at(10) + " AND _time:<" + at(13) + ") OR (_time:>=" + at(20) + " AND _time:<" + at(21) + "))"},
		{"from:" + addr + " level:error", ""},
		{"address:" + addr, ""},
		// Not required by every match: no narrowing.
		{"tx:" + tx + " OR level:error", ""},
		{"NOT address:" + addr, ""},
		{"address:0xcdcd*", ""},
		// A link nobody recorded: nothing can match.
		{"tx:" + other2, "_time:[" + at(0) + "," + at(0) + "]"},
	}
	for _, tt := range tests {
		q, err := query.Parse(tt.q)
		if err != nil {
			t.Fatalf("%s: %v", tt.q, err)
		}
		got, err := s.narrow(t.Context(), q.Filter)
		if err != nil {
			t.Fatalf("%s: %v", tt.q, err)
		}
		if got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.q, got, tt.want)
		}
	}
	// Spread over too many buckets: no narrowing.
	many := make([]int64, MaxNarrowBuckets+1)
	for i := range many {
		many[i] = int64(i)
	}
	buckets[tx[2:]] = many
	q, _ := query.Parse("tx:" + tx)
	if got, _ := s.narrow(t.Context(), q.Filter); got != "" {
		t.Errorf("a link in %d buckets narrowed to %s", len(many), got)
	}
}
