package oracle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Health statuses, worst first.
const (
	HealthError       = "error"       // the feed cannot be read
	HealthStale       = "stale"       // older than heartbeat
	HealthNonPositive = "nonpositive" // answer ≤ 0
	HealthPinned      = "pinned"      // answer at the aggregator's minAnswer or maxAnswer
	HealthDown        = "down"        // a sequencer-uptime feed: the sequencer is down
	HealthGrace       = "grace"       // a sequencer-uptime feed: back up for less than the grace period
	HealthOK          = "ok"
)

// Health is a verdict on a feed's latest round.
type Health struct {
	Status string `json:"status"`
	// Problems say what is wrong, in words; empty when ok.
	Problems []string `json:"problems"`
	// AgeSeconds is how old the latest answer is, by the service's clock.
	AgeSeconds int64 `json:"ageSeconds"`
	// Checks are each check's verdict with the records behind it (in
	// Service.List and Get; empty when the feed cannot be read).
	Checks []Check `json:"checks"`
}

// Judge gives the health of a feed read as d, with heartbeat hb, at now.
func Judge(d Details, hb time.Duration, now time.Time) Health {
	h := Health{Status: HealthOK, Problems: []string{}}
	updated := time.Unix(int64(min(d.Latest.UpdatedAt, 1<<62)), 0)
	age := now.Sub(updated)
	h.AgeSeconds = int64(age / time.Second)
	worst := func(status, problem string) {
		h.Problems = append(h.Problems, problem)
		if h.Status == HealthOK {
			h.Status = status
		}
	}
	if age > hb {
		worst(HealthStale, fmt.Sprintf("the latest answer is %s old, beyond the heartbeat of %s", age.Round(time.Second), hb))
	}
	if a := d.Latest.Answer; a != nil && a.Sign() <= 0 {
		worst(HealthNonPositive, fmt.Sprintf("the answer %s is not positive", FormatAnswer(a, d.Decimals)))
	}
	if a := d.Latest.Answer; a != nil {
		if d.MinAnswer != nil && a.Cmp(d.MinAnswer) <= 0 {
			worst(HealthPinned, fmt.Sprintf("the answer is pinned at the aggregator's minAnswer %s", FormatAnswer(d.MinAnswer, d.Decimals)))
		}
		if d.MaxAnswer != nil && a.Cmp(d.MaxAnswer) >= 0 {
			worst(HealthPinned, fmt.Sprintf("the answer is pinned at the aggregator's maxAnswer %s", FormatAnswer(d.MaxAnswer, d.Decimals)))
		}
	}
	return h
}

// JudgeSequencer gives the health of an L2 sequencer-uptime feed read as
// d: down while it answers anything but 0, "grace" for grace after it
// came back up (startedAt is when its status last changed). A heartbeat
// does not apply: such a feed is updated when the status changes.
func JudgeSequencer(d Details, grace time.Duration, now time.Time) Health {
	h := Health{Status: HealthOK, Problems: []string{}}
	since := time.Unix(int64(min(d.Latest.StartedAt, 1<<62)), 0).UTC()
	h.AgeSeconds = int64(now.Sub(since) / time.Second)
	switch {
	case d.Latest.Answer == nil:
		h.Status, h.Problems = HealthError, []string{"the feed gave no answer"}
	case d.Latest.Answer.Sign() != 0:
		h.Status = HealthDown
		h.Problems = []string{fmt.Sprintf("the sequencer is down since %s (answer %s)", since.Format(time.RFC3339), d.Latest.Answer)}
	case now.Sub(since) < grace:
		h.Status = HealthGrace
		h.Problems = []string{fmt.Sprintf("the sequencer is back up since %s, within the grace period of %s", since.Format(time.RFC3339), grace)}
	}
	return h
}

