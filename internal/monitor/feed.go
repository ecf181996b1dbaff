package monitor

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Kinds of price-feed health checks. Each makes one alert per feed (per
// feed and reader for feed-stale-read); contracts empty or "*" watch every
// followed feed.
const (
	// KindFeedStale: the latest answer is older than the heartbeat plus
	// grace, judged at every block (a stale feed emits no event).
	KindFeedStale = "feed-stale"
	// KindFeedJump: the latest answer moved more than pct percent from the
	// one before it; it holds until the next answer.
	KindFeedJump = "feed-jump"
	// KindFeedDeviation: the answer is more than pct percent away from the
	// reference feed's.
	KindFeedDeviation = "feed-deviation"
	// KindFeedNonPositive: the answer is zero or negative.
	KindFeedNonPositive = "feed-nonpositive"
	// KindFeedBounds: the answer is pinned at the aggregator's minAnswer or
	// maxAnswer (aggregators without bounds never fire).
	KindFeedBounds = "feed-bounds"
	// KindFeedStaleRead: a contract read an answer older than the heartbeat
	// plus grace, seen in the block's call traces; resolves after
	// resolveAfter without another.
	KindFeedStaleRead = "feed-stale-read"
	// KindSequencerDown: an L2 sequencer-uptime feed answers 1 (down), or
	// answers 0 (up) since less than grace (default an hour, Chainlink's
	// advice): contracts that check the feed still refuse prices then.
	// It watches the feeds followed as sequencer-uptime feeds, which the
	// other feed kinds leave alone.
	KindSequencerDown = "sequencer-down"
)

// DefaultSequencerGrace is how long after a sequencer comes back up a
// sequencer-down monitor without grace still fires.
const DefaultSequencerGrace = time.Hour

func isFeedKind(k string) bool { return strings.HasPrefix(k, "feed-") || k == KindSequencerDown }

// FeedReader reads price feeds for the feed kinds; the oracle package's
// Service does, through the app. Methods are called on the engine's
// goroutine and may be slow (they call the node).
type FeedReader interface {
	// FollowedFeeds lists the followed feeds with their thresholds.
	FollowedFeeds(ctx context.Context) ([]FeedInfo, error)
	// FeedRound reads a feed's latest round at a block.
	FeedRound(ctx context.Context, feed common.Address, block uint64) (FeedRound, error)
	// FeedReads lists the reads of feeds by contracts in a block's call
	// traces.
	FeedReads(ctx context.Context, block uint64) ([]FeedRead, error)
}

// FeedInfo is a followed feed with its thresholds in force.
type FeedInfo struct {
	Address      common.Address
	Heartbeat    time.Duration
	DeviationPct float64
	// Reference is the feed of the same pair to compare with, if any.
	Reference *common.Address
	// Sequencer: an L2 sequencer-uptime feed, not a price.
	Sequencer bool
}

// FeedRound is a feed's latest round at a block.
type FeedRound struct {
	RoundID   *big.Int
	Answer    *big.Int
	UpdatedAt time.Time
	// StartedAt is when the round began: for a sequencer-uptime feed,
	// when the sequencer went down or came back up.
	StartedAt time.Time
	Decimals  uint8
	// Min and Max are the aggregator's bounds, nil when it has none.
	Min, Max *big.Int
	// Value is the answer with its decimals, as shown.
	Value string
}

// FeedRead is one read of a feed by a contract.
type FeedRead struct {
	Feed, Reader common.Address
	Tx           common.Hash
	Method       string
	// UpdatedAt is the round's time; zero for latestAnswer, which has none.
	UpdatedAt time.Time
	Value     string
}

// ErrNoFeeds is returned by feed monitors without a FeedReader; it is an
// ErrNoNode, so the engine leaves them idle quietly.
var ErrNoFeeds = fmt.Errorf("%w: no price feed reader", ErrNoNode)

// feedState is what a feed monitor remembers of one feed.
type feedState struct {
	block uint64
	// round and answer: the latest seen; prev: the answer before it.
	round  *big.Int
	answer *big.Int
	prev   *big.Int
	// lastStale: when a stale read was last seen, by reader.
	lastStale map[common.Address]staleRead
}

type staleRead struct {
	t       time.Time
	block   uint64
	tx      common.Hash
	summary string
}

func (rt *runtime) rollbackFeeds(n uint64) {
	for a, st := range rt.feeds {
		if st.block > n {
			delete(rt.feeds, a)
		}
	}
}

// feedsOf lists the feeds a monitor watches with their thresholds.
func (c *compiled) feedsOf(ctx context.Context, fr FeedReader) ([]FeedInfo, error) {
	all, err := fr.FollowedFeeds(ctx)
	if err != nil {
		return nil, err
	}
	// sequencer-down watches the sequencer-uptime feeds, the other
	// kinds the price feeds.
	seq := c.spec.Kind == KindSequencerDown
	var out []FeedInfo
	for _, f := range all {
		if f.Sequencer == seq && (c.addrs == nil || c.addrs[f.Address]) {
			out = append(out, f)
		}
	}
	// Feeds named but not followed are judged with the defaults.
	for a := range c.addrs {
		if !slices.ContainsFunc(all, func(f FeedInfo) bool { return f.Address == a }) {
			out = append(out, FeedInfo{Address: a, Heartbeat: time.Hour, Sequencer: seq})
		}
	}
	slices.SortFunc(out, func(a, b FeedInfo) int { return a.Address.Cmp(b.Address) })
	return out, nil
}

// pctDiff is |a-b|/|b| in percent; ok is false when b is zero.
func pctDiff(a, b *big.Float) (float64, bool) {
	if b.Sign() == 0 {
		return 0, false
	}
	d := new(big.Float).Sub(a, b)
	d.Abs(d)
	q, _ := d.Quo(d, new(big.Float).Abs(b)).Float64()
	return q * 100, true
}

func scaled(v *big.Int, decimals uint8) *big.Float {
	f := new(big.Float).SetInt(v)
	return f.Quo(f, new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
}

// evalFeed evaluates a feed kind on one block.
func (rt *runtime) evalFeed(ctx context.Context, in blockInput) ([]obs, error) {
	if in.feeds == nil {
		return nil, ErrNoFeeds
	}
	c := rt.c
	b := in.block
	feeds, err := c.feedsOf(ctx, in.feeds)
	if err != nil {
		return nil, err
	}
	if rt.feeds == nil {
		rt.feeds = map[common.Address]*feedState{}
	}
	base := obs{t: b.Time, block: b.Number, hash: b.Hash}
	label := func(o *obs, feed common.Address) {
		o.key = feed.Hex()
		o.labels = c.labels(nil)
		o.labels["contract"], o.labels["address"] = in.names(feed), feed.Hex()
	}
	var out []obs
	if c.spec.Kind == KindFeedStaleRead {
		return rt.evalStaleReads(ctx, in, feeds)
	}
	var errs []string
	for _, f := range feeds {
		r, err := in.feeds.FeedRound(ctx, f.Address, b.Number)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// One broken feed must not stop the others' checks.
			errs = append(errs, err.Error())
			continue
		}
		o := base
		label(&o, f.Address)
		o.value = r.Value
		name := in.names(f.Address)
		switch c.spec.Kind {
		case KindFeedStale:
			hb := f.Heartbeat
			if c.spec.Heartbeat > 0 {
				hb = c.spec.Heartbeat.D()
			}
			age := b.Time.Sub(r.UpdatedAt)
			o.active = age > hb+c.spec.Grace.D()
			o.value = age.Round(time.Second).String()
			o.summary = fmt.Sprintf("%s last updated %s ago (heartbeat %s, grace %s); answer %s",
				name, age.Round(time.Second), hb, c.spec.Grace, r.Value)
		case KindFeedJump:
			st := rt.feeds[f.Address]
			if st == nil {
				st = &feedState{}
				rt.feeds[f.Address] = st
			}
			if st.round == nil || st.round.Cmp(r.RoundID) != 0 {
				if st.round != nil {
					st.prev = st.answer
				}
				st.round, st.answer = r.RoundID, r.Answer
			}
			st.block = b.Number
			if st.prev != nil {
				pct, ok := pctDiff(new(big.Float).SetInt(st.answer), new(big.Float).SetInt(st.prev))
				o.active = ok && pct > c.spec.Pct
				o.value = fmt.Sprintf("%.2f%%", pct)
				o.summary = fmt.Sprintf("%s moved %.2f%% in one update, from %s to %s (limit %g%%)",
					name, pct, scaled(st.prev, r.Decimals).Text('f', -1), r.Value, c.spec.Pct)
			}
		case KindFeedDeviation:
			ref := f.Reference
			if c.reference != nil {
				ref = c.reference
			}
			if ref == nil || *ref == f.Address {
				continue
			}
			rr, err := in.feeds.FeedRound(ctx, *ref, b.Number)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			limit := c.spec.Pct
			if limit == 0 {
				limit = f.DeviationPct
			}
			pct, ok := pctDiff(scaled(r.Answer, r.Decimals), scaled(rr.Answer, rr.Decimals))
			o.active = ok && pct > limit
			o.value = fmt.Sprintf("%.2f%%", pct)
			o.summary = fmt.Sprintf("%s answers %s, %.2f%% from %s's %s (limit %g%%)",
				name, r.Value, pct, in.names(*ref), rr.Value, limit)
		case KindSequencerDown:
			grace := c.spec.Grace.D()
			if grace == 0 {
				grace = DefaultSequencerGrace
			}
			since := b.Time.Sub(r.StartedAt).Round(time.Second)
			switch {
			case r.Answer.Sign() != 0:
				o.active, o.value = true, "down"
				o.summary = fmt.Sprintf("%s: the sequencer is down, for %s (since %s)", name, since, r.StartedAt.Format(time.RFC3339))
			case since < grace:
				o.active, o.value = true, "grace"
				o.summary = fmt.Sprintf("%s: the sequencer is back up since %s (%s ago), within the grace period of %s", name, r.StartedAt.Format(time.RFC3339), since, grace)
			default:
				o.value = "up"
				o.summary = fmt.Sprintf("%s: the sequencer is up, for %s", name, since)
			}
		case KindFeedNonPositive:
			o.active = r.Answer.Sign() <= 0
			o.summary = fmt.Sprintf("%s answers %s", name, r.Value)
		case KindFeedBounds:
			switch {
			case r.Min != nil && r.Answer.Cmp(r.Min) <= 0:
				o.active = true
				o.summary = fmt.Sprintf("%s is pinned at its aggregator's minAnswer (%s)", name, r.Value)
			case r.Max != nil && r.Answer.Cmp(r.Max) >= 0:
				o.active = true
				o.summary = fmt.Sprintf("%s is pinned at its aggregator's maxAnswer (%s)", name, r.Value)
			default:
				o.summary = fmt.Sprintf("%s answers %s, within its aggregator's bounds", name, r.Value)
			}
		}
		out = append(out, o)
	}
	if len(errs) > 0 && len(out) == 0 {
		return nil, fmt.Errorf("cannot read the feeds: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// staleReadResolveAfter is how long a feed-stale-read alert stays firing
// after the last stale read, unless the spec sets resolveAfter.
const staleReadResolveAfter = 5 * time.Minute

// evalStaleReads fires per feed and reader on reads of answers older than
// the heartbeat plus grace, and resolves after resolveAfter without one.
func (rt *runtime) evalStaleReads(ctx context.Context, in blockInput, feeds []FeedInfo) ([]obs, error) {
	c := rt.c
	b := in.block
	var reads []FeedRead
	var err error
	if len(b.Txs) > 0 {
		// A block without transactions holds no read: no trace needed.
		reads, err = in.feeds.FeedReads(ctx, b.Number)
	}
	if err != nil {
		return nil, err
	}
	byAddr := map[common.Address]FeedInfo{}
	for _, f := range feeds {
		byAddr[f.Address] = f
	}
	for _, r := range reads {
		f, ok := byAddr[r.Feed]
		if !ok || r.UpdatedAt.IsZero() {
			continue
		}
		hb := f.Heartbeat
		if c.spec.Heartbeat > 0 {
			hb = c.spec.Heartbeat.D()
		}
		age := b.Time.Sub(r.UpdatedAt)
		if age <= hb+c.spec.Grace.D() {
			continue
		}
		st := rt.feeds[r.Feed]
		if st == nil {
			st = &feedState{}
			rt.feeds[r.Feed] = st
		}
		if st.lastStale == nil {
			st.lastStale = map[common.Address]staleRead{}
		}
		st.block = b.Number
		st.lastStale[r.Reader] = staleRead{t: b.Time, block: b.Number, tx: r.Tx, summary: fmt.Sprintf(
			"%s read %s from %s by %s, %s old (heartbeat %s, grace %s)",
			in.names(r.Reader), r.Value, in.names(r.Feed), r.Method, age.Round(time.Second), hb, c.spec.Grace)}
	}
	var out []obs
	resolveAfter := c.resolveAfter()
	if resolveAfter == 0 {
		resolveAfter = staleReadResolveAfter
	}
	feedAddrs := make([]common.Address, 0, len(rt.feeds))
	for a := range rt.feeds {
		feedAddrs = append(feedAddrs, a)
	}
	slices.SortFunc(feedAddrs, func(a, b common.Address) int { return a.Cmp(b) })
	for _, feed := range feedAddrs {
		st := rt.feeds[feed]
		readers := make([]common.Address, 0, len(st.lastStale))
		for a := range st.lastStale {
			readers = append(readers, a)
		}
		slices.SortFunc(readers, func(a, b common.Address) int { return a.Cmp(b) })
		for _, reader := range readers {
			sr := st.lastStale[reader]
			o := obs{t: b.Time, block: b.Number, hash: b.Hash, key: feed.Hex() + "," + reader.Hex()}
			o.labels = c.labels(nil)
			o.labels["contract"], o.labels["address"], o.labels["from"] = in.names(feed), feed.Hex(), reader.Hex()
			o.labels["tx"] = sr.tx.Hex()
			o.active = b.Time.Sub(sr.t) < resolveAfter
			o.tx, o.summary, o.value = sr.tx.Hex(), sr.summary, "stale read"
			if !o.active {
				delete(st.lastStale, reader)
				o.summary = fmt.Sprintf("no stale read for %s", resolveAfter)
			}
			out = append(out, o)
		}
	}
	return out, nil
}
