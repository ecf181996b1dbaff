package oracle_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/gethtest"
	"github.com/blocktorch/blocktorch/internal/oracle"
	"github.com/blocktorch/blocktorch/internal/store"
)

// TestReadFeed reads Chainlink's MockV3Aggregator, its aggregator proxy
// and the demo's feed, and refuses what is no feed with a clear error.
// This test and the others of this file run on the embedded chain and on
// a real geth --dev (see chains).
func TestReadFeed(t *testing.T) { chains(t, testReadFeed) }

func testReadFeed(t *testing.T, r *rig) {
	ctx := context.Background()
	agg := r.deploy(t, "MockV3Aggregator", uint8(8), price(3000))
	proxy := r.deploy(t, "DataFeedsLegacyAggregatorProxy", agg)
	demoFeed := r.deploy(t, "PriceFeed", r.from, uint8(8), "ETH / USD", price(2500))
	token := r.deploy(t, "DemoToken", r.from)
	absurd := r.deploy(t, "MockV3Aggregator", uint8(255), big.NewInt(1))
	// A proxy whose aggregator is no feed reverts every read.
	broken := r.deploy(t, "DataFeedsLegacyAggregatorProxy", token)
	// A proxy made to point to itself.
	loop := r.deploy(t, "DataFeedsLegacyAggregatorProxy", agg)
	r.tx(t, "DataFeedsLegacyAggregatorProxy", loop, "proposeAggregator", loop)
	r.tx(t, "DataFeedsLegacyAggregatorProxy", loop, "confirmAggregator", loop)
	r.tx(t, "MockV3Aggregator", agg, "updateAnswer", price(3100))

	type want struct {
		desc, version, answer string
		decimals              uint8
		proxy                 bool
		aggregator            common.Address
		round                 string
	}
	ok := []struct {
		name string
		addr common.Address
		want want
	}{
		{"aggregator", agg, want{"v0.8/tests/MockV3Aggregator.sol", "0", "310000000000", 8, false, common.Address{}, "2"}},
		// The proxy's round ids carry its phase (1) above the aggregator's.
		{"proxy", proxy, want{"v0.8/tests/MockV3Aggregator.sol", "0", "310000000000", 8, true, agg, "18446744073709551618"}},
		{"demo feed", demoFeed, want{"ETH / USD", "4", "250000000000", 8, false, common.Address{}, "1"}},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			d, err := oracle.ReadFeed(ctx, r.eth, c.addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := want{d.Description, d.Version, d.Latest.Answer.String(), d.Decimals, d.Proxy, d.Aggregator, d.Latest.RoundID.String()}
			if got != c.want {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
			if d.Latest.UpdatedAt == 0 || d.Latest.AnsweredInRound.Cmp(d.Latest.RoundID) != 0 {
				t.Errorf("latest round %+v", d.Latest)
			}
			if d.MinAnswer != nil || d.MaxAnswer != nil {
				t.Errorf("bounds %v %v from an aggregator without them", d.MinAnswer, d.MaxAnswer)
			}
		})
	}
	bad := []struct {
		name string
		addr common.Address
		err  error
		msg  string
	}{
		{"account", r.from, oracle.ErrNotFeed, "holds no contract"},
		{"token", token, oracle.ErrNotFeed, "does not answer latestRoundData()"},
		{"absurd decimals", absurd, oracle.ErrBadDecimals, "decimals() = 255"},
		{"reverting feed", broken, oracle.ErrReverted, "latestRoundData()"},
		{"proxy to itself", loop, oracle.ErrProxyLoop, "read before"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := oracle.ReadFeed(ctx, r.eth, c.addr, nil)
			if !errors.Is(err, c.err) || !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("ReadFeed = %v, want %v mentioning %q", err, c.err, c.msg)
			}
		})
	}
}

// TestFollowFeeds adds feeds by hand and from ABIs, sets thresholds,
// judges health as the contracts answer, notices a proxy's new
// aggregator, and lists history from events and from rounds.
func TestFollowFeeds(t *testing.T) { chains(t, testFollowFeeds) }

