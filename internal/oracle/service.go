package oracle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Defaults of a feed's thresholds, shown as defaults until set: Chainlink's
// most common heartbeat and deviation threshold.
const (
	DefaultHeartbeat    = time.Hour
	DefaultDeviationPct = 0.5
)

// Call is one call frame of a transaction's call trace.
type Call struct {
	From, To common.Address
	Input    []byte
	Output   []byte
	// Error is set when the frame reverted.
	Error string
	// Depth is 0 for the transaction's own call.
	Depth int
}

// TraceFunc returns a block's call frames by transaction, each
// transaction's depth first (debug_traceBlockByNumber with callTracer).
type TraceFunc func(ctx context.Context, block uint64) (map[common.Hash][]Call, error)

// Service follows price feeds. Set its fields before use; its methods are
// safe for concurrent use, and Run is its only goroutine.
type Service struct {
	Node  Node
	Store store.OracleStore
	// Records is where History finds a feed's answers: the AnswerUpdated
	// and NewTransmission records of its aggregators that the indexer
	// stored. Nil reads them from the node's logs instead.
	Records store.Searcher
	// Trace finds readers and feeds in call traces; nil leaves both unseen.
	Trace TraceFunc
	// Watched says whose reads make an unknown address a followed feed
	// (the contracts blocktorch knows); nil takes every contract's.
	Watched func(common.Address) bool
	// Name is a known contract's name, for the words of a check's detail;
	// nil, or an unknown address, leaves the address alone.
	Name func(common.Address) (string, bool)
	// Now is the clock of a feed's age; nil is time.Now.
	Now func() time.Time
	Log *slog.Logger

	mu       sync.Mutex
	rejected map[common.Address]string // addresses read like a feed that are not one, with why
	blocks   []blockReads              // the newest observed blocks, newest last
	pending  uint64                    // newest stored block not yet observed
	wake     chan struct{}
	cursor   uint64 // newest block observed by Run
	rounds   map[roundKey]Details
	tracing  map[uint64]chan struct{} // blocks being traced, closed when done
}

type blockReads struct {
	number   uint64
	reads    []Read
	recorded bool
}