// Latest is a feed's latest round, for JSON: integers as decimal strings,
// Value the answer with its decimals.
type Latest struct {
	RoundID         string    `json:"roundId"`
	Answer          string    `json:"answer"`
	Value           string    `json:"value"`
	StartedAt       time.Time `json:"startedAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
	AnsweredInRound string    `json:"answeredInRound"`
	// MinAnswer and MaxAnswer are the aggregator's bounds (with decimals),
	// empty when it has none.
	MinAnswer string `json:"minAnswer,omitempty"`
	MaxAnswer string `json:"maxAnswer,omitempty"`
}

// Feed is a followed feed as the API and pages show it.
type Feed struct {
	Address common.Address `json:"address"`
	Source  string         `json:"source"`
	// Kind is "price" or "sequencer" (an L2 sequencer-uptime feed, judged
	// up, down or in its grace period).
	Kind string `json:"kind"`
	// HeartbeatSeconds and DeviationPct are in force; the *Default flags
	// say they are the defaults, not set for this feed.
	HeartbeatSeconds int64           `json:"heartbeatSeconds"`
	HeartbeatDefault bool            `json:"heartbeatDefault"`
	DeviationPct     float64         `json:"deviationPct"`
	DeviationDefault bool            `json:"deviationDefault"`
	Reference        *common.Address `json:"reference,omitempty"`
	// Details is what the feed said of itself; nil with Error set when it
	// could not be read.
	Details *Details `json:"details,omitempty"`
	Latest  *Latest  `json:"latest,omitempty"`
	Error   string   `json:"error,omitempty"`
	Health  Health   `json:"health"`
	// PrevAggregator and AggregatorChanged: the proxy's previous
	// aggregator and when the change was noticed.
	PrevAggregator    *common.Address `json:"prevAggregator,omitempty"`
	AggregatorChanged *time.Time      `json:"aggregatorChanged,omitempty"`
	Added             time.Time       `json:"added"`
	// Readers are the contracts seen reading it, the most recent first
	// (in Get only).
	Readers []store.OracleRead `json:"readers,omitempty"`
}

// view reads a followed feed now and judges it. A feed that cannot be
// read is a Feed with Error and health "error", not an error: one broken
// feed must not hide the others.
func (s *Service) view(ctx context.Context, f store.OracleFeed) (Feed, error) {
	hb := HeartbeatOf(f)
	kind := f.Kind
	if kind == "" {
		kind = store.FeedKindPrice
	}
	v := Feed{Address: f.Address, Source: f.Source, Kind: kind, HeartbeatSeconds: int64(hb / time.Second), HeartbeatDefault: f.Heartbeat == 0,
		DeviationPct: DeviationOf(f), DeviationDefault: f.DeviationPct == 0, Reference: f.Reference, Added: f.Added}
	d, err := ReadFeed(ctx, s.Node, f.Address, nil)
	if err != nil {
		if ctx.Err() != nil {
			return v, ctx.Err()
		}
		v.Error = err.Error()
		v.Health = Health{Status: HealthError, Problems: []string{err.Error()}, Checks: []Check{}}
	} else {
		if f, err = s.refreshAggregator(ctx, f, d); err != nil {
			return v, err
		}
		v.Details = &d
		v.Latest = &Latest{RoundID: d.Latest.RoundID.String(), Answer: d.Latest.Answer.String(),
			Value:           FormatAnswer(d.Latest.Answer, d.Decimals),
			StartedAt:       time.Unix(int64(min(d.Latest.StartedAt, 1<<62)), 0).UTC(),
			UpdatedAt:       time.Unix(int64(min(d.Latest.UpdatedAt, 1<<62)), 0).UTC(),
			AnsweredInRound: d.Latest.AnsweredInRound.String()}
		if d.MinAnswer != nil {
			v.Latest.MinAnswer = FormatAnswer(d.MinAnswer, d.Decimals)
		}
		if d.MaxAnswer != nil {
			v.Latest.MaxAnswer = FormatAnswer(d.MaxAnswer, d.Decimals)
		}
		now := s.now()
		if kind == store.FeedKindSequencer {
			v.Health = JudgeSequencer(d, DefaultSequencerGrace, now)
		} else {
			v.Health = Judge(d, hb, now)
		}
		f.Kind = kind
		v.Health.Checks = s.checks(ctx, f, d, hb, now)
	}
	if f.PrevAggregator != (common.Address{}) {
		p, t := f.PrevAggregator, f.AggregatorChanged
		v.PrevAggregator, v.AggregatorChanged = &p, &t
	}
	return v, nil
}

// List reads and judges every followed feed.
func (s *Service) List(ctx context.Context) ([]Feed, error) {
	fs, err := s.Store.OracleFeeds(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Feed, 0, len(fs))
	for _, f := range fs {
		v, err := s.view(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Get reads and judges one followed feed, with its readers; a feed not
// followed is store.ErrNotFound.
func (s *Service) Get(ctx context.Context, addr common.Address) (Feed, error) {
	f, err := s.Store.OracleFeed(ctx, addr)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Feed{}, fmt.Errorf("%w: %s is not a followed feed", store.ErrNotFound, addr)
		}
		return Feed{}, err
	}
	v, err := s.view(ctx, f)
	if err != nil {
		return v, err
	}
	if v.Readers, err = s.Store.OracleReads(ctx, addr); err != nil {
		return v, err
	}
	return v, nil
}

// abiHasFeedReads says an ABI has latestRoundData() and decimals().
func abiHasFeedReads(raw json.RawMessage) bool {
	var items []struct {
		Type   string            `json:"type"`
		Name   string            `json:"name"`
		Inputs []json.RawMessage `json:"inputs"`
	}
	if json.Unmarshal(raw, &items) != nil {
		return false
	}
	var lrd, dec bool
	for _, it := range items {
		if it.Type != "function" || len(it.Inputs) != 0 {
			continue
		}
		lrd = lrd || it.Name == "latestRoundData"
		dec = dec || it.Name == "decimals"
	}
	return lrd && dec
}
