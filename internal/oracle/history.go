package oracle

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
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
	// MaxHistorySpan is the longest range History lists: longer ones are
	// refused rather than cut.
	MaxHistorySpan = 366 * 24 * time.Hour
)

// History lists the feed's answers updated within [from, to] (zero to:
// now, or the head's time if later; zero from: a day before to): its aggregators' AnswerUpdated and
// NewTransmission events — the records the indexer stored when the
// Service has Records, else the node's logs — or, when they emit none,
// rounds read back from the latest with getRoundData. A range that ends
// before it starts, or spans more than MaxHistorySpan, is ErrBadRange.
func (s *Service) History(ctx context.Context, feed common.Address, from, to time.Time) (History, error) {
	d, err := ReadFeed(ctx, s.Node, feed, nil)
	if err != nil {
		return History{}, err
	}
	if to.IsZero() {
		// Now, or the head's time when the chain's clock runs ahead (a
		// dev chain sealing faster than a block a second).
		to = s.now()
		if d.BlockTime.After(to) {
			to = d.BlockTime
		}
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	if from.After(to) {
		return History{}, fmt.Errorf("%w: from is after to", ErrBadRange)
	}
	if from.Year() < 1970 || to.Year() > 9999 {
		return History{}, fmt.Errorf("%w: %s to %s is outside the years 1970 to 9999", ErrBadRange, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	if to.Sub(from) > MaxHistorySpan {
		return History{}, fmt.Errorf("%w: %s to %s is longer than the %d days a history covers",
			ErrBadRange, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), MaxHistorySpan/(24*time.Hour))
	}
	h := History{Feed: feed, From: from.UTC(), To: to.UTC(), Decimals: d.Decimals, Points: []Point{}}
	addrs := []common.Address{feed}
	if d.Proxy {
		addrs = append(addrs, d.Aggregator)
		if f, err := s.Store.OracleFeed(ctx, feed); err == nil && f.PrevAggregator != (common.Address{}) && f.PrevAggregator != d.Aggregator {
			addrs = append(addrs, f.PrevAggregator)
		}
	}
	if s.Records != nil {
		var found bool
		if h.Points, h.Truncated, found, err = s.recordedAnswers(ctx, addrs, d.Decimals, from, to); err != nil {
			return h, err
		}
		if !found {
			if h.Points, err = s.walkRounds(ctx, d, from, to); err != nil {
				return h, err
			}
		}
		return h.finish(), nil
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
	return h.finish(), nil
}

// finish orders the points, keeps the newest MaxPoints and sums up the
// cadence.
func (h History) finish() History {
	slices.SortStableFunc(h.Points, func(a, b Point) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	if len(h.Points) > MaxPoints {
		h.Points, h.Truncated = h.Points[len(h.Points)-MaxPoints:], true
	}
	h.Cadence = cadence(h.Points)
	return h
}

// recordsSlack widens the records' search around [from, to]: a record
// carries its block's time, an answer its own updatedAt, a little before.
const recordsSlack = 5 * time.Minute

// recordedAnswers reads the answers of the aggregators addrs from the
// AnswerUpdated and NewTransmission records, newest first until
// MaxPoints; found says whether any answer record of them was seen, in
// or out of [from, to].
func (s *Service) recordedAnswers(ctx context.Context, addrs []common.Address, decimals uint8, from, to time.Time) (ps []Point, truncated, found bool, err error) {
	hex := make([]string, len(addrs))
	want := map[string]bool{}
	for i, a := range addrs {
		hex[i] = a.Hex()
		want[strings.ToLower(a.Hex())] = true
	}
	q, err := query.Parse("kind:event event:(AnswerUpdated OR NewTransmission) address:(" + strings.Join(hex, " OR ") + ")")
	if err != nil {
		return nil, false, false, fmt.Errorf("BUG: the answers' query does not parse: %w", err)
	}
	req := store.SearchRequest{Query: q, From: from.Add(-recordsSlack), To: to.Add(recordsSlack), Limit: query.MaxLimit, Order: store.NewestFirst}
	ps = []Point{}
	for {
		cursor, err := s.Records.Search(ctx, req, func(r record.Record) error {
			if c, _ := r.Attrs["contract"].(string); !want[strings.ToLower(c)] {
				return nil
			}
			p, ok := pointOfRecord(r, decimals)
			if !ok {
				return nil
			}
			found = true
			if !p.UpdatedAt.Before(from) && !p.UpdatedAt.After(to) {
				ps = append(ps, p)
			}
			return nil
		})
		if err != nil {
			return nil, false, false, fmt.Errorf("cannot search the answers of %s: %w", strings.Join(hex, ", "), err)
		}
		if len(ps) > MaxPoints {
			return ps, true, true, nil
		}
		if cursor == "" {
			return ps, false, found, nil
		}
		req.Cursor = cursor
	}
}

// pointOfRecord reads an answer from an AnswerUpdated or NewTransmission
// record, its arguments decoded by the indexer; records that do not read
// as one (another contract's event of the same name) are skipped.
func pointOfRecord(r record.Record, decimals uint8) (Point, bool) {
	args, _ := r.Attrs["args"].(map[string]any)
	if len(r.TxHashes) == 0 || r.Block == nil || args == nil {
		return Point{}, false
	}
	p := Point{Block: *r.Block, Tx: r.TxHashes[0]}
	var answer, round, ts *big.Int
	switch p.Event, _ = r.Attrs["event"].(string); p.Event {
	case "AnswerUpdated":
		answer, round, ts = attrInt(args["current"]), attrInt(args["roundId"]), attrInt(args["updatedAt"])
	case "NewTransmission":
		answer, round, ts = attrInt(args["answer"]), attrInt(args["aggregatorRoundId"]), attrInt(args["observationsTimestamp"])
	default:
		return Point{}, false
	}
	if answer == nil || round == nil || ts == nil || !ts.IsUint64() || ts.Uint64() > 1<<40 {
		return Point{}, false
	}
	p.RoundID, p.Answer = round.String(), answer.String()
	p.Value, p.UpdatedAt = Float(answer, decimals), time.Unix(int64(ts.Uint64()), 0).UTC()
	return p, true
}

// attrInt reads an integer attribute as the records engines give it back:
// int64 when it fits, a decimal string when larger (or json.Number).
func attrInt(v any) *big.Int {
	switch v := v.(type) {
	case int64:
		return big.NewInt(v)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return big.NewInt(int64(v))
		}
	case string:
		if n, ok := new(big.Int).SetString(v, 10); ok {
			return n
		}
	case json.Number:
		if n, ok := new(big.Int).SetString(string(v), 10); ok {
			return n
		}
	}
	return nil
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