// Read is one read of a feed by a contract, found in a call trace.
type Read struct {
	Feed, Reader common.Address
	Block        uint64
	Tx           common.Hash
	Time         time.Time
	Method       string
	// Round is the round read; RoundID, StartedAt, UpdatedAt and
	// AnsweredInRound are unset for latestAnswer.
	Round Round
	// Stale: the answer was older than the feed's heartbeat at the block.
	Stale bool
	// Heartbeat is the feed's heartbeat the read was judged by.
	Heartbeat time.Duration
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Thresholds are a feed's settable thresholds; nil fields stay as they are.
type Thresholds struct {
	// Heartbeat: zero returns to the default.
	Heartbeat *time.Duration
	// DeviationPct: zero returns to the default.
	DeviationPct *float64
	// Reference: the zero address removes it.
	Reference *common.Address
	// Sequencer marks the feed as an L2 sequencer-uptime feed (answer 0
	// up, 1 down), or as a price feed.
	Sequencer *bool
}

// IsSequencerDescription says a feed's description names an L2
// sequencer-uptime feed, as Chainlink's do ("L2 Sequencer Uptime Status
// Feed"): such a feed is followed as one when found.
func IsSequencerDescription(desc string) bool {
	d := strings.ToLower(desc)
	return strings.Contains(d, "sequencer") && strings.Contains(d, "uptime")
}

// DefaultSequencerGrace is how long after an L2 sequencer comes back up its
// feed's health stays "grace": Chainlink advises contracts to refuse prices
// for an hour then.
const DefaultSequencerGrace = monitor.DefaultSequencerGrace

// Add follows the feed at addr (source: how it was found), after reading
// it: an address that is no feed is refused with ReadFeed's error. A feed
// already followed keeps its thresholds; found by hand, it stays followed
// as manual.
func (s *Service) Add(ctx context.Context, addr common.Address, source string) (store.OracleFeed, error) {
	d, err := ReadFeed(ctx, s.Node, addr, nil)
	if err != nil {
		return store.OracleFeed{}, fmt.Errorf("cannot follow %s: %w", addr, err)
	}
	now := s.now()
	f, err := s.Store.OracleFeed(ctx, addr)
	switch {
	case errors.Is(err, store.ErrNotFound):
		f = store.OracleFeed{Address: addr, Source: source, Kind: store.FeedKindPrice, Added: now, Aggregator: d.Aggregator}
		if IsSequencerDescription(d.Description) {
			f.Kind = store.FeedKindSequencer
		}
	case err != nil:
		return store.OracleFeed{}, err
	default:
		if source == store.FeedSourceManual {
			f.Source = source
		}
	}
	f.Updated = now
	if err := s.Store.PutOracleFeed(ctx, f); err != nil {
		return store.OracleFeed{}, err
	}
	return s.Store.OracleFeed(ctx, addr)
}

// SetThresholds changes a followed feed's thresholds; a feed not followed
// is store.ErrNotFound.
func (s *Service) SetThresholds(ctx context.Context, addr common.Address, t Thresholds) (store.OracleFeed, error) {
	f, err := s.Store.OracleFeed(ctx, addr)
	if err != nil {
		return f, err
	}
	if t.Heartbeat != nil {
		if *t.Heartbeat < 0 {
			return f, store.Sentinel("the heartbeat must not be negative", store.ErrInvalid)
		}
		f.Heartbeat = *t.Heartbeat
	}
	if t.DeviationPct != nil {
		if *t.DeviationPct < 0 || *t.DeviationPct >= 100 {
			return f, store.Sentinel("the deviation threshold is a percentage in [0, 100)", store.ErrInvalid)
		}
		f.DeviationPct = *t.DeviationPct
	}
	if t.Reference != nil {
		switch {
		case *t.Reference == (common.Address{}):
			f.Reference = nil
		case *t.Reference == addr:
			return f, store.Sentinel("a feed cannot be its own reference", store.ErrInvalid)
		default:
			ref := *t.Reference
			f.Reference = &ref
		}
	}
	if t.Sequencer != nil {
		f.Kind = store.FeedKindPrice
		if *t.Sequencer {
			f.Kind = store.FeedKindSequencer
		}
	}
	f.Updated = s.now()
	if err := s.Store.PutOracleFeed(ctx, f); err != nil {
		return f, err
	}
	return f, nil
}

// HeartbeatOf is a feed's heartbeat, the default when unset.
func HeartbeatOf(f store.OracleFeed) time.Duration {
	if f.Heartbeat > 0 {
		return f.Heartbeat
	}
	return DefaultHeartbeat
}

// DeviationOf is a feed's deviation threshold in percent, the default when unset.
func DeviationOf(f store.OracleFeed) float64 {
	if f.DeviationPct > 0 {
		return f.DeviationPct
	}
	return DefaultDeviationPct
}

// DetectABIs follows every contract whose ABI has latestRoundData and
// decimals and that answers like a feed; it returns the feeds added.
// Contracts that do not answer are skipped, not errors.
func (s *Service) DetectABIs(ctx context.Context, cs []store.Contract) ([]common.Address, error) {
	var added []common.Address
	for _, c := range cs {
		if !abiHasFeedReads(c.ABI) {
			continue
		}
		if _, err := s.Store.OracleFeed(ctx, c.Address); err == nil {
			continue
		}
		if _, err := s.Add(ctx, c.Address, store.FeedSourceABI); err != nil {
			if ctx.Err() != nil {
				return added, ctx.Err()
			}
			s.log().Info("a contract with a feed's ABI does not read like one", "address", c.Address, "err", err)
			continue
		}
		added = append(added, c.Address)
	}
	return added, nil
}

// refreshAggregator notices a proxy's new aggregator and stores it.
func (s *Service) refreshAggregator(ctx context.Context, f store.OracleFeed, d Details) (store.OracleFeed, error) {
	if d.Aggregator == f.Aggregator {
		return f, nil
	}
	if f.Aggregator != (common.Address{}) {
		f.PrevAggregator, f.AggregatorChanged = f.Aggregator, s.now()
		s.log().Warn("a feed's proxy points to a new aggregator", "feed", f.Address, "from", f.Aggregator, "to", d.Aggregator)
	}
	f.Aggregator = d.Aggregator
	if err := s.Store.PutOracleFeed(ctx, f); err != nil {
		return f, err
	}
	return f, nil
}

// RoundAt reads a followed or any feed's latest round and decimals at a
// block, with the aggregator's bounds: what the monitor kinds judge. The
// newest answers are kept, so that the checks of one block read a feed
// once.
func (s *Service) RoundAt(ctx context.Context, feed common.Address, block uint64) (Details, error) {
	key := roundKey{feed, block}
	s.mu.Lock()
	d, ok := s.rounds[key]
	s.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := ReadFeed(ctx, s.Node, feed, new(big.Int).SetUint64(block))
	if err != nil {
		return d, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rounds == nil || len(s.rounds) >= maxRounds {
		s.rounds = map[roundKey]Details{} // the checks move on block by block
	}
	s.rounds[key] = d
	return d, nil
}

type roundKey struct {
	feed  common.Address
	block uint64
}

// maxRounds bounds RoundAt's memory of answers.
const maxRounds = 256

// knownFeeds maps the followed feeds by address.
func (s *Service) knownFeeds(ctx context.Context) (map[common.Address]store.OracleFeed, error) {
	fs, err := s.Store.OracleFeeds(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[common.Address]store.OracleFeed, len(fs))
	for _, f := range fs {
		m[f.Address] = f
	}
	return m, nil
}

// maxObserved is how many blocks' reads ReadsAt keeps, so that the
// monitor engine and Run trace a block once.
const maxObserved = 32

// ReadsAt returns the reads of feeds in a block's call traces, detecting
// feeds that watched contracts read (see Service.Watched). Without a
// TraceFunc it returns none.
func (s *Service) ReadsAt(ctx context.Context, block uint64) ([]Read, error) {
	if s.Trace == nil {
		return nil, nil
	}
	for {
		s.mu.Lock()
		for _, b := range s.blocks {
			if b.number == block {
				s.mu.Unlock()
				return b.reads, nil
			}
		}
		// Run and the monitor engine ask for the same blocks at about the
		// same time: the second waits for the first's trace.
		busy, ok := s.tracing[block]
		if !ok {
			if s.tracing == nil {
				s.tracing = map[uint64]chan struct{}{}
			}
			s.tracing[block] = make(chan struct{})
			s.mu.Unlock()
			break
		}
		s.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	reads, err := s.observe(ctx, block)
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.tracing[block])
	delete(s.tracing, block)
	if err != nil {
		return nil, err
	}
	for _, b := range s.blocks {
		if b.number == block {
			return b.reads, nil
		}
	}
	s.blocks = append(s.blocks, blockReads{number: block, reads: reads})
	slices.SortFunc(s.blocks, func(a, b blockReads) int { return cmpUint(a.number, b.number) })
	if len(s.blocks) > maxObserved {
		s.blocks = s.blocks[len(s.blocks)-maxObserved:]
	}
	return reads, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// observe traces a block and returns its reads of feeds.
func (s *Service) observe(ctx context.Context, block uint64) ([]Read, error) {
	calls, err := s.Trace(ctx, block)
	if err != nil {
		return nil, fmt.Errorf("cannot trace block %d: %w", block, err)
	}
	if len(calls) == 0 {
		return nil, nil
	}
	h, err := s.Node.HeaderByNumber(ctx, new(big.Int).SetUint64(block))
	if err != nil {
		return nil, fmt.Errorf("cannot read block %d: %w", block, err)
	}
	bt := time.Unix(int64(h.Time), 0).UTC()
	feeds, err := s.knownFeeds(ctx)
	if err != nil {
		return nil, err
	}
	txs := make([]common.Hash, 0, len(calls))
	for tx := range calls {
		txs = append(txs, tx)
	}
	slices.SortFunc(txs, func(a, b common.Hash) int { return a.Cmp(b) })
	var reads []Read
	for _, tx := range txs {
		for _, c := range calls[tx] {
			if c.Depth == 0 || c.Error != "" || len(c.Input) < 4 {
				continue
			}
			method, ok := readMethods[[4]byte(c.Input[:4])]
			if !ok {
				continue
			}
			if _, isFeed := feeds[c.From]; isFeed {
				continue // a proxy forwarding to its aggregator
			}
			f, known := feeds[c.To]
			if !known {
				if f, known = s.detect(ctx, c, block); !known {
					continue
				}
				feeds[c.To] = f
			}
			r := Read{Feed: c.To, Reader: c.From, Block: block, Tx: tx, Time: bt, Method: method, Heartbeat: HeartbeatOf(f)}
			if method == "latestAnswer" {
				a, err := decodeInt(c.Output)
				if err != nil {
					continue
				}
				r.Round.Answer = a
			} else {
				round, err := DecodeRound(c.Output)
				if err != nil {
					continue
				}
				r.Round = round
				age := bt.Sub(time.Unix(int64(min(round.UpdatedAt, 1<<62)), 0))
				r.Stale = age > r.Heartbeat
			}
			reads = append(reads, r)
		}
	}
	return reads, nil
}

// detect follows c.To as a feed found in a trace when a watched contract
// read it and it reads like a feed; addresses that do not are remembered.
func (s *Service) detect(ctx context.Context, c Call, block uint64) (store.OracleFeed, bool) {
	if s.Watched != nil && !s.Watched(c.From) {
		return store.OracleFeed{}, false
	}
	s.mu.Lock()
	_, bad := s.rejected[c.To]
	s.mu.Unlock()
	if bad {
		return store.OracleFeed{}, false
	}
	f, err := s.Add(ctx, c.To, store.FeedSourceTrace)
	if err != nil {
		if ctx.Err() == nil {
			s.mu.Lock()
			if s.rejected == nil {
				s.rejected = map[common.Address]string{}
			}
			s.rejected[c.To] = err.Error()
			s.mu.Unlock()
			s.log().Info("a contract read an address like a feed, but it is none", "address", c.To, "reader", c.From, "block", block, "err", err)
		}
		return store.OracleFeed{}, false
	}
	s.log().Info("following a price feed a contract reads", "feed", c.To, "reader", c.From, "block", block)
	return f, true
}

// Observe records the reads of feeds in blocks from..to (what ReadsAt
// finds) as the readers of those feeds.
func (s *Service) Observe(ctx context.Context, from, to uint64) error {
	for n := from; n <= to; n++ {
		reads, err := s.ReadsAt(ctx, n)
		if err != nil {
			return err
		}
		s.mu.Lock()
		done := false
		for i := range s.blocks {
			if s.blocks[i].number == n {
				done = s.blocks[i].recorded
				s.blocks[i].recorded = true
			}
		}
		s.mu.Unlock()
		if done {
			continue
		}
		for _, r := range reads {
			sr := store.OracleRead{Feed: r.Feed, Reader: r.Reader, Block: r.Block, Tx: r.Tx, Time: r.Time,
				Method: r.Method, Answer: r.Round.Answer.String(), Stale: r.Stale}
			if r.Round.RoundID != nil {
				sr.RoundID = r.Round.RoundID.String()
				sr.UpdatedAt = time.Unix(int64(min(r.Round.UpdatedAt, 1<<62)), 0).UTC()
			}
			if err := s.Store.RecordOracleRead(ctx, sr); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxCatchUp bounds how many blocks Run traces when it falls behind (a
// backfill): readers are about the present, not a full history.
const maxCatchUp = 256

// OnStored tells Run that blocks up to to are stored. It never blocks.
func (s *Service) OnStored(_, to uint64) {
	s.mu.Lock()
	if to > s.pending {
		s.pending = to
	}
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
	w := s.wake
	s.mu.Unlock()
	select {
	case w <- struct{}{}:
	default:
	}
}

// Run observes stored blocks as OnStored announces them, and notices
// proxies' new aggregators, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
	w := s.wake
	s.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w:
		}
		s.mu.Lock()
		to, from := s.pending, s.cursor+1
		s.mu.Unlock()
		if to < from {
			continue
		}
		if to-from >= maxCatchUp {
			from = to - maxCatchUp + 1
		}
		if err := s.Observe(ctx, from, to); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log().Warn("cannot observe feed reads", "from", from, "to", to, "err", err)
		}
		s.mu.Lock()
		s.cursor = to
		s.mu.Unlock()
		s.refreshAll(ctx)
	}
}

// refreshAll notices proxies' new aggregators.
func (s *Service) refreshAll(ctx context.Context) {
	fs, err := s.Store.OracleFeeds(ctx)
	if err != nil {
		return
	}
	for _, f := range fs {
		out, err := call(ctx, s.Node, f.Address, selAggregator, nil, nil)
		if err != nil {
			continue
		}
		agg, err := decodeAddress(out)
		if err != nil || agg == f.Aggregator || agg == (common.Address{}) {
			continue
		}
		if _, err := s.refreshAggregator(ctx, f, Details{Aggregator: agg}); err != nil {
			s.log().Warn("cannot store a feed's new aggregator", "feed", f.Address, "err", err)
		}
	}
}
