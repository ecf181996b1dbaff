package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// OracleBackend is what the oracle suite needs of a backend.
type OracleBackend interface {
	store.OracleStore
	Close() error
}

// RunOracles runs the suite of followed feeds and their readers. open must
// return a new, empty store for each call; the suite closes it.
func RunOracles(t *testing.T, open func(t *testing.T) OracleBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s OracleBackend)
	}{
		{"Feeds", testOracleFeeds},
		{"Reads", testOracleReads},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

func testOracleFeeds(t *testing.T, s OracleBackend) {
	ctx := t.Context()
	if _, err := s.OracleFeed(ctx, Addr(1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("OracleFeed on empty store: %v, want ErrNotFound", err)
	}
	if got, err := s.OracleFeeds(ctx); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("OracleFeeds on empty store = %v, %v; want empty, non-nil", got, err)
	}
	t1 := t0.Truncate(time.Microsecond)
	ref := Addr(9)
	a := store.OracleFeed{Address: Addr(2), Source: store.FeedSourceTrace, Kind: store.FeedKindPrice, Added: t1, Updated: t1}
	b := store.OracleFeed{Address: Addr(1), Source: store.FeedSourceManual, Kind: store.FeedKindSequencer, Heartbeat: time.Hour, DeviationPct: 0.5,
		Reference: &ref, Aggregator: Addr(3), PrevAggregator: Addr(4), AggregatorChanged: t1.Add(time.Second),
		Added: t1, Updated: t1}
	for _, f := range []store.OracleFeed{a, b} {
		if err := s.PutOracleFeed(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.OracleFeeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.OracleFeed{b, a}; !reflect.DeepEqual(got, want) {
		t.Fatalf("OracleFeeds =\n%+v\nwant\n%+v", got, want)
	}
	// Replacing keeps the time it was added.
	a2 := a
	a2.Source, a2.Heartbeat, a2.Added, a2.Updated = store.FeedSourceManual, 30*time.Second, t1.Add(time.Hour), t1.Add(time.Hour)
	if err := s.PutOracleFeed(ctx, a2); err != nil {
		t.Fatal(err)
	}
	one, err := s.OracleFeed(ctx, a.Address)
	if err != nil {
		t.Fatal(err)
	}
	a2.Added = t1
	if !reflect.DeepEqual(one, a2) {
		t.Fatalf("after replace = %+v, want %+v", one, a2)
	}
	// A feed stored without a kind is a price feed.
	c := store.OracleFeed{Address: Addr(6), Source: store.FeedSourceManual, Added: t1, Updated: t1}
	if err := s.PutOracleFeed(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, err := s.OracleFeed(ctx, c.Address); err != nil || got.Kind != store.FeedKindPrice {
		t.Errorf("a feed stored without a kind reads back as %q, %v; want %q", got.Kind, err, store.FeedKindPrice)
	}
	for _, bad := range []store.OracleFeed{
		{Source: store.FeedSourceManual},
		{Address: Addr(5), Source: "guess"},
		{Address: Addr(5), Source: store.FeedSourceManual, Heartbeat: -time.Second},
		{Address: Addr(5), Source: store.FeedSourceManual, DeviationPct: -1},
		{Address: Addr(5), Source: store.FeedSourceManual, Kind: "guess"},
	} {
		if err := s.PutOracleFeed(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutOracleFeed(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

func testOracleReads(t *testing.T, s OracleBackend) {
	ctx := t.Context()
	feed, vault, router := Addr(1), Addr(2), Addr(3)
	if got, err := s.OracleReads(ctx, feed); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("OracleReads on empty store = %v, %v; want empty, non-nil", got, err)
	}
	tm := func(n int64) time.Time { return time.Unix(1_700_000_000+n, 0).UTC() }
	read := func(reader common.Address, block uint64, stale bool) store.OracleRead {
		return store.OracleRead{Feed: feed, Reader: reader, Block: block, Tx: TxHash(0, block, 0), Time: tm(int64(block)),
			Method: "latestRoundData", RoundID: "7", Answer: "-300000000000", UpdatedAt: tm(0), Stale: stale}
	}
	for _, r := range []store.OracleRead{
		read(vault, 10, false), read(vault, 12, true), read(router, 11, false),
		read(vault, 11, false), // an older block's read arriving late: counted, not kept
	} {
		if err := s.RecordOracleRead(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.OracleReads(ctx, feed)
	if err != nil {
		t.Fatal(err)
	}
	v := read(vault, 12, true)
	v.Reads, v.StaleReads, v.LastStaleTx, v.LastStaleBlock = 3, 1, TxHash(0, 12, 0), 12
	r := read(router, 11, false)
	r.Reads = 1
	if want := []store.OracleRead{v, r}; !reflect.DeepEqual(got, want) {
		t.Fatalf("OracleReads =\n%+v\nwant\n%+v", got, want)
	}
	if other, err := s.OracleReads(ctx, Addr(7)); err != nil || len(other) != 0 {
		t.Fatalf("reads of another feed = %v, %v", other, err)
	}
}
