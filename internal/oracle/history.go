package oracle

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Point is one answer of a feed's history.
type Point struct {
	RoundID string `json:"roundId"`
	Answer  string `json:"answer"`
	// Value is the answer with its decimals, for charts.
	Value     float64   `json:"value"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Block and Tx locate the update; zero for answers read by walking
	// rounds (aggregators that emit no events).
	Block uint64      `json:"block,omitempty"`
	Tx    common.Hash `json:"tx"`
	// Event is AnswerUpdated, NewTransmission or "round" (read with
	// getRoundData).
	Event string `json:"event"`
}

// Cadence sums up how often a feed updated within a history.
type Cadence struct {
	Updates int `json:"updates"`
	// MedianSeconds and MaxSeconds are the median and the longest time
	// between consecutive updates.
	MedianSeconds int64 `json:"medianSeconds"`
	MaxSeconds    int64 `json:"maxSeconds"`
}

// History is a feed's answers within a time range, oldest first.
type History struct {
	Feed     common.Address `json:"feed"`
	From     time.Time      `json:"from"`
	To       time.Time      `json:"to"`
	Decimals uint8          `json:"decimals"`
	Points   []Point        `json:"points"`
	Cadence  Cadence        `json:"cadence"`
	// Truncated says the range held more answers than MaxPoints: the
	// newest are kept.
	Truncated bool `json:"truncated,omitempty"`
}

// Bounds of one history request.
const (
	MaxPoints       = 2000
	maxRoundWalk    = 500
	maxHistoryRange = 200_000 // blocks
)

// History lists the feed's answers updated within [from, to] (zero to:
// now; zero from: a day before to): its aggregators' AnswerUpdated and
// NewTransmission events, or, when they emit none, rounds read back from
// the latest with getRoundData.
func (s *Service) History(ctx context.Context, feed common.Address, from, to time.Time) (History, error) {
	if to.IsZero() {
		to = s.now()
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	if from.After(to) {
		return History{}, fmt.Errorf("%w: from is after to", ErrBadRange)
	}
	d, err := ReadFeed(ctx, s.Node, feed, nil)
	if err != nil {
		return History{}, err
	}
	h := History{Feed: feed, From: from.UTC(), To: to.UTC(), Decimals: d.Decimals, Points: []Point{}}
	addrs := []common.Address{feed}
	if d.Proxy {
		addrs = append(addrs, d.Aggregator)
		if f, err := s.Store.OracleFeed(ctx, feed); err == nil && f.PrevAggregator != (common.Address{}) && f.PrevAggregator != d.Aggregator {
			addrs = append(addrs, f.PrevAggregator)
		}
	}
	first, err := s.blockAt(ctx, from, d.Block)
	if err != nil {
		return h, err
	}
	if d.Block-first > maxHistoryRange {
		first = d.Block - maxHistoryRange
	}
	logs, err := s.Node.FilterLogs(ctx, ethereum.FilterQuery{
		FromBlock: new(big.Int).SetUint64(first), ToBlock: new(big.Int).SetUint64(d.Block),
		Addresses: addrs, Topics: [][]common.Hash{{topicAnswerUpdated, topicNewTransmission}},
	})
	if err != nil {
		return h, fmt.Errorf("cannot read the answers of %s: %w", feed, err)
	}
	for _, l := range logs {
		p, ok := pointOf(l, d.Decimals)
		if !ok || p.UpdatedAt.Before(from) || p.UpdatedAt.After(to) {
			continue
		}
		h.Points = append(h.Points, p)
	}
	if len(logs) == 0 {
		if h.Points, err = s.walkRounds(ctx, d, from, to); err != nil {
			return h, err
		}
	}
	slices.SortStableFunc(h.Points, func(a, b Point) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	if len(h.Points) > MaxPoints {
		h.Points, h.Truncated = h.Points[len(h.Points)-MaxPoints:], true
	}
	h.Cadence = cadence(h.Points)
	return h, nil
}

// ErrBadRange is a history range that ends before it starts.
var ErrBadRange = store.Sentinel("bad time range", store.ErrInvalid)

// pointOf decodes an answer event; events that do not decode are skipped.
func pointOf(l types.Log, decimals uint8) (Point, bool) {
	if len(l.Topics) == 0 {
		return Point{}, false
	}
	p := Point{Block: l.BlockNumber, Tx: l.TxHash}
	switch l.Topics[0] {
	case topicAnswerUpdated:
		// AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt)
		if len(l.Topics) != 3 || len(l.Data) < 32 {
			return Point{}, false
		}
		answer := signed(new(big.Int).SetBytes(l.Topics[1][:]))
		ts := new(big.Int).SetBytes(l.Data[:32])
		if !ts.IsUint64() || ts.Uint64() > 1<<40 {
			return Point{}, false
		}
		p.Event, p.RoundID, p.Answer = "AnswerUpdated", new(big.Int).SetBytes(l.Topics[2][:]).String(), answer.String()
		p.Value, p.UpdatedAt = Float(answer, decimals), time.Unix(int64(ts.Uint64()), 0).UTC()
	case topicNewTransmission:
		// NewTransmission(uint32 indexed aggregatorRoundId, int192 answer, …, uint32 observationsTimestamp, …)
		if len(l.Topics) != 2 {
			return Point{}, false
		}
		vals, err := newTransmissionData.Unpack(l.Data)
		if err != nil || len(vals) < 3 {
			return Point{}, false
		}
		answer, ok1 := vals[0].(*big.Int)
		ts, ok2 := vals[2].(uint32)
		if !ok1 || !ok2 {
			return Point{}, false
		}
		p.Event, p.RoundID, p.Answer = "NewTransmission", new(big.Int).SetBytes(l.Topics[1][:]).String(), answer.String()
		p.Value, p.UpdatedAt = Float(answer, decimals), time.Unix(int64(ts), 0).UTC()
	default:
		return Point{}, false
	}
	return p, true
}

// walkRounds reads rounds back from the latest with getRoundData until
// one is older than from, a round has no answer, or maxRoundWalk rounds.
func (s *Service) walkRounds(ctx context.Context, d Details, from, to time.Time) ([]Point, error) {
	out := []Point{}
	block := new(big.Int).SetUint64(d.Block)
	id := new(big.Int).Set(d.Latest.RoundID)
	// A proxy's round ids carry the phase in their upper bits: walk within it.
	low := new(big.Int)
	if d.Proxy {
		low = new(big.Int).Lsh(new(big.Int).Rsh(id, 64), 64)
	}
	arg := make([]byte, 32)
	for i := 0; i < maxRoundWalk && id.Cmp(low) > 0; i++ {
		id.FillBytes(arg)
		raw, err := call(ctx, s.Node, d.Address, selGetRoundData, arg, block)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			break // a round without data may revert
		}
		r, err := DecodeRound(raw)
		if err != nil || r.UpdatedAt == 0 {
			break
		}
		t := time.Unix(int64(min(r.UpdatedAt, 1<<40)), 0).UTC()
		if t.Before(from) {
			break
		}
		if !t.After(to) {
			out = append(out, Point{RoundID: r.RoundID.String(), Answer: r.Answer.String(), Value: Float(r.Answer, d.Decimals),
				UpdatedAt: t, Event: "round"})
		}
		id.Sub(id, big.NewInt(1))
	}
	return out, nil
}

// blockAt finds the first block at or after t, by bisection on headers up
// to head.
func (s *Service) blockAt(ctx context.Context, t time.Time, head uint64) (uint64, error) {
	lo, hi := uint64(0), head
	for lo < hi {
		mid := lo + (hi-lo)/2
		h, err := s.Node.HeaderByNumber(ctx, new(big.Int).SetUint64(mid))
		if err != nil {
			return 0, fmt.Errorf("cannot read block %d: %w", mid, err)
		}
		if int64(h.Time) < t.Unix() {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// cadence sums up the intervals between consecutive points.
func cadence(ps []Point) Cadence {
	c := Cadence{Updates: len(ps)}
	if len(ps) < 2 {
		return c
	}
	gaps := make([]int64, 0, len(ps)-1)
	for i := 1; i < len(ps); i++ {
		gaps = append(gaps, int64(ps[i].UpdatedAt.Sub(ps[i-1].UpdatedAt)/time.Second))
	}
	slices.Sort(gaps)
	c.MedianSeconds, c.MaxSeconds = gaps[len(gaps)/2], gaps[len(gaps)-1]
	return c
}
