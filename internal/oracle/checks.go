package oracle

import (
	"context"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Checks of a feed's health, as the feed page and the API show them: the
// verdicts of the monitor kinds of the same names (feed-stale, feed-jump,
// …) on the feed as it is now.
const (
	CheckStale       = "stale"
	CheckJump        = "jump"
	CheckDeviation   = "deviation"
	CheckNonPositive = "nonpositive"
	CheckBounds      = "bounds"
	CheckSequencer   = "sequencer"
	CheckStaleRead   = "stale-read"
)

// Verdicts of a check.
const (
	VerdictOK     = "ok"
	VerdictFiring = "firing"
	// VerdictNone: the check cannot judge (no reference feed set, no
	// previous round, the reference unreadable).
	VerdictNone = "none"
)

// DefaultJumpPct is the move between consecutive answers the jump check
// calls a jump: the built-in feed-jump monitor's limit.
const DefaultJumpPct = 10.0

// StaleReadWindow is how recent a stale read must be, by the chain's
// clock, for the stale-read check to fire: the feed-stale-read monitor
// resolves after as long without one.
const StaleReadWindow = 5 * time.Minute

// recordsPad widens the records' time range on both sides, so that the
// update a verdict rests on is inside it.
const recordsPad = time.Minute

// Check is one health check's verdict on a feed, with the records behind
// it: Query over [From, To] in the records engine, and Records, the
// Explore permalink to them (empty when no record backs the verdict).
type Check struct {
	Check   string    `json:"check"`
	Verdict string    `json:"verdict"`
	Detail  string    `json:"detail"`
	Query   string    `json:"query,omitempty"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Records string    `json:"records,omitempty"`
}

// ExploreLink is the Explore page's permalink to a query over a fixed
// time range.
func ExploreLink(q string, from, to time.Time) string {
	v := url.Values{"q": {q}, "from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}}
	return "/explore?" + v.Encode()
}

// withRecords sets the check's records: q over [from-pad, to+pad].
func (c Check) withRecords(q string, from, to time.Time) Check {
	c.Query, c.From, c.To = q, from.Add(-recordsPad).UTC(), to.Add(recordsPad).UTC()
	c.Records = ExploreLink(c.Query, c.From, c.To)
	return c
}

// addressQuery matches the records of any of addrs (their transactions
// and events).
func addressQuery(addrs ...common.Address) string {
	var hex []string
	for _, a := range addrs {
		if a != (common.Address{}) && !slices.Contains(hex, a.Hex()) {
			hex = append(hex, a.Hex())
		}
	}
	if len(hex) == 1 {
		return "address:" + hex[0]
	}
	return "address:(" + strings.Join(hex, " OR ") + ")"
}

// checks judges a readable feed read as d by every check that applies to
// its kind. The chain's clock (the head's time) bounds the records'
// ranges, since a dev chain's block times may run ahead of the service's.
func (s *Service) checks(ctx context.Context, f store.OracleFeed, d Details, hb time.Duration, now time.Time) []Check {
	head := d.BlockTime
	if head.Before(now) {
		head = now
	}
	feedAddrs := []common.Address{f.Address, d.Aggregator, f.PrevAggregator}
	updated := unix(d.Latest.UpdatedAt)
	value := FormatAnswer(d.Latest.Answer, d.Decimals)
	if f.Kind == store.FeedKindSequencer {
		h := JudgeSequencer(d, DefaultSequencerGrace, now)
		c := Check{Check: CheckSequencer, Verdict: VerdictOK, Detail: "the sequencer is up since " + unix(d.Latest.StartedAt).Format(time.RFC3339)}
		if h.Status != HealthOK {
			c.Verdict, c.Detail = VerdictFiring, strings.Join(h.Problems, "; ")
		}
		return []Check{c.withRecords(addressQuery(feedAddrs...), unix(d.Latest.StartedAt), head)}
	}
	var out []Check

	// stale: the last update, and nothing after it.
	age := now.Sub(updated).Round(time.Second)
	c := Check{Check: CheckStale, Verdict: VerdictOK, Detail: fmt.Sprintf("updated %s ago, within the heartbeat of %s", age, hb)}
	if age > hb {
		c.Verdict, c.Detail = VerdictFiring, fmt.Sprintf("updated %s ago, beyond the heartbeat of %s: no update since", age, hb)
	}
	out = append(out, c.withRecords(addressQuery(feedAddrs...), updated, head))

	// jump: the latest answer against the round before it.
	c = Check{Check: CheckJump, Verdict: VerdictNone}
	if prev, err := s.prevRound(ctx, d); err != nil {
		c.Detail = err.Error()
	} else {
		pct, ok := pctDiff(scaledAnswer(d.Latest.Answer, d.Decimals), scaledAnswer(prev.Answer, d.Decimals))
		c.Verdict = VerdictOK
		c.Detail = fmt.Sprintf("moved %.2f%% in its last update, from %s to %s (limit %g%%)", pct, FormatAnswer(prev.Answer, d.Decimals), value, DefaultJumpPct)
		if !ok {
			c.Detail = fmt.Sprintf("moved from %s to %s", FormatAnswer(prev.Answer, d.Decimals), value)
		}
		if !ok || pct > DefaultJumpPct {
			c.Verdict = VerdictFiring
		}
		c = c.withRecords(addressQuery(feedAddrs...), unix(prev.UpdatedAt), updated)
	}
	out = append(out, c)

	// deviation: against the reference feed.
	c = Check{Check: CheckDeviation, Verdict: VerdictNone, Detail: "no reference feed set"}
	if f.Reference != nil {
		rd, err := ReadFeed(ctx, s.Node, *f.Reference, nil)
		if err != nil {
			c.Detail = fmt.Sprintf("cannot read the reference feed %s: %v", f.Reference.Hex(), err)
		} else {
			limit := DeviationOf(f)
			pct, ok := pctDiff(scaledAnswer(d.Latest.Answer, d.Decimals), scaledAnswer(rd.Latest.Answer, rd.Decimals))
			c.Verdict = VerdictOK
			c.Detail = fmt.Sprintf("answers %s, %.2f%% from the reference's %s (limit %g%%)", value, pct, FormatAnswer(rd.Latest.Answer, rd.Decimals), limit)
			if !ok || pct > limit {
				c.Verdict = VerdictFiring
			}
			from := updated
			if ru := unix(rd.Latest.UpdatedAt); ru.Before(from) {
				from = ru
			}
			c = c.withRecords(addressQuery(append(feedAddrs, *f.Reference, rd.Aggregator)...), from, head)
		}
	}
	out = append(out, c)

	// nonpositive and bounds: the latest update.
	c = Check{Check: CheckNonPositive, Verdict: VerdictOK, Detail: "answers " + value}
	if d.Latest.Answer.Sign() <= 0 {
		c.Verdict, c.Detail = VerdictFiring, "answers "+value+", not a price"
	}
	out = append(out, c.withRecords(addressQuery(feedAddrs...), updated, updated))
	c = Check{Check: CheckBounds, Verdict: VerdictOK, Detail: "the aggregator exposes no minAnswer or maxAnswer"}
	switch {
	case d.MinAnswer != nil && d.Latest.Answer.Cmp(d.MinAnswer) <= 0:
		c.Verdict, c.Detail = VerdictFiring, "pinned at the aggregator's minAnswer "+FormatAnswer(d.MinAnswer, d.Decimals)
	case d.MaxAnswer != nil && d.Latest.Answer.Cmp(d.MaxAnswer) >= 0:
		c.Verdict, c.Detail = VerdictFiring, "pinned at the aggregator's maxAnswer "+FormatAnswer(d.MaxAnswer, d.Decimals)
	case d.MinAnswer != nil || d.MaxAnswer != nil:
		c.Detail = fmt.Sprintf("answers %s, within the aggregator's bounds [%s, %s]", value, FormatAnswer(d.MinAnswer, d.Decimals), FormatAnswer(d.MaxAnswer, d.Decimals))
	}
	out = append(out, c.withRecords(addressQuery(feedAddrs...), updated, updated))

	return append(out, s.staleReadCheck(ctx, f, d))
}

// staleReadCheck judges the reads of f recorded from traces: firing when
// a contract read an answer older than the heartbeat within
// StaleReadWindow of the head; its records are the transactions of the
// readers' last stale reads.
func (s *Service) staleReadCheck(ctx context.Context, f store.OracleFeed, d Details) Check {
	c := Check{Check: CheckStaleRead, Verdict: VerdictOK, Detail: "no contract was seen reading a stale answer"}
	reads, err := s.Store.OracleReads(ctx, f.Address)
	if err != nil {
		c.Verdict, c.Detail = VerdictNone, fmt.Sprintf("cannot list the feed's readers: %v", err)
		return c
	}
	var txs []string
	var first, last time.Time
	var parts []string
	for _, r := range reads {
		if r.StaleReads == 0 || r.LastStaleTx == (common.Hash{}) {
			continue
		}
		h, err := s.Node.HeaderByNumber(ctx, new(big.Int).SetUint64(r.LastStaleBlock))
		if err != nil {
			c.Verdict, c.Detail = VerdictNone, fmt.Sprintf("cannot read block %d: %v", r.LastStaleBlock, err)
			return c
		}
		t := time.Unix(int64(h.Time), 0).UTC()
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
		txs = append(txs, r.LastStaleTx.Hex())
		parts = append(parts, fmt.Sprintf("%s read %d stale answers of %d, the last in block %d", s.label(r.Reader), r.StaleReads, r.Reads, r.LastStaleBlock))
	}
	if len(txs) == 0 {
		return c
	}
	c.Detail = strings.Join(parts, "; ")
	if d.BlockTime.Sub(last) < StaleReadWindow {
		c.Verdict = VerdictFiring
	}
	q := "tx:" + txs[0]
	if len(txs) > 1 {
		q = "tx:(" + strings.Join(txs, " OR ") + ")"
	}
	return c.withRecords(q, first, last)
}

// label names addr for a check's detail: "Name (0x…)" when the contract
// is known, the address alone otherwise.
func (s *Service) label(addr common.Address) string {
	if s.Name != nil {
		if n, ok := s.Name(addr); ok && n != "" {
			return n + " (" + addr.Hex() + ")"
		}
	}
	return addr.Hex()
}

// prevRound reads the round before the latest, within the latest's phase
// on a proxy.
func (s *Service) prevRound(ctx context.Context, d Details) (Round, error) {
	id := new(big.Int).Sub(d.Latest.RoundID, big.NewInt(1))
	low := new(big.Int)
	if d.Proxy {
		low = new(big.Int).Lsh(new(big.Int).Rsh(d.Latest.RoundID, 64), 64)
	}
	if id.Cmp(low) <= 0 || id.BitLen() > 80 {
		return Round{}, fmt.Errorf("no round before %s to compare with", d.Latest.RoundID)
	}
	arg := make([]byte, 32)
	id.FillBytes(arg)
	raw, err := call(ctx, s.Node, d.Address, selGetRoundData, arg, new(big.Int).SetUint64(d.Block))
	if err != nil {
		return Round{}, fmt.Errorf("cannot read round %s: %w", id, err)
	}
	r, err := DecodeRound(raw)
	if err != nil {
		return Round{}, fmt.Errorf("round %s: %w", id, err)
	}
	if r.UpdatedAt == 0 {
		return Round{}, fmt.Errorf("round %s has no answer", id)
	}
	return r, nil
}

// pctDiff is |a-b|/|b| in percent; ok is false when b is zero.
func pctDiff(a, b *big.Float) (float64, bool) {
	if b.Sign() == 0 {
		return 0, false
	}
	q := new(big.Float).Sub(a, b)
	q.Abs(q)
	v, _ := q.Quo(q, new(big.Float).Abs(b)).Float64()
	return v * 100, true
}

func scaledAnswer(v *big.Int, decimals uint8) *big.Float {
	f := new(big.Float).SetInt(v)
	return f.Quo(f, new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)))
}
