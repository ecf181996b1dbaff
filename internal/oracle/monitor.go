package oracle

import (
	"context"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/store"
)

// The monitor engine judges feed health through the Service: the seam is
// the monitor package's, the Chainlink knowledge stays here.
var _ monitor.FeedReader = (*Service)(nil)

// FollowedFeeds implements monitor.FeedReader: the followed feeds with the
// thresholds in force (defaults where unset).
func (s *Service) FollowedFeeds(ctx context.Context) ([]monitor.FeedInfo, error) {
	fs, err := s.Store.OracleFeeds(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]monitor.FeedInfo, 0, len(fs))
	for _, f := range fs {
		out = append(out, monitor.FeedInfo{Address: f.Address, Heartbeat: HeartbeatOf(f), DeviationPct: DeviationOf(f), Reference: f.Reference,
			Sequencer: f.Kind == store.FeedKindSequencer})
	}
	return out, nil
}

// FeedRound implements monitor.FeedReader with RoundAt.
func (s *Service) FeedRound(ctx context.Context, feed common.Address, block uint64) (monitor.FeedRound, error) {
	d, err := s.RoundAt(ctx, feed, block)
	if err != nil {
		return monitor.FeedRound{}, err
	}
	return monitor.FeedRound{RoundID: d.Latest.RoundID, Answer: d.Latest.Answer, Decimals: d.Decimals,
		UpdatedAt: unix(d.Latest.UpdatedAt), StartedAt: unix(d.Latest.StartedAt), Min: d.MinAnswer, Max: d.MaxAnswer, Value: FormatAnswer(d.Latest.Answer, d.Decimals)}, nil
}

// FeedReads implements monitor.FeedReader with ReadsAt.
func (s *Service) FeedReads(ctx context.Context, block uint64) ([]monitor.FeedRead, error) {
	reads, err := s.ReadsAt(ctx, block)
	if err != nil {
		return nil, err
	}
	out := make([]monitor.FeedRead, 0, len(reads))
	for _, r := range reads {
		fr := monitor.FeedRead{Feed: r.Feed, Reader: r.Reader, Tx: r.Tx, Method: r.Method, Value: r.Round.Answer.String()}
		if r.Round.RoundID != nil {
			fr.UpdatedAt = unix(r.Round.UpdatedAt)
		}
		out = append(out, fr)
	}
	return out, nil
}

// TraceVia adapts the monitor engine's node (debug_traceBlockByNumber
// with callTracer) into a TraceFunc, so both trace blocks the same way.
func TraceVia(n monitor.Node) TraceFunc {
	return func(ctx context.Context, block uint64) (map[common.Hash][]Call, error) {
		frames, err := n.TraceCalls(ctx, block)
		if err != nil {
			return nil, err
		}
		out := make(map[common.Hash][]Call, len(frames))
		for tx, fs := range frames {
			calls := make([]Call, len(fs))
			for i, f := range fs {
				calls[i] = Call{From: f.From, To: f.To, Input: f.Input, Output: f.Output, Error: f.Error, Depth: f.Depth}
			}
			out[tx] = calls
		}
		return out, nil
	}
}

// unix turns a feed's time into a time.Time, clamping absurd values.
func unix(sec uint64) time.Time { return time.Unix(int64(min(sec, 1<<40)), 0).UTC() }