func testFollowFeeds(t *testing.T, r *rig) {
	ctx := context.Background()
	var now time.Time
	s := r.service(t, func() time.Time { return now })
	agg := r.deploy(t, "MockV3Aggregator", uint8(8), price(3000))
	agg2 := r.deploy(t, "MockV3Aggregator", uint8(8), price(2900))
	proxy := r.deploy(t, "DataFeedsLegacyAggregatorProxy", agg)
	demoFeed := r.deploy(t, "PriceFeed", r.from, uint8(8), "ETH / USD", price(2500))
	token := r.deploy(t, "DemoToken", r.from)

	if _, err := s.Add(ctx, token, store.FeedSourceManual); !errors.Is(err, oracle.ErrNotFeed) {
		t.Fatalf("Add(token) = %v, want ErrNotFeed", err)
	}
	if _, err := s.Add(ctx, proxy, store.FeedSourceManual); err != nil {
		t.Fatal(err)
	}
	added, err := s.DetectABIs(ctx, []store.Contract{
		{Address: demoFeed, ABI: r.arts["PriceFeed"].ABI},
		{Address: token, ABI: r.arts["DemoToken"].ABI},
		{Address: agg2, ABI: r.arts["DemoToken"].ABI}, // no feed ABI: not detected from it
	})
	if err != nil || len(added) != 1 || added[0] != demoFeed {
		t.Fatalf("DetectABIs = %v, %v; want the demo feed", added, err)
	}
	hb := 5 * time.Second
	if _, err := s.SetThresholds(ctx, proxy, oracle.Thresholds{Heartbeat: &hb}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetThresholds(ctx, agg2, oracle.Thresholds{Heartbeat: &hb}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("thresholds of a feed not followed: %v", err)
	}
	neg := -1.0
	if _, err := s.SetThresholds(ctx, proxy, oracle.Thresholds{DeviationPct: &neg}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("negative deviation: %v", err)
	}

	// Fresh when judged at its update (geth's blocks run a second apart
	// at least, so the head is already seconds past it).
	d, err := oracle.ReadFeed(ctx, r.eth, proxy, nil)
	if err != nil {
		t.Fatal(err)
	}
	now = time.Unix(int64(d.Latest.UpdatedAt), 0)
	health := func(addr common.Address) oracle.Feed {
		t.Helper()
		f, err := s.Get(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := health(proxy)
	if f.Health.Status != oracle.HealthOK || f.HeartbeatSeconds != 5 || f.HeartbeatDefault || !f.DeviationDefault || f.Latest.Value != "3000" {
		t.Fatalf("fresh proxy: %+v %+v", f, f.Latest)
	}
	if d := health(demoFeed); !d.HeartbeatDefault || d.HeartbeatSeconds != int64(oracle.DefaultHeartbeat/time.Second) || d.Source != store.FeedSourceABI {
		t.Fatalf("demo feed defaults: %+v", d)
	}
	feedQuery := "address:(" + proxy.Hex() + " OR " + agg.Hex() + ")"
	updated := time.Unix(int64(d.Latest.UpdatedAt), 0)
	wantCheck(t, health(proxy), oracle.CheckStale, oracle.VerdictOK, "within the heartbeat of 5s", feedQuery, updated)
	wantCheck(t, health(proxy), oracle.CheckJump, oracle.VerdictNone, "no round before", "", time.Time{})
	wantCheck(t, health(proxy), oracle.CheckDeviation, oracle.VerdictNone, "no reference feed set", "", time.Time{})
	wantCheck(t, health(proxy), oracle.CheckBounds, oracle.VerdictOK, "exposes no minAnswer", feedQuery, updated)
	wantCheck(t, health(proxy), oracle.CheckStaleRead, oracle.VerdictOK, "no contract", "", time.Time{})
	now = now.Add(hb + time.Second)
	if f := health(proxy); f.Health.Status != oracle.HealthStale || f.Health.AgeSeconds < 6 {
		t.Fatalf("old answer: %+v", f.Health)
	}
	wantCheck(t, health(proxy), oracle.CheckStale, oracle.VerdictFiring, "beyond the heartbeat of 5s: no update since", feedQuery, updated)
	r.tx(t, "MockV3Aggregator", agg, "updateAnswer", big.NewInt(-5))
	head, _ := r.eth.HeaderByNumber(ctx, nil)
	now = time.Unix(int64(head.Time), 0)
	if f := health(proxy); f.Health.Status != oracle.HealthNonPositive || f.Latest.Value != "-0.00000005" {
		t.Fatalf("negative answer: %+v %+v", f.Health, f.Latest)
	}
	wantCheck(t, health(proxy), oracle.CheckNonPositive, oracle.VerdictFiring, "answers -0.00000005, not a price", feedQuery, now)
	// The jump's records run from the round before to this one.
	wantCheck(t, health(proxy), oracle.CheckJump, oracle.VerdictFiring, "moved 100.00% in its last update, from 3000 to -0.00000005", feedQuery, updated)
	r.tx(t, "MockV3Aggregator", agg, "updateAnswer", price(3050))
	// Off its reference, the demo's feed at 2500: 22% away.
	ref := demoFeed
	if _, err := s.SetThresholds(ctx, proxy, oracle.Thresholds{Reference: &ref}); err != nil {
		t.Fatal(err)
	}
	head, _ = r.eth.HeaderByNumber(ctx, nil)
	now = time.Unix(int64(head.Time), 0)
	wantCheck(t, health(proxy), oracle.CheckDeviation, oracle.VerdictFiring, "answers 3050, 22.00% from the reference's 2500 (limit 0.5%)",
		"address:("+proxy.Hex()+" OR "+agg.Hex()+" OR "+demoFeed.Hex()+")", time.Time{})
	zero := common.Address{}
	if _, err := s.SetThresholds(ctx, proxy, oracle.Thresholds{Reference: &zero}); err != nil {
		t.Fatal(err)
	}

	// Swap the proxy's aggregator, as Chainlink does between phases.
	r.tx(t, "DataFeedsLegacyAggregatorProxy", proxy, "proposeAggregator", agg2)
	r.tx(t, "DataFeedsLegacyAggregatorProxy", proxy, "confirmAggregator", agg2)
	f = health(proxy)
	if f.Details.Aggregator != agg2 || f.PrevAggregator == nil || *f.PrevAggregator != agg || f.AggregatorChanged == nil {
		t.Fatalf("after the swap: aggregator %s, previous %v", f.Details.Aggregator, f.PrevAggregator)
	}
	if f.Latest.Value != "2900" || f.Latest.RoundID != new(big.Int).Or(new(big.Int).Lsh(big.NewInt(2), 64), big.NewInt(1)).String() {
		t.Fatalf("after the swap: %+v", f.Latest)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %d feeds, %v", len(list), err)
	}

	// History: the mock emits no events, so its rounds are walked; the
	// demo feed's come from AnswerUpdated with their transactions.
	now = now.Add(time.Hour)
	hist, err := s.History(ctx, agg, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var answers []string
	for _, p := range hist.Points {
		answers = append(answers, p.Answer)
		if p.Event != "round" {
			t.Errorf("mock point from %s", p.Event)
		}
	}
	if got := strings.Join(answers, " "); got != "300000000000 -5 305000000000" {
		t.Fatalf("mock history %q", got)
	}
	r.blocks(t, 2)
	rc := r.tx(t, "PriceFeed", demoFeed, "updateAnswer", price(2400))
	// The answers come from the records the indexer stored: without
	// them, the demo's feed would be walked round by round.
	r.index(t)
	hist, err = s.History(ctx, demoFeed, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(hist.Points); n != 2 || hist.Points[1].Tx != rc.TxHash || hist.Points[1].Event != "AnswerUpdated" ||
		hist.Points[1].Value != 2400 || hist.Points[1].Block != rc.BlockNumber.Uint64() {
		t.Fatalf("demo history %+v", hist.Points)
	}
	if hist.Cadence.Updates != 2 || hist.Cadence.MedianSeconds < 3 {
		t.Fatalf("cadence %+v", hist.Cadence)
	}
	for _, c := range []struct {
		from, to time.Time
		msg      string
	}{
		{now, now.Add(-time.Hour), "from is after to"},
		{now.Add(-400 * 24 * time.Hour), now, "longer than the 366 days a history covers"},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), "outside the years 1970 to 9999"},
	} {
		if _, err := s.History(ctx, demoFeed, c.from, c.to); !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("History(%s, %s) = %v, want ErrInvalid saying %q", c.from, c.to, err, c.msg)
		}
	}
}

// TestReaders finds the contracts that read a feed in call traces: a
// LendingVault pricing collateral from Chainlink's proxy, detected from
// the trace, then reading it after it went stale.
func TestReaders(t *testing.T) { chains(t, testReaders) }

func testReaders(t *testing.T, r *rig) {
	ctx := context.Background()
	s := r.service(t, time.Now)
	agg := r.deploy(t, "MockV3Aggregator", uint8(8), price(3000))
	proxy := r.deploy(t, "DataFeedsLegacyAggregatorProxy", agg)
	token := r.deploy(t, "DemoToken", r.from)
	// The vault accepts any age: it is the contract that reads a stale value.
	// As the demo deploys it: an implementation behind ERC1967Proxy.
	initialize, _ := r.abis["LendingVault"].Pack("initialize", r.from, token, proxy, big.NewInt(1<<40))
	vault := r.deploy(t, "ERC1967Proxy", r.deploy(t, "LendingVault"), initialize)
	r.tx(t, "DemoToken", token, "mint", vault, new(big.Int).Mul(big.NewInt(1e6), big.NewInt(1e18)))
	data, _ := r.abis["LendingVault"].Pack("deposit")
	r.send(t, &vault, big.NewInt(1e18), data, false)
	first := r.tx(t, "LendingVault", vault, "borrow", big.NewInt(1e18))
	if err := s.Observe(ctx, 1, r.head(t)); err != nil {
		t.Fatal(err)
	}
	f, err := s.Get(ctx, proxy)
	if err != nil {
		t.Fatalf("the proxy the vault read is not followed: %v", err)
	}
	if f.Source != store.FeedSourceTrace || len(f.Readers) != 1 {
		t.Fatalf("feed %+v", f)
	}
	rd := f.Readers[0]
	if rd.Reader != vault || rd.Tx != first.TxHash || rd.Method != "latestRoundData" || rd.Answer != "300000000000" || rd.Stale || rd.Reads != 1 {
		t.Fatalf("read %+v", rd)
	}
	if _, err := s.Get(ctx, agg); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the aggregator behind the proxy was followed too: %v", err)
	}

	hb := 2 * time.Second
	if _, err := s.SetThresholds(ctx, proxy, oracle.Thresholds{Heartbeat: &hb}); err != nil {
		t.Fatal(err)
	}
	from := r.head(t) + 1
	r.blocks(t, 4)
	stale := r.tx(t, "LendingVault", vault, "borrow", big.NewInt(1e18))
	reads, err := s.ReadsAt(ctx, stale.BlockNumber.Uint64())
	if err != nil || len(reads) != 1 || !reads[0].Stale || reads[0].Feed != proxy {
		t.Fatalf("ReadsAt = %+v, %v", reads, err)
	}
	if err := s.Observe(ctx, from, r.head(t)); err != nil {
		t.Fatal(err)
	}
	// Observing again records nothing twice.
	if err := s.Observe(ctx, from, r.head(t)); err != nil {
		t.Fatal(err)
	}
	f, err = s.Get(ctx, proxy)
	if err != nil {
		t.Fatal(err)
	}
	rd = f.Readers[0]
	if rd.Tx != stale.TxHash || !rd.Stale || rd.Reads != 2 || rd.StaleReads != 1 || rd.LastStaleTx != stale.TxHash {
		t.Fatalf("after the stale read: %+v", rd)
	}
	h, err := r.eth.HeaderByNumber(ctx, stale.BlockNumber)
	if err != nil {
		t.Fatal(err)
	}
	wantCheck(t, f, oracle.CheckStaleRead, oracle.VerdictFiring, vault.Hex()+" read 1 stale answers of 2, the last in block "+stale.BlockNumber.String(),
		"tx:"+stale.TxHash.Hex(), time.Unix(int64(h.Time), 0))
	// A known contract is named in the detail, its address beside.
	s.Name = func(a common.Address) (string, bool) { return "LendingVault", a == vault }
	if f, err = s.Get(ctx, proxy); err != nil {
		t.Fatal(err)
	}
	wantCheck(t, f, oracle.CheckStaleRead, oracle.VerdictFiring, "LendingVault ("+vault.Hex()+") read 1 stale answers of 2",
		"tx:"+stale.TxHash.Hex(), time.Unix(int64(h.Time), 0))
}

// wantCheck finds a check among a feed's and compares its verdict, its
// detail (a part of it) and its records: the query, and a time range
// holding at (zero: not checked); an empty query wants no records.
func wantCheck(t *testing.T, f oracle.Feed, name, verdict, detail, query string, at time.Time) {
	t.Helper()
	for _, c := range f.Health.Checks {
		if c.Check != name {
			continue
		}
		if c.Verdict != verdict || !strings.Contains(c.Detail, detail) || c.Query != query {
			t.Errorf("check %s: %s %q, records %q; want %s %q, records %q", name, c.Verdict, c.Detail, c.Query, verdict, detail, query)
		}
		if query == "" {
			if c.Records != "" {
				t.Errorf("check %s links to %s, want no records", name, c.Records)
			}
			return
		}
		if !at.IsZero() && (at.Before(c.From) || at.After(c.To)) {
			t.Errorf("check %s: records over [%s, %s] miss %s", name, c.From, c.To, at.UTC())
		}
		if want := oracle.ExploreLink(c.Query, c.From, c.To); c.Records != want || !strings.HasPrefix(c.Records, "/explore?") {
			t.Errorf("check %s: records %q, want %q", name, c.Records, want)
		}
		return
	}
	t.Errorf("no %s check among %+v", name, f.Health.Checks)
}

// TestSequencerFeed follows L2 sequencer-uptime feeds, told with
// Chainlink's MockV3Aggregator as the uptime feed (answer 0 up, 1 down,
// startedAt when the status changed): followed as one by hand, or found by
// a description like Chainlink's; judged up, down, and back up within its
// grace period, never stale for lack of updates; and back to a price feed
// by hand.
func TestSequencerFeed(t *testing.T) { chains(t, testSequencerFeed) }

func testSequencerFeed(t *testing.T, r *rig) {
	ctx := context.Background()
	var now time.Time
	s := r.service(t, func() time.Time { return now })
	uptime := r.deploy(t, "MockV3Aggregator", uint8(0), big.NewInt(0))
	named := r.deploy(t, "PriceFeed", r.from, uint8(0), "L2 Sequencer Uptime Status Feed", big.NewInt(0))
	head, err := r.eth.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(int64(head.Time), 0)

	// Found by its description; followed as one by hand.
	if f, err := s.Add(ctx, named, store.FeedSourceABI); err != nil || f.Kind != store.FeedKindSequencer {
		t.Fatalf("a feed described as a sequencer's: %+v, %v", f, err)
	}
	if f, err := s.Add(ctx, uptime, store.FeedSourceManual); err != nil || f.Kind != store.FeedKindPrice {
		t.Fatalf("the mock, added: %+v, %v", f, err)
	}
	yes, no := true, false
	if f, err := s.SetThresholds(ctx, uptime, oracle.Thresholds{Sequencer: &yes}); err != nil || f.Kind != store.FeedKindSequencer {
		t.Fatalf("the mock as a sequencer feed: %+v, %v", f, err)
	}
	judge := func(what string, at time.Time, status, problem string) {
		t.Helper()
		now = at
		f, err := s.Get(ctx, uptime)
		if err != nil {
			t.Fatal(err)
		}
		if f.Kind != store.FeedKindSequencer || f.Health.Status != status || problem != "" && !strings.Contains(strings.Join(f.Health.Problems, "; "), problem) {
			t.Errorf("%s: kind %s, health %+v; want %s with %q", what, f.Kind, f.Health, status, problem)
		}
	}
	// Up since deployment: a day later it is still up, not stale.
	judge("up a day on", t0.Add(24*time.Hour), oracle.HealthOK, "")
	// Down: the feed's round says so, since startedAt.
	down := t0.Add(time.Minute)
	r.tx(t, "MockV3Aggregator", uptime, "updateRoundData", big.NewInt(2), big.NewInt(1), big.NewInt(down.Unix()), big.NewInt(down.Unix()))
	judge("down", down.Add(10*time.Minute), oracle.HealthDown, "the sequencer is down since "+down.UTC().Format(time.RFC3339))
	f, err := s.Get(ctx, uptime)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Health.Checks) != 1 {
		t.Errorf("a sequencer feed's checks: %+v", f.Health.Checks)
	}
	wantCheck(t, f, oracle.CheckSequencer, oracle.VerdictFiring, "the sequencer is down since", "address:"+uptime.Hex(), down)
	// Back up: within the grace period for an hour, then up.
	back := down.Add(30 * time.Minute)
	r.tx(t, "MockV3Aggregator", uptime, "updateRoundData", big.NewInt(3), big.NewInt(0), big.NewInt(back.Unix()), big.NewInt(back.Unix()))
	judge("back up", back.Add(59*time.Minute), oracle.HealthGrace, "within the grace period of 1h0m0s")
	judge("up again", back.Add(61*time.Minute), oracle.HealthOK, "")

	// The monitor engine sees the kind.
	infos, err := s.FollowedFeeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, fi := range infos {
		if !fi.Sequencer {
			t.Errorf("FollowedFeeds: %s is not a sequencer feed", fi.Address)
		}
	}
	// Back to a price feed by hand: judged by its heartbeat again.
	if _, err := s.SetThresholds(ctx, uptime, oracle.Thresholds{Sequencer: &no}); err != nil {
		t.Fatal(err)
	}
	now = back.Add(24 * time.Hour)
	if f, err := s.Get(ctx, uptime); err != nil || f.Kind != store.FeedKindPrice || f.Health.Status != oracle.HealthStale {
		t.Errorf("as a price feed again: %+v, %v", f, err)
	}
}

