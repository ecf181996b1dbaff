package sqlbuild

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
)

func TestCursorRoundTrip(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	for _, id := range []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 1_704_067_200_000_000_000} {
		c := EncodeCursor(key, id, "fp")
		got, err := DecodeCursor(key, c, "fp")
		if err != nil || got != id {
			t.Fatalf("DecodeCursor(EncodeCursor(%d)) = %d, %v", id, got, err)
		}
		for _, bad := range []struct{ key, fp string }{{string(key), "other"}, {"another key", "fp"}} {
			if _, err := DecodeCursor([]byte(bad.key), c, bad.fp); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("cursor accepted with key %q, fingerprint %q: %v", bad.key, bad.fp, err)
			}
		}
	}
}

func TestFingerprint(t *testing.T) {
	parse := func(s string) *query.Query {
		q, err := query.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	at := time.Unix(1_700_000_000, 0)
	base := store.SearchRequest{Query: parse("a b"), From: at}
	same := []store.SearchRequest{
		{Query: parse("a AND b"), From: at},
		{Query: parse("a b | limit 5"), From: at, Limit: 7}, // pipes and page size do not matter
	}
	differ := []store.SearchRequest{
		{Query: parse("a OR b"), From: at},
		{Query: parse("a b"), From: at.Add(1)},
		{Query: parse("a b"), From: at, To: at.Add(time.Hour)},
		{Query: parse("a b"), From: at, Order: store.OldestFirst},
		{From: at},
	}
	for _, r := range same {
		if Fingerprint(r) != Fingerprint(base) {
			t.Errorf("%q and %q have different fingerprints", r.Query, base.Query)
		}
	}
	for _, r := range differ {
		if Fingerprint(r) == Fingerprint(base) {
			t.Errorf("%+v has the fingerprint of %+v", r, base)
		}
	}
}