// TestPrunedState follows a feed on a geth --dev that prunes old state: the
// feed as it is now reads as on an archive node, while a read at a block
// whose state is gone (what a monitor's replay of the past asks) is a clear
// error naming the block, not a panic nor a wrong answer.
func TestPrunedState(t *testing.T) {
	if testing.Short() {
		t.Skip("starts geth")
	}
	if _, err := gethtest.Find(); err != nil {
		t.Skipf("no geth: %v", err)
	}
	r := startGeth(t, false)
	ctx := context.Background()
	s := r.service(t, time.Now)
	agg := r.deploy(t, "MockV3Aggregator", uint8(8), price(3000))
	old := r.head(t)
	// Past the 128 blocks whose state a pruning node keeps.
	r.blocks(t, 140)
	r.tx(t, "MockV3Aggregator", agg, "updateAnswer", price(3100))
	if _, err := s.Add(ctx, agg, store.FeedSourceManual); err != nil {
		t.Fatal(err)
	}
	f, err := s.Get(ctx, agg)
	if err != nil || f.Latest == nil || f.Latest.Value != "3100" || f.Health.Status != oracle.HealthOK {
		t.Fatalf("the feed now: %+v, %v", f, err)
	}
	_, err = s.RoundAt(ctx, agg, old)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("at block %d (a node that prunes old state", old)) {
		t.Fatalf("a read at pruned block %d: %v, want an error naming the block", old, err)
	}
	t.Logf("a read at pruned block %d: %v", old, err)
	// The monitor kinds see the same error, and judge the present.
	if _, err := s.FeedRound(ctx, agg, old); err == nil {
		t.Errorf("FeedRound at a pruned block answered")
	}
	if fr, err := s.FeedRound(ctx, agg, r.head(t)); err != nil || fr.Value != "3100" {
		t.Errorf("FeedRound at the head: %+v, %v", fr, err)
	}
}
